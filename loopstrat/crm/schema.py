"""Does the base have what the sync writes? `check` compares Airtable's schema (the meta API)
with records.FIELDS; `setup` creates the missing tables and fields where the token may.

Never changes or deletes a field the contractor made: a wrong type is reported, not fixed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from loopstrat.crm.airtable import AirtableClient, AirtableError
from loopstrat.crm.connection import TABLE_KINDS
from loopstrat.crm.records import COMPATIBLE, FIELDS, FieldSpec


@dataclass(frozen=True)
class Gap:
    """Something the base lacks: a whole table (field is None) or one field of a table."""

    kind: str
    table: str
    table_id: str | None
    field: FieldSpec | None = None
    found_type: str | None = None

    def describe(self) -> str:
        if self.field is None:
            names = ", ".join(f'"{f.name}" ({_type_text(f)})' for f in FIELDS[self.kind])
            return f'table "{self.table}" is missing: create it with fields {names}'
        want = _type_text(self.field)
        if self.found_type:
            return (
                f'table "{self.table}": field "{self.field.name}" is {self.found_type}, '
                f"needs {want} (change it by hand)"
            )
        return f'table "{self.table}": add field "{self.field.name}" ({want})'


@dataclass
class SchemaReport:
    user_id: str
    gaps: list[Gap] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.gaps


def _type_text(spec: FieldSpec) -> str:
    options = spec.options or {}
    if "choices" in options:
        return f"{spec.type}: " + " | ".join(c["name"] for c in options["choices"])
    if "precision" in options:
        return f"{spec.type}, precision {options['precision']}"
    return spec.type


def _tables_url(client: AirtableClient, *more: str) -> str:
    return str(client.api.build_url("meta/bases", client.conn.base_id, "tables", *more))


def check(client: AirtableClient) -> SchemaReport:
    """Two requests: who the token is (GET meta/whoami), then the base's tables."""
    me = client.call(client.api.whoami)
    data = client.call(lambda: client.api.request("GET", _tables_url(client)))
    by_name = {t["name"]: t for t in data.get("tables", [])}
    report = SchemaReport(user_id=str(me.get("id", "")))
    for kind in TABLE_KINDS:
        name = client.conn.tables[kind]
        table = by_name.get(name)
        if table is None:
            report.gaps.append(Gap(kind, name, None))
            continue
        have = {f["name"]: f["type"] for f in table.get("fields", [])}
        for spec in FIELDS[kind]:
            found = have.get(spec.name)
            if found is None or found not in COMPATIBLE[spec.type]:
                report.gaps.append(Gap(kind, name, table["id"], spec, found))
    return report


def setup(client: AirtableClient, report: SchemaReport) -> tuple[list[str], list[str]]:
    """Create what is missing: (what was made, what is left for a person, with why)."""
    made: list[str] = []
    left: list[str] = []
    for gap in report.gaps:
        if gap.found_type:
            left.append(gap.describe())
            continue
        try:
            _create(client, gap)
        except AirtableError as exc:
            if exc.kind != "rejected":
                raise
            left.append(f"{gap.describe()} [{exc}; needs the schema.bases:write scope]")
            continue
        made.append(f'table "{gap.table}"' + (f' field "{gap.field.name}"' if gap.field else ""))
    return made, left


def _create(client: AirtableClient, gap: Gap) -> Any:
    # One POST makes a table with all its fields (pyairtable's Base.create_table costs two).
    if gap.field is None:
        body = {"name": gap.table, "fields": [f.model() for f in FIELDS[gap.kind]]}
        return client.call(lambda: client.api.request("POST", _tables_url(client), json=body))
    if gap.table_id is None:
        raise ValueError(f"a missing field of table {gap.table!r} needs the table's id")
    url = _tables_url(client, gap.table_id, "fields")
    spec = gap.field.model()
    return client.call(lambda: client.api.request("POST", url, json=spec))
