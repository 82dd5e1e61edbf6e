"""Airtable sync benchmark: 2,000 changes for one base through the real sync code.

A local stand-in for Airtable's records API (http.server on 127.0.0.1, in a thread) enforces
the documented limit: at most 5 requests in any second per base, a 429 beyond that, and 429s
for the next 30 s after one. The real sync (journal in a fresh SQLite file, the shared Redis
limiter in Redis database 12, pyairtable over HTTP) drains the changes with several workers
(threads, one account each, all on the same base). Prints records per second against the ideal
of 50 (5 requests x 10 records) and the 429s the stand-in sent; a verdict last; exit 1 on a miss.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from loopstrat import runtime
from loopstrat.accounts import AccountSpec, create_account
from loopstrat.config import Settings
from loopstrat.crm import connection
from loopstrat.crm.sync import sync_account
from loopstrat.journal import note_all, waiting
from loopstrat.migrate import upgrade
from loopstrat.models import Contact, Lead, Message
from loopstrat.runtime import Runtime

REDIS_URL = "redis://127.0.0.1:6379/12"
BASE_ID = "appBenchBase00001"
TOKEN = "patBenchToken.0123456789"  # noqa: S105 - the stand-in's, not a real credential
PER_SECOND = 5
PENALTY_S = 30.0
TARGET_RECORDS_PER_S = 45.0
IDEAL_RECORDS_PER_S = 50.0
TARGET_MAX_429 = 2


class StandIn:
    """Airtable's update-multiple-records endpoint with performUpsert, rate limited per base."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.accepted: dict[str, list[float]] = {}
        self.penalty_until: dict[str, float] = {}
        self.rejected = 0
        self.requests = 0
        self.rows: dict[str, dict[str, Any]] = {}

    def admit(self, base: str, now: float) -> bool:
        with self.lock:
            self.requests += 1
            recent = [t for t in self.accepted.get(base, []) if t > now - 1.0]
            if now < self.penalty_until.get(base, 0.0) or len(recent) >= PER_SECOND:
                self.penalty_until[base] = now + PENALTY_S
                self.rejected += 1
                return False
            self.accepted[base] = [*recent, now]
            return True

    def upsert(self, table: str, body: dict[str, Any]) -> dict[str, Any]:
        key = body["performUpsert"]["fieldsToMergeOn"][0]
        created, updated, records = [], [], []
        with self.lock:
            for record in body["records"]:
                row_key = f"{table}:{record['fields'][key]}"
                row = self.rows.get(row_key)
                if row is None:
                    row = {"id": "rec" + uuid.uuid4().hex[:14], "fields": {}}
                    row["createdTime"] = "2026-11-25T10:00:00.000Z"
                    self.rows[row_key] = row
                    created.append(row["id"])
                else:
                    updated.append(row["id"])
                row["fields"].update(record["fields"])
                records.append(row)
        return {"createdRecords": created, "updatedRecords": updated, "records": records}


