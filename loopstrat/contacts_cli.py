"""`loopstrat contact delete`: remove a person and their leads and texts, here and in Airtable."""

from __future__ import annotations

import click
from sqlalchemy import select

from loopstrat.commands import command_runtime
from loopstrat.contacts import delete_contact
from loopstrat.models import Contact
from loopstrat.phones import InvalidPhone, normalise


@click.group()
def contact() -> None:
    """Contacts of an account."""


@contact.command("delete")
@click.option("--account", "account_id", type=int, required=True)
@click.option("--phone", required=True, help="The contact's phone number.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete_cmd(account_id: int, phone: str, yes: bool) -> None:
    """Delete a contact with their leads and texts (consent evidence is kept)."""
    try:
        e164 = normalise(phone)
    except InvalidPhone as exc:
        raise click.BadParameter(f"{phone!r}: {exc}", param_hint="--phone") from None
    rt = command_runtime()
    with rt.sessions() as session:
        contact_id = session.scalar(
            select(Contact.id).where(Contact.account_id == account_id, Contact.phone == e164)
        )
        if contact_id is None:
            raise click.ClickException(f"account {account_id} has no contact with that phone")
        if not yes:
            question = f"delete contact {contact_id} with all their leads and texts?"
            click.confirm(question, abort=True)
        deleted = delete_contact(session, account_id, contact_id, actor="cli")
        session.commit()
    leads, texts = counted(deleted.leads, "lead"), counted(deleted.messages, "text")
    click.echo(
        f"contact {deleted.contact_id} deleted with {leads} and {texts} (consent evidence kept)"
    )


def counted(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
