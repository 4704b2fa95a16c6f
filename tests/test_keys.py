"""Tests of the keys package: encrypted key store, signer, passphrase loading and DIDs."""

from __future__ import annotations

import base64
import copy
import json
import logging
import pickle
import stat
import threading
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from keys import (
    ActiveKeyExistsError,
    KeyRetiredError,
    KeyRevokedError,
    KeyStore,
    NoActiveKeyError,
    PassphraseError,
    UnknownKeyError,
    did_document,
    did_web_document_url,
    did_web_from_url,
    issuer_did,
    load_passphrase,
    passphrase_file,
    verification_method_id,
)
from keys.sealing import UnsealError, unseal
from verifier.multikey import decode_public_key, did_key, did_key_verification_method

PASSPHRASE = b"correct horse battery staple 7f3a"
DID_WEB = "did:web:badges.example.gov"


@pytest.fixture
def store(tmp_path: Path) -> KeyStore:
    return KeyStore(tmp_path / "keys", PASSPHRASE)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _key_file(store: KeyStore, key_id: str) -> Path:
    return store.directory / f"{key_id}.json"


def _vm_ids(doc: dict[str, Any]) -> list[str]:
    return [m["id"] for m in doc["verificationMethod"]]


# ----- key store -----


def test_generate_list_active(store: KeyStore) -> None:
    assert store.list() == []
    info = store.generate()
    assert info.status == "active"
    assert info.key_id.startswith(f"key-{info.created:%Y%m%d}-")
    assert len(info.key_id) == len("key-YYYYMMDD-") + 8
    assert info.created.tzinfo is not None and info.created.utcoffset() == UTC.utcoffset(None)
    assert info.retired_at is None and info.revoked_at is None
    assert store.list() == [info]
    assert store.active() == info
    assert store.get(info.key_id) == info
    assert len(decode_public_key(info.public_key_multibase)) == 32


def test_generate_refuses_second_active_key(store: KeyStore) -> None:
    store.generate()
    with pytest.raises(ActiveKeyExistsError) as exc:
        store.generate()
    assert exc.value.code == "active_key_exists"
    assert "microcred keys rotate" in exc.value.message


def test_ensure_active_is_idempotent(store: KeyStore) -> None:
    first = store.ensure_active()
    assert store.ensure_active() == first
    assert len(store.list()) == 1


def test_empty_store_has_no_active_key(store: KeyStore) -> None:
    with pytest.raises(NoActiveKeyError) as exc:
        store.active()
    assert exc.value.code == "no_active_key"
    assert "microcred init" in exc.value.message
    assert "microcred keys generate" in exc.value.message
    with pytest.raises(NoActiveKeyError):
        store.signer()


def test_key_file_holds_no_clear_private_key(store: KeyStore) -> None:
    info = store.generate()
    text = _key_file(store, info.key_id).read_text()
    data = json.loads(text)
    assert data["encrypted_private_key"].startswith("scrypt-aes256gcm$")
    assert data["created"].endswith("Z")
    private = Ed25519PrivateKey.from_private_bytes(
        unseal(data["encrypted_private_key"], PASSPHRASE, info.key_id)
    )
    with pytest.raises(UnsealError):  # bound to its key id: cannot be moved to another file
        unseal(data["encrypted_private_key"], PASSPHRASE, "key-20260101-00000000")
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    clear_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    clear_body = "".join(clear_pem.splitlines()[1:-1])
    assert raw not in text.encode()
    for encoded in (raw.hex(), base64.b64encode(raw).decode(), clear_body):
        assert encoded not in text
    assert "BEGIN PRIVATE KEY" not in text
    assert PASSPHRASE.decode() not in text


def test_files_and_directory_are_private(store: KeyStore) -> None:
    info = store.generate()
    store.rotate()
    assert _mode(_key_file(store, info.key_id)) == 0o600
    assert _mode(store.directory) == 0o700
    leftovers = [p.name for p in store.directory.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_wrong_passphrase_raises_without_leaking(store: KeyStore) -> None:
    store.generate()
    wrong = b"not-the-passphrase-91c2"
    other = KeyStore(store.directory, wrong)
    with pytest.raises(PassphraseError) as exc:
        other.signer()
    assert exc.value.code == "passphrase"
    assert "MICROCRED_KEY_PASSPHRASE" in exc.value.message
    for secret in (wrong.decode(), PASSPHRASE.decode()):
        assert secret not in exc.value.message
        assert secret not in str(exc.value)
    assert exc.value.__cause__ is None and exc.value.__suppress_context__


def test_empty_passphrase_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PassphraseError):
        KeyStore(tmp_path / "keys", b"")


