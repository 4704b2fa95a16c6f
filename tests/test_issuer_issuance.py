"""issue_credential at the service level: one transaction per award, stored exactly as signed."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import func, select

import issuer.credentials.issuance as issuance
from issuer.credentials.issuance import issue_credential, sign_credential
from issuer.errors import CredentialInvalidError, InvalidRecipientError
from issuer.models import AuditEvent, Credential
from issuer.runtime import Runtime
from verifier import verify_credential

SLUG = "questioning-higher-order"


def _rt(app: Flask) -> Runtime:
    return app.extensions["microcred"]


def _issue(rt: Runtime, email: str = "T@Example.org", name: str = "Jo Teacher") -> Credential:
    with rt.database.transaction() as session:
        return issue_credential(session, rt.catalog.badge_classes[SLUG], identity=rt.identity(), policy=rt.catalog.policy, recipient_email=email,
                                recipient_name=name, actor="test")


def _counts(rt: Runtime) -> tuple[int, int]:
    with rt.database.transaction() as session:
        return (session.scalar(select(func.count()).select_from(Credential)),
                session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("credential.%"))))


@pytest.fixture(params=["did_key", "did_web"])
def any_app(request: pytest.FixtureRequest) -> Flask:
    return request.getfixturevalue("app" if request.param == "did_key" else "did_web_app")


def test_issued_credential_is_stored_and_verifies(any_app: Flask) -> None:
    rt = _rt(any_app)
    row = _issue(rt)
    with rt.database.transaction() as session:
        stored = session.scalars(select(Credential)).one()
        events = session.scalars(select(AuditEvent).where(AuditEvent.action.like("credential.%"))).all()
    document = json.loads(stored.document)
    report = verify_credential(document, documents=rt.identity().documents)
    assert report.verified, [c for c in report.checks if not c.ok]
    assert report.check("issuer").status.value == "passed"  # the issuer's own key, confirmed

    assert stored.credential_id == document["id"] == row.credential_id
    assert stored.issuer_did == document["issuer"]["id"] == rt.identity().did
    assert stored.key_id == rt.identity().store.active().key_id
    assert stored.recipient_email == "t@example.org"
    assert stored.recipient_name == "Jo Teacher"
    assert stored.achievement_slug == SLUG
    assert [(e.action, e.subject, e.actor) for e in events] == [("credential.issued", row.credential_id, "test")]


def test_document_is_stored_exactly_as_signed(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    rt = _rt(app)
    signed_documents = []
    real_sign = issuance.sign_credential

    def capturing_sign(*args, **kwargs):
        signed, key_id = real_sign(*args, **kwargs)
        signed_documents.append(json.loads(json.dumps(signed)))  # a deep copy of what was signed
        return signed, key_id

    monkeypatch.setattr(issuance, "sign_credential", capturing_sign)
    # Non-ASCII text must survive the database round trip byte for byte.
    row = _issue(rt, email="  Zoë.Ñandú@Example.org ", name="  Zoë Ñandú-李  ")
    with rt.database.transaction() as session:
        text = session.scalars(select(Credential.document)).one()
    assert text == row.document  # the very text written
    assert json.loads(text) == signed_documents[0]  # ... which is the signed credential, not a rebuild
    assert json.loads(text)["credentialSubject"]["name"] == "Zoë Ñandú-李"
    assert verify_credential(json.loads(text), documents=rt.identity().documents).verified


def test_schema_invalid_credential_is_refused_and_nothing_stored(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    rt = _rt(app)
    real_build = issuance.build_credential

    def build_without_valid_from(*args, **kwargs):
        credential = real_build(*args, **kwargs)
        del credential["validFrom"]
        return credential

    monkeypatch.setattr(issuance, "build_credential", build_without_valid_from)
    with pytest.raises(CredentialInvalidError, match="schema") as excinfo:
        _issue(rt)
    assert "validFrom" in excinfo.value.message
    assert _counts(rt) == (0, 0)


def test_sign_credential_refuses_an_invalid_document(app: Flask) -> None:
    rt = _rt(app)
    identity = rt.identity()
    now = datetime.now(UTC).replace(microsecond=0)
    credential = issuance.build_credential(rt.catalog.badge_classes[SLUG], identity=identity, recipient_email="t@example.org",
                                           recipient_name="Jo Teacher", issued_at=now,
                                           credential_id="urn:uuid:00000000-0000-4000-8000-000000000000")
    signed, key_id = sign_credential(credential, identity, now=now)  # the valid document signs
    assert key_id == identity.store.active().key_id and "proof" in signed

    del credential["credentialSubject"]
    with pytest.raises(CredentialInvalidError):
        sign_credential(credential, identity, now=now)


def test_failure_after_the_row_is_flushed_rolls_everything_back(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    rt = _rt(app)

    def failing_audit(*args, **kwargs):
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(issuance, "record_event", failing_audit)
    with pytest.raises(RuntimeError, match="audit log unavailable"):
        _issue(rt)
    assert _counts(rt) == (0, 0)


@pytest.mark.parametrize(("email", "name"), [
    ("not-an-email", "Jo Teacher"),
    ("t@example.org", "   "),
    ("t@example.org", "x" * 201),
])
def test_invalid_recipient_is_refused_and_nothing_stored(app: Flask, email: str, name: str) -> None:
    rt = _rt(app)
    with pytest.raises(InvalidRecipientError):
        _issue(rt, email=email, name=name)
    assert _counts(rt) == (0, 0)


def test_twenty_awards_have_distinct_ids(app: Flask) -> None:
    rt = _rt(app)
    rows = [_issue(rt, email=f"teacher{i}@example.org", name=f"Teacher {i}") for i in range(20)]
    assert len({r.public_id for r in rows}) == 20
    assert len({r.credential_id for r in rows}) == 20
    with rt.database.transaction() as session:
        stored = session.scalars(select(Credential)).all()
        audited = session.scalars(select(AuditEvent.subject).where(AuditEvent.action == "credential.issued")).all()
    assert len(stored) == 20
    assert {s.credential_id for s in stored} == {r.credential_id for r in rows} == set(audited)
    assert len({json.loads(s.document)["id"] for s in stored}) == 20
    salts = {json.loads(s.document)["credentialSubject"]["identifier"][0]["salt"] for s in stored}
    assert len(salts) == 20


def test_share_ids_never_start_with_a_dash() -> None:
    """A share id is typed on the command line too (`microcred revoke ID`), where '-x' is an option."""
    from issuer.credentials.issuance import new_public_id

    ids = [new_public_id() for _ in range(5000)]  # about 80 would start with '-' if drawn unchecked
    assert not any(i.startswith("-") for i in ids)
    assert len(set(ids)) == len(ids) and all(len(i) == 24 for i in ids)
