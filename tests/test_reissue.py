"""Re-issue (a changed name, a corrected version, a policy that changed meanwhile) and the key
compromise drill (`microcred keys revoke KEY_ID --reissue`).

Real database, real signatures, through the services and the CLI. Runs on SQLite and, with
MICROCRED_TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select

from badge_classes.catalog import PACKAGE_CATALOG
from issuer.catalog.versions import current_badge
from issuer.credentials import compromise
from issuer.credentials.evidence import evidence_entries, results
from issuer.credentials.expiry import add_months, valid_until_for
from issuer.credentials.issuance import issue_credential
from issuer.credentials.reissue import ReissueRefused, reissue
from issuer.credentials.status_lists import change_status, our_status_lists
from issuer.errors import CredentialInvalidError
from issuer.models import AuditEvent, Credential, OutboxMessage, StatusList, User
from verifier import verify_credential
from verifier.canonicalization import canonicalize
from verifier.report import Status
from verifier.schema import schema_problems
from verifier.status import status_list_checker

SLUG = "questioning-higher-order"
DID_WEB = "did:web:badges.example.gov"


# ----- helpers -----

def _rt(app: Flask):
    return app.extensions["microcred"]


def invoke(app: Flask, *args: str) -> Result:
    """Run a CLI command; an uncaught exception (a traceback for the user) fails the test."""
    result = app.test_cli_runner().invoke(args=list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"`microcred {' '.join(args)}` crashed: {result.output}") from result.exception
    assert "Traceback" not in result.output
    return result


def digest_sri(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def award(app: Flask, email: str = "jo@example.org", name: str = "Jo Teacher", *, user: bool = True,
          slug: str = SLUG, now: datetime | None = None) -> Credential:
    """A credential with evidence and rubric results, as an approval makes it, for a teacher account."""
    rt = _rt(app)
    with rt.database.transaction() as s:
        user_id = None
        if user:
            account = User(email=email, display_name=name, roles=["teacher"])
            s.add(account)
            s.flush()
            user_id = account.id
        badge = current_badge(s, slug)
        content = {"answers": {p.id: {"answers": [f"About {p.title}."] * len(p.questions), "links": []}
                               for p in badge.parts if p.questions},
                   "files": [{"id": 1, "part_id": p.id, "artifact_index": 0, "sha256": hashlib.sha256(p.id.encode())
                              .hexdigest(), "size": 1234, "media_type": "application/pdf", "filename": "plan.pdf"}
                             for p in badge.parts if p.artifacts]}
        levels = {c.id: badge.passing_level for c in badge.criteria}
        return issue_credential(s, badge, identity=rt.identity(), policy=rt.catalog.policy, recipient_email=email,
                                recipient_name=name, actor="test", now=now, recipient_user_id=user_id,
                                evidence=evidence_entries(badge, content),
                                results=results(badge, levels, base_url=rt.settings.public_url),
                                valid_until=valid_until_for(badge, now or datetime.now(UTC)))


def row(app: Flask, credential_id: str) -> Credential:
    with _rt(app).database.transaction() as s:
        return s.scalars(select(Credential).where(Credential.credential_id == credential_id)).one()


def replacement(app: Flask, old: Credential) -> Credential:
    with _rt(app).database.transaction() as s:
        return s.scalars(select(Credential).where(Credential.replaces_id == old.credential_id)).one()


def verify_now(app: Flask, document: dict[str, Any]):
    """The verdict a verifier reaches with this issuer's DID document and published status lists."""
    identity = _rt(app).identity()
    now = datetime.now(UTC)
    with _rt(app).database.transaction() as s:
        checker = status_list_checker(our_status_lists(s, identity), documents=identity.documents, now=now)
        return verify_credential(document, now=now, documents=identity.documents, status_checker=checker)


def fully_verified(report) -> bool:
    """Verified with nothing merely unknown: every check passed (the recipient check is skipped)."""
    return report.verified and all(c.status in (Status.PASSED, Status.SKIPPED) for c in report.checks)


def counts(app: Flask) -> tuple[int, int, int]:
    with _rt(app).database.transaction() as s:
        return (s.scalar(select(func.count()).select_from(Credential)),
                s.scalar(select(func.count()).select_from(AuditEvent)),
                s.scalar(select(func.count()).select_from(OutboxMessage)))


