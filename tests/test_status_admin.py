"""Revoke, suspend and reinstate: `microcred revoke|suspend|reinstate` and /admin/credentials.

A reason is required; revocation is final (every later change refused, nothing changed); the
teacher gets a message; the audit log keeps from / to / reason; the published list is re-signed in
the same transaction, so the public page and `microcred verify` see the change at once. The public
page shows the status, never the reason.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from issuer.credentials.issuance import issue_credential
from issuer.credentials.status_lists import StatusChangeRefused, change_status, find_credential
from issuer.models import AuditEvent, Credential, OutboxMessage, StatusEntry, StatusList, User
from issuer.people.accounts import hash_password
from verifier.status import read_status

SLUG = "questioning-higher-order"
PASSWORD = "correct horse battery staple"
REASON = "Evidence copied from another teacher (case ZX-91)."


def _rt(app: Flask):
    return app.extensions["microcred"]


def _issue(app: Flask, email: str = "jo@school.example", name: str = "Jo Teacher", **kw: Any) -> Credential:
    rt = _rt(app)
    with rt.database.transaction() as session:
        return issue_credential(session, rt.catalog.badge_classes[SLUG], identity=rt.identity(),
                                policy=rt.catalog.policy, recipient_email=email, recipient_name=name, actor="test",
                                **kw)


def _cli(app: Flask, *args: str) -> Result:
    result = app.test_cli_runner().invoke(args=list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(result.output) from result.exception
    assert "Traceback" not in result.output
    return result


def _refused(result: Result, words: str) -> None:
    """Exit 1 with one line that says why."""
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and words in lines[0], result.output


def _state(app: Flask, credential_id: str) -> tuple[Any, ...]:
    """Everything a status change touches: the row, the list, the audit log, the outbox."""
    with _rt(app).database.transaction() as session:
        row = session.scalar(select(Credential).where(Credential.credential_id == credential_id))
        entry = session.scalar(select(StatusEntry).where(StatusEntry.credential_id == credential_id))
        listed = session.get(StatusList, entry.status_list_id)
        events = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.subject == credential_id))
        mails = session.scalar(select(func.count()).select_from(OutboxMessage)
                               .where(OutboxMessage.kind == "credential_status"))
        return (row.status, row.status_reason, row.status_changed_at, listed.revision, listed.bits,
                listed.signed_document, events, mails)


def _list_value(app: Flask, credential_id: str) -> int:
    with _rt(app).database.transaction() as session:
        entry = session.scalar(select(StatusEntry).where(StatusEntry.credential_id == credential_id))
        listed = session.get(StatusList, entry.status_list_id)
        return read_status(listed.bits, entry.list_index, listed.status_size)


def _status_events(app: Flask, credential_id: str) -> list[dict[str, Any]]:
    with _rt(app).database.transaction() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.subject == credential_id,
                                                          AuditEvent.action != "credential.issued")
                                 .order_by(AuditEvent.id))
        return [{"action": e.action, "actor": e.actor, **e.detail} for e in events]


def _mails(app: Flask) -> list[OutboxMessage]:
    with _rt(app).database.transaction() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "credential_status")
                                    .order_by(OutboxMessage.id)))


def _verify_file(app: Flask, tmp_path: Path, row: Credential) -> Result:
    path = tmp_path / "credential.json"
    path.write_text(row.document, encoding="utf-8")
    return _cli(app, "verify", str(path))


# --- the command line ------------------------------------------------------------------------------


def test_a_reason_is_required(app: Flask) -> None:
    row = _issue(app)
    before = _state(app, row.credential_id)
    missing = _cli(app, "revoke", row.credential_id)
    assert missing.exit_code == 2 and "--reason" in missing.output  # click's usage error
    for command in ("revoke", "suspend"):
        _refused(_cli(app, command, row.credential_id, "--reason", "   "), "Give a reason")
    assert _state(app, row.credential_id) == before


@pytest.mark.parametrize("command", ["revoke", "suspend", "reinstate"])
def test_an_unknown_credential_is_one_line_and_exit_1(app: Flask, command: str) -> None:
    _issue(app)
    _refused(_cli(app, command, "urn:uuid:00000000-0000-4000-8000-000000000000", "--reason", "x"),
             "There is no credential")


def test_suspend_then_reinstate(app: Flask, tmp_path: Path) -> None:
    row = _issue(app)
    assert _verify_file(app, tmp_path, row).exit_code == 0
    done = _cli(app, "suspend", row.public_id, "--reason", "Under investigation.")  # the public id works too
    assert done.exit_code == 0 and "Suspended" in done.output and row.credential_id in done.output
    assert _state(app, row.credential_id)[:2] == ("suspended", "Under investigation.")
    assert _list_value(app, row.credential_id) == 2
    verdict = _verify_file(app, tmp_path, row)
    assert verdict.exit_code == 1 and "suspended" in verdict.output and "NOT VERIFIED" in verdict.output

    _refused(_cli(app, "suspend", row.credential_id, "--reason", "again"), "already suspended")
    assert _cli(app, "reinstate", row.credential_id, "--reason", "Investigation closed.").exit_code == 0
    assert _state(app, row.credential_id)[:2] == ("active", "Investigation closed.")
    assert _list_value(app, row.credential_id) == 0
    assert _verify_file(app, tmp_path, row).exit_code == 0

    assert _status_events(app, row.credential_id) == [
        {"action": "credential.suspended", "actor": "cli:administrator", "from": "active", "to": "suspended",
         "reason": "Under investigation."},
        {"action": "credential.reinstated", "actor": "cli:administrator", "from": "suspended", "to": "active",
         "reason": "Investigation closed."}]
    mails = _mails(app)
    assert [m.to_address for m in mails] == ["jo@school.example"] * 2
    assert "suspended" in mails[0].subject and "Under investigation." in mails[0].body
    assert "reinstated" in mails[1].subject


def test_reinstating_an_active_credential_is_refused(app: Flask) -> None:
    row = _issue(app)
    before = _state(app, row.credential_id)
    _refused(_cli(app, "reinstate", row.credential_id, "--reason", "why not"), "already active")
    assert _state(app, row.credential_id) == before


def test_revocation_is_final(app: Flask, tmp_path: Path) -> None:
    row = _issue(app)
    assert _cli(app, "revoke", row.credential_id, "--reason", REASON).exit_code == 0
    assert _list_value(app, row.credential_id) == 1
    verdict = _verify_file(app, tmp_path, row)
    assert verdict.exit_code == 1 and "revoked" in verdict.output
    after = _state(app, row.credential_id)
    for command in ("suspend", "reinstate", "revoke"):
        _refused(_cli(app, command, row.credential_id, "--reason", "second thoughts"), "revocation is final")
        _refused(_cli(app, command, row.public_id, "--reason", "second thoughts"), "revocation is final")
    assert _state(app, row.credential_id) == after
    assert _status_events(app, row.credential_id) == [
        {"action": "credential.revoked", "actor": "cli:administrator", "from": "active", "to": "revoked",
         "reason": REASON}]
    assert _verify_file(app, tmp_path, row).exit_code == 1


def test_a_suspended_credential_can_be_revoked(app: Flask) -> None:
    row = _issue(app)
    assert _cli(app, "suspend", row.credential_id, "--reason", "Checking.").exit_code == 0
    assert _cli(app, "revoke", row.credential_id, "--reason", REASON).exit_code == 0
    assert _list_value(app, row.credential_id) == 1
    assert [(e["from"], e["to"]) for e in _status_events(app, row.credential_id)] == [
        ("active", "suspended"), ("suspended", "revoked")]


def test_concurrent_changes_never_undo_a_revocation(app: Flask) -> None:
    """Administrators at once (revoke and suspend racing, each in its own transaction): whatever the
    order, the history is one consistent chain, it ends revoked, and the list says so."""
    row = _issue(app)
    rt = _rt(app)
    rt.identity()
    barrier, lock, outcomes = threading.Barrier(8), threading.Lock(), []

    def change(new_status: str) -> None:
        barrier.wait()
        try:
            with rt.database.transaction() as session:
                credential = find_credential(session, row.credential_id)
                change_status(session, credential, new_status, reason=f"to {new_status}", actor="race",
                              identity=rt.identity(), notify=False)
            outcome = new_status
        except StatusChangeRefused:
            outcome = "refused"
        with lock:
            outcomes.append(outcome)

    workers = [threading.Thread(target=change, args=(s,)) for s in ["revoked", "suspended"] * 4]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert len(outcomes) == 8 and outcomes.count("revoked") == 1
    events = _status_events(app, row.credential_id)
    chain = [(e["from"], e["to"]) for e in events]
    assert chain[0][0] == "active" and chain[-1][1] == "revoked"
    assert all(a[1] == b[0] for a, b in zip(chain, chain[1:])), chain
    assert _state(app, row.credential_id)[0] == "revoked" and _list_value(app, row.credential_id) == 1


# --- the public page -------------------------------------------------------------------------------


def _public(client: FlaskClient, row: Credential) -> str:
    response = client.get(f"/credentials/{row.public_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _revocation_check(page: str) -> str:
    return re.search(r'<li class="check check-(\w+)"><strong>Revocation: [^<]*</strong>\s*([^<]*)</li>', page).group(0)


def test_the_public_page_shows_the_status_at_once_and_never_the_reason(app: Flask) -> None:
    row = _issue(app)
    client = app.test_client()
    page = _public(client, row)
    assert "status-banner" not in page and "Verified." in page
    assert "check-passed" in _revocation_check(page)

    assert _cli(app, "suspend", row.credential_id, "--reason", REASON).exit_code == 0
    page = _public(client, row)
    today = datetime.now(UTC)
    assert re.search(r"<strong>SUSPENDED</strong>\s*since <time datetime=\"" + today.strftime("%Y-%m-%d"), page)
    assert "check-failed" in _revocation_check(page) and "suspended" in _revocation_check(page)
    assert "Not verified." in page and REASON not in page and "ZX-91" not in page

    assert _cli(app, "reinstate", row.credential_id, "--reason", "Cleared.").exit_code == 0
    page = _public(client, row)
    assert "status-banner" not in page and "Verified." in page and "Cleared." not in page

    assert _cli(app, "revoke", row.credential_id, "--reason", REASON).exit_code == 0
    page = _public(client, row)
    assert re.search(r"<strong>REVOKED</strong>\s*on <time datetime=\"" + today.strftime("%Y-%m-%d"), page)
    assert "check-failed" in _revocation_check(page) and "revoked" in _revocation_check(page)
    assert "ZX-91" not in page
    signed = client.get(f"/credentials/{row.public_id}", headers={"Accept": "application/json"})
    assert "ZX-91" not in signed.get_data(as_text=True)
    listed = client.get(urlsplit(json.loads(row.document)["credentialStatus"]["statusListCredential"]).path)
    assert listed.status_code == 200 and "ZX-91" not in listed.get_data(as_text=True)


def test_the_public_page_says_expired_once_valid_until_has_passed(app: Flask) -> None:
    issued = datetime.now(UTC) - timedelta(days=30)
    row = _issue(app, now=issued, valid_until=issued + timedelta(days=10))
    page = _public(app.test_client(), row)
    until = (issued + timedelta(days=10)).strftime("%Y-%m-%d")
    assert re.search(r"<strong>EXPIRED</strong>\s*on <time datetime=\"" + until, page)
    assert "REVOKED" not in page and "SUSPENDED" not in page


# --- the administrator's pages ---------------------------------------------------------------------


def _user(app: Flask, email: str, roles: list[str]) -> None:
    with _rt(app).database.transaction() as session:
        session.add(User(email=email, display_name=email.split("@")[0].title(), roles=roles,
                         password_hash=hash_password(PASSWORD)))


def _csrf(client: FlaskClient) -> str:
    page = client.get("/login").get_data(as_text=True)
    tag = re.search(r'<input[^>]*name="csrf_token"[^>]*>', page).group(0)
    return re.search(r'value="([^"]+)"', tag).group(1)


def _signed_in(app: Flask, email: str, roles: list[str]) -> FlaskClient:
    _user(app, email, roles)
    client = app.test_client()
    response = client.post("/login", data={"csrf_token": _csrf(client), "email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def admin(app: Flask) -> FlaskClient:
    return _signed_in(app, "ada@department.example", ["admin"])


def _post(client: FlaskClient, row: Credential, action: str, reason: str, *, csrf: bool = True):
    data = {"action": action, "reason": reason}
    if csrf:
        data["csrf_token"] = _csrf(client)
    return client.post(f"/admin/credentials/{row.public_id}/status", data=data)


def test_the_pages_are_for_administrators_only(app: Flask) -> None:
    row = _issue(app)
    anonymous = app.test_client()
    answer = anonymous.get("/admin/credentials/")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    assert anonymous.get(f"/admin/credentials/{row.public_id}").status_code == 302
    before = _state(app, row.credential_id)
    for roles in (["teacher"], ["assessor"], ["coordinator"]):
        client = _signed_in(app, f"{roles[0]}@school.example", roles)
        assert client.get("/admin/credentials/").status_code == 403
        assert client.get(f"/admin/credentials/{row.public_id}").status_code == 403
        assert _post(client, row, "revoke", REASON).status_code == 403
    assert _post(anonymous, row, "revoke", REASON).status_code == 302
    assert _state(app, row.credential_id) == before


def _listed_names(page: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/admin/credentials/[^"]+">([^<]+)</a>', page)


def test_the_list_can_be_searched_and_filtered(app: Flask, admin: FlaskClient) -> None:
    ada = _issue(app, "ada@maple.example", "Ada Lovelace")
    _issue(app, "grace@river.example", "Grace Hopper")
    _issue(app, "alan@maple.example", "Alan Turing")
    assert _cli(app, "suspend", ada.credential_id, "--reason", "Checking.").exit_code == 0

    def names(query: str = "") -> list[str]:
        response = admin.get(f"/admin/credentials/{query}")
        assert response.status_code == 200
        return sorted(_listed_names(response.get_data(as_text=True)))

    assert names() == ["Ada Lovelace", "Alan Turing", "Grace Hopper"]
    assert names("?q=hopper") == ["Grace Hopper"]
    assert names("?q=MAPLE.example") == ["Ada Lovelace", "Alan Turing"]
    assert names(f"?q={ada.public_id}") == ["Ada Lovelace"]
    assert names(f"?q={ada.credential_id}") == ["Ada Lovelace"]
    assert names("?q=%25") == []  # a literal %, not a wildcard
    assert names("?status=suspended") == ["Ada Lovelace"]
    assert names("?status=active&q=maple") == ["Alan Turing"]
    assert names(f"?badge={SLUG}") == ["Ada Lovelace", "Alan Turing", "Grace Hopper"]
    assert names("?badge=no-such-badge") == []
    page = admin.get("/admin/credentials/").get_data(as_text=True)
    assert "Questioning: Higher-Order Questions" in page and "grace@river.example" in page and "suspended" in page


def test_the_credential_page_shows_its_history(app: Flask, admin: FlaskClient) -> None:
    row = _issue(app)
    assert _cli(app, "suspend", row.credential_id, "--reason", "Checking the evidence.").exit_code == 0
    page = admin.get(f"/admin/credentials/{row.credential_id}").get_data(as_text=True)  # the urn:uuid works too
    assert row.credential_id in page and "jo@school.example" in page
    assert re.search(r"<td>issued</td>.*<td>suspended</td>\s*<td>active → suspended</td>\s*"
                     r"<td>Checking the evidence.</td><td>cli:administrator</td>", page, re.S)
    assert 'value="reinstate"' in page and 'value="revoke"' in page and 'value="suspend"' not in page
    assert f'href="/credentials/{row.public_id}"' in page


def test_an_unknown_credential_is_404(admin: FlaskClient) -> None:
    assert admin.get("/admin/credentials/urn:uuid:nothing-here").status_code == 404
    response = admin.post("/admin/credentials/nothing-here/status",
                          data={"csrf_token": _csrf(admin), "action": "revoke", "reason": REASON})
    assert response.status_code == 404


def test_a_post_without_a_csrf_token_is_refused(app: Flask, admin: FlaskClient) -> None:
    row = _issue(app)
    before = _state(app, row.credential_id)
    assert _post(admin, row, "revoke", REASON, csrf=False).status_code == 400
    assert _state(app, row.credential_id) == before


@pytest.mark.parametrize("action, reason, status, words", [
    ("revoke", "", 400, "Give a reason"),
    ("suspend", "   ", 400, "Give a reason"),
    ("revoke", "x" * 1001, 400, "longer than 1,000"),
    ("delete", REASON, 400, "Choose revoke, suspend or reinstate"),
    ("reinstate", REASON, 409, "already active"),
])
def test_a_refused_change_says_why_and_changes_nothing(app: Flask, admin: FlaskClient, action: str, reason: str,
                                                       status: int, words: str) -> None:
    row = _issue(app)
    before = _state(app, row.credential_id)
    response = _post(admin, row, action, reason)
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert re.search(r'<p class="alert alert-error" role="alert">[^<]*' + re.escape(words), page)
    assert re.search(r'<textarea id="reason" name="reason"[^>]*>' + re.escape(reason) + "</textarea>", page)
    assert _state(app, row.credential_id) == before


def test_suspend_reinstate_and_revoke_through_the_pages(app: Flask, admin: FlaskClient) -> None:
    row = _issue(app)
    public = app.test_client()
    response = _post(admin, row, "suspend", "Under investigation.")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/admin/credentials/{row.public_id}")
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "The credential is suspended." in page and "<strong>Suspended</strong>" in page
    assert "SUSPENDED" in _public(public, row) and _list_value(app, row.credential_id) == 2

    assert _post(admin, row, "reinstate", "Investigation closed.").status_code == 303
    assert "status-banner" not in _public(public, row) and _list_value(app, row.credential_id) == 0

    assert _post(admin, row, "revoke", REASON).status_code == 303
    page = _public(public, row)
    assert "REVOKED" in page and "revoked" in _revocation_check(page) and "ZX-91" not in page
    assert [(e["actor"], e["from"], e["to"], e["reason"]) for e in _status_events(app, row.credential_id)] == [
        ("ada@department.example", "active", "suspended", "Under investigation."),
        ("ada@department.example", "suspended", "active", "Investigation closed."),
        ("ada@department.example", "active", "revoked", REASON)]
    assert [m.subject.rsplit(" ", 1)[1] for m in _mails(app)] == ["suspended", "reinstated", "revoked"]

    after = _state(app, row.credential_id)
    refused = _post(admin, row, "suspend", "Second thoughts.")
    assert refused.status_code == 409
    assert re.search(r'role="alert">[^<]*revocation is final', refused.get_data(as_text=True))
    assert _post(admin, row, "reinstate", "Please.").status_code == 409
    assert _state(app, row.credential_id) == after
    assert 'name="action"' not in admin.get(f"/admin/credentials/{row.public_id}").get_data(as_text=True)
