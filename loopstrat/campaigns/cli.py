"""`loopstrat job-done`, `review-settings` and `campaign show`. Thin: parse, call, print."""

from __future__ import annotations

import csv
import sys

import click
from sqlalchemy import select

from loopstrat.campaigns.figures import campaigns_of, figures
from loopstrat.campaigns.imports import BadFile, import_customers
from loopstrat.clock import utcnow
from loopstrat.commands import command_runtime
from loopstrat.dashboard.settings_forms import FieldErrors, reviews
from loopstrat.leads.outcome import MarkRefused, mark_lead
from loopstrat.models import Account

ACCOUNT = click.option("--account", "account_id", type=int, required=True, help="Account id.")


@click.command("job-done")
@ACCOUNT
@click.option("--lead", "lead_id", type=int, required=True, help="The lead whose job is done.")
@click.option("--value", "job_value", default="", help="What the job earned, in dollars.")
def job_done(account_id: int, lead_id: int, job_value: str) -> None:
    """Mark a lead's job completed: its review request is planned."""
    rt = command_runtime()
    try:
        planned = mark_lead(
            rt, account_id=account_id, lead_id=lead_id, status="completed", job_value=job_value
        )
    except MarkRefused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"lead {lead_id}: job completed. {planned}".strip())


@click.command("review-settings")
@ACCOUNT
@click.option("--link", "review_link", default=None, help="Where reviews are written (https://…).")
@click.option("--delay-minutes", "review_delay_minutes", default=None, help="After the job.")
@click.option("--cooldown-days", "review_cooldown_days", default=None, help="Ask again after.")
def review_settings(account_id: int, **given: str | None) -> None:
    """Show or change where review requests lead, and when they go."""
    rt = command_runtime()
    with rt.sessions() as session:
        account = session.scalar(select(Account).where(Account.id == account_id))
        if account is None:
            raise click.ClickException(f"no account {account_id}")
        form = {name: str(getattr(account, name) or "") for name in given}
        form.update({name: value for name, value in given.items() if value is not None})
        try:
            changes = reviews(form)
        except FieldErrors as exc:
            raise click.ClickException(str(exc)) from None
        for name, value in changes.items():
            setattr(account, name, value)
        session.commit()
        click.echo(
            f"review link: {account.review_link or '(none: no requests are planned)'}\n"
            f"asked {account.review_delay_minutes} minutes after the job, "
            f"at most once in {account.review_cooldown_days} days"
        )


@click.group()
def campaign() -> None:
    """Campaigns: review requests and reactivation offers."""


@campaign.command("show")
@ACCOUNT
def show(account_id: int) -> None:
    """Each campaign's figures."""
    rt = command_runtime()
    with rt.sessions() as session:
        found = campaigns_of(session, account_id)
        if not found:
            click.echo(f"account {account_id} has no campaigns yet")
        for each in found:
            f = figures(session, account_id, each)
            click.echo(f"campaign {f.campaign_id}: {f.name} ({f.kind}, {f.state})")
            click.echo(
                f"  planned {f.planned}, texted {f.texted}, delivered {f.delivered}, "
                f"failed {f.failed}, waiting for allowed hours {f.waiting}"
            )
            for label, counts in (("suppressed", f.suppressed), ("skipped", f.skipped)):
                if counts:
                    words = ", ".join(f"{reason} {n}" for reason, n in sorted(counts.items()))
                    click.echo(f"  {label}: {words}")
            click.echo(
                f"  clicked {f.clicked}, replied {f.replied}, opted out {f.opted_out}, "
                f"booked {f.booked} (${f.revenue_cents / 100:,.2f})"
            )


SHOWN_REJECTIONS = 20


@campaign.command("import")
@ACCOUNT
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--report", default=None, help="Write every rejected row here (row,reason).")
def import_cmd(account_id: int, csv_file: str, report: str | None) -> None:
    """Import past customers (name, phone, email, zip, last_service_date, last_job_value,
    marketing_consent, consent_source, consent_date): good rows in, each bad one reported."""
    rt = command_runtime()
    try:
        with open(csv_file, newline="", encoding="utf-8-sig") as f:
            rows = max(0, sum(1 for _ in csv.reader(f)) - 1)
        with (
            rt.sessions() as session,
            open(csv_file, newline="", encoding="utf-8-sig") as f,
            click.progressbar(length=rows, label="importing", file=sys.stderr) as bar,
        ):
            if session.get(Account, account_id) is None:
                raise click.ClickException(f"no account {account_id}")
            result = import_customers(session, account_id, f, utcnow(), bar.update)
            session.commit()
    except BadFile as exc:
        raise click.ClickException(f"nothing imported: {exc}") from None
    except UnicodeDecodeError:
        raise click.ClickException("nothing imported: the file is not UTF-8 text") from None
    click.echo(
        f"imported {result.imported} new, updated {result.updated}, rejected {len(result.rejected)}"
    )
    for row, why in result.rejected[:SHOWN_REJECTIONS]:
        click.echo(f"  row {row}: {why}")
    if len(result.rejected) > SHOWN_REJECTIONS and not report:
        click.echo(f"  ... and {len(result.rejected) - SHOWN_REJECTIONS} more: use --report FILE")
    if report:
        with open(report, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(["row", "reason"])
            writer.writerows(result.rejected)
        click.echo(f"every rejected row: {report}")
