"""`loopstrat job-done`, `review-settings` and `campaign show`. Thin: parse, call, print."""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from loopstrat.campaigns import reactivation
from loopstrat.campaigns.figures import Lift, campaigns_of, figures
from loopstrat.campaigns.imports import BadFile, import_customers
from loopstrat.clock import utcnow
from loopstrat.commands import command_runtime
from loopstrat.dashboard.settings_forms import FieldErrors, reviews
from loopstrat.leads.outcome import MarkRefused, mark_lead
from loopstrat.models import Account, Campaign

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
            f"asked {_minutes(account.review_delay_minutes)} after the job, "
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
        if session.get(Account, account_id) is None:
            raise click.ClickException(f"no account {account_id}")
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
            if each.kind == reactivation.KIND:
                _show_offer(each, f.lift)


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


def _show_offer(each: Campaign, lift: Lift | None) -> None:
    click.echo(f"  text: {each.body_template}")
    if each.paused_reason:
        click.echo(f"  paused: {each.paused_reason}")
    if lift is None:
        return
    click.echo(
        f"  lift: ${lift.texted_per_contact:,.2f} booked per contact planned a text "
        f"({lift.texted}) against ${lift.held_back_per_contact:,.2f} per contact held back "
        f"({lift.held_back})"
    )
    interval = (
        f" (95% interval ${lift.low:,.2f} to ${lift.high:,.2f})" if lift.low is not None else ""
    )
    click.echo(f"  difference ${lift.difference:,.2f}{interval}: {lift.verdict}")


def _campaign(session: Session, account_id: int, campaign_id: int) -> Campaign:
    found = session.scalar(
        select(Campaign).where(Campaign.id == campaign_id, Campaign.account_id == account_id)
    )
    if found is None:
        raise click.ClickException(f"account {account_id} has no campaign {campaign_id}")
    return found


CAMPAIGN = click.option("--campaign", "campaign_id", type=int, required=True, help="Campaign id.")


@campaign.command("create")
@ACCOUNT
@click.option("--name", required=True, help="What you call it.")
@click.option("--brief", required=True, help="What to offer, in your words: Claude drafts it.")
@click.option("--months", default=12, show_default=True, help="Last served over this long ago.")
@click.option("--not-texted-days", default=30, show_default=True, help="And not texted since.")
@click.option("--holdout", default=10, show_default=True, help="Percent held back, never texted.")
def create_cmd(
    account_id: int, name: str, brief: str, months: int, not_texted_days: int, holdout: int
) -> None:
    """A reactivation campaign, drafted from your brief: review it, edit it, then launch it."""
    rt = command_runtime()
    with rt.sessions() as session:
        account = session.get(Account, account_id)
        if account is None:
            raise click.ClickException(f"no account {account_id}")
        try:
            made = reactivation.create_campaign(
                session, rt.drafter, account, name=name, brief=brief, holdout_pct=holdout,
                audience=reactivation.Audience(months, not_texted_days),
            )  # fmt: skip
        except reactivation.CampaignRefused as exc:
            raise click.ClickException(str(exc)) from None
        session.commit()
        click.echo(f"campaign {made.id} drafted: {made.body_template}")
        click.echo("edit it with `campaign edit`, then `campaign launch` when it reads right")


@campaign.command("edit")
@ACCOUNT
@CAMPAIGN
@click.option(
    "--text", "body", required=True, help="The template: {first_name}, {last_service}, {business}."
)
def edit_cmd(account_id: int, campaign_id: int, body: str) -> None:
    """Change a draft's text before launch."""
    _act(account_id, campaign_id, lambda s, c: reactivation.edit_template(s, c, body), "edited")


@campaign.command("launch")
@ACCOUNT
@CAMPAIGN
def launch_cmd(account_id: int, campaign_id: int) -> None:
    """Plan a text to everyone in its audience but the holdout, paced from now."""

    def act(session: Session, each: Campaign) -> str:
        planned, held = reactivation.launch(session, each, utcnow())
        return f"launched: {planned} texts planned, {held} contacts held back"

    _act(account_id, campaign_id, act, "")


@campaign.command("pause")
@ACCOUNT
@CAMPAIGN
def pause_cmd(account_id: int, campaign_id: int) -> None:
    """Stop sending until resumed."""
    _act(account_id, campaign_id, lambda s, c: reactivation.pause(s, c, "paused by you"), "paused")


@campaign.command("resume")
@ACCOUNT
@CAMPAIGN
def resume_cmd(account_id: int, campaign_id: int) -> None:
    """Send again, at the campaign's pace, from where it stopped."""
    _act(account_id, campaign_id, reactivation.resume, "resumed")


@campaign.command("cancel")
@ACCOUNT
@CAMPAIGN
def cancel_cmd(account_id: int, campaign_id: int) -> None:
    """Nothing more goes: its plans and unsent texts are cancelled."""

    def act(session: Session, each: Campaign) -> str:
        return f"cancelled: {reactivation.cancel(session, each)} planned texts will not go"

    _act(account_id, campaign_id, act, "")


def _act(
    account_id: int, campaign_id: int, action: Callable[[Session, Campaign], object], said: str
) -> None:
    rt = command_runtime()
    with rt.sessions() as session:
        each = _campaign(session, account_id, campaign_id)
        try:
            result = action(session, each)
        except reactivation.CampaignRefused as exc:
            raise click.ClickException(str(exc)) from None
        session.commit()
    click.echo(f"campaign {campaign_id}: {result if isinstance(result, str) else said}")


def _minutes(n: int) -> str:
    return f"{n} minute" if n == 1 else f"{n} minutes"
