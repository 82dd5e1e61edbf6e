"""A newcomer's first hour: what `make run` and the commands say, as a person reads them."""

from __future__ import annotations

import io
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from loopstrat.accounts import canonical_zone
from loopstrat.compliance import REPLY, Allow, may_text
from loopstrat.compliance.consent import recipient_of
from loopstrat.compliance.holds import DAY_STARTS, describe_hold
from loopstrat.compliance.quiet_hours import FEDERAL_WINDOW, STRICT_STATE_WINDOWS
from loopstrat.config import DEV_SECRET_KEY, ConfigError, Settings, load_settings, without_secrets
from loopstrat.devrun import DEMO_ADMIN_EMAIL, demo_account, demo_admin, example_posts, port_is_free
from loopstrat.drafting.template import render_sms
from loopstrat.logs import setup_logging
from loopstrat.models import Contact, Lead, Message, Outbox
from loopstrat.sms.gateway import make_gateway
from tests.dashboard_helpers import make_user, sign_in, signed_in_client
from tests.test_conversation_handoff import cli

SCRATCH = tempfile.mkdtemp()  # `loopstrat dev` writes a .env where it runs: not in the repo
LOOPSTRAT = os.path.join(os.path.dirname(sys.executable), "loopstrat")  # as make run calls it
VENV = os.path.dirname(os.path.dirname(sys.executable))
MAKEFILE = os.path.join(os.path.dirname(os.path.dirname(__file__)), "Makefile")
UTAH_NIGHT = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)  # 23:00 in Salt Lake City
UTAH_DAY = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)  # 11:00
NO_ZONE_AWAKE = datetime(2026, 12, 3, 11, 30, tzinfo=UTC)  # 4:30 in Utah, 21:30 in Guam


def test_a_hold_says_why_and_when_in_the_recipients_zone_and_utc():
    until = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
    words = describe_hold("quiet_hours", until, ("America/Denver",), UTAH_NIGHT)
    assert words == "held for quiet hours: goes at 8:00 in America/Denver (15:00 UTC)"


def test_a_hold_names_the_zone_whose_morning_it_waits_for():
    # A number spanning Alaska's two zones waits for 8:00 in the later one.
    until = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
    zones = ("America/Anchorage", "America/Adak")
    assert describe_hold("quiet_hours", until, zones, UTAH_NIGHT).endswith(
        "goes at 8:00 in America/Adak (18:00 UTC)"
    )


def test_every_texting_day_starts_when_a_hold_says_it_does():
    starts = {start for start, _ in STRICT_STATE_WINDOWS.values()} | {FEDERAL_WINDOW[0]}
    assert starts == {DAY_STARTS}


def test_a_hold_more_than_a_day_off_names_the_day():
    until = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)
    words = describe_hold("frequency_cap", until, ("America/Denver",), UTAH_NIGHT)
    assert (
        words
        == "held by the daily text limit: goes at Sat Dec 5 8:00 in America/Denver (15:00 UTC)"
    )


def test_the_welcome_offers_a_lead_answered_now_when_utah_sleeps():
    intake = "http://127.0.0.1:5001/leads/KEY"
    by_day = example_posts(intake, UTAH_DAY)
    assert len(by_day) == 2 and '"phone": "801-555-0142"' in by_day[1]
    at_night = example_posts(intake, UTAH_NIGHT)  # 20:00 in Honolulu
    assert "it is night in Utah; a lead from Hawaii is answered now:" in at_night
    assert '"phone": "808-555-0142"' in at_night[-1] and at_night[-1].startswith("  curl")
    before_dawn = example_posts(intake, datetime(2026, 12, 3, 10, 0, tzinfo=UTC))  # 20:00 Guam
    assert '"phone": "671-555-0142"' in before_dawn[-1]
    assert example_posts(intake, NO_ZONE_AWAKE)[-1].startswith("no US time zone is in texting")


def test_the_sandbox_shows_each_text_in_development_and_masks_it_elsewhere():
    terminal = io.StringIO()
    setup_logging("INFO", stream=terminal)  # the masking handler every process logs through
    body = "Acme Plumbing: Hi Jane, thanks for your request. Reply STOP to opt out."
    for env in ("development", "production"):
        gateway = make_gateway(Settings(env=env))
        gateway.send(
            to="+18015550142",
            from_="+18015550111",
            body=body,
            status_callback="",
            validity_period_s=600,
        )
    shown, masked = re.split(r"^ts=", terminal.getvalue(), flags=re.M)[1:]
    assert "to=+18015550142 from=+18015550111" in shown and shown.endswith(f"\n    {body}\n")
    assert "+18015550142" not in masked and body not in masked and "***0142" in masked


