"""The issuer's Bitstring Status Lists: one entry per credential, signed lists at /status/<id>,
random never-reused indices (also with concurrent issuers), and an independent verifier that
reads our published list over HTTP.

Runs on SQLite and, with MICROCRED_TEST_DATABASE_URL, on PostgreSQL, where concurrent issuers
really race each other.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import threading
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import Flask
from pyld import jsonld
from sqlalchemy import func, select

from issuer.credentials.issuance import issue_credential
from issuer.credentials.status_lists import list_credential
from issuer.models import StatusEntry, StatusList
from issuer.runtime import Runtime
from verifier import Status, verify_credential
from verifier.schema import schema_problems
from verifier.status import MIN_ENTRIES, decode_list

SLUG = "questioning-higher-order"
LIST_TYPE = "BitstringStatusListCredential"


def _rt(app: Flask) -> Runtime:
    return app.extensions["microcred"]


def _issue(app: Flask, email: str = "t@example.org", name: str = "Jo Teacher") -> dict[str, Any]:
    rt = _rt(app)
    with rt.database.transaction() as session:
        row = issue_credential(session, rt.catalog.badge_classes[SLUG], identity=rt.identity(),
                               policy=rt.catalog.policy, recipient_email=email, recipient_name=name, actor="test")
        return json.loads(row.document)


def _list_id(credential: dict[str, Any]) -> str:
    return credential["credentialStatus"]["statusListCredential"].rsplit("/", 1)[1]


def _index(credential: dict[str, Any]) -> tuple[str, int]:
    entry = credential["credentialStatus"]
    return entry["statusListCredential"], int(entry["statusListIndex"])


@pytest.fixture(params=["did_key", "did_web"])
def any_app(request: pytest.FixtureRequest) -> Flask:
    return request.getfixturevalue("app" if request.param == "did_key" else "did_web_app")


# --- what every credential carries ---------------------------------------------------------------


def test_every_issued_credential_has_exactly_one_status_entry(any_app: Flask) -> None:
    public_url = _rt(any_app).settings.public_url
    for n in range(3):
        credential = _issue(any_app, f"t{n}@example.org")
        entry = credential["credentialStatus"]
        assert isinstance(entry, dict)  # one entry (OB 3.0 allows [0..1]), not an array
        assert entry["type"] == "BitstringStatusListEntry"
        assert entry["statusPurpose"] == "message" and entry["statusSize"] == 2
        assert isinstance(entry["statusListIndex"], str) and entry["statusListIndex"].isdigit()
        assert entry["statusListCredential"].startswith(f"{public_url}/status/")
        assert entry["id"] == f"{entry['statusListCredential']}#{entry['statusListIndex']}"
        assert [m["message"] for m in entry["statusMessage"]][:3] == ["valid", "revoked", "suspended"]
        assert schema_problems(credential) == []


# --- the published list --------------------------------------------------------------------------


def test_the_status_list_is_served_signed_and_cacheable(any_app: Flask) -> None:
    rt = _rt(any_app)
    credential = _issue(any_app)
    client = any_app.test_client()
    response = client.get(f"/status/{_list_id(credential)}")
    assert response.status_code == 200
    assert response.mimetype in ("application/vc+ld+json", "application/vc", "application/ld+json", "application/json")
    listed = response.get_json(force=True)
    assert listed["id"] == credential["credentialStatus"]["statusListCredential"]
    assert LIST_TYPE in listed["type"] and listed["issuer"] == rt.identity().did
    assert listed["credentialSubject"]["statusPurpose"] == "message"
    now = datetime.now(UTC)
    valid_from, valid_until = (datetime.fromisoformat(listed[k].replace("Z", "+00:00"))
                               for k in ("validFrom", "validUntil"))
    assert valid_from <= now < valid_until and valid_until - valid_from == timedelta(days=1)
    report = verify_credential(listed, now=now, documents=rt.identity().documents)
    assert report.check("proof").status is Status.PASSED and report.check("validity").status is Status.PASSED
    assert report.check("issuer").status is Status.PASSED
    etag = response.headers["ETag"]
    assert etag and "max-age=" in response.headers["Cache-Control"]
    assert "public" in response.headers["Cache-Control"]
    again = client.get(f"/status/{_list_id(credential)}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert client.get(f"/status/{_list_id(credential)}", headers={"If-None-Match": '"other"'}).status_code == 200


def test_an_unknown_status_list_is_404_with_a_message(app: Flask) -> None:
    client = app.test_client()
    answer = client.get("/status/no-such-list", headers={"Accept": "application/json"})
    assert answer.status_code == 404
    assert "no status list" in answer.get_json()["error"]["message"]
    page = client.get("/status/no-such-list", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "no status list" in page.get_data(as_text=True)


def test_a_list_is_re_signed_before_its_signature_runs_out(app: Flask) -> None:
    rt = _rt(app)
    list_id = _list_id(_issue(app))
    soon = datetime.now(UTC) + timedelta(hours=13)  # more than half the day's validity gone
    with rt.database.transaction() as session:
        first, _ = list_credential(session, list_id, rt.identity())
        later, _ = list_credential(session, list_id, rt.identity(), now=soon)
    assert json.loads(later)["validUntil"] > json.loads(first)["validUntil"]
    assert json.loads(later)["credentialSubject"] == json.loads(first)["credentialSubject"]


def test_allocation_lists_hold_at_least_131072_entries(app: Flask) -> None:
    credential = _issue(app)
    with _rt(app).database.transaction() as session:
        lists = list(session.scalars(select(StatusList)))
        assert lists and all(s.entries >= MIN_ENTRIES and len(s.bits) * 8 == s.entries * s.status_size for s in lists)
    listed = app.test_client().get(f"/status/{_list_id(credential)}").get_json(force=True)
    assert len(decode_list(listed["credentialSubject"]["encodedList"])) * 8 // 2 >= MIN_ENTRIES


def test_indices_are_distinct_and_random_looking_across_200_credentials(app: Flask) -> None:
    indices = [_index(_issue(app, f"t{n}@example.org"))[1] for n in range(200)]
    assert len(set(indices)) == 200
    assert indices != sorted(indices)
    rises = sum(b > a for a, b in zip(indices, indices[1:]))
    assert 60 < rises < 140  # about half of the steps go up, as for random draws (expected 99.5)
    assert max(indices) - min(indices) > MIN_ENTRIES // 2  # spread over the list, not a block
    assert sum(b - a == 1 for a, b in zip(indices, indices[1:])) < 3  # not sequential
    with _rt(app).database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(StatusEntry)) == 200


def test_concurrent_issuers_get_distinct_indices(app: Flask) -> None:
    """Eight issuers at once, three credentials each, each in its own transaction; the first
    round races on an empty database (no list yet). No error, no index used twice, one list."""
    _rt(app).identity()  # open the key store once, outside the race
    threads, per_thread = 8, 3
    barrier, lock = threading.Barrier(threads), threading.Lock()
    issued: list[tuple[str, int]] = []
    errors: list[BaseException] = []

    def issuer(n: int) -> None:
        barrier.wait()
        for k in range(per_thread):
            try:
                place = _index(_issue(app, f"t{n}-{k}@example.org"))
            except BaseException as exc:
                with lock:
                    errors.append(exc)
                return
            with lock:
                issued.append(place)

    workers = [threading.Thread(target=issuer, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert errors == []
    assert len(issued) == len(set(issued)) == threads * per_thread
    with _rt(app).database.transaction() as session:
        rows = session.execute(select(StatusEntry.status_list_id, StatusEntry.list_index)).all()
        allocated = session.scalars(select(StatusList.allocated)).all()
    assert len(rows) == len(set(rows)) == threads * per_thread
    # One list, not one per racing issuer: a list with a single credential in it would tell the
    # issuer which credential a verifier is checking when it is fetched.
    assert allocated == [threads * per_thread]


# --- an independent verifier, over HTTP ----------------------------------------------------------
# Deliberately imports nothing from verifier/ or issuer/: urllib, pyld, cryptography and the
# standard library, following W3C Data Integrity eddsa-rdfc-2022 (§3.3) and BSL v1.0 (§3.2, §4).

CONTEXTS = Path(__file__).resolve().parent.parent / "verifier" / "contexts"
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _http_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.loads(answer.read())


def _load_context(url: str, options: Any = None) -> dict[str, Any]:
    files = json.loads((CONTEXTS / "contexts.json").read_text())["contexts"]
    if url not in files:
        raise ValueError(f"context {url} is not pinned")
    return {"contextUrl": None, "documentUrl": url, "document": json.loads((CONTEXTS / files[url]).read_text())}


def _canonical(document: dict[str, Any]) -> bytes:
    options = {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": _load_context}
    return jsonld.normalize(document, options).encode("utf-8")


def _base58(text: str) -> bytes:
    number = 0
    for char in text:
        number = number * 58 + BASE58.index(char)
    return b"\0" * (len(text) - len(text.lstrip("1"))) + number.to_bytes((number.bit_length() + 7) // 8, "big")


def _public_key(method: str) -> Ed25519PublicKey:
    """did:key: the key is in the DID; did:web: from the DID document (http: our local server)."""
    did = method.split("#")[0]
    if did.startswith("did:key:"):
        multibase = did[len("did:key:"):]
    else:
        host = did[len("did:web:"):].replace("%3A", ":")
        document = _http_json(f"http://{host}/.well-known/did.json")
        assert method in document["assertionMethod"]
        multibase = next(m["publicKeyMultibase"] for m in document["verificationMethod"] if m["id"] == method)
    raw = _base58(multibase.removeprefix("z"))
    assert multibase.startswith("z") and raw[:2] == b"\xed\x01" and len(raw) == 34  # multicodec ed25519-pub
    return Ed25519PublicKey.from_public_bytes(raw[2:])


def _verify_eddsa_rdfc_2022(document: dict[str, Any]) -> None:
    """Raises unless the document's one proof verifies (cryptography's verify raises InvalidSignature)."""
    proof = dict(document["proof"][0] if isinstance(document["proof"], list) else document["proof"])
    assert (proof["type"], proof["cryptosuite"], proof["proofPurpose"]) == (
        "DataIntegrityProof", "eddsa-rdfc-2022", "assertionMethod")
    signature = _base58(proof.pop("proofValue").removeprefix("z"))
    config = {"@context": document["@context"], **proof}
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    data = hashlib.sha256(_canonical(config)).digest() + hashlib.sha256(_canonical(unsecured)).digest()
    _public_key(proof["verificationMethod"]).verify(signature, data)


def independent_status(credential: dict[str, Any]) -> int:
    """The value of the credential's entry in its published, verified status list."""
    entry = credential["credentialStatus"]
    listed = _http_json(entry["statusListCredential"])
    _verify_eddsa_rdfc_2022(listed)
    assert LIST_TYPE in listed["type"] and listed["issuer"] == credential["issuer"]["id"]
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert listed["validFrom"] <= now < listed["validUntil"]
    assert listed["credentialSubject"]["statusPurpose"] == entry["statusPurpose"]
    encoded = listed["credentialSubject"]["encodedList"]
    assert encoded.startswith("u")  # multibase base64url, no padding
    bits = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    size, index = int(entry.get("statusSize", 1)), int(entry["statusListIndex"])
    assert len(bits) * 8 >= 131_072 * size
    value = 0
    for position in range(index * size, index * size + size):  # bit 0 is the first byte's leftmost bit
        value = (value << 1) | (bits[position // 8] >> (7 - position % 8)) & 1
    return value


@pytest.fixture
def live_app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    """The app on a real HTTP port, published at that address (its status list URLs resolve there)."""
    from werkzeug.serving import make_server

    holder: dict[str, Flask] = {}
    server = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    try:  # the port is known only now, and the app's public URL must be it
        holder["app"] = make_app(base_url=f"http://127.0.0.1:{server.server_port}")
        thread.start()
        yield holder["app"]
    finally:
        if thread.is_alive():
            server.shutdown()
            thread.join(10)
        server.server_close()


def _cli(app: Flask, *args: str) -> None:
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output


def test_an_independent_verifier_reads_revoked_suspended_and_reinstated(live_app: Flask) -> None:
    suspended, revoked = _issue(live_app, "s@example.org"), _issue(live_app, "r@example.org")
    for credential in (suspended, revoked):
        assert credential["credentialStatus"]["statusListCredential"].startswith("http://127.0.0.1:")
        _verify_eddsa_rdfc_2022(credential)  # the same independent code accepts the credential itself
        assert independent_status(credential) == 0
    _cli(live_app, "revoke", revoked["id"], "--reason", "Evidence was plagiarised.")
    assert independent_status(revoked) == 1
    assert independent_status(suspended) == 0
    _cli(live_app, "suspend", suspended["id"], "--reason", "Under investigation.")
    assert independent_status(suspended) == 2
    _cli(live_app, "reinstate", suspended["id"], "--reason", "Investigation closed.")
    assert independent_status(suspended) == 0
    assert independent_status(revoked) == 1


def test_the_independent_verifier_rejects_a_tampered_list(live_app: Flask) -> None:
    """The independent code is a real check: flipping our entry's bits breaks the signature."""
    from cryptography.exceptions import InvalidSignature

    credential = _issue(live_app)
    listed = _http_json(credential["credentialStatus"]["statusListCredential"])
    listed["credentialSubject"]["encodedList"] = "u" + base64.urlsafe_b64encode(
        gzip.compress(b"\xff" * (131_072 * 2 // 8))).rstrip(b"=").decode()
    with pytest.raises(InvalidSignature):
        _verify_eddsa_rdfc_2022(listed)
