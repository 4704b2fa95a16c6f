"""`microcred mail ...`: send the outbox over SMTP, list recent mail."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import with_appcontext

from ..credentials.expiry import queue_expiry_reminders
from ..mail import LINK_KINDS, deliver_pending, link_in, pending_count, recent_mail
from ..programme.digest import queue_coordinator_digests
from ..runtime import runtime


@click.group("mail")
def mail_group() -> None:
    """Mail waiting in the outbox (invitations, password resets, decisions, reminders)."""


@mail_group.command("send")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000),
              help="Send at most this many messages.")
@with_appcontext
def mail_send(limit: int) -> None:
    """Deliver pending messages over SMTP (MICROCRED_SMTP_URL); exit 1 when any failed."""
    rt = runtime()
    if not rt.settings.smtp_url:
        with rt.database.transaction() as session:
            waiting = pending_count(session)
        click.echo(f"Mail is not configured (set MICROCRED_SMTP_URL): nothing sent; {waiting} message(s) "
                   "pending (see `microcred mail list`).")
        return
    sent, failed = deliver_pending(rt.database, rt.settings, limit=limit)
    with rt.database.transaction() as session:
        waiting = pending_count(session)
    click.echo(f"Sent {sent}, failed {failed}; {waiting} pending.")
    if failed:
        raise click.ClickException("Some messages were not sent: `microcred mail list --pending` shows why.")


@mail_group.command("list")
@click.option("--pending", is_flag=True, help="Only messages not sent yet.")
@click.option("--to", "to", default=None, help="Only messages to this address.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@with_appcontext
def mail_list(pending: bool, to: str | None, limit: int) -> None:
    """The newest messages: when queued, to whom, subject, status (and, without SMTP, the link)."""
    rt = runtime()
    with rt.database.transaction() as session:
        messages = recent_mail(session, to=to, pending=pending, limit=limit)
    for m in messages:
        if m.sent_at:
            status = f"sent {m.sent_at:%Y-%m-%dT%H:%M:%SZ}"
        else:
            status = "pending" + (f" ({m.attempts} failed: {m.last_error})" if m.attempts else "")
        click.echo(f"{m.created_at:%Y-%m-%dT%H:%M:%SZ}\t{m.kind}\t{m.to_address}\t{m.subject}\t{status}")
        link = link_in(m.body) if m.kind in LINK_KINDS and not rt.settings.smtp_url else None
        if link:
            click.echo(f"\t{link}")
    if not messages:
        click.echo("No mail.")


@mail_group.command("digest")
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 366),
              help="The period the digest covers, ending now.")
@with_appcontext
def mail_digest(days: int) -> None:
    """Queue each district coordinator's digest of their district's activity (run it weekly)."""
    rt = runtime()
    with rt.database.transaction() as session:
        queued = queue_coordinator_digests(session, days=days, now=datetime.now(UTC),
                                           public_url=rt.settings.public_url)
    click.echo(f"Queued {queued} coordinator digest(s); `microcred mail send` delivers them.")


@mail_group.command("reminders")
@click.option("--days", default=60, show_default=True, type=click.IntRange(1, 366),
              help="Remind about credentials expiring within this many days.")
@with_appcontext
def mail_reminders(days: int) -> None:
    """Queue an expiry reminder for each credential expiring soon (once per credential; run it daily)."""
    rt = runtime()
    with rt.database.transaction() as session:
        queued = queue_expiry_reminders(session, within_days=days, now=datetime.now(UTC),
                                        public_url=rt.settings.public_url)
    click.echo(f"Queued {queued} expiry reminder(s) for credentials expiring within {days} days; "
               "`microcred mail send` delivers them.")
