"""The dashboard's door: sign-in required, one generic error, CSRF, security headers."""

from __future__ import annotations

import re

from tests.dashboard_helpers import PASSWORD, csrf_token, make_user, sign_in, signed_in_client


def test_a_page_needs_a_signed_in_user(client):
    answer = client.get("/dashboard/")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/dashboard/sign-in?next=/dashboard/")


def test_sign_in_right_and_wrong_say_nothing_of_which_was_wrong(client, rt, account):
    user = make_user(rt, account)
    wrong_password = sign_in(client, user.email, "not it")
    wrong_email = sign_in(client, "nobody@example.com", PASSWORD)
    assert wrong_password.status_code == wrong_email.status_code == 401
    # Each page carries its own CSRF token (it is timestamped): compare everything else.
    assert _without_token(wrong_password.get_data()) == _without_token(
        wrong_email.get_data().replace(b"nobody@example.com", user.email.encode())
    )
    assert signed_in_client(client, user).get("/dashboard/").status_code == 200


def _without_token(page: bytes) -> bytes:
    return re.sub(rb'name="csrf_token" value="[^"]+"', b"", page)


def test_a_post_without_the_csrf_token_is_refused(client, rt, account):
    user = make_user(rt, account)
    signed_in_client(client, user)
    assert client.post("/dashboard/sign-out").status_code == 400
    token = csrf_token(client, "/dashboard/")
    out = client.post("/dashboard/sign-out", data={"csrf_token": token})
    assert out.status_code == 302
    assert client.get("/dashboard/").status_code == 302  # signed out
    assert "You are signed out." in client.get(out.headers["Location"]).get_data(as_text=True)


def test_every_page_carries_the_security_headers(client, rt, account):
    signed_in_client(client, make_user(rt, account))
    for path in ("/dashboard/", "/dashboard/sign-in", "/dashboard/static/app.css"):
        with client.get(path) as answer:  # a static file's stream is closed with it
            headers = answer.headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
