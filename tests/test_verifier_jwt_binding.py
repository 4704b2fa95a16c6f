"""VC-JWT issuer binding: `kid`, the `jwk` header and `iss` must all point at the issuer's own key.

For a did:jwk or did:key issuer the signing key IS the issuer; for did:web and https issuers it
must be a key the issuer's own document lists under assertionMethod. A JWT re-signed with any
other key is never verified, whatever its header says.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from verifier.presented import verify_presented

from verifier_support import NOW, OB30, LocalSite, load_json, new_key, problem_codes, statuses, without_proof

DID_WEB = "did:web:badges.education.example.gov"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(header: dict, payload: dict, sign) -> str:
    head = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    return f"{head}.{_b64(sign(head.encode()))}"


class RsaKey:
    def __init__(self) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        numbers = self.private.public_key().public_numbers()
        self.jwk = {"kty": "RSA", "n": _b64(numbers.n.to_bytes(256, "big")), "e": _b64(numbers.e.to_bytes(3, "big"))}
        self.did = "did:jwk:" + _b64(json.dumps(self.jwk).encode())

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data, padding.PKCS1v15(), hashes.SHA256())


@pytest.fixture(scope="module")
def issuer() -> RsaKey:
    return RsaKey()


@pytest.fixture(scope="module")
def attacker() -> RsaKey:
    return RsaKey()


def _credential(issuer_id: str, **changes: Any) -> dict[str, Any]:
    document = without_proof(load_json(OB30 / "simple.json"))
    document["issuer"]["id"] = issuer_id
    document.update(changes)
    return document


def _verdict(token: str, **kwargs: Any) -> tuple[dict[str, str], set[str], Any]:
    report = verify_presented(token, now=NOW, **kwargs)
    return statuses(report), problem_codes(report), report


# --- did:jwk: the issuer is its key ---------------------------------------------------------------


def test_a_did_jwk_issuer_signing_with_its_own_key_is_verified(issuer: RsaKey) -> None:
    for header in ({"alg": "RS256", "kid": issuer.did + "#0"}, {"alg": "RS256", "jwk": issuer.jwk},
                   {"alg": "RS256", "kid": issuer.did + "#0", "jwk": issuer.jwk}, {"alg": "RS256"}):
        checks, _codes, report = _verdict(_jwt(header, _credential(issuer.did), issuer.sign))
        assert report.verified and checks["issuer"] == "passed", (header, report.to_json())


def test_a_did_jwk_credential_re_signed_with_another_rsa_key_in_the_jwk_header_is_not_verified(
        issuer: RsaKey, attacker: RsaKey) -> None:
    """Issue 13: edited and re-signed with a different RSA key carried in the JWT header."""
    edited = _credential(issuer.did, name="Edited after issuance")
    checks, codes, report = _verdict(_jwt({"alg": "RS256", "jwk": attacker.jwk}, edited, attacker.sign))
    assert checks["proof"] == "passed"  # the attacker's signature is a valid signature ...
    assert checks["issuer"] == "failed" and "issuer_key_mismatch" in codes and not report.verified
    message = report.check("issuer").message
    assert "not the issuer's key" in message and issuer.did in message


def test_a_kid_naming_another_did_jwk_is_not_the_issuers(issuer: RsaKey, attacker: RsaKey) -> None:
    token = _jwt({"alg": "RS256", "kid": attacker.did + "#0"}, _credential(issuer.did), attacker.sign)
    checks, codes, report = _verdict(token)
    assert checks["proof"] == "passed" and "issuer_key_mismatch" in codes and not report.verified


def test_a_kid_and_a_jwk_header_naming_different_keys_are_refused(issuer: RsaKey, attacker: RsaKey) -> None:
    token = _jwt({"alg": "RS256", "kid": issuer.did + "#0", "jwk": attacker.jwk}, _credential(issuer.did),
                 attacker.sign)
    checks, codes, report = _verdict(token)
    assert checks["proof"] == "failed" and "jws_key_conflict" in codes and not report.verified


def test_iss_must_name_the_credentials_issuer(issuer: RsaKey, attacker: RsaKey) -> None:
    # VC-JOSE: the payload is the credential; an iss claim must still be its issuer.
    jose = _jwt({"alg": "RS256", "kid": attacker.did + "#0"}, {**_credential(issuer.did), "iss": attacker.did},
                attacker.sign)
    assert "jwt_claim_mismatch" in _verdict(jose)[1]
    # OB 3.0 §8.2 form: iss stands for vc.issuer, and the two must agree.
    vc = _credential(issuer.did)
    vc["@context"] = ["https://www.w3.org/2018/credentials/v1", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
    vc["issuanceDate"] = vc.pop("validFrom")
    claim = _jwt({"alg": "RS256", "jwk": attacker.jwk}, {"iss": attacker.did, "vc": vc}, attacker.sign)
    _checks, codes, report = _verdict(claim)
    assert "jwt_claim_mismatch" in codes and not report.verified
    # Dropping vc.issuer lets iss fill it in, and then the key must be iss's own: the attacker's.
    vc_without_issuer = {k: v for k, v in vc.items() if k != "issuer"}
    mine = _jwt({"alg": "RS256", "jwk": attacker.jwk}, {"iss": attacker.did, "vc": vc_without_issuer}, attacker.sign)
    assert verify_presented(mine, now=NOW).summary.issuer_id == attacker.did  # says so: it is the attacker's own


# --- did:key: the same rule with Ed25519 ---------------------------------------------------------


def test_a_did_key_issuer_and_a_strangers_did_key_kid() -> None:
    own, stranger = new_key(), new_key()
    good = _jwt({"alg": "EdDSA", "kid": own.verification_method}, _credential(own.did), own.sign)
    assert verify_presented(good, now=NOW).verified
    header_jwk = {"kty": "OKP", "crv": "Ed25519", "x": _b64(own.public_bytes)}
    assert verify_presented(_jwt({"alg": "EdDSA", "jwk": header_jwk}, _credential(own.did), own.sign), now=NOW).verified
    forged = _jwt({"alg": "EdDSA", "kid": stranger.verification_method}, _credential(own.did), stranger.sign)
    checks, codes, report = _verdict(forged)
    assert checks["proof"] == "passed" and "issuer_key_mismatch" in codes and not report.verified


# --- did:web and https: only a key the issuer's own document lists -------------------------------


def _did_document(key: RsaKey) -> dict[str, Any]:
    return {"id": DID_WEB, "verificationMethod": [{"id": f"{DID_WEB}#k1", "type": "JsonWebKey", "controller": DID_WEB,
                                                    "publicKeyJwk": key.jwk}], "assertionMethod": [f"{DID_WEB}#k1"]}


@pytest.mark.parametrize("issuer_id", [DID_WEB, "https://badges.education.example.gov/issuer"])
def test_a_throw_away_jwk_header_key_claiming_a_did_web_or_https_issuer_is_not_verified(
        attacker: RsaKey, issuer_id: str) -> None:
    token = _jwt({"alg": "RS256", "jwk": attacker.jwk}, _credential(issuer_id), attacker.sign)
    checks, codes, report = _verdict(token)
    assert checks["proof"] == "passed" and checks["issuer"] == "failed" and not report.verified
    assert "issuer_not_confirmed" in codes and report.check("issuer").message.startswith("Issuer not confirmed")


def test_a_jwk_header_key_is_the_issuers_when_its_did_web_document_lists_it(issuer: RsaKey, attacker: RsaKey) -> None:
    with LocalSite({("badges.education.example.gov", "/.well-known/did.json"): _did_document(issuer)}) as site:
        listed = _jwt({"alg": "RS256", "jwk": issuer.jwk}, _credential(DID_WEB), issuer.sign)
        assert verify_presented(listed, now=NOW, fetcher=site.fetcher()).verified
        by_kid = _jwt({"alg": "RS256", "kid": f"{DID_WEB}#k1"}, _credential(DID_WEB), issuer.sign)
        assert verify_presented(by_kid, now=NOW, fetcher=site.fetcher()).verified
        stranger = _jwt({"alg": "RS256", "jwk": attacker.jwk}, _credential(DID_WEB), attacker.sign)
        _checks, codes, report = _verdict(stranger, fetcher=site.fetcher())
        assert "issuer_key_mismatch" in codes and not report.verified  # the document says whose keys count


def test_a_pinned_issuer_is_checked_against_its_pinned_document_only(issuer: RsaKey, attacker: RsaKey) -> None:
    pins = {DID_WEB: _did_document(issuer)}
    with LocalSite({("badges.education.example.gov", "/.well-known/did.json"): _did_document(attacker)}) as site:
        forged = _jwt({"alg": "RS256", "jwk": attacker.jwk}, _credential(DID_WEB), attacker.sign)
        _checks, codes, report = _verdict(forged, fetcher=site.fetcher(), known_issuers=pins)
        assert "issuer_key_mismatch" in codes and not report.verified
        genuine = _jwt({"alg": "RS256", "kid": f"{DID_WEB}#k1"}, _credential(DID_WEB), issuer.sign)
        assert verify_presented(genuine, now=NOW, fetcher=site.fetcher(), known_issuers=pins).verified
        assert site.hits == []  # the pinned id was never resolved on the network


# --- JOSE header rules (PyJWT) ------------------------------------------------------------------


@pytest.mark.parametrize("extra, code", [
    ({"crit": ["exp"]}, "jws_header_invalid"),
    ({"b64": False, "crit": ["b64"]}, "jws_malformed"),
    ({"kid": 42}, "jws_header_invalid"),
])
def test_headers_this_verifier_does_not_implement_are_refused(issuer: RsaKey, extra: dict, code: str) -> None:
    token = _jwt({"alg": "RS256", "jwk": issuer.jwk, **extra}, _credential(issuer.did), issuer.sign)
    _checks, codes, report = _verdict(token)
    assert not report.verified and code in codes, report.to_json()


def test_an_rs256_header_with_an_ed25519_did_key_is_refused() -> None:
    key = new_key()
    token = _jwt({"alg": "RS256", "kid": key.verification_method}, _credential(key.did), key.sign)
    assert "key_format" in _verdict(token)[1]
