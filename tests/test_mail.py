"""The outbox: queueing (and the log line), delivery to a real local SMTP server (aiosmtpd) in
plain SMTP, STARTTLS and SMTPS with a login, failures recorded per message, the `mail` commands."""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask
from sqlalchemy import delete, select

from issuer import create_app
from issuer.config import Settings
from issuer.errors import ConfigError
from issuer.mail import SmtpTarget, deliver_pending, queue_mail, recent_mail
from issuer.models import OutboxMessage

from app_support import clean_environment, initialised_app, module_config

SMTP_USER, SMTP_PASSWORD = "mailer", "s3cret-smtp-password"


# --- the app, the database, a local SMTP server ----------------------------------------------



@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with clean_environment():
        application = initialised_app(module_config(tmp_path_factory, "mail"))
    yield application
    application.extensions["microcred"].database.dispose()


@pytest.fixture(autouse=True)
def _empty_outbox(app: Flask) -> None:
    with _db(app) as session:
        session.execute(delete(OutboxMessage))


def _db(app: Flask):
    return app.extensions["microcred"].database.transaction()


def _settings(app: Flask, smtp_url: str | None) -> Settings:
    return dataclasses.replace(app.extensions["microcred"].settings, smtp_url=smtp_url,
                               mail_from="badges@education.example.gov")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """An aiosmtpd handler keeping what it receives; refuses recipients at refused.example."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.logins: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@refused.example"):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        if session.authenticated:
            self.logins.append(session.auth_data.login.decode())
        return "250 Message accepted"


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        SMTP_USER.encode(), SMTP_PASSWORD.encode())
    return AuthResult(success=ok, handled=False, auth_data=auth_data)  # not handled: aiosmtpd answers 535


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A self-signed certificate for 127.0.0.1: (server context, client context trusting only it)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    directory = tmp_path_factory.mktemp("tls")
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client


@pytest.fixture
def smtp_server() -> Iterator[Any]:
    """Start(**aiosmtpd options) -> (inbox, port); every server is stopped afterwards."""
    controllers: list[Controller] = []

    def start(**options: Any) -> tuple[Inbox, int]:
        inbox, port = Inbox(), _free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
        controller.start()
        controllers.append(controller)
        return inbox, port

    yield start
    for controller in controllers:
        controller.stop()


def _queue(app: Flask, *recipients: str, kind: str = "decision") -> list[int]:
    with _db(app) as session:
        rows = [queue_mail(session, to=to, subject=f"Your result {n}", body=f"Hello {to},\n\nLine {n}.\n", kind=kind)
                for n, to in enumerate(recipients)]
        session.flush()
        return [row.id for row in rows]


def _rows(app: Flask) -> dict[str, OutboxMessage]:
    with _db(app) as session:
        return {row.to_address: row for row in session.scalars(select(OutboxMessage))}


# --- queueing ---------------------------------------------------------------------------------


def test_queue_mail_logs_one_line_with_the_link_of_an_invitation(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    link = "http://127.0.0.1:5000/invitations/abc123"
    with caplog.at_level("INFO", logger="issuer.mail"), _db(app) as session:
        queue_mail(session, to="new@example.org", subject="You are invited", body=f"Hello,\n\n{link}\n",
                   kind="invitation")
        queue_mail(session, to="t@example.org", subject="Your result", body="See http://x.example/y", kind="decision")
    lines = [r.getMessage() for r in caplog.records if r.name == "issuer.mail"]
    assert lines == [f"mail to new@example.org: You are invited {link}", "mail to t@example.org: Your result"]
    with _db(app) as session:
        assert [m.to_address for m in recent_mail(session)] == ["t@example.org", "new@example.org"]
        assert [m.to_address for m in recent_mail(session, to="NEW@example.org")] == ["new@example.org"]


def test_queued_mail_rolls_back_with_its_transaction(app: Flask) -> None:
    with pytest.raises(RuntimeError), _db(app) as session:
        queue_mail(session, to="x@example.org", subject="s", body="b", kind="decision")
        raise RuntimeError("the caller's work failed")
    assert _rows(app) == {}


def test_without_smtp_nothing_is_sent_and_messages_stay_pending(app: Flask) -> None:
    _queue(app, "a@example.org")
    assert deliver_pending(app.extensions["microcred"].database, _settings(app, None)) == (0, 0)
    row = _rows(app)["a@example.org"]
    assert (row.sent_at, row.attempts, row.last_error) == (None, 0, None)


# --- delivery ---------------------------------------------------------------------------------


def test_delivery_to_a_local_smtp_server(app: Flask, smtp_server) -> None:
    inbox, port = smtp_server()
    _queue(app, "a@example.org", "b@example.org")
    database = app.extensions["microcred"].database
    assert deliver_pending(database, _settings(app, f"smtp://127.0.0.1:{port}")) == (2, 0)
    assert sorted(e.rcpt_tos[0] for e in inbox.messages) == ["a@example.org", "b@example.org"]
    received = message_from_bytes(next(e for e in inbox.messages if e.rcpt_tos == ["a@example.org"]).content)
    assert (received["From"], received["To"], received["Subject"]) == (
        "badges@education.example.gov", "a@example.org", "Your result 0")
    assert received["Message-ID"] and received["Date"]
    assert "Line 0." in received.get_payload(decode=True).decode()
    for row in _rows(app).values():
        assert row.sent_at is not None and (row.attempts, row.last_error) == (1, None)
    assert deliver_pending(database, _settings(app, f"smtp://127.0.0.1:{port}")) == (0, 0)  # nothing twice
    assert len(inbox.messages) == 2


def test_one_refused_message_does_not_stop_the_others(app: Flask, smtp_server) -> None:
    inbox, port = smtp_server()
    _queue(app, "first@example.org", "nobody@refused.example", "last@example.org")
    sent, failed = deliver_pending(app.extensions["microcred"].database, _settings(app, f"smtp://127.0.0.1:{port}"))
    assert (sent, failed) == (2, 1)
    rows = _rows(app)
    bad = rows["nobody@refused.example"]
    assert (bad.sent_at, bad.attempts) == (None, 1) and "550" in bad.last_error and "No such mailbox" in bad.last_error
    assert rows["first@example.org"].sent_at and rows["last@example.org"].sent_at
    assert len(inbox.messages) == 2


def test_an_unreachable_server_records_the_error_and_does_not_raise(app: Flask) -> None:
    _queue(app, "a@example.org", "b@example.org")
    port = _free_port()  # nothing listens there
    database = app.extensions["microcred"].database
    assert deliver_pending(database, _settings(app, f"smtp://127.0.0.1:{port}")) == (0, 2)
    assert deliver_pending(database, _settings(app, f"smtp://127.0.0.1:{port}")) == (0, 2)
    for row in _rows(app).values():
        assert row.sent_at is None and row.attempts == 2 and "ConnectionRefusedError" in row.last_error


def test_starttls_and_login_from_the_url(app: Flask, smtp_server, certificate) -> None:
    server_tls, client_tls = certificate
    inbox, port = smtp_server(tls_context=server_tls, require_starttls=True, authenticator=_authenticator,
                              auth_required=True)
    _queue(app, "a@example.org")
    database = app.extensions["microcred"].database
    url = f"smtp://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{port}"
    assert deliver_pending(database, _settings(app, url), ssl_context=client_tls) == (1, 0)
    assert len(inbox.messages) == 1 and inbox.logins == [SMTP_USER]

    _queue(app, "b@example.org")
    wrong = f"smtp://{SMTP_USER}:wrong-password@127.0.0.1:{port}"
    assert deliver_pending(database, _settings(app, wrong), ssl_context=client_tls) == (0, 1)
    row = _rows(app)["b@example.org"]
    assert "SMTPAuthenticationError" in row.last_error and "wrong-password" not in row.last_error
    # An untrusted certificate is refused (the default context checks it), recorded, not raised.
    assert deliver_pending(database, _settings(app, url)) == (0, 1)
    assert "CERTIFICATE_VERIFY_FAILED" in _rows(app)["b@example.org"].last_error


def test_smtps_with_implicit_tls(app: Flask, smtp_server, certificate) -> None:
    server_tls, client_tls = certificate
    # aiosmtpd does not count implicit TLS as TLS for AUTH; the connection is encrypted all the same.
    inbox, port = smtp_server(ssl_context=server_tls, authenticator=_authenticator, auth_require_tls=False)
    _queue(app, "a@example.org")
    url = f"smtps://{SMTP_USER}:{SMTP_PASSWORD.replace('-', '%2D')}@127.0.0.1:{port}"  # percent-encoding is read
    assert deliver_pending(app.extensions["microcred"].database, _settings(app, url), ssl_context=client_tls) == (1, 0)
    assert len(inbox.messages) == 1 and inbox.logins == [SMTP_USER]


@pytest.mark.parametrize("url", ["http://mail.example.org", "smtp://", "smtp://host:port", "mail.example.org:25"])
def test_a_bad_smtp_url_is_a_configuration_error(url: str) -> None:
    with pytest.raises(ConfigError, match="MICROCRED_SMTP_URL"):
        SmtpTarget.parse(url)


def test_smtp_url_parts() -> None:
    assert SmtpTarget.parse("smtp://u%40x:p%3Aw@mail.example.org") == SmtpTarget(
        "mail.example.org", 25, False, "u@x", "p:w")
    assert SmtpTarget.parse("smtps://mail.example.org").port == 465


# --- the commands -----------------------------------------------------------------------------


def test_mail_commands_list_and_send(app: Flask, app_with_smtp, smtp_server) -> None:
    with _db(app) as session:
        queue_mail(session, to="new@example.org", subject="You are invited",
                   body="Hello,\n\nhttp://127.0.0.1:5000/invitations/tok\n", kind="invitation")
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["mail", "list", "--pending"])
    assert listed.exit_code == 0
    assert "new@example.org" in listed.output and "pending" in listed.output
    assert "http://127.0.0.1:5000/invitations/tok" in listed.output  # no SMTP: the link is shown
    unsent = runner.invoke(args=["mail", "send"])
    assert unsent.exit_code == 0 and "not configured" in unsent.output and "1 message(s) pending" in unsent.output

    _inbox, port = smtp_server()
    configured = app_with_smtp(f"smtp://127.0.0.1:{port}")
    result = configured.test_cli_runner().invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    assert "Sent 1, failed 0; 0 pending." in result.output
    listed = configured.test_cli_runner().invoke(args=["mail", "list"])
    assert "sent " in listed.output and "/invitations/tok" not in listed.output  # mail configured: no link

    with _db(app) as session:
        queue_mail(session, to="x@refused.example", subject="s", body="b", kind="decision")
    failed = configured.test_cli_runner().invoke(args=["mail", "send"])
    assert failed.exit_code == 1 and "Sent 0, failed 1" in failed.output and "Traceback" not in failed.output


@pytest.fixture
def app_with_smtp(app: Flask) -> Iterator[Any]:
    """make(smtp_url) -> an app on the same instance and database with mail configured."""
    made: list[Flask] = []
    settings = app.extensions["microcred"].settings

    def make(url: str) -> Flask:
        other = create_app({"instance": str(settings.instance_dir), "database_url": settings.database_url,
                            "key_passphrase": "test-passphrase-not-secret", "TESTING": True, "smtp_url": url})
        made.append(other)
        return other

    yield make
    for other in made:
        other.extensions["microcred"].database.dispose()