def catalogue_with(root: Path, *, pdp_rule: str = "", edit: Any = None) -> Path:
    """The shipped catalogue, with an extra PDP rule appended and/or the SLUG definition edited."""
    shutil.copytree(PACKAGE_CATALOG / "config", root / "config")
    shutil.copytree(PACKAGE_CATALOG / "definitions", root / "definitions")
    if pdp_rule:
        with (root / "config" / "pdp_policy.yaml").open("a", encoding="utf-8") as policy:
            policy.write(pdp_rule)
    if edit:
        path = root / "definitions" / f"{SLUG}.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        edit(data)
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return root


# ----- re-issue -----

def test_reissue_for_a_name_change_revokes_the_old_one(app: Flask) -> None:
    old = award(app)
    result = invoke(app, "reissue", old.credential_id, "--reason", "name changed after marriage",
                    "--name", "Jo Newname")
    assert result.exit_code == 0, result.output
    new = replacement(app, old)
    assert f"Re-issued {old.credential_id} as {new.credential_id}" in result.output and "revoked" in result.output

    before, after = json.loads(old.document), json.loads(new.document)
    assert after["credentialSubject"]["name"] == "Jo Newname" and after["name"].endswith(": Jo Newname")
    assert after["relatedResource"] == [{"id": old.credential_id, "digestSRI": digest_sri(old.document)}]
    assert old.credential_id in after["description"]
    assert after["evidence"] == before["evidence"] and after["evidence"]
    assert after["credentialSubject"]["result"] == before["credentialSubject"]["result"]
    assert after["credentialSubject"]["creditsEarned"] == before["credentialSubject"]["creditsEarned"] == 6
    assert (after["validFrom"], after["validUntil"] if "validUntil" in after else None) == \
        (before["validFrom"], before.get("validUntil"))
    assert after["credentialSubject"]["identifier"][0]["salt"] != before["credentialSubject"]["identifier"][0]["salt"]
    assert schema_problems(after) == []
    assert canonicalize(after, safe=True)  # relatedResource and digestSRI are VC 2.0 terms: nothing dropped

    report = verify_now(app, after)
    assert fully_verified(report), report.checks
    stale = verify_now(app, json.loads(row(app, old.credential_id).document))
    assert stale.check("status").ok is False and "revoked" in stale.check("status").message

    with _rt(app).database.transaction() as s:
        assert s.get(Credential, old.id).status == "revoked"
        assert s.get(Credential, old.id).document == old.document  # stored as signed, never touched
        assert s.get(User, old.recipient_user_id).display_name == "Jo Newname"
        assert (new.recipient_name, new.recipient_user_id, new.pdp_value) == ("Jo Newname", old.recipient_user_id, 6)
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.subject.in_(
            [old.credential_id, new.credential_id])).order_by(AuditEvent.id)).all()
        mail = s.scalars(select(OutboxMessage).where(OutboxMessage.kind.like("credential_%"))).all()
    assert actions == ["credential.issued", "credential.issued", "credential.revoked", "credential.reissued"]
    assert [(m.kind, m.to_address) for m in mail] == [("credential_reissued", "jo@example.org")]
    assert f"/credentials/{new.public_id}" in mail[0].body and "name changed after marriage" in mail[0].body


def test_suspend_old_keeps_the_old_one_suspended(app: Flask) -> None:
    old = award(app)
    result = invoke(app, "reissue", old.public_id, "--reason", "wrong spelling", "--suspend-old")
    assert result.exit_code == 0, result.output
    new = replacement(app, old)
    assert row(app, old.credential_id).status == "suspended"
    assert new.recipient_name == old.recipient_name
    stale = verify_now(app, json.loads(old.document))
    assert stale.check("status").ok is False and "suspended" in stale.check("status").message
    assert fully_verified(verify_now(app, json.loads(new.document)))