def serve(stand_in: StandIn) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_PATCH(self) -> None:  # noqa: N802 - http.server's naming
            parts = unquote(urlparse(self.path).path).split("/")  # /v0/{base}/{table}
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if not stand_in.admit(parts[2], time.time()):
                error = {"error": "RATE_LIMIT_REACHED", "message": "Rate limit exceeded."}
                return self._answer(429, {"errors": [error]})
            if len(body["records"]) > 10:
                return self._answer(422, {"error": {"type": "INVALID_RECORDS"}})
            return self._answer(200, stand_in.upsert(parts[3], body))

        def _answer(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def prepare(rt: Runtime, changes: int, workers: int) -> list[int]:
    """Accounts on the one base, each with its share of contacts, leads and texts journaled."""
    upgrade(rt.settings.database_url)
    rt.redis.flushdb()
    account_ids = []
    for w in range(workers):
        share = changes // workers + (1 if w < changes % workers else 0)
        with rt.sessions() as session:
            spec = AccountSpec(f"Bench {w}", "plumbing", f"+1801555{2000 + w:04d}", "UTC")
            account = create_account(session, spec)
            connection.save(rt.settings, account, TOKEN, BASE_ID, dict(connection.DEFAULT_TABLES))
            _history(session, account.id, share)
            note_all(session, account.id)
            session.commit()
            account_ids.append(account.id)
    return account_ids


def _history(session: Any, account_id: int, share: int) -> None:
    third = share // 3
    people = [
        Contact(account_id=account_id, phone=f"+1385555{i:04d}", name=f"Lead {i}")
        for i in range(share - 2 * third)
    ]
    session.add_all(people)
    session.flush()
    leads = [Lead(account_id=account_id, contact_id=p.id, inquiry="leak") for p in people[:third]]
    session.add_all(leads)
    session.flush()
    session.add_all(
        Message(
            account_id=account_id,
            contact_id=lead.contact_id,
            lead_id=lead.id,
            direction="out",
            kind="first_reply",
            to_phone="+13855550000",
            from_phone="+18015550000",
            body="Thanks, we'll text you shortly.",
            status="sent",
        )
        for lead in leads
    )
    session.flush()


def drain(rt: Runtime, account_id: int, client_429s: list[int]) -> None:
    """What the crm worker and the outbox do for one account, until its journal is empty."""
    while True:
        result = sync_account(rt, account_id)
        if result.state == "done":
            return
        if result.state == "failed" and "429" in (result.error or ""):
            client_429s.append(1)
        if result.until is not None:
            time.sleep(max(0.0, result.until.timestamp() - time.time()))
        elif result.state in ("busy", "failed"):
            time.sleep(0.1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--changes", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2, help="crm workers (threads)")
    args = parser.parse_args()
    stand_in = StandIn()
    server = serve(stand_in)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            env="development",
            database_url=f"sqlite:///{Path(tmp) / 'bench.db'}",
            redis_url=REDIS_URL,
            airtable_api_url=f"http://127.0.0.1:{server.server_address[1]}",
        )
        rt = runtime.configure(settings)
        account_ids = prepare(rt, args.changes, args.workers)
        client_429s: list[int] = []
        threads = [threading.Thread(target=drain, args=(rt, a, client_429s)) for a in account_ids]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        with rt.sessions() as session:
            left = sum(waiting(session, a) for a in account_ids)
            rows = len(stand_in.rows)
        rt.redis.flushdb()
        rt.close()
    server.shutdown()
    return report(args, elapsed, stand_in, left, rows)


def report(
    args: argparse.Namespace, elapsed: float, stand_in: StandIn, left: int, rows: int
) -> int:
    rate = (args.changes - left) / elapsed
    fast = rate >= TARGET_RECORDS_PER_S
    calm = stand_in.rejected <= TARGET_MAX_429
    complete = left == 0 and rows == args.changes
    print(
        f"airtable sync: {args.changes} changes, one base, {args.workers} crm workers, "
        f"stand-in allowing {PER_SECOND} requests/s"
    )
    print(
        f"  records per second  {rate:6.1f}   target >= {TARGET_RECORDS_PER_S:.0f} "
        f"(ideal {IDEAL_RECORDS_PER_S:.0f})   {'ok' if fast else 'MISS'}"
    )
    print(
        f"  429s received       {stand_in.rejected:6d}   target <= {TARGET_MAX_429}"
        f"{'':15}{'ok' if calm else 'MISS'}"
    )
    print(
        f"  rows in the base    {rows:6d}   target = {args.changes}"
        f"{'':13}{'ok' if complete else 'MISS'}"
    )
    print(f"  requests            {stand_in.requests:6d}   ({elapsed:.1f} s)")
    if fast and calm and complete:
        print(
            f"PASS: {rate:.1f} records/s ({rate / IDEAL_RECORDS_PER_S:.0%} of ideal), "
            f"{stand_in.rejected} 429s"
        )
        return 0
    print(
        "FAIL: "
        + ", ".join(
            what
            for what, ok in (("too slow", fast), ("429 storm", calm), ("rows missing", complete))
            if not ok
        )
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
