"""The `microcred` command-line contract: init, catalog list, issue, verify, keys.

Through `app.test_cli_runner()`, plus one end-to-end run of the real console script.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from sqlalchemy import MetaData, func, select

from issuer.models import AuditEvent, Credential, User
from issuer.people.accounts import DEMO_ACCOUNTS, verify_password
from issuer.runtime import Runtime
from keys.sealing import unseal
from verifier.multikey import did_key

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_SCHEMA = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
SLUG = "questioning-higher-order"
DID_WEB = "did:web:badges.example.gov"
CHECK_IDS = ["parse", "context", "schema", "proof", "issuer", "validity", "status", "recipient"]
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
KEY_ID_RE = re.compile(r"key-\d{8}-[0-9a-f]{8}")


# ----- helpers -----

def _rt(app: Flask) -> Runtime:
    return app.extensions["microcred"]


def invoke(app: Flask, *args: str, input: str | bytes | None = None) -> Result:
    """Run a CLI command; any uncaught exception (a traceback for the user) fails the test."""
    result = app.test_cli_runner().invoke(args=list(args), input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"`microcred {' '.join(args)}` crashed: {result.output}") from result.exception
    assert "Traceback" not in result.output
    return result


def issue(app: Flask, email: str = "T@Example.org", name: str = "Jo Teacher",
          *extra: str) -> tuple[dict[str, Any], Result]:
    result = invoke(app, "issue", "--achievement", SLUG, "--recipient-email", email, "--recipient-name", name, *extra)
    assert result.exit_code == 0, result.output
    return (json.loads(result.stdout) if not extra else {}), result


def verify(app: Flask, path: Path, *options: str) -> Result:
    return invoke(app, "verify", *options, str(path))


def verify_json(app: Flask, path: Path | str, input: str | bytes | None = None) -> tuple[int, dict[str, Any]]:
    """`verify --json`: the exit code and THE one JSON object printed on stdout."""
    result = invoke(app, "verify", "--json", str(path), input=input)
    report = json.loads(result.stdout)  # fails unless stdout is exactly one JSON value
    assert isinstance(report, dict)
    return result.exit_code, report


def write(tmp_path: Path, name: str, credential: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(credential, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def count_rows(app: Flask) -> tuple[int, int]:
    with _rt(app).database.transaction() as session:
        return (session.scalar(select(func.count()).select_from(Credential)),
                session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("credential.%"))))


def check(report: dict[str, Any], check_id: str) -> dict[str, Any]:
    return next(c for c in report["checks"] if c["id"] == check_id)


def keys_by_status(app: Flask) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for key in _rt(app).identity().store.list():
        found.setdefault(key.status, []).append(key.key_id)
    return found


def private_key_secrets(app: Flask, passphrase: str) -> list[str]:
    """Every stored private key in the encodings a leak could plausibly take (sealed form, hex, base64)."""
    found = []
    for path in sorted(_rt(app).settings.keys_dir.glob("key-*.json")):
        record = json.loads(path.read_text())
        stored = record["encrypted_private_key"]
        if stored is None:
            continue
        if "PRIVATE KEY" in stored:  # PKCS#8 PEM
            private = serialization.load_pem_private_key(stored.encode(), password=passphrase.encode())
            found.append("".join(stored.splitlines()[1:-1])[:40])
        else:  # sealed with scrypt + AES-256-GCM
            seed = unseal(stored, passphrase.encode(), record["key_id"])
            private = Ed25519PrivateKey.from_private_bytes(seed)
            found.append(stored.rsplit("$", 1)[-1][:40])  # the ciphertext
        raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                    serialization.NoEncryption())
        pkcs8 = private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
        found += [raw.hex(), base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode().rstrip("="),
                  base64.b64encode(pkcs8).decode()]
    assert found, "no private key found to look for"
    return found


def database_text(app: Flask) -> str:
    """Every value of every column of every table, as text."""
    engine = _rt(app).database.engine
    metadata = MetaData()
    metadata.reflect(engine)
    assert {"credentials", "audit_events", "users"} <= set(metadata.tables)
    chunks = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(table.select()):
                chunks.append(json.dumps([str(v) for v in row], ensure_ascii=False))
    return "\n".join(chunks)


def assert_no_secrets(text: str, secrets: list[str], passphrase: str) -> None:
    assert "PRIVATE KEY" not in text
    assert passphrase not in text
    for secret in secrets:
        assert secret not in text


@pytest.fixture(params=["did_key", "did_web"])
def any_app(request: pytest.FixtureRequest) -> Flask:
    return request.getfixturevalue("app" if request.param == "did_key" else "did_web_app")


# ----- init -----

def test_init_is_idempotent(app: Flask) -> None:
    first_key = _rt(app).identity().store.active().key_id
    result = invoke(app, "init")
    assert result.exit_code == 0, result.output
    assert f"Signing key: {first_key}" in result.output
    assert _rt(app).identity().store.active().key_id == first_key
    assert keys_by_status(app) == {"active": [first_key]}
    listed = invoke(app, "keys", "list")
    assert listed.exit_code == 0
    assert KEY_ID_RE.findall(listed.output) == [first_key]


def _demo_logins(output: str) -> dict[str, str]:
    lines = output.split("Demo accounts", 1)[1].splitlines()[1:]
    logins = {}
    for line in lines:
        email, password, *_ = line.split()
        logins[email] = password
    return logins


def test_init_demo_prints_the_same_logins_twice(app: Flask) -> None:
    first = invoke(app, "init", "--demo")
    assert first.exit_code == 0, first.output
    logins = _demo_logins(first.output)
    assert sorted(logins) == sorted(email for email, _, _ in DEMO_ACCOUNTS)
    assert len(logins) == 5 and all(logins.values())

    second = invoke(app, "init", "--demo")
    assert second.exit_code == 0, second.output
    assert _demo_logins(second.output) == logins

    with _rt(app).database.transaction() as session:
        users = {u.email: u for u in session.scalars(select(User))}
        assert len(users) == 5
        for email, password in logins.items():
            assert verify_password(users[email], password)
            assert password not in (users[email].password_hash or "")  # hashed, not stored


@pytest.mark.parametrize("args", [
    ["issue", "--achievement", SLUG, "--recipient-email", "t@example.org", "--recipient-name", "Jo Teacher"],
    ["keys", "list"],
    ["keys", "rotate"],
])
def test_commands_on_an_uninitialised_instance_ask_for_init(uninitialised_app: Flask, args: list[str]) -> None:
    result = invoke(uninitialised_app, *args)
    assert result.exit_code != 0
    assert "microcred init" in result.output
    assert "Traceback" not in result.output


# ----- catalog -----

def test_catalog_list(app: Flask) -> None:
    result = invoke(app, "catalog", "list")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    slugs = [line.split()[0] for line in lines]
    assert all(SLUG_RE.match(s) for s in slugs), lines
    assert SLUG in slugs
    assert sorted(slugs) == sorted(_rt(app).catalog.badge_classes)


# ----- issue -----

def test_issue_prints_a_credential_of_the_required_shape(any_app: Flask) -> None:
    rt = _rt(any_app)
    before = datetime.now(UTC).replace(microsecond=0)
    credential, result = issue(any_app)

    assert credential["@context"] == [VC_V2, OB_V3]
    assert isinstance(credential["type"], list)
    assert {"VerifiableCredential", "OpenBadgeCredential"} <= set(credential["type"])
    assert credential["id"].startswith("urn:uuid:")
    assert str(uuid.UUID(credential["id"].removeprefix("urn:uuid:"))) == credential["id"].removeprefix("urn:uuid:")

    profile = credential["issuer"]
    active = rt.identity().store.active()
    if rt.settings.base_url:
        assert profile["id"] == DID_WEB
    else:
        assert profile["id"] == did_key(active.public_key_multibase)
        assert profile["id"].startswith("did:key:z6Mk")
    assert "Profile" in profile["type"]
    for field in ("name", "url", "email", "image"):
        assert profile[field], field
    assert "@" in profile["email"]
    assert profile["url"].startswith(("https://", "http://"))
    if rt.settings.base_url:
        assert profile["url"].startswith("https://badges.example.gov")

    valid_from = datetime.fromisoformat(credential["validFrom"].replace("Z", "+00:00"))
    assert valid_from.tzinfo is not None
    assert before - timedelta(seconds=1) <= valid_from <= datetime.now(UTC) + timedelta(seconds=1)

    subject = credential["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    assert subject["name"] == "Jo Teacher"
    [identifier] = subject["identifier"]
    assert identifier["type"] == "IdentityObject"
    assert identifier["identityType"] == "emailAddress"
    assert identifier["hashed"] is True
    salt = identifier["salt"]
    assert salt and "t@example.org" not in json.dumps(credential).lower()  # only the hash is published
    assert identifier["identityHash"] == "sha256$" + hashlib.sha256(("t@example.org" + salt).encode()).hexdigest()

    achievement = subject["achievement"]
    assert "Achievement" in achievement["type"]
    assert achievement["achievementType"] == "MicroCredential"
    assert achievement["name"] == rt.catalog.badge_classes[SLUG].title
    assert achievement["id"] and achievement["criteria"]

    schemas = credential["credentialSchema"]
    assert isinstance(schemas, list) and schemas
    assert schemas[0]["id"] == OB_SCHEMA
    assert schemas[0]["type"] in ("1EdTechJsonSchemaValidator2019", "JsonSchema")

    proofs = credential["proof"] if isinstance(credential["proof"], list) else [credential["proof"]]
    [proof] = proofs
    assert proof["type"] == "DataIntegrityProof"
    assert proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["proofPurpose"] == "assertionMethod"
    assert proof["verificationMethod"].startswith(profile["id"] + "#")
    assert proof["proofValue"].startswith("z")

    with rt.database.transaction() as session:
        row = session.scalars(select(Credential).where(Credential.credential_id == credential["id"])).one()
        events = session.scalars(select(AuditEvent).where(AuditEvent.subject == credential["id"])).all()
    assert json.loads(row.document) == credential
    assert result.stdout.strip() == row.document  # printed exactly as stored
    assert row.recipient_email == "t@example.org"
    assert row.key_id == active.key_id
    assert [e.action for e in events] == ["credential.issued"]


def test_each_award_has_its_own_salt(app: Flask) -> None:
    first, _ = issue(app)
    second, _ = issue(app)
    salts = [c["credentialSubject"]["identifier"][0]["salt"] for c in (first, second)]
    hashes = [c["credentialSubject"]["identifier"][0]["identityHash"] for c in (first, second)]
    assert salts[0] != salts[1]
    assert hashes[0] != hashes[1]
    assert first["id"] != second["id"]


def test_issue_out_writes_the_same_json(app: Flask, tmp_path: Path) -> None:
    out = tmp_path / "credential.json"
    _, result = issue(app, "T@Example.org", "Jo Teacher", "--out", str(out))
    assert result.stdout == ""  # the credential goes to the file only
    credential = json.loads(out.read_text(encoding="utf-8"))
    assert credential["id"] in result.stderr
    with _rt(app).database.transaction() as session:
        row = session.scalars(select(Credential)).one()
    assert json.loads(row.document) == credential
    assert out.read_text(encoding="utf-8") == row.document + "\n"


@pytest.mark.parametrize(("slug", "email", "name", "expected"), [
    ("no-such-badge", "t@example.org", "Jo Teacher", "no-such-badge"),
    (SLUG, "not-an-email", "Jo Teacher", "not-an-email"),
    (SLUG, "t@example.org", "", "name"),
    (SLUG, "t@example.org", "   ", "name"),
])
def test_issue_refuses_bad_input_and_writes_nothing(app: Flask, slug: str, email: str, name: str,
                                                   expected: str) -> None:
    before = count_rows(app)
    result = invoke(app, "issue", "--achievement", slug, "--recipient-email", email, "--recipient-name", name)
    assert result.exit_code != 0
    assert result.stdout == ""
    assert expected in result.stderr
    assert result.stderr.startswith("Error: ")
    assert count_rows(app) == before == (0, 0)


# ----- verify -----

def test_verify_an_issued_credential(any_app: Flask, tmp_path: Path) -> None:
    credential, _ = issue(any_app)
    path = write(tmp_path, "credential.json", credential)

    result = verify(any_app, path)
    assert result.exit_code == 0, result.output
    assert "VERIFIED" in result.output and "NOT VERIFIED" not in result.output

    code, report = verify_json(any_app, path)
    assert code == 0
    assert {"verified", "checks", "problems"} <= set(report)
    assert report["verified"] is True
    assert [c["id"] for c in report["checks"]] == CHECK_IDS
    for item in report["checks"]:
        assert {"id", "ok", "message"} <= set(item)
        assert item["ok"] is True
    assert report["problems"] == []


@pytest.mark.parametrize("tamper", ["name", "credentialSubject.name"])
def test_verify_a_tampered_credential_fails(app: Flask, tmp_path: Path, tamper: str) -> None:
    credential, _ = issue(app)
    target = credential
    *parents, leaf = tamper.split(".")
    for part in parents:
        target = target[part]
    target[leaf] = "Someone Else"
    path = write(tmp_path, "tampered.json", credential)

    result = verify(app, path)
    assert result.exit_code == 1
    assert "NOT VERIFIED" in result.output

    code, report = verify_json(app, path)
    assert code == 1
    assert report["verified"] is False
    assert check(report, "proof")["ok"] is False
    assert report["problems"]
    for problem in report["problems"]:
        assert {"code", "title", "detail"} <= set(problem)


def test_verify_unreadable_inputs_exit_2(app: Flask, tmp_path: Path) -> None:
    malformed = tmp_path / "malformed.json"
    malformed.write_text('{"@context": [', encoding="utf-8")
    huge = tmp_path / "huge.json"
    huge.write_text(json.dumps({"padding": "x" * (3 * 1024 * 1024)}), encoding="utf-8")
    missing = tmp_path / "missing.json"

    for path, code in ((malformed, "not_json"), (huge, "input_too_large"), (missing, "unreadable_file")):
        result = verify(app, path)
        assert result.exit_code == 2, (path.name, result.output)
        assert result.output.strip()  # says why

        exit_code, report = verify_json(app, path)
        assert exit_code == 2, path.name
        assert report["verified"] is False
        assert [p["code"] for p in report["problems"]] == [code]
        assert {"code", "title", "detail"} <= set(report["problems"][0])
        assert check(report, "parse")["ok"] is False


def test_verify_reads_standard_input(app: Flask) -> None:
    credential, _ = issue(app)
    text = json.dumps(credential)
    result = invoke(app, "verify", "-", input=text)
    assert result.exit_code == 0, result.output
    code, report = verify_json(app, "-", input=text.encode())
    assert code == 0 and report["verified"] is True
    code, report = verify_json(app, "-", input="not json")
    assert code == 2 and report["problems"][0]["code"] == "not_json"


# ----- keys -----

def test_keys_list_shows_the_active_key(app: Flask) -> None:
    active = _rt(app).identity().store.active()
    result = invoke(app, "keys", "list")
    assert result.exit_code == 0
    [line] = result.stdout.splitlines()
    key_id, status, _created, multibase = line.split("\t")
    assert (key_id, status, multibase) == (active.key_id, "active", active.public_key_multibase)


def test_keys_generate_refuses_when_a_key_is_active(app: Flask) -> None:
    before = keys_by_status(app)
    result = invoke(app, "keys", "generate")
    assert result.exit_code != 0
    assert "rotate" in result.output
    assert keys_by_status(app) == before


def test_rotate_then_revoke_did_web(did_web_app: Flask, tmp_path: Path, key_passphrase: str) -> None:
    app = did_web_app
    client = app.test_client()
    outputs: list[str] = []
    old_key = _rt(app).identity().store.active().key_id
    secrets = private_key_secrets(app, key_passphrase)

    old_credential, result = issue(app)
    outputs.append(result.output)
    old_path = write(tmp_path, "old.json", old_credential)
    assert old_credential["proof"]["verificationMethod"] == f"{DID_WEB}#{old_key}"

    result = invoke(app, "keys", "rotate")
    outputs.append(result.output)
    assert result.exit_code == 0, result.output
    statuses = keys_by_status(app)
    [new_key] = statuses["active"]
    assert statuses == {"active": [new_key], "retired": [old_key]}
    assert new_key in result.output and old_key in result.output
    secrets += private_key_secrets(app, key_passphrase)

    document = client.get("/.well-known/did.json").get_json(force=True)
    both = [f"{DID_WEB}#{old_key}", f"{DID_WEB}#{new_key}"]
    assert sorted(m["id"] for m in document["verificationMethod"]) == sorted(both)
    assert sorted(document["assertionMethod"]) == sorted(both)
    assert document["id"] == DID_WEB  # the identifier survives rotation

    result = verify(app, old_path)  # signed before the rotation: still valid
    outputs.append(result.output)
    assert result.exit_code == 0, result.output

    new_credential, result = issue(app, "second@example.org", "Sam Second")
    outputs.append(result.output)
    assert new_credential["issuer"]["id"] == DID_WEB
    assert new_credential["proof"]["verificationMethod"] == f"{DID_WEB}#{new_key}"
    new_path = write(tmp_path, "new.json", new_credential)

    result = invoke(app, "keys", "revoke", old_key, "--reason", "laptop stolen")
    outputs.append(result.output)
    assert result.exit_code == 0, result.output
    assert "laptop stolen" in result.output
    assert keys_by_status(app) == {"active": [new_key], "revoked": [old_key]}
    listed = invoke(app, "keys", "list")
    outputs.append(listed.output)
    assert "laptop stolen" in listed.output

    document = client.get("/.well-known/did.json").get_json(force=True)
    assert [m["id"] for m in document["verificationMethod"]] == [f"{DID_WEB}#{new_key}"]
    assert document["assertionMethod"] == [f"{DID_WEB}#{new_key}"]
    assert old_key not in json.dumps(document)

    result = verify(app, old_path)
    outputs.append(result.output)
    assert result.exit_code == 1, result.output
    code, report = verify_json(app, old_path)
    assert code == 1 and check(report, "proof")["ok"] is False
    assert "key_not_in_document" in [p["code"] for p in report["problems"]]

    result = verify(app, new_path)
    outputs.append(result.output)
    assert result.exit_code == 0, result.output

    with _rt(app).database.transaction() as session:
        revoked_events = session.scalars(select(AuditEvent).where(AuditEvent.action == "key.revoked")).all()
    assert [(e.subject, e.detail["reason"], e.detail["credentials_affected"]) for e in revoked_events] == [
        (old_key, "laptop stolen", 1)]

    assert_no_secrets("\n".join(outputs), secrets, key_passphrase)
    assert_no_secrets(database_text(app), secrets, key_passphrase)


def test_rotate_then_revoke_did_key(app: Flask, tmp_path: Path, key_passphrase: str) -> None:
    outputs: list[str] = []
    store = _rt(app).identity().store
    old = store.active()
    secrets = private_key_secrets(app, key_passphrase)
    old_credential, result = issue(app)
    outputs.append(result.output)
    assert old_credential["issuer"]["id"] == did_key(old.public_key_multibase)
    old_path = write(tmp_path, "old.json", old_credential)

    result = invoke(app, "keys", "rotate")
    outputs.append(result.output)
    assert result.exit_code == 0, result.output
    new = store.active()
    assert new.key_id != old.key_id
    assert keys_by_status(app) == {"active": [new.key_id], "retired": [old.key_id]}
    secrets += private_key_secrets(app, key_passphrase)

    result = verify(app, old_path)
    outputs.append(result.output)
    assert result.exit_code == 0, result.output

    new_credential, result = issue(app, "second@example.org", "Sam Second")
    outputs.append(result.output)
    assert new_credential["issuer"]["id"] == did_key(new.public_key_multibase)
    new_path = write(tmp_path, "new.json", new_credential)

    result = invoke(app, "keys", "revoke", old.key_id, "--reason", "laptop stolen")
    outputs.append(result.output)
    assert result.exit_code == 0, result.output
    assert keys_by_status(app) == {"active": [new.key_id], "revoked": [old.key_id]}

    # A did:key is self-certifying; the instance's own record of the revocation makes it fail here.
    result = verify(app, old_path)
    outputs.append(result.output)
    assert result.exit_code == 1, result.output
    code, report = verify_json(app, old_path)
    assert code == 1 and check(report, "proof")["ok"] is False

    result = verify(app, new_path)
    outputs.append(result.output)
    assert result.exit_code == 0, result.output

    assert_no_secrets("\n".join(outputs), secrets, key_passphrase)
    assert_no_secrets(database_text(app), secrets, key_passphrase)


def test_revoking_the_active_key_rotates_to_a_new_one(app: Flask, tmp_path: Path) -> None:
    credential, _ = issue(app)
    path = write(tmp_path, "credential.json", credential)
    old = _rt(app).identity().store.active().key_id

    result = invoke(app, "keys", "revoke", old, "--reason", "laptop stolen")
    assert result.exit_code == 0, result.output
    statuses = keys_by_status(app)
    assert statuses["revoked"] == [old]
    [new] = statuses["active"]
    assert f"Active key now: {new}" in result.output

    assert verify(app, path).exit_code == 1
    fresh, _ = issue(app, "second@example.org", "Sam Second")
    assert verify(app, write(tmp_path, "fresh.json", fresh)).exit_code == 0


@pytest.mark.parametrize(("args", "expected"), [
    (["keys", "revoke", "key-20000101-00000000", "--reason", "lost"], "key-20000101-00000000"),
    (["keys", "revoke", "not-a-key-id"], "not-a-key-id"),
])
def test_revoke_unknown_key_is_a_clean_error(app: Flask, args: list[str], expected: str) -> None:
    result = invoke(app, *args)
    assert result.exit_code != 0
    assert expected in result.output


def test_revoke_needs_a_reason(app: Flask) -> None:
    active = _rt(app).identity().store.active().key_id
    result = invoke(app, "keys", "revoke", active, "--reason", "  ")
    assert result.exit_code != 0
    assert "reason" in result.output
    assert keys_by_status(app) == {"active": [active]}


def test_init_output_has_no_secrets(make_app, key_passphrase: str) -> None:
    app = make_app(initialise=False)
    result = invoke(app, "init", "--demo")
    assert result.exit_code == 0
    assert_no_secrets(result.output, private_key_secrets(app, key_passphrase), key_passphrase)


def test_verify_works_on_an_uninitialised_instance(app: Flask, make_app, tmp_path: Path) -> None:
    """A licensure office verifies a did:key credential with a bare install: no keys, no database."""
    credential, _ = issue(app)
    path = write(tmp_path, "credential.json", credential)
    bare = make_app(initialise=False, instance=str(tmp_path / "elsewhere"),
                    database_url=f"sqlite:///{tmp_path}/elsewhere.sqlite3", key_passphrase=None)
    code, report = verify_json(bare, path)
    assert code == 0 and report["verified"] is True
    assert not (tmp_path / "elsewhere").exists()  # verifying writes nothing


# ----- bugs found and fixed: kept as regression tests -----

def test_issue_out_to_an_unwritable_path_fails_cleanly_and_stores_nothing(app: Flask, tmp_path: Path) -> None:
    out = tmp_path / "no-such-dir" / "credential.json"
    result = invoke(app, "issue", "--achievement", SLUG, "--recipient-email", "t@example.org",
                    "--recipient-name", "Jo Teacher", "--out", str(out))
    assert result.exit_code != 0
    assert "no-such-dir" in result.output
    assert count_rows(app) == (0, 0)


@pytest.mark.parametrize("command", ["init", "issue"])
def test_invalid_base_url_is_a_clean_error(make_app, command: str) -> None:
    if command == "issue":
        make_app()  # a working instance, then restarted with the bad setting
    app = make_app(initialise=False, base_url="badges.example.gov")  # no scheme
    args = ["init"] if command == "init" else [
        "issue", "--achievement", SLUG, "--recipient-email", "t@example.org", "--recipient-name", "Jo Teacher"]
    result = invoke(app, *args)
    assert result.exit_code != 0
    assert "badges.example.gov" in result.output


def test_init_with_an_unreachable_database_is_a_clean_error(make_app, tmp_path: Path) -> None:
    app = make_app(initialise=False, database_url=f"sqlite:///{tmp_path}/no-such-dir/db.sqlite3")
    result = invoke(app, "init")
    assert result.exit_code != 0
    assert "database" in result.output.lower()


def test_verify_honours_revoked_keys_without_the_passphrase(app: Flask, make_app, tmp_path: Path) -> None:
    credential, _ = issue(app)
    path = write(tmp_path, "credential.json", credential)
    old = _rt(app).identity().store.active().key_id
    assert invoke(app, "keys", "revoke", old, "--reason", "laptop stolen").exit_code == 0
    assert verify(app, path).exit_code == 1

    # The same instance, from a shell where MICROCRED_KEY_PASSPHRASE is not set (verifying needs no secret).
    clerk = make_app(initialise=False, key_passphrase=None)
    result = verify(clerk, path)
    assert result.exit_code != 0, result.output


# ----- the real console script -----

def _console_script() -> str:
    candidate = Path(sys.executable).with_name("microcred")
    if candidate.exists():
        return str(candidate)
    found = shutil.which("microcred")
    assert found, "the `microcred` console script is not installed (pip install -e .)"
    return found


def test_console_script_end_to_end(tmp_path: Path, database_url: str, key_passphrase: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROCRED_")}
    env.update(MICROCRED_INSTANCE=str(tmp_path / "instance"), MICROCRED_DATABASE_URL=database_url,
               MICROCRED_KEY_PASSPHRASE=key_passphrase, FLASK_SKIP_DOTENV="1")
    script = _console_script()
    outputs: list[str] = []

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([script, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        outputs.extend((done.stdout, done.stderr))
        assert "Traceback" not in done.stderr, done.stderr
        return done

    done = run("init", "--demo")
    assert done.returncode == 0, done.stderr
    assert len(_demo_logins(done.stdout)) == 5

    out = tmp_path / "credential.json"
    done = run("issue", "--achievement", SLUG, "--recipient-email", "T@Example.org",
               "--recipient-name", "Jo Teacher", "--out", str(out))
    assert done.returncode == 0, done.stderr
    credential = json.loads(out.read_text(encoding="utf-8"))
    assert credential["@context"] == [VC_V2, OB_V3]

    done = run("verify", "--json", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["verified"] is True
    assert [c["id"] for c in report["checks"]] == CHECK_IDS

    out.write_text(out.read_text(encoding="utf-8").replace("Jo Teacher", "Jo Impostor"), encoding="utf-8")
    done = run("verify", "--json", str(out))
    assert done.returncode == 1
    assert json.loads(done.stdout)["verified"] is False

    assert "PRIVATE KEY" not in "\n".join(outputs)
    assert key_passphrase not in "\n".join(outputs)