def test_the_pdp_value_is_carried_over_when_the_policy_changed(app: Flask, make_app, tmp_path: Path) -> None:
    old = award(app)
    assert old.pdp_value == 6
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    root = catalogue_with(tmp_path / "catalog",
                          pdp_rule=f"  - effective_from: {yesterday.isoformat()}\n    value: 7\n    note: New rule.\n")
    later = make_app(initialise=False, catalog_dir=str(root))
    assert _rt(later).catalog.policy.value_on(SLUG, "team", yesterday).value == 7

    result = invoke(later, "reissue", old.credential_id, "--reason", "name change", "--name", "Jo Other")
    assert result.exit_code == 0, result.output
    new = replacement(later, old)
    document = json.loads(new.document)
    assert new.pdp_value == 6
    assert document["credentialSubject"]["creditsEarned"] == 6
    assert document["credentialSubject"]["achievement"]["creditsAvailable"] == 6
    assert fully_verified(verify_now(later, document))
    fresh = award(later, "sam@example.org", "Sam Second")
    assert fresh.pdp_value == 7  # new awards follow the new rule


def test_reissue_under_the_current_version(app: Flask, make_app, tmp_path: Path) -> None:
    old = award(app)
    root = catalogue_with(tmp_path / "catalog",
                          edit=lambda d: d.update(title="Questioning: Higher-Order Questions (corrected)"))
    later = make_app(initialise=False, catalog_dir=str(root))
    assert invoke(later, "catalog", "sync").exit_code == 0

    same = invoke(later, "reissue", old.credential_id, "--reason", "key rotated", "--suspend-old")
    assert same.exit_code == 0, same.output
    kept = replacement(later, old)
    assert kept.achievement_version == 1
    assert json.loads(kept.document)["credentialSubject"]["achievement"]["version"] == "1"

    result = invoke(later, "reissue", kept.credential_id, "--reason", "corrected title", "--current-version")
    assert result.exit_code == 0, result.output
    new = replacement(later, kept)
    document = json.loads(new.document)
    achievement = document["credentialSubject"]["achievement"]
    assert new.achievement_version == 2 and achievement["version"] == "2"
    assert achievement["name"].endswith("(corrected)")
    for result_entry in document["credentialSubject"]["result"]:  # the results point at the new version's rubric
        assert result_entry["resultDescription"].startswith(achievement["id"] + "#")
    described = {d["id"] for d in achievement["resultDescription"]}
    assert {r["resultDescription"] for r in document["credentialSubject"]["result"]} <= described
    assert fully_verified(verify_now(later, document))


@pytest.mark.parametrize("case", ["revoked", "replaced", "suspended", "expired"])
def test_reissue_refuses_and_changes_nothing(app: Flask, case: str) -> None:
    expected = {"revoked": "revocation is final", "replaced": "already replaced by", "suspended": "reinstate it",
                "expired": "expired on"}[case]
    old = award(app, now=add_months(datetime.now(UTC), -30)) if case == "expired" else award(app)
    if case == "replaced":
        assert invoke(app, "reissue", old.credential_id, "--reason", "first", "--suspend-old").exit_code == 0
    elif case in ("revoked", "suspended"):
        with _rt(app).database.transaction() as s:
            change_status(s, s.get(Credential, old.id), case, reason="test", actor="test", identity=_rt(app).identity())
    if case == "expired":  # this class has no validity period in the shipped catalogue: give this one an end
        with _rt(app).database.transaction() as s:
            s.get(Credential, old.id).valid_until = datetime.now(UTC) - timedelta(days=1)
    before = counts(app)
    result = invoke(app, "reissue", old.credential_id, "--reason", "again")
    assert result.exit_code == 1
    assert expected in result.output
    assert counts(app) == before


def test_reissue_input_errors(app: Flask) -> None:
    old = award(app)
    before = counts(app)
    assert "There is no credential" in invoke(app, "reissue", "urn:uuid:nope", "--reason", "x").output
    assert "Give a reason" in invoke(app, "reissue", old.credential_id, "--reason", "  ").output
    assert "name" in invoke(app, "reissue", old.credential_id, "--reason", "x", "--name", "x" * 201).output
    assert invoke(app, "reissue", old.credential_id).exit_code == 2  # --reason is required
    with _rt(app).database.transaction() as s, pytest.raises(ReissueRefused):
        reissue(s, s.get(Credential, old.id), reason="x", old_status="active", actor="test",
                identity=_rt(app).identity(), policy=_rt(app).catalog.policy)
    assert counts(app) == before


