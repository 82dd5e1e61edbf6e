"""Airtable's Web API at the HTTP boundary, as `responses` callbacks with its documented shapes:
records (update multiple with performUpsert.fieldsToMergeOn, list with filterByFormula, delete
multiple), the meta API (whoami, base tables, create table, create field) and its errors.
Like Airtable it allows 5 requests per second per base and answers 429 for 30 s beyond that.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import responses

from loopstrat.crm.records import FIELDS, KEY_FIELD

API = "https://api.airtable.com"
BASE_ID = "appLoopstrat00001"
TOKEN = "patLoopstrat0Test.0123456789abcdef0123456789abcdef"
URL = re.compile(re.escape(API) + r"/v0/.*")
TABLE_NAMES = {"contacts": "Contacts", "leads": "Leads", "messages": "Messages"}


def _id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:14]


def error(status: int, kind: str, message: str) -> tuple[int, dict[str, str], str]:
    return status, {}, json.dumps({"error": {"type": kind, "message": message}})


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    body: dict[str, Any] | None
    at: float
    status: int = 0
    table: str | None = None


@dataclass
class FakeAirtable:
    """One base: its tables with their fields and records, and every request it received."""

    mock: responses.RequestsMock
    token: str = TOKEN
    base_id: str = BASE_ID
    tables: list[dict[str, Any]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    storm: int = 0  # answer this many requests with 429
    fail_with: list[int] = field(default_factory=list)  # then these statuses, one per request
    penalty_until: float = 0.0
    can_write_schema: bool = True
    during_write: Any = None  # called once while the next upsert is "in flight"

    def install(self, *, with_tables: bool = True) -> FakeAirtable:
        for method in (responses.GET, responses.POST, responses.PATCH, responses.DELETE):
            self.mock.add_callback(method, URL, callback=self._handle)
        if with_tables:
            for kind, name in TABLE_NAMES.items():
                self.add_table(name, [f.model() for f in FIELDS[kind]])
        return self

    def add_table(self, name: str, fields: list[dict[str, Any]]) -> dict[str, Any]:
        table = {
            "id": _id("tbl"),
            "name": name,
            "fields": [{"id": _id("fld"), **f} for f in fields],
            "views": [{"id": _id("viw"), "name": "Grid view", "type": "grid"}],
            "records": {},
        }
        table["primaryFieldId"] = table["fields"][0]["id"] if table["fields"] else None
        self.tables.append(table)
        return table

    def rows(self, name: str) -> list[dict[str, Any]]:
        return [r["fields"] for r in self._table(name)["records"].values()]

    def row(self, name: str, key: str) -> dict[str, Any]:
        found = [r for r in self.rows(name) if r.get(KEY_FIELD) == key]
        assert len(found) == 1, f"{len(found)} rows with {KEY_FIELD}={key} in {name}"
        return found[0]

    def writes(self, name: str | None = None) -> list[Call]:
        """Record writes (PATCH upserts), optionally to one table."""
        return [
            c
            for c in self.calls
            if c.method == "PATCH" and c.status == 200 and (name is None or c.table == name)
        ]

    @property
    def rate_limited(self) -> int:
        return sum(1 for c in self.calls if c.status == 429)

    def _table(self, name_or_id: str | None) -> dict[str, Any]:
        for table in self.tables:
            if name_or_id in (table["name"], table["id"]):
                return table
        raise KeyError(name_or_id)

    # -- the HTTP side ---------------------------------------------------------------------

    def _handle(self, request: Any) -> tuple[int, dict[str, str], str]:
        parsed = urlparse(request.url)
        body = json.loads(request.body) if request.body else None
        call = Call(request.method, unquote(parsed.path), parse_qs(parsed.query), body, time.time())
        self.calls.append(call)
        status, headers, text = self._answer(request, call)
        call.status = status
        return status, headers, text

    def _answer(self, request: Any, call: Call) -> tuple[int, dict[str, str], str]:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return error(401, "AUTHENTICATION_REQUIRED", "Authentication required")
        if self._over_rate(call.at):
            body = {
                "errors": [
                    {
                        "error": "RATE_LIMIT_REACHED",
                        "message": "Rate limit exceeded. Please try again later",
                    }
                ]
            }
            return 429, {}, json.dumps(body)
        if self.fail_with:
            status = self.fail_with.pop(0)
            return error(
                status, "SERVER_ERROR", "Try again. If the problem persists, contact support."
            )
        parts = call.path.split("/")[2:]  # after /v0/
        if parts == ["meta", "whoami"]:
            return 200, {}, json.dumps({"id": "usrLoopstratTest", "scopes": ["data.records:read"]})
        if parts[:2] == ["meta", "bases"]:
            return self._meta(call, parts[2:])
        if parts[0] != self.base_id or len(parts) != 2:
            return self._not_found()
        try:
            table = self._table(parts[1])
        except KeyError:
            return self._not_found()
        call.table = table["name"]
        if call.method == "PATCH":
            hook, self.during_write = self.during_write, None
            if hook is not None:
                hook()
            return self._upsert(table, call.body or {})
        if call.method == "GET":
            return self._list(table, call.query)
        if call.method == "DELETE":
            return self._delete(table, call.query.get("records[]", []))
        return self._not_found()

    def _over_rate(self, now: float) -> bool:
        if self.storm:
            self.storm -= 1
            self.penalty_until = now + 30
            return True
        if now < self.penalty_until:
            return True
        recent = [c for c in self.calls[:-1] if c.status != 429 and c.at > now - 1.0]
        if len(recent) >= 5:
            self.penalty_until = now + 30
            return True
        return False

    def _not_found(self) -> tuple[int, dict[str, str], str]:
        return error(
            403,
            "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND",
            "Invalid permissions, or the requested model was not found. Check that both your "
            "user and your token have the required permissions, and that the model names "
            "and/or ids are correct.",
        )

    def _meta(self, call: Call, parts: list[str]) -> tuple[int, dict[str, str], str]:
        if not parts or parts[0] != self.base_id or parts[1:2] != ["tables"]:
            return self._not_found()
        if call.method == "GET" and len(parts) == 2:
            shown = [{k: v for k, v in t.items() if k != "records"} for t in self.tables]
            return 200, {}, json.dumps({"tables": shown})
        if call.method != "POST" or not self.can_write_schema:
            return self._not_found()
        body = call.body or {}
        if len(parts) == 2:
            table = self.add_table(body["name"], body["fields"])
            return 200, {}, json.dumps({k: v for k, v in table.items() if k != "records"})
        table = self._table(parts[2])
        made = {"id": _id("fld"), **body}
        table["fields"].append(made)
        return 200, {}, json.dumps(made)

    def _upsert(
        self, table: dict[str, Any], body: dict[str, Any]
    ) -> tuple[int, dict[str, str], str]:
        records = body.get("records", [])
        keys = body["performUpsert"]["fieldsToMergeOn"]
        if len(records) > 10:
            return error(422, "INVALID_RECORDS", "You can update at most 10 records per request")
        names = {f["name"] for f in table["fields"]}
        for record in records:
            unknown = set(record["fields"]) - names
            if unknown:
                return error(
                    422, "UNKNOWN_FIELD_NAME", f'Unknown field name: "{sorted(unknown)[0]}"'
                )
        created, updated, out = [], [], []
        for record in records:
            match = [
                rid
                for rid, row in table["records"].items()
                if all(row["fields"].get(k) == record["fields"].get(k) for k in keys)
            ]
            if match:
                rid = match[0]
                table["records"][rid]["fields"].update(record["fields"])
                updated.append(rid)
            else:
                rid = _id("rec")
                table["records"][rid] = {
                    "id": rid,
                    "createdTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                    "fields": dict(record["fields"]),
                }
                created.append(rid)
            out.append(table["records"][rid])
        answer = {"createdRecords": created, "updatedRecords": updated, "records": out}
        return 200, {}, json.dumps(answer)

    def _list(
        self, table: dict[str, Any], query: dict[str, list[str]]
    ) -> tuple[int, dict[str, str], str]:
        formula = query.get("filterByFormula", [""])[0]
        wanted = set(re.findall(r"=\s*'([^']*)'", formula))
        rows = [r for r in table["records"].values() if r["fields"].get(KEY_FIELD) in wanted]
        return 200, {}, json.dumps({"records": rows})

    def _delete(self, table: dict[str, Any], ids: list[str]) -> tuple[int, dict[str, str], str]:
        if len(ids) > 10:
            return error(422, "INVALID_REQUEST", "You can delete at most 10 records per request")
        missing = [i for i in ids if i not in table["records"]]
        if missing:
            return error(404, "NOT_FOUND", "Could not find what you are looking for")
        for record_id in ids:
            del table["records"][record_id]
        return 200, {}, json.dumps({"records": [{"id": i, "deleted": True} for i in ids]})


def connect(rt: Any, account_id: int, token: str = TOKEN) -> None:
    """Give an account its Airtable settings as `loopstrat airtable connect` stores them."""
    from loopstrat.crm import connection
    from loopstrat.models import Account

    with rt.sessions() as session:
        account = session.get(Account, account_id)
        connection.save(rt.settings, account, token, BASE_ID, dict(TABLE_NAMES))
        session.commit()
