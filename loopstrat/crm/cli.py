"""`loopstrat airtable …`: connect, check, set up, back-fill, disconnect and show a base's sync.

The token is read from standard input, never from an argument (arguments show in process
lists), is checked before it is stored, and is only ever shown masked.
"""

from __future__ import annotations

import sys
import time

import click

from loopstrat import runtime
from loopstrat.commands import command_runtime
from loopstrat.crm import connection, health, schema
from loopstrat.crm.airtable import AirtableClient, AirtableError, make_api
from loopstrat.crm.backfill import run_backfill, start_backfill
from loopstrat.crm.pacing import PAUSE_AFTER_429_S, BaseLimiter
from loopstrat.journal import wake_sync
from loopstrat.models import Account

account_option = click.option("--account", "account_id", type=int, required=True)


def _client(rt: runtime.Runtime, conn: connection.AirtableConnection) -> AirtableClient:
    # A person is waiting at the terminal, not a lead: sleeping through a pause is fine here.
    api = make_api(rt.settings.airtable_api_url, conn.token)
    limiter = BaseLimiter(rt.redis)
    return AirtableClient(conn, api, limiter, sleep, max_sleep_s=PAUSE_AFTER_429_S + 5)


def sleep(seconds: float) -> None:
    """Waiting at the terminal; tests replace it with a move of the clock."""
    time.sleep(seconds)


def _connected(rt: runtime.Runtime, account_id: int) -> connection.AirtableConnection:
    with rt.sessions() as session:
        account = session.get(Account, account_id)
        if account is None:
            raise click.ClickException(f"no account {account_id}")
        try:
            conn = connection.connection_of(rt.settings, account)
        except connection.AirtableSettingsError as exc:
            raise click.ClickException(str(exc)) from None
    if conn is None:
        raise click.ClickException(
            f"account {account_id} has no Airtable connection: run `loopstrat airtable connect`"
        )
    return conn


def _read_token() -> str:
    if sys.stdin.isatty():
        return str(click.prompt("Airtable personal access token", hide_input=True)).strip()
    return sys.stdin.readline().strip()


def _print_report(report: schema.SchemaReport) -> None:
    if report.ok:
        click.echo("every table has the fields the sync writes")
    for gap in report.gaps:
        click.echo(f"missing: {gap.describe()}")


@click.group()
def airtable() -> None:
    """Sync leads, contacts and messages to the account's own Airtable base."""


@airtable.command()
@account_option
@click.option("--base", "base_id", required=True, help="The base id, appXXXXXXXXXXXXXX.")
@click.option("--contacts-table", default=connection.DEFAULT_TABLES["contacts"])
@click.option("--leads-table", default=connection.DEFAULT_TABLES["leads"])
@click.option("--messages-table", default=connection.DEFAULT_TABLES["messages"])
def connect(
    account_id: int, base_id: str, contacts_table: str, leads_table: str, messages_table: str
) -> None:
    """Store a token (read from standard input) after checking it against the base."""
    rt = command_runtime()
    tables = {"contacts": contacts_table, "leads": leads_table, "messages": messages_table}
    token = _read_token()
    try:
        connection.validate(token, base_id, tables)
    except connection.AirtableSettingsError as exc:
        raise click.ClickException(str(exc)) from None
    conn = connection.AirtableConnection(account_id, base_id, tables, token)
    try:
        report = schema.check(_client(rt, conn))
    except AirtableError as exc:
        raise click.ClickException(f"token not stored: {exc}") from None
    with rt.sessions() as session:
        account = session.get(Account, account_id)
        if account is None:
            raise click.ClickException(f"no account {account_id}")
        connection.save(rt.settings, account, token, base_id, tables)
        wake_sync(session, account_id)
        session.commit()
    masked = connection.masked(token)
    click.echo(f"account {account_id}: connected to base {base_id} with token {masked}")
    _print_report(report)
    if not report.ok:
        click.echo("run `loopstrat airtable setup` to create what is missing")
    click.echo("run `loopstrat airtable backfill` to push the existing history")


@airtable.command()
@account_option
def disconnect(account_id: int) -> None:
    """Forget the token and base; nothing more is queued for this account."""
    rt = command_runtime()
    with rt.sessions() as session:
        account = session.get(Account, account_id)
        if account is None:
            raise click.ClickException(f"no account {account_id}")
        dropped = connection.forget(session, account)
        session.commit()
    click.echo(f"account {account_id}: Airtable disconnected ({dropped} waiting records dropped)")


@airtable.command()
@account_option
def check(account_id: int) -> None:
    """Verify the token, the base and every field the sync writes; exit 1 if something lacks."""
    rt = command_runtime()
    conn = _connected(rt, account_id)
    try:
        report = schema.check(_client(rt, conn))
    except AirtableError as exc:
        raise click.ClickException(str(exc)) from None
    masked = connection.masked(conn.token)
    click.echo(f"token {masked} works (user {report.user_id}); base {conn.base_id}")
    _print_report(report)
    if not report.ok:
        raise SystemExit(1)


@airtable.command()
@account_option
def setup(account_id: int) -> None:
    """Create the missing tables and fields through Airtable's schema API."""
    rt = command_runtime()
    conn = _connected(rt, account_id)
    client = _client(rt, conn)
    try:
        made, left = schema.setup(client, schema.check(client))
    except AirtableError as exc:
        raise click.ClickException(str(exc)) from None
    for what in made:
        click.echo(f"created {what}")
    for what in left:
        click.echo(f"left for you: {what}")
    if not made and not left:
        click.echo("nothing to do: the base has every table and field")
    if left:
        raise SystemExit(1)


@airtable.command()
@account_option
def backfill(account_id: int) -> None:
    """Push the account's whole history; safe to run again (rows are upserted by Loopstrat ID)."""
    rt = command_runtime()
    _connected(rt, account_id)
    total = start_backfill(rt, account_id)
    with click.progressbar(length=total, label="records", file=sys.stderr) as bar:
        result = run_backfill(rt, account_id, bar.update, sleep=sleep)
    if result.state == "failed":
        raise click.ClickException(
            f"backfill stopped: {result.error} (the rest waits; the crm worker retries)"
        )
    click.echo(f"account {account_id}: {total} records pushed to Airtable")


@airtable.command()
@account_option
def status(account_id: int) -> None:
    """Show the sync's health: last success, last error, records waiting."""
    rt = command_runtime()
    with rt.sessions() as session:
        account = session.get(Account, account_id)
        if account is None:
            raise click.ClickException(f"no account {account_id}")
        state = health.sync_health(session, account_id)
        base = account.airtable_base_id
    click.echo(f"base: {base or 'not connected'}")
    click.echo(f"last success: {state.last_success_at or 'never'}")
    click.echo(
        f"last error: {state.last_error or 'none'}"
        + (f" at {state.last_error_at}" if state.last_error_at else "")
    )
    click.echo(f"waiting: {state.waiting}")