# ----- the key compromise drill -----

def _signed_with(document: dict[str, Any]) -> str:
    return document["proof"]["verificationMethod"].rsplit("#", 1)[1]


def test_key_compromise_drill(did_web_app: Flask) -> None:
    app = did_web_app
    old_key = _rt(app).identity().store.active().key_id
    olds = [award(app, f"t{i}@example.org", f"Teacher {i}") for i in range(3)]

    result = invoke(app, "keys", "revoke", old_key, "--reason", "laptop stolen", "--reissue")
    assert result.exit_code == 0, result.output
    new_key = _rt(app).identity().store.active().key_id
    assert new_key != old_key
    assert f"Revoked {old_key}: laptop stolen" in result.output and f"Active key now: {new_key}" in result.output
    for n, old in enumerate(olds, start=1):
        assert f"  {old.credential_id}\t{old.recipient_name}\t{SLUG} v1\tactive" in result.output  # the listing
        assert f"[{n}/3] re-issued {old.credential_id} -> " in result.output
    assert "Re-issued 3, skipped 0, failed 0." in result.output

    did_document = app.test_client().get("/.well-known/did.json").get_json(force=True)
    assert old_key not in json.dumps(did_document)
    for old in olds:
        new = replacement(app, old)
        document = json.loads(new.document)
        assert new.key_id == new_key and _signed_with(document) == new_key
        assert document["issuer"]["id"] == DID_WEB
        assert document["relatedResource"][0]["digestSRI"] == digest_sri(old.document)
        report = verify_now(app, document)
        assert fully_verified(report), report.checks

        stale = verify_now(app, json.loads(old.document))
        assert not stale.verified
        assert stale.check("proof").ok is False
        assert "key_not_in_document" in [p.code for p in stale.problems]
        assert stale.check("status").ok is False and "revoked" in stale.check("status").message
        assert row(app, old.credential_id).status == "revoked"
        assert row(app, old.credential_id).status_reason == f"signing key {old_key} compromised: laptop stolen"
    with _rt(app).database.transaction() as s:
        mail = s.scalars(select(OutboxMessage.to_address).where(OutboxMessage.kind == "credential_reissued")).all()
        lists = s.scalars(select(StatusList)).all()
        assert all(_signed_with(json.loads(sl.signed_document)) == new_key for sl in lists)
    assert sorted(mail) == ["t0@example.org", "t1@example.org", "t2@example.org"]

    before = counts(app)
    again = invoke(app, "keys", "revoke", old_key, "--reissue")
    assert again.exit_code == 0, again.output
    assert "already revoked" in again.output and "Re-issued 0, skipped 3, failed 0." in again.output
    assert counts(app) == before  # a no-op
    assert _rt(app).identity().store.active().key_id == new_key


def test_revoking_without_reissue_lists_what_the_key_signed(app: Flask) -> None:
    old_key = _rt(app).identity().store.active().key_id
    olds = [award(app, f"t{i}@example.org", f"Teacher {i}", user=False) for i in range(2)]
    result = invoke(app, "keys", "revoke", old_key, "--reason", "laptop stolen")
    assert result.exit_code == 0, result.output
    for old in olds:
        assert f"  {old.credential_id}\tTeacher" in result.output
    assert f"microcred keys revoke {old_key} --reissue" in result.output
    assert counts(app)[0] == 2  # nothing re-issued yet

    done = invoke(app, "keys", "revoke", old_key, "--reissue")
    assert done.exit_code == 0 and "Re-issued 2" in done.output, done.output
    for old in olds:
        assert fully_verified(verify_now(app, json.loads(replacement(app, old).document)))


