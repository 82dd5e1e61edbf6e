"""The `loopstrat` command: accounts, migrations, and the worker and scheduler processes."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from loopstrat import runtime
from loopstrat.accounts import AccountSpec, create_account
from loopstrat.config import ConfigError, load_dotenv_file, load_settings
from loopstrat.contacts_cli import contact
from loopstrat.conversations import cli as conversation_cli
from loopstrat.crm.cli import airtable
from loopstrat.leads.held_cli import held_leads_cmd
from loopstrat.logs import setup_logging


def _runtime() -> runtime.Runtime:
    try:
        return runtime.configure(load_settings())
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from None


@click.group()
def main() -> None:
    """Loopstrat: text every lead back within seconds."""
    load_dotenv_file()
    setup_logging()


@main.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    from loopstrat.migrate import upgrade

    rt = _runtime()
    upgrade(rt.settings.database_url)
    click.echo("database is up to date", err=True)


@main.command("create-account")
@click.option("--name", required=True, help="Business name, as customers know it.")
@click.option("--trade", required=True, help="plumbing, roofing, HVAC, ...")
@click.option("--twilio-number", required=True, help="The account's Twilio number, E.164.")
@click.option("--timezone", "tz", required=True, help="IANA zone, e.g. America/Denver.")
@click.option("--zips", default="", help="Service-area ZIP codes, comma-separated.")
@click.option("--alert-phone", default=None, help="Where reply alerts go, E.164.")
@click.option(
    "--website", default=None, help="The business website (the only link a text may carry)."
)
@click.option("--json", "as_json", is_flag=True, help="Print only a JSON object on stdout.")
def create_account_cmd(
    name: str,
    trade: str,
    twilio_number: str,
    tz: str,
    zips: str,
    alert_phone: str | None,
    website: str | None,
    as_json: bool,
) -> None:
    """Create a contractor account (trialing, so it texts until billing says otherwise)."""
    rt = _runtime()
    spec = AccountSpec(name, trade, twilio_number, tz, zips, alert_phone, website)
    try:
        with rt.sessions() as session:
            account = create_account(session, spec)
            session.commit()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    result: dict[str, Any] = {"account_id": account.id, "form_key": account.form_key}
    if as_json:
        click.echo(json.dumps(result))
        return
    base = rt.settings.public_base_url.rstrip("/")
    click.echo(f"account {account.id} created for {account.name}")
    click.echo(f"intake URL: {base}/leads/{account.form_key}")


@main.command()
@click.option("--burst", is_flag=True, help="Drain the queues, then exit.")
@click.option(
    "--queue",
    "-q",
    "queue_names",
    multiple=True,
    type=click.Choice(["texts", "crm"]),
    help="Queue to work (repeatable; default: texts). Run crm in its own process.",
)
def worker(burst: bool, queue_names: tuple[str, ...]) -> None:
    """Run jobs from the texts queue, or the ones named with --queue."""
    from workers.queues import DEFAULT_QUEUE, queue
    from workers.worker import LoopstratWorker, warm_up

    rt = _runtime()
    click.echo(rt.settings.banner(), err=True)
    # The crm queue gets its own process: an Airtable pause must never delay a text.
    queues = [queue(rt, name) for name in (queue_names or (DEFAULT_QUEUE,))]
    warm_up(rt)
    LoopstratWorker(queues, connection=rt.redis).work(burst=burst, with_scheduler=False)


@main.command()
def scheduler() -> None:
    """Move due outbox rows (held replies, lost jobs, stored-while-Redis-was-down) to RQ."""
    from workers.scheduler import run_forever

    rt = _runtime()
    click.echo(rt.settings.banner(), err=True)
    run_forever(rt)


@main.command()
def dev() -> None:
    """What `make run` does: Redis if none, migrate, a demo account, then every process."""
    from loopstrat.devrun import run_dev

    sys.exit(run_dev(_runtime()))


main.add_command(airtable)
main.add_command(contact)
main.add_command(held_leads_cmd)
main.add_command(conversation_cli.reply)
main.add_command(conversation_cli.handback)
main.add_command(conversation_cli.show_conversation)
main.add_command(conversation_cli.conversation_settings)
main.add_command(conversation_cli.text_in)
