"""Dashboard benchmark: one account with 50,000 leads and 250,000 texts, and the server time of
the pages a contractor opens most: the lead feed (first page, a status filter, a search) and the
ROI page for 90 days. Each figure is the p95 over repeated requests through the real app (signed
in, CSRF and all), printed beside its target; a verdict last; exit 1 on a miss.

On SQLite (a fresh file) by default; `--database postgresql+psycopg://…` runs it on PostgreSQL
(the database's public schema is dropped and migrated first: give it a database of its own).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from speed_to_lead import fresh_database
from sqlalchemy import insert, text

from loopstrat import runtime
from loopstrat.accounts import AccountSpec, create_account
from loopstrat.app import create_app
from loopstrat.config import Settings
from loopstrat.dashboard.users import create_user
from loopstrat.migrate import upgrade
from loopstrat.models import Contact, Lead, Message

REDIS_URL = "redis://127.0.0.1:6379/11"
PASSWORD = "bench password long enough"  # noqa: S105 - a throwaway bench user's
FEED_TARGET_MS = 100.0
ROI_TARGET_MS = 300.0
SOURCES = ("web_form", "google_ads", "angi")
STATUSES = ("responded", "replied", "qualified", "booked", "lost", "completed", "new")
CHUNK = 10_000


def build(rt: runtime.Runtime, leads: int, texts_per_lead: int) -> int:
    with rt.sessions() as session:
        account = create_account(
            session, AccountSpec("Bench Plumbing", "plumbing", "+18015550111", "America/Denver")
        )
        session.commit()
        account_id = account.id
    create_user(
        rt, account_id=account_id, email="bench@example.com", role="admin", password=PASSWORD
    )
    rng, now = random.Random(7), datetime.now(UTC)
    with rt.engine.begin() as conn:
        for start in range(0, leads, CHUNK):
            ids = range(start + 1, min(start + CHUNK, leads) + 1)
            conn.execute(insert(Contact), [_contact(account_id, i, now) for i in ids])
            lead_rows = [_lead(account_id, i, now, rng) for i in ids]
            conn.execute(insert(Lead), lead_rows)
            messages = [m for row in lead_rows for m in _texts(account_id, row, texts_per_lead)]
            conn.execute(insert(Message), messages)
    return account_id


def _contact(account_id: int, i: int, now: datetime) -> dict[str, Any]:
    return {"id": i, "account_id": account_id, "phone": f"+1801{i:07d}", "name": f"Lead {i}",
            "consent_at": now, "created_at": now, "updated_at": now}  # fmt: skip


def _lead(account_id: int, i: int, now: datetime, rng: random.Random) -> dict[str, Any]:
    received = now - timedelta(seconds=rng.randrange(180 * 86400))
    held = rng.random() < 0.15
    answered = received + timedelta(
        seconds=rng.randrange(30_000, 40_000) if held else rng.randrange(3, 90)
    )
    status = STATUSES[i % len(STATUSES)]
    booked = status in ("booked", "completed")
    return {
        "id": i, "account_id": account_id, "contact_id": i, "inquiry": "leaky faucet",
        "source": SOURCES[i % len(SOURCES)], "received_at": received, "updated_at": received,
        "consent_at": received, "response_state": "responded", "first_response_at": answered,
        "first_response_s": (answered - received).total_seconds(),
        "first_touch_by": "person" if i % 11 == 0 else "claude",
        "last_inbound_at": answered + timedelta(minutes=5),  # _texts: the lead's first reply
        "held_until": answered if held else None, "hold_reason": "quiet_hours" if held else None,
        "status": status, "booked_at": answered if booked else None,
        "job_value_cents": rng.randrange(20_000, 400_000) if booked else None,
        "handoff_at": answered if i % 9 == 0 else None, "handoffs": 1 if i % 9 == 0 else 0,
        "owner": "ai", "ai_turns": 0,
    }  # fmt: skip


def _texts(account_id: int, lead: dict[str, Any], n: int) -> list[dict[str, Any]]:
    rows = []
    for k in range(n):
        at = lead["first_response_at"] + timedelta(minutes=5 * k)
        out = k % 2 == 0
        rows.append({
            "account_id": account_id, "contact_id": lead["contact_id"], "lead_id": lead["id"],
            "direction": "out" if out else "in", "kind": _kind(k, out),
            "to_phone": "+18015550000", "from_phone": "+18015550111", "body": "bench text",
            "status": "delivered" if out else "received",
            "drafted_by": _author(k, lead) if out else "lead",
            "segments": 1 if out else None, "ai_input_tokens": 400 if out else None,
            "ai_output_tokens": 60 if out else None, "created_at": at, "updated_at": at,
            "sent_at": at if out else None,
        })  # fmt: skip
    return rows


def _author(k: int, lead: dict[str, Any]) -> str:
    return str(lead["first_touch_by"]) if k == 0 else "claude"


def _kind(k: int, out: bool) -> str:
    if k == 0:
        return "first_reply"
    return "follow_up" if out else "inbound"


def p95_ms(client: Any, path: str, runs: int) -> float:
    client.get(path)  # warm: templates compiled, connections open
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise SystemExit(f"{path} answered {answer.status_code}")
    return statistics.quantiles(times, n=20)[18] if runs >= 20 else max(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default=None, help="a PostgreSQL URL; SQLite if not given")
    parser.add_argument("--leads", type=int, default=50_000)
    parser.add_argument("--texts-per-lead", type=int, default=5)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = fresh_database(args.database, Path(folder))
        upgrade(url)
        settings = Settings(env="test", database_url=url, redis_url=REDIS_URL, secret_key="bench")  # noqa: S106
        rt = runtime.configure(settings)
        rt.redis.flushdb()
        started = time.perf_counter()
        build(rt, args.leads, args.texts_per_lead)
        if url.startswith("postgresql"):
            with rt.engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        built_s = time.perf_counter() - started
        texts = args.leads * args.texts_per_lead
        print(f"dashboard bench on {url.split(':', 1)[0]}: {args.leads} leads, {texts} texts "
              f"(built in {built_s:.0f} s)")  # fmt: skip
        return measure(create_app(settings).test_client(), args.runs)


def measure(client: Any, runs: int) -> int:
    page = client.get("/dashboard/sign-in").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    form = {"email": "bench@example.com", "password": PASSWORD, "csrf_token": token}
    if client.post("/dashboard/sign-in", data=form).status_code != 302:
        raise SystemExit("could not sign in")
    figures = [
        ("feed, first page", p95_ms(client, "/dashboard/", runs), FEED_TARGET_MS),
        ("feed, status filter", p95_ms(client, "/dashboard/?status=booked", runs), FEED_TARGET_MS),
        ("feed, search", p95_ms(client, "/dashboard/?q=lead 4321", runs), FEED_TARGET_MS),
        ("feed, phone search", p95_ms(client, "/dashboard/?q=555", runs), FEED_TARGET_MS),
        (
            "ROI page, 90 days",
            p95_ms(client, "/dashboard/roi?days=90", max(runs // 2, 20)),
            ROI_TARGET_MS,
        ),
    ]
    missed = [name for name, value, target in figures if value >= target]
    for name, value, target in figures:
        mark = "ok" if value < target else "MISS"
        print(f"  {name:22s} p95 {value:7.1f} ms   target < {target:.0f} ms   {mark}")
    print(f"verdict: {'PASS' if not missed else 'FAIL: ' + ', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
