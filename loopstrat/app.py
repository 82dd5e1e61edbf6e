"""The Flask app factory: wiring only. Nothing happens at import time."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, Response, jsonify, request
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import text
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map

from loopstrat import runtime
from loopstrat.config import Settings
from loopstrat.db import MAX_ID

log = logging.getLogger(__name__)
HSTS = "max-age=31536000; includeSubDomains"


def create_app(settings: Settings | None = None) -> Flask:
    rt = runtime.configure(settings) if settings is not None else runtime.current()
    app = Flask(__name__, template_folder="../templates")
    hops = rt.settings.trusted_proxy_hops
    if hops:
        # Behind a load balancer every request comes from its address: the per-IP rate limit
        # and the consent evidence need the client's, from X-Forwarded-For.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    app.config.update(
        SECRET_KEY=rt.settings.secret_key,
        MAX_CONTENT_LENGTH=rt.settings.intake_max_body_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Plain http only on a developer's own machine (make run) and in tests.
        SESSION_COOKIE_SECURE=rt.settings.env == "production",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=rt.settings.session_hours),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session that holds it
    )
    # Before any route is added: an id past what the database holds is a 404, not a 500.
    app.url_map.converters["int"] = BoundedInt
    from loopstrat.dashboard import bp as dashboard_bp
    from webhooks.api import bp as api_bp
    from webhooks.leads import bp as leads_bp
    from webhooks.links import bp as links_bp
    from webhooks.twilio import bp as twilio_bp

    csrf = CSRFProtect(app)
    # Their callers carry no session: the form key, and Twilio's signature, vouch for them.
    csrf.exempt(leads_bp)
    csrf.exempt(api_bp)  # the API key vouches for it
    csrf.exempt(twilio_bp)
    app.register_blueprint(leads_bp)
    app.register_blueprint(links_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(twilio_bp)
    app.register_blueprint(dashboard_bp)
    app.after_request(_security_headers)
    app.after_request(_relative_redirects)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(_exc: RequestEntityTooLarge) -> tuple[Response, int]:
        limit = rt.settings.intake_max_body_bytes
        return jsonify({"errors": {"body": f"larger than {limit} bytes"}}), 413

    @app.get("/healthz")
    def healthz() -> tuple[Response, int]:
        # Names what failed, never why: an error text could carry a URL with its password.
        failed = [
            name for name, ok in (("database", _database_ok()), ("redis", _redis_ok())) if not ok
        ]
        if failed:
            return jsonify({"ok": False, "failed": failed}), 503
        return jsonify({"ok": True}), 200

    log.info(rt.settings.banner())
    if rt.settings.proxy_warning:
        log.warning(rt.settings.proxy_warning)
    return app


HEALTH_DB_TIMEOUT_MS = 1000
# Every asset is the app's own: no inline script, no third-party origin, never framed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class BoundedInt(IntegerConverter):
    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def _relative_redirects(response: Response) -> Response:
    """A redirect to this site names the path only: routing's own (a missing trailing slash)
    would otherwise echo back whatever Host header the request carried."""
    location = response.headers.get("Location", "")
    parts = urlsplit(location)
    if parts.netloc and parts.netloc == request.host:
        response.headers["Location"] = urlunsplit(("", "", parts.path, parts.query, parts.fragment))
    return response


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if runtime.current().settings.env == "production":
        # Production is served over https: browsers
        # must never try plain http, where a network could read the session cookie.
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def _database_ok() -> bool:
    try:
        with runtime.current().engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text(f"SET LOCAL statement_timeout = {HEALTH_DB_TIMEOUT_MS}"))
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # whatever broke, the answer is 503; the log says which kind
        log.warning("healthz database failed error=%s", type(exc).__name__)
        return False
    return True


def _redis_ok() -> bool:
    # The limiter's client: it gives up in a fifth of a second, so a hung Redis answers 503
    # quickly instead of holding the health check past the load balancer's patience.
    return runtime.current().limiter.ping()
