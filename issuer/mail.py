"""The mail outbox: mail is queued in the caller's transaction and delivered later over SMTP.

Without MICROCRED_SMTP_URL nothing is sent: messages stay pending, visible in the log, on the
administrators' outbox page and through `microcred mail list` (that is how the demo works).
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import unquote, urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .config import Settings
from .db import Database
from .errors import ConfigError
from .models import OutboxMessage

log = logging.getLogger(__name__)
LINK_KINDS = ("invitation", "password_reset")  # their link is the whole point of the message
TIMEOUT = 10  # seconds, for connecting and for every SMTP command
_LINK = re.compile(r"https?://\S+")


def link_in(body: str) -> str | None:
    """The first web link in a message body, if any."""
    match = _LINK.search(body)
    return match.group(0) if match else None


def queue_mail(session: Session, *, to: str, subject: str, body: str, kind: str,
               settings: Settings | None = None) -> OutboxMessage:
    """Queue a message in the caller's transaction and log it in one INFO line.

    For invitations and password resets the line carries the link, unless `settings` says mail is
    configured (then the link goes by mail only: a log is no place for a live sign-in link)."""
    message = OutboxMessage(to_address=to, subject=subject, body=body, kind=kind, attempts=0)
    session.add(message)
    link = link_in(body) if kind in LINK_KINDS else None
    if link and not (settings and settings.smtp_url):
        log.info("mail to %s: %s %s", to, subject, link)
    else:
        log.info("mail to %s: %s", to, subject)
    return message


def recent_mail(session: Session, *, to: str | None = None, pending: bool = False,
                limit: int = 50) -> list[OutboxMessage]:
    """The newest messages first, optionally only those to one address or only those not sent."""
    query = select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()).limit(limit)
    if to:
        query = query.where(func.lower(OutboxMessage.to_address) == to.strip().lower())
    if pending:
        query = query.where(OutboxMessage.sent_at.is_(None))
    return list(session.scalars(query))


def pending_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None))) or 0


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    implicit_tls: bool
    username: str | None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        """smtp://[user:password@]host[:port] (STARTTLS when offered) or smtps://... (TLS); ConfigError else."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ConfigError("MICROCRED_SMTP_URL must look like smtp://user:password@host:587 or "
                              "smtps://user:password@host:465.")
        try:
            port = parts.port or (465 if parts.scheme == "smtps" else 25)
        except ValueError:
            raise ConfigError("MICROCRED_SMTP_URL has a port that is not a number.") from None
        return cls(host=parts.hostname, port=port, implicit_tls=parts.scheme == "smtps",
                   username=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None)


class _Connection:
    """One SMTP connection for a delivery run, opened when first needed and again after a failure."""

    def __init__(self, target: SmtpTarget, ssl_context: ssl.SSLContext) -> None:
        self.target, self.ssl_context = target, ssl_context
        self.smtp: smtplib.SMTP | None = None
        self.open_failed: Exception | None = None

    def send(self, message: EmailMessage) -> None:
        if self.open_failed is not None:
            raise self.open_failed  # the server cannot be reached: do not wait for it once per message
        if self.smtp is None:
            try:
                self.smtp = self._open()
            except Exception as exc:
                self.open_failed = exc
                raise
        try:
            self.smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused:
            raise  # the connection is still good: only this message failed
        except Exception:
            self.close()
            raise

    def _open(self) -> smtplib.SMTP:
        t = self.target
        if t.implicit_tls:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(t.host, t.port, timeout=TIMEOUT, context=self.ssl_context)
        else:
            smtp = smtplib.SMTP(t.host, t.port, timeout=TIMEOUT)
        try:
            smtp.ehlo()
            if not t.implicit_tls and smtp.has_extn("starttls"):
                smtp.starttls(context=self.ssl_context)
                smtp.ehlo()
            if t.username:
                smtp.login(t.username, t.password or "")
        except Exception:
            smtp.close()
            raise
        return smtp

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except Exception:
                self.smtp.close()
            self.smtp = None


def deliver_pending(database: Database, settings: Settings, *, limit: int = 100,
                    ssl_context: ssl.SSLContext | None = None) -> tuple[int, int]:
    """Send up to `limit` pending messages; (sent, failed). One message failing never stops the rest:
    it gets attempts + 1 and its last_error. Without settings.smtp_url nothing is sent: (0, 0)."""
    if not settings.smtp_url:
        return 0, 0
    target = SmtpTarget.parse(settings.smtp_url)
    with database.transaction() as session:
        # Fewest attempts first, so messages that keep failing never hold up new ones.
        ids = list(session.scalars(select(OutboxMessage.id).where(OutboxMessage.sent_at.is_(None))
                                   .order_by(OutboxMessage.attempts, OutboxMessage.id).limit(limit)))
    connection = _Connection(target, ssl_context or ssl.create_default_context())
    sent = failed = 0
    try:
        for message_id in ids:
            with database.transaction() as session:
                # Locked while it is sent, so two `mail send` runs never both send one message.
                row = session.scalar(select(OutboxMessage).where(OutboxMessage.id == message_id,
                                                                 OutboxMessage.sent_at.is_(None))
                                     .with_for_update(skip_locked=True))
                if row is None:
                    continue
                if _send_one(connection, row, settings):
                    sent += 1
                else:
                    failed += 1
    finally:
        connection.close()
    return sent, failed


def _send_one(connection: _Connection, row: OutboxMessage, settings: Settings) -> bool:
    try:
        connection.send(_email(row, settings))
    except (OSError, smtplib.SMTPException, ValueError) as exc:
        row.attempts += 1
        row.last_error = _describe(exc)[:500]
        log.warning("mail %s to %s not sent (attempt %d): %s", row.id, row.to_address, row.attempts, row.last_error)
        return False
    row.attempts += 1
    row.sent_at = datetime.now(UTC)
    row.last_error = None
    return True


def _email(row: OutboxMessage, settings: Settings) -> EmailMessage:
    """The message as sent; ValueError for a header that cannot be written (such as a line break)."""
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=settings.mail_from.rpartition("@")[2] or None)
    message.set_content(row.body)
    return message


def _describe(exc: Exception) -> str:
    """One line saying what went wrong, without the connection's credentials."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        (address, (code, reply)), *_ = exc.recipients.items()
        return f"refused recipient {address}: {code} {reply.decode(errors='replace')}"
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{type(exc).__name__}: {exc.smtp_code} {reply}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