def test_signature_verifies_with_published_key(store: KeyStore) -> None:
    info = store.generate()
    # A fresh store decrypts from disk instead of using the generator's cache.
    signer = KeyStore(store.directory, PASSPHRASE).signer()
    assert signer.key_id == info.key_id
    assert signer.public_key_multibase == info.public_key_multibase
    assert signer.public_key_bytes() == decode_public_key(info.public_key_multibase)
    data = b"canonical credential bytes"
    signature = signer.sign(data)
    assert len(signature) == 64
    public = Ed25519PublicKey.from_public_bytes(decode_public_key(info.public_key_multibase))
    public.verify(signature, data)  # raises InvalidSignature on failure


def test_signer_is_cached_and_refreshed_on_rotation(store: KeyStore) -> None:
    store.generate()
    first = store.signer()
    assert store.signer() is first
    new, _ = store.rotate()
    assert store.signer().key_id == new.key_id


def test_rotation_retires_previous_key(store: KeyStore) -> None:
    old = store.generate()
    new, retired = store.rotate()
    assert retired is not None and retired.key_id == old.key_id
    assert retired.status == "retired" and retired.retired_at is not None
    assert store.active() == new and new.key_id != old.key_id
    assert [k.key_id for k in store.list()] == [old.key_id, new.key_id]
    assert {k.key_id for k in store.verification_keys()} == {old.key_id, new.key_id}
    doc = did_document(DID_WEB, store.verification_keys())
    assert doc["assertionMethod"] == [f"{DID_WEB}#{old.key_id}", f"{DID_WEB}#{new.key_id}"]
    assert _vm_ids(doc) == doc["assertionMethod"]


def test_rotate_without_active_key_just_creates_one(store: KeyStore) -> None:
    new, retired = store.rotate()
    assert retired is None and store.active() == new


def test_only_the_active_key_signs(store: KeyStore) -> None:
    old = store.generate()
    store.rotate()
    with pytest.raises(KeyRetiredError) as exc:
        store.signer(old.key_id)
    assert exc.value.code == "key_retired"
    store.revoke(old.key_id, "laptop stolen")
    with pytest.raises(KeyRevokedError):
        store.signer(old.key_id)


def test_revoke_retired_key_removes_it_from_document(store: KeyStore) -> None:
    old = store.generate()
    new, _ = store.rotate()
    revoked = store.revoke(old.key_id, "backup tape lost")
    assert revoked.status == "revoked" and revoked.revoked_at is not None
    assert revoked.revocation_reason == "backup tape lost"
    assert store.get(old.key_id) == revoked
    assert store.active() == new
    assert [k.key_id for k in store.verification_keys()] == [new.key_id]
    doc = did_document(DID_WEB, store.list())
    assert doc["assertionMethod"] == [f"{DID_WEB}#{new.key_id}"]
    assert old.public_key_multibase not in json.dumps(doc)
    # A compromised key keeps no private material at all.
    assert json.loads(_key_file(store, old.key_id).read_text())["encrypted_private_key"] is None


def test_revoking_active_key_rotates_first(store: KeyStore) -> None:
    old = store.generate()
    revoked = store.revoke(old.key_id, "key leaked in logs")
    active = store.active()
    assert active.key_id != old.key_id and revoked.status == "revoked"
    assert [k.status for k in store.list()] == ["revoked", "active"]
    assert store.signer().key_id == active.key_id


@pytest.mark.parametrize("reason", ["", "   "])
def test_revoke_requires_reason(store: KeyStore, reason: str) -> None:
    info = store.generate()
    with pytest.raises(ValueError):
        store.revoke(info.key_id, reason)
    assert store.active() == info


def test_revoke_twice_and_unknown_keys(store: KeyStore) -> None:
    old = store.generate()
    store.revoke(old.key_id, "compromised")
    with pytest.raises(KeyRevokedError) as exc:
        store.revoke(old.key_id, "again")
    assert exc.value.code == "key_revoked"
    for bad in ("key-20240101-deadbeef", "../keys/x", "nonsense"):
        with pytest.raises(UnknownKeyError) as unknown:
            store.get(bad)
        assert unknown.value.code == "unknown_key"
    with pytest.raises(UnknownKeyError):
        store.revoke("key-20240101-deadbeef", "whatever")


