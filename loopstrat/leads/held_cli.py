"""`loopstrat held-leads`: review the leads a flood held, and let the chosen ones be answered.

Prints no phone numbers or messages in full: the operator's terminal may be shared or logged.
"""

from __future__ import annotations

import click

from loopstrat.commands import command_runtime
from loopstrat.leads.flood import held_leads, release


@click.command("held-leads")
@click.option("--account", "account_id", type=int, required=True)
@click.option("--release", "release_ids", type=int, multiple=True, help="Lead id (repeatable).")
@click.option("--release-all", is_flag=True, help="Every held lead, however old.")
def held_leads_cmd(account_id: int, release_ids: tuple[int, ...], release_all: bool) -> None:
    """List leads held in a flood; --release sends their first replies (every gate applies)."""
    rt = command_runtime()
    with rt.sessions() as session:
        held = held_leads(session, account_id)
        if not (release_ids or release_all):
            for lead in held:
                words = (lead.inquiry or "").replace("\n", " ")[:40]
                click.echo(
                    f"{lead.id}\t{lead.received_at:%Y-%m-%d %H:%M}Z\t{lead.hold_reason}\t{words}"
                )
            click.echo(f"{len(held)} held")
            return
        chosen = [lead.id for lead in held] if release_all else list(release_ids)
        released = release(session, account_id, chosen)
        session.commit()
    missing = sorted(set(chosen) - set(released))
    click.echo(f"released {len(released)}" + (f"; not held: {missing}" if missing else ""))
    if missing:
        raise SystemExit(1)