def test_drill_reports_a_failure_goes_on_and_a_rerun_finishes(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    old_key = _rt(app).identity().store.active().key_id
    olds = [award(app, f"t{i}@example.org", f"Teacher {i}") for i in range(3)]
    with _rt(app).database.transaction() as s:  # a suspended one is left for a person to decide
        change_status(s, s.get(Credential, olds[2].id), "suspended", reason="under review", actor="test",
                      identity=_rt(app).identity())
    real = compromise.reissue

    def failing_once(session, credential, **kw):
        if credential.credential_id == olds[0].credential_id:
            raise CredentialInvalidError("The signed credential did not verify: simulated")
        return real(session, credential, **kw)

    monkeypatch.setattr(compromise, "reissue", failing_once)
    result = invoke(app, "keys", "revoke", old_key, "--reason", "laptop stolen", "--reissue")
    assert result.exit_code == 1
    assert f"[1/3] failed {olds[0].credential_id}: The signed credential did not verify: simulated" in result.output
    assert f"[2/3] re-issued {olds[1].credential_id}" in result.output
    assert f"[3/3] skipped {olds[2].credential_id}" in result.output and "suspended" in result.output
    assert "Re-issued 1, skipped 1, failed 1." in result.output
    assert f"microcred keys revoke {old_key} --reissue" in result.output
    assert row(app, olds[0].credential_id).status == "active"  # its transaction was rolled back

    monkeypatch.setattr(compromise, "reissue", real)
    rerun = invoke(app, "keys", "revoke", old_key, "--reissue")
    assert rerun.exit_code == 0, rerun.output
    assert f"[1/3] re-issued {olds[0].credential_id}" in rerun.output
    assert "Re-issued 1, skipped 2, failed 0." in rerun.output
    assert fully_verified(verify_now(app, json.loads(replacement(app, olds[0]).document)))


def test_reissue_keeps_the_original_dates(make_app, tmp_path: Path) -> None:
    app = make_app(catalog_dir=str(catalogue_with(tmp_path / "catalog", edit=lambda d: d.update(valid_for_months=12))))
    earned = datetime.now(UTC).replace(microsecond=0) - timedelta(days=100)
    old = award(app, now=earned)
    result = invoke(app, "reissue", old.credential_id, "--reason", "name change", "--name", "Jo Other")
    assert result.exit_code == 0, result.output
    new = replacement(app, old)
    before, after = json.loads(old.document), json.loads(new.document)
    assert (after["validFrom"], after["validUntil"]) == (before["validFrom"], before["validUntil"])
    assert after["validUntil"] == add_months(earned, 12).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert row(app, new.credential_id).valid_until == row(app, old.credential_id).valid_until
    assert after["proof"]["created"] > before["proof"]["created"]  # signed now, valid since it was earned
    assert fully_verified(verify_now(app, after))


def test_revoking_a_key_re_signs_the_status_lists(did_web_app: Flask) -> None:
    """A list last signed by the revoked key would leave every credential on it "status unknown"."""
    app = did_web_app
    old_key = _rt(app).identity().store.active().key_id
    award(app, "a@example.org", "Ann Early")
    assert invoke(app, "keys", "rotate").exit_code == 0
    later = award(app, "b@example.org", "Bo Later")  # signed by the new key; its list is still signed by the old
    with _rt(app).database.transaction() as s:
        [status_list] = s.scalars(select(StatusList)).all()
        assert _signed_with(json.loads(status_list.signed_document)) == old_key

    assert invoke(app, "keys", "revoke", old_key, "--reason", "laptop stolen").exit_code == 0
    report = verify_now(app, json.loads(later.document))
    assert fully_verified(report), report.checks
    assert report.check("status").ok


def test_drill_under_a_new_passphrase(did_web_app: Flask, make_app) -> None:
    """docs/key-compromise.md: when the passphrase leaked too, the drill runs under a new one."""
    from keys import PassphraseError

    old_key = _rt(did_web_app).identity().store.active().key_id
    old = award(did_web_app)
    rotated = make_app(initialise=False, base_url="https://badges.example.gov",
                       key_passphrase="a new passphrase from the secret store")
    result = invoke(rotated, "keys", "revoke", old_key, "--reason", "key files and passphrase leaked", "--reissue")
    assert result.exit_code == 0, result.output
    assert "Re-issued 1, skipped 0, failed 0." in result.output
    new = replacement(rotated, old)
    assert fully_verified(verify_now(rotated, json.loads(new.document)))
    stale = make_app(initialise=False, base_url="https://badges.example.gov")  # the leaked passphrase
    with pytest.raises(PassphraseError):
        _rt(stale).identity().signer()