def test_port_sets_the_public_url_unless_it_is_given():
    dev = {"LOOPSTRAT_ENV": "development"}
    assert load_settings({**dev, "PORT": "5001"}).public_base_url == "http://127.0.0.1:5001"
    given = {**dev, "PORT": "5001", "PUBLIC_BASE_URL": "https://hooks.example.com"}
    assert load_settings(given).public_base_url == "https://hooks.example.com"
    with pytest.raises(ConfigError, match="PORT='web' must be a TCP port"):
        load_settings({**dev, "PORT": "web"})


def test_the_banner_names_the_database_and_redis_without_passwords():
    settings = load_settings(
        {
            "LOOPSTRAT_ENV": "development",
            "DATABASE_URL": "postgresql+psycopg://app:s3cret@db.internal:5432/loopstrat",
            "REDIS_URL": "redis://:hunter2@cache.internal:6379/2",
        }
    )
    banner = settings.banner()
    assert "db=postgresql+psycopg://db.internal:5432/loopstrat" in banner
    assert "redis=redis://cache.internal:6379/2" in banner
    assert "s3cret" not in banner and "hunter2" not in banner


def dev_env(settings: Settings, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "ANTHROPIC_"))}
    env.update(
        LOOPSTRAT_ENV="development",
        PORT=str(port),
        DATABASE_URL=settings.database_url,
        REDIS_URL=settings.redis_url,
        PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
    )
    env.pop("PUBLIC_BASE_URL", None)
    return env