def test_two_stores_see_each_others_rotation(store: KeyStore) -> None:
    other = KeyStore(store.directory, PASSPHRASE)
    first = store.generate()
    assert other.active() == first
    new, _ = other.rotate()
    assert store.active() == new
    assert store.get(first.key_id).status == "retired"
    assert store.signer().key_id == new.key_id
    with pytest.raises(KeyRetiredError):
        store.signer(first.key_id)


def test_concurrent_rotations_keep_one_active_key(store: KeyStore) -> None:
    store.generate()
    retired_ids: list[str] = []
    errors: list[BaseException] = []

    def rotate_many() -> None:
        own = KeyStore(store.directory, PASSPHRASE)  # own lock file descriptor
        try:
            for _ in range(5):
                _, retired = own.rotate()
                assert retired is not None
                retired_ids.append(retired.key_id)
        except BaseException as exc:  # surfaced in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=rotate_many) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    statuses = [k.status for k in store.list()]
    assert statuses.count("active") == 1 and statuses[-1] == "active"
    assert len(statuses) == 16
    assert len(set(retired_ids)) == 15  # no key was retired by two rotations


def test_nothing_secret_is_logged_or_printed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    store = KeyStore(tmp_path / "keys", PASSPHRASE)
    info = store.generate()
    store.signer().sign(b"x")
    store.rotate()
    store.revoke(info.key_id, "test")
    with pytest.raises(PassphraseError):
        KeyStore(store.directory, b"wrong").signer()
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    assert PASSPHRASE.decode() not in caplog.text
    assert "PRIVATE KEY" not in caplog.text
    assert PASSPHRASE.decode() not in repr(store)


# ----- signer -----


def test_signer_repr_and_pickle_do_not_leak(store: KeyStore) -> None:
    info = store.generate()
    signer = store.signer()
    assert repr(signer) == (
        f"Signer(key_id={info.key_id!r}, public_key_multibase={info.public_key_multibase!r})"
    )
    for dump in (pickle.dumps, copy.copy, copy.deepcopy):
        with pytest.raises(TypeError):
            dump(signer)
    with pytest.raises(TypeError):
        signer.__getstate__()
    with pytest.raises(TypeError):
        vars(signer)  # no __dict__ to dump
    assert not [n for n in dir(signer) if "private" in n.lower() and not n.startswith("_")]


# ----- passphrase -----


def test_passphrase_env_var_wins(tmp_path: Path) -> None:
    secret_file = tmp_path / "pp.txt"
    secret_file.write_text("from-file\n")
    env = {
        "MICROCRED_KEY_PASSPHRASE": "from-env",
        "MICROCRED_KEY_PASSPHRASE_FILE": str(secret_file),
    }
    assert load_passphrase(tmp_path, env) == b"from-env"


def test_passphrase_file_env_var_is_second(tmp_path: Path) -> None:
    secret_file = tmp_path / "pp.txt"
    secret_file.write_text("  from-file \n")
    passphrase_file(tmp_path).parent.mkdir()
    passphrase_file(tmp_path).write_text("from-instance")
    env = {"MICROCRED_KEY_PASSPHRASE": "", "MICROCRED_KEY_PASSPHRASE_FILE": str(secret_file)}
    assert load_passphrase(tmp_path, env) == b"from-file"


def test_passphrase_instance_file_is_last(tmp_path: Path) -> None:
    path = passphrase_file(tmp_path)
    assert path == tmp_path / "secrets" / "key-passphrase"
    path.parent.mkdir()
    path.write_text("from-instance\n")
    assert load_passphrase(tmp_path, {}) == b"from-instance"


def test_passphrase_missing_names_the_options(tmp_path: Path) -> None:
    with pytest.raises(PassphraseError) as exc:
        load_passphrase(tmp_path, {})
    for hint in ("MICROCRED_KEY_PASSPHRASE", "MICROCRED_KEY_PASSPHRASE_FILE", "key-passphrase"):
        assert hint in exc.value.message
    assert not passphrase_file(tmp_path).exists()


def test_passphrase_file_env_pointing_nowhere_fails(tmp_path: Path) -> None:
    env = {"MICROCRED_KEY_PASSPHRASE_FILE": str(tmp_path / "missing")}
    with pytest.raises(PassphraseError):
        load_passphrase(tmp_path, env, create=True)


def test_empty_passphrase_file_is_refused(tmp_path: Path) -> None:
    secret_file = tmp_path / "pp.txt"
    secret_file.write_text(" \n")
    with pytest.raises(PassphraseError):
        load_passphrase(tmp_path, {"MICROCRED_KEY_PASSPHRASE_FILE": str(secret_file)})


