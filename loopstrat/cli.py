"""The `loopstrat` command: accounts, migrations, and the worker and scheduler processes."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from loopstrat.accounts import AccountSpec, create_account
from loopstrat.campaigns import cli as campaign_cli
from loopstrat.commands import command_runtime
from loopstrat.config import derived_fernet_key, load_dotenv_file
from loopstrat.contacts_cli import contact
from loopstrat.conversations import cli as conversation_cli
from loopstrat.crm.cli import airtable
from loopstrat.crm.connection import rotate_tokens
from loopstrat.leads.held_cli import held_leads_cmd
from loopstrat.logs import COMMAND_LEVEL, setup_logging


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Show INFO logs on stderr too.")
def main(verbose: bool) -> None:
    """Loopstrat: text every lead back within seconds."""
    load_dotenv_file()
    setup_logging("INFO" if verbose else COMMAND_LEVEL)


@main.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    from loopstrat.migrate import upgrade

    rt = command_runtime()
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
    rt = command_runtime()
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
    type=click.Choice(["texts", "bulk", "crm"]),
    help="Queue to work (repeatable; default: texts, then crm, then bulk).",
)
@click.option(
    "--concurrency",
    "-c",
    type=click.IntRange(min=1),
    default=None,
    help="Jobs in flight at once, each in a process of the pool (default: WORKER_CONCURRENCY; "
    "1 for the crm queue alone).",
)
def worker(burst: bool, queue_names: tuple[str, ...], concurrency: int | None) -> None:
    """Run jobs from the texts queue, then crm and bulk when texts is empty; or those named."""
    from workers.pool import LoopstratPool
    from workers.queues import CRM_QUEUE, WORKER_QUEUES
    from workers.redis_outage import wait_for_redis
    from workers.worker import RQ_LOG_LEVEL, LoopstratWorker, warm_up

    setup_logging()
    rt = command_runtime()
    click.echo(rt.settings.banner(), err=True)
    wait_for_redis(rt.redis, "worker")
    names = list(queue_names or WORKER_QUEUES)
    warm_up(rt)
    default = 1 if names == [CRM_QUEUE] else rt.settings.worker_concurrency
    processes = concurrency or default
    if processes == 1:
        worker = LoopstratWorker(names, connection=rt.redis)
        worker.work(burst=burst, with_scheduler=False, logging_level=RQ_LOG_LEVEL)
    else:
        LoopstratPool(rt, names, processes).start(burst=burst)


@main.command()
def scheduler() -> None:
    """Move due outbox rows (held replies, lost jobs, stored-while-Redis-was-down) to RQ."""
    from workers.scheduler import run_forever

    setup_logging()
    rt = command_runtime()
    click.echo(rt.settings.banner(), err=True)
    run_forever(rt)


@main.command("rotate-secrets")
@click.option(
    "--from-secret-key",
    is_flag=True,
    help="Also open tokens stored under the key derived from an old SECRET_KEY (read on stdin).",
)
def rotate_secrets(from_secret_key: bool) -> None:
    """Re-encrypt every stored secret with the first key in ENCRYPTION_KEY."""
    rt = command_runtime()
    retired = [derived_fernet_key(_read_secret("old SECRET_KEY"))] if from_secret_key else []
    with rt.sessions() as session:
        rotation = rotate_tokens(session, rt.settings, retired)
        session.commit()
    click.echo(f"{rotation.rotated} Airtable token(s) re-encrypted with the first key")
    if rotation.unreadable:
        accounts = ", ".join(str(account_id) for account_id in rotation.unreadable)
        raise click.ClickException(
            f"no key opens the Airtable token of account(s) {accounts}: put the key they were "
            "stored with back in ENCRYPTION_KEY and run again, or `loopstrat airtable connect` "
            "them again"
        )


@main.command("create-user")
@click.option("--account", "account_id", type=int, required=True, help="The account's id.")
@click.option("--email", required=True, help="What the user signs in with.")
@click.option("--role", type=click.Choice(["admin", "member"]), default="member")
def create_user_cmd(account_id: int, email: str, role: str) -> None:
    """A dashboard user. The password is the first line piped on stdin, or else generated and
    printed once (it is stored only as an argon2 hash)."""
    from loopstrat.dashboard.users import UserRefused, create_user, generated_password

    given = "" if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    password = given or generated_password()
    try:
        user = create_user(
            command_runtime(), account_id=account_id, email=email, role=role, password=password
        )
    except UserRefused as refused:
        raise click.ClickException(str(refused)) from None
    click.echo(f"user {user.id} {user.email} ({user.role}) for account {account_id}")
    if not given:
        click.echo(f"password (shown once): {password}")


@main.command("api-key")
@click.option("--account", "account_id", type=int, required=True, help="The account's id.")
def api_key_cmd(account_id: int) -> None:
    """A new API key for the account (POST /api/jobs/done), printed once; the old one stops
    working at once."""
    from loopstrat.api_keys import new_api_key
    from loopstrat.models import Account

    with command_runtime().sessions() as session:
        account = session.get(Account, account_id)
        if account is None:
            raise click.ClickException(f"no account {account_id}")
        replaced = account.api_key_hash is not None
        key = new_api_key(account)
        session.commit()
    old = "; the old key no longer works" if replaced else ""
    click.echo(f"API key for account {account_id} (shown once{old}):")
    click.echo(key)


def _read_secret(name: str) -> str:
    # Never from an argument: arguments end up in shell history and in `ps`.
    if sys.stdin.isatty():
        return str(click.prompt(name, hide_input=True)).strip()
    return sys.stdin.readline().strip()


@main.command()
def dev() -> None:
    """What `make run` does: Redis if none, migrate, a demo account, then every process."""
    from loopstrat.devrun import run_dev, use_development

    env_note = use_development()
    setup_logging()
    sys.exit(run_dev(command_runtime(), env_note))


main.add_command(airtable)
main.add_command(campaign_cli.job_done)
main.add_command(campaign_cli.review_settings)
main.add_command(campaign_cli.campaign)
main.add_command(contact)
main.add_command(held_leads_cmd)
main.add_command(conversation_cli.reply)
main.add_command(conversation_cli.handback)
main.add_command(conversation_cli.show_conversation)
main.add_command(conversation_cli.conversation_settings)
main.add_command(conversation_cli.text_in)