def loopstrat(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The command as a person types it, in its own process: its stdout and stderr apart."""
    return subprocess.run(  # noqa: S603 - our own entry point
        [LOOPSTRAT, *args], env=env, capture_output=True, text=True, timeout=60, cwd=SCRATCH
    )


def spare_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_make_run_on_a_taken_port_stops_at_once_with_one_line(settings, rt):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert not port_is_free(port)
        done = loopstrat(dev_env(settings, port), "dev")
    assert done.returncode == 3  # the Makefile's "already explained" code
    assert done.stdout == ""
    assert (
        done.stderr
        == f"loopstrat: port {port} is in use: set PORT, e.g. PORT={port + 1} make run\n"
    )


def test_make_run_prints_urls_on_its_port_and_stops_cleanly_on_ctrl_c(
    settings, rt, tmp_path, client
):
    port = spare_port()
    proc = subprocess.Popen(  # noqa: S603 - our own Makefile, installed already (no STAMP)
        ["make", "-s", "-f", MAKEFILE, "run", f"VENV={VENV}", "STAMP="],  # noqa: S607
        cwd=tmp_path,  # it writes a .env for the commands run beside it
        env=dev_env(settings, port),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal gives `make run`
    )
    assert proc.stdout is not None
    seen: list[str] = []
    for line in proc.stdout:
        seen.append(line)
        if "Ctrl-C stops everything" in line or len(seen) > 400:  # the welcome, once it answers
            break
    # This machine only: another on the network must not reach a development dashboard.
    listening = listening_addresses(port)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole group
    rest, _ = proc.communicate(timeout=60)
    output = "".join(seen) + rest
    # make ends by the Ctrl-C it got too, as a shell shows without a word; never by an error.
    assert proc.returncode in (0, -signal.SIGINT), output
    assert f"intake URL: http://127.0.0.1:{port}/leads/" in output
    assert f"dashboard:  http://127.0.0.1:{port}/dashboard/" in output
    assert f"redis:      {without_secrets(settings.redis_url)}" in output
    assert "already running there" in output
    assert f"database:   {without_secrets(settings.database_url)}" in output
    assert ":5000" not in output
    assert output.rstrip().endswith("stopped") and "Traceback" not in output
    assert "make: ***" not in output  # a clean stop, not "Interrupt" or "Error 130"
    # The demo admin signs in with the password the welcome showed.
    shown = re.search(r"sign in:    (\S+)  password: (\S+)  \(shown once\)", output)
    assert shown, output
    assert sign_in(client, shown.group(1), shown.group(2)).status_code == 302
    assert listening == {"127.0.0.1"}, listening
    # Its own SECRET_KEY, not the development default everyone can read in the source.
    key = re.search(r"(?m)^SECRET_KEY=(\S+)$", (tmp_path / ".env").read_text())
    assert key and len(key.group(1)) >= 40 and key.group(1) != DEV_SECRET_KEY


def listening_addresses(port: int) -> set[str]:
    """The IPv4 addresses a socket listens on at this port (Linux's /proc/net/tcp)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, at = local.split(":")
        if state == "0A" and int(at, 16) == port:  # 0A: LISTEN
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


def test_a_second_run_keeps_the_demo_admin_and_shows_no_password(rt, account):
    first = demo_admin(rt, account)
    assert "password: " in first and "shown once" in first
    again = demo_admin(rt, account)
    assert again.startswith(f"sign in:    {DEMO_ADMIN_EMAIL} (password shown on the first run")
    assert first.split("password: ")[1].split()[0] not in again


def test_the_demo_account_comes_with_marked_demo_leads_once(app, rt, db, twilio):
    account = demo_account(rt)
    assert demo_account(rt).id == account.id
    names = db.scalars(select(Contact.name).order_by(Contact.id)).all()
    assert len(names) == 4 and all(name.startswith("Demo: ") for name in names)
    assert set(db.scalars(select(Lead.source))) == {"demo"}
    assert db.scalar(select(func.count()).select_from(Outbox)) == 0  # nothing will be texted
    owner = signed_in_client(app.test_client(), make_user(rt, account))
    feed = owner.get("/dashboard/").get_data(as_text=True)
    assert feed.count('class="lead-row"') == 4
    assert "held for quiet hours" in feed and "waits for a person" in feed
    assert twilio.sent == []


def test_the_demo_leads_were_texted_as_the_gates_would_have_let_them(rt, db):
    account = demo_account(rt)
    texts = db.scalars(select(Message).where(Message.direction == "out")).all()
    assert texts
    for text in texts:
        contact = db.get(Contact, text.contact_id)
        recipient = recipient_of(contact, account, None)
        # A demo that texts at night would teach the newcomer the wrong product.
        decision = may_text(
            recipient=recipient, purpose=REPLY, now=text.sent_at, account_active=True
        )
        assert isinstance(decision, Allow), (contact.name, text.sent_at, decision)
        assert "Reply STOP" in text.body or text.kind != "first_reply"


def test_text_in_refuses_a_number_the_intake_would_refuse(rt, account, db, monkeypatch):
    result = cli(rt, monkeypatch, "text-in", "--account", str(account.id),
                 "--from", "999", "--body", "hi", exit_code=2)  # fmt: skip
    assert "Invalid value for --from: '999': not a valid North American phone number" in (
        result.output
    )
    assert db.scalar(select(func.count()).select_from(Contact)) == 0
    assert db.scalar(select(func.count()).select_from(Lead)) == 0
    assert db.scalar(select(func.count()).select_from(Message)) == 0


def test_a_command_prints_its_result_and_logs_only_when_asked(settings, rt, account, db):
    env = dev_env(settings, spare_port())
    texted = ["text-in", "--account", str(account.id), "--from", "801-555-0142", "--body", "Hi"]
    quiet = loopstrat(env, *texted)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout.startswith("stored as message ") and quiet.stderr == ""
    lead_id = db.scalar(select(Lead.id))
    reply = ["reply", "--account", str(account.id), "--lead", str(lead_id), "--body", "Mike here"]
    said = loopstrat(env, *reply)
    assert said.stdout.startswith("reply ") and len(said.stdout.splitlines()) == 1
    assert said.stderr == ""
    asked = ["-v", *reply[:-1], "Mike again"]
    loud = loopstrat(env, *asked)
    assert "level=INFO" in loud.stderr and "conversation_text" in loud.stderr
    assert loud.stdout.startswith("reply ") and "level=" not in loud.stdout


@pytest.mark.parametrize(
    ("typed", "zone"),
    [("america/denver", "America/Denver"), ("AMERICA/NEW YORK", "America/New_York")],
)
def test_a_time_zone_is_taken_in_any_case(typed, zone):
    assert canonical_zone(typed) == zone


def test_a_mistyped_time_zone_names_the_closest(rt, monkeypatch):
    result = cli(rt, monkeypatch, "create-account", "--name", "Acme", "--trade", "plumbing",
                 "--twilio-number", "+18015550111", "--timezone", "America/Denvr",
                 exit_code=1)  # fmt: skip
    assert "'America/Denvr' is not an IANA zone" in result.output
    assert "did you mean America/Denver" in result.output


def test_the_first_reply_template_is_the_reply_not_a_promise_of_one():
    body = render_sms("first_reply.txt", business="Acme Plumbing", first_name="Jane", service="")
    assert body.startswith("Acme Plumbing: Hi Jane, thanks for your request.")
    assert "shortly" not in body and "will text" not in body.lower()
    assert body.endswith("Reply STOP to opt out.")