def test_passphrase_create_writes_private_file(tmp_path: Path) -> None:
    created = load_passphrase(tmp_path, {}, create=True)
    path = passphrase_file(tmp_path)
    assert len(created) >= 43  # token_urlsafe(32)
    assert path.read_bytes().strip() == created
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700
    assert load_passphrase(tmp_path, {}, create=True) == created  # never regenerated


# ----- DIDs -----


@pytest.mark.parametrize(
    ("url", "did", "document_url"),
    [
        (
            "https://badges.example.gov",
            "did:web:badges.example.gov",
            "https://badges.example.gov/.well-known/did.json",
        ),
        (
            "https://Badges.Example.gov/",
            "did:web:badges.example.gov",
            "https://badges.example.gov/.well-known/did.json",
        ),
        (
            "https://localhost:8443",
            "did:web:localhost%3A8443",
            "https://localhost:8443/.well-known/did.json",
        ),
        ("https://example.gov/mc/", "did:web:example.gov:mc", "https://example.gov/mc/did.json"),
        (
            "https://example.gov:8443/a/b",
            "did:web:example.gov%3A8443:a:b",
            "https://example.gov:8443/a/b/did.json",
        ),
        (
            "http://localhost:5000",
            "did:web:localhost%3A5000",
            "https://localhost:5000/.well-known/did.json",
        ),
        (
            "https://example.gov:443/",
            "did:web:example.gov",
            "https://example.gov/.well-known/did.json",
        ),
    ],
)
def test_did_web_round_trip(url: str, did: str, document_url: str) -> None:
    assert did_web_from_url(url) == did
    assert did_web_document_url(did) == document_url
    base = document_url.removesuffix("did.json").removesuffix(".well-known/")
    assert did_web_from_url(base) == did


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.gov",
        "example.gov",
        "https://example.gov/?a=1",
        "https://example.gov/#frag",
        "https://example.gov/mc?",
        "https://user:pw@example.gov",
        "https://[::1]:8443",
        "https://example.gov/a%2",
        "https://example.gov/../x",
    ],
)
def test_did_web_rejects_bad_urls(url: str) -> None:
    with pytest.raises(ValueError):
        did_web_from_url(url)


@pytest.mark.parametrize(
    "did", ["did:key:z6Mk", "did:web:", "did:web:example.gov#key-1", "did:web:ex/ample"]
)
def test_did_web_document_url_rejects_bad_dids(did: str) -> None:
    with pytest.raises(ValueError):
        did_web_document_url(did)


def test_did_web_document_url_http_for_local_development() -> None:
    assert did_web_document_url("did:web:localhost%3A5000", scheme="http") == (
        "http://localhost:5000/.well-known/did.json"
    )


def test_issuer_did_and_verification_method(store: KeyStore) -> None:
    info = store.generate()
    assert issuer_did("https://badges.example.gov", info) == DID_WEB
    key_did = issuer_did(None, info)
    assert key_did == did_key(info.public_key_multibase)
    assert verification_method_id(DID_WEB, info) == f"{DID_WEB}#{info.key_id}"
    assert verification_method_id(key_did, info) == did_key_verification_method(
        info.public_key_multibase
    )
    other, _ = store.rotate()
    with pytest.raises(ValueError):
        verification_method_id(key_did, other)
    with pytest.raises(ValueError):
        verification_method_id("did:example:123", info)


def test_did_web_document_shape(store: KeyStore) -> None:
    info = store.generate()
    doc = did_document(DID_WEB, store.list())
    assert doc == {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": DID_WEB,
        "verificationMethod": [
            {
                "id": f"{DID_WEB}#{info.key_id}",
                "type": "Multikey",
                "controller": DID_WEB,
                "publicKeyMultibase": info.public_key_multibase,
            }
        ],
        "assertionMethod": [f"{DID_WEB}#{info.key_id}"],
    }


def test_did_key_document_lists_only_its_own_key(store: KeyStore) -> None:
    old = store.generate()
    new, _ = store.rotate()
    key_did = did_key(new.public_key_multibase)
    doc = did_document(key_did, store.list())
    vm = did_key_verification_method(new.public_key_multibase)
    assert doc["id"] == key_did
    assert _vm_ids(doc) == [vm] and doc["assertionMethod"] == [vm]
    assert doc["verificationMethod"][0]["controller"] == key_did
    store.revoke(old.key_id, "lost")
    old_doc = did_document(did_key(old.public_key_multibase), store.list())
    assert old_doc["verificationMethod"] == [] and old_doc["assertionMethod"] == []
