"""VC-JWT: the 1EdTech validator's JWT vectors, and our own RS256 / EdDSA / ES256 JWTs in both
forms (OB 3.0 §8.2 `vc` claim, VC 1.1; VC-JOSE, VC 2.0), keys from jwk, did:key and did:web."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from verifier_support import NOW, OB30, LocalSite, load_json, new_key, problem_codes, statuses, without_proof

from verifier.presented import verify_presented


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(header: dict, payload: dict, sign) -> str:
    head = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    return f"{head}.{_b64(sign(head.encode()))}"


def _rsa():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = key.public_key().public_numbers()
    jwk = {"kty": "RSA", "n": _b64(numbers.n.to_bytes(256, "big")), "e": _b64(numbers.e.to_bytes(3, "big"))}
    return jwk, lambda data: key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def _es256():
    key = ec.generate_private_key(ec.SECP256R1())
    numbers = key.public_key().public_numbers()
    jwk = {"kty": "EC", "crv": "P-256", "x": _b64(numbers.x.to_bytes(32, "big")), "y": _b64(numbers.y.to_bytes(32, "big"))}

    def sign(data: bytes) -> bytes:
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return jwk, sign


def _credential(issuer: str) -> dict:
    document = without_proof(load_json(OB30 / "simple.json"))
    document["issuer"]["id"] = issuer
    return document


@pytest.mark.parametrize("name, version", [
    ("simple-jwt.png", "Open Badges 3.0 (VC 2.0, VC-JWT)"), ("simple-jwt.svg", "Open Badges 3.0 (VC 2.0, VC-JWT)"),
    ("simple-jwt_v1.png", "Open Badges 3.0 (VC 1.1, VC-JWT)"), ("simple-jwt_v1.svg", "Open Badges 3.0 (VC 1.1, VC-JWT)"),
])
def test_the_validators_baked_jwts_verify_with_their_embedded_key(name: str, version: str) -> None:
    report = verify_presented((OB30 / name).read_bytes(), now=NOW)
    assert report.verified, report.to_json()
    assert report.version == version
    # a key carried in the JWT proves integrity, not who the issuer is
    assert statuses(report)["proof"] == "passed" and statuses(report)["issuer"] == "warning"


@pytest.mark.parametrize("name", ["simple.jwt", "velocity.jwt"])
def test_the_validators_jwts_without_key_material_are_not_verified(name: str) -> None:
    report = verify_presented((OB30 / name).read_bytes(), now=NOW)
    assert not report.verified and statuses(report)["proof"] == "failed"
    assert "key_unresolved" in problem_codes(report)


def test_eddsa_with_a_did_key_kid_is_verified_and_bound_to_the_issuer() -> None:
    key = new_key()
    token = _jwt({"alg": "EdDSA", "typ": "vc+jwt", "kid": key.verification_method}, _credential(key.did), key.sign)
    report = verify_presented(token, now=NOW)
    assert report.verified and statuses(report)["issuer"] == "passed", report.to_json()
    assert report.summary.issuer_id == key.did


def test_rs256_with_a_did_web_key_is_fetched_and_bound_to_the_issuer() -> None:
    jwk, sign = _rsa()
    did = "did:web:example.org"
    did_document = {"id": did, "verificationMethod": [{"id": f"{did}#k1", "type": "JsonWebKey", "controller": did,
                                                        "publicKeyJwk": jwk}], "assertionMethod": [f"{did}#k1"]}
    token = _jwt({"alg": "RS256", "kid": f"{did}#k1"}, _credential(did), sign)
    with LocalSite({("example.org", "/.well-known/did.json"): did_document}) as site:
        report = verify_presented(token, now=NOW, fetcher=site.fetcher())
        assert report.verified and statuses(report)["issuer"] == "passed", report.to_json()
    offline = verify_presented(token, now=NOW)
    assert statuses(offline)["proof"] == "failed" and "offline" in offline.check("proof").message


def test_es256_with_a_jwk_header() -> None:
    jwk, sign = _es256()
    report = verify_presented(_jwt({"alg": "ES256", "jwk": jwk}, _credential("https://example.org/issuer"), sign), now=NOW)
    assert statuses(report)["proof"] == "passed", report.to_json()


def test_the_vc_claim_form_must_agree_with_its_registered_claims() -> None:
    key = new_key()
    vc = _credential(key.did)
    vc.pop("validFrom")
    vc["@context"] = ["https://www.w3.org/2018/credentials/v1", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
    claims = {"iss": key.did, "jti": vc["id"], "sub": vc["credentialSubject"].get("id"), "nbf": 1577836800}
    good = verify_presented(_jwt({"alg": "EdDSA", "kid": key.verification_method}, {**claims, "vc": vc}, key.sign), now=NOW)
    assert statuses(good)["proof"] == "passed", good.to_json()
    assert good.summary.earned.year == 2020  # nbf stands for issuanceDate
    bad = verify_presented(_jwt({"alg": "EdDSA", "kid": key.verification_method},
                                {**claims, "iss": "did:example:someone-else", "vc": vc}, key.sign), now=NOW)
    assert statuses(bad)["proof"] == "failed" and "jwt_claim_mismatch" in problem_codes(bad)


@pytest.mark.parametrize("alg", ["none", "HS256", "RS512"])
def test_other_algorithms_are_refused(alg: str) -> None:
    key = new_key()
    report = verify_presented(_jwt({"alg": alg, "kid": key.verification_method}, _credential(key.did), key.sign), now=NOW)
    assert statuses(report)["proof"] == "failed" and "jws_algorithm_unsupported" in problem_codes(report)


def test_a_changed_payload_or_another_key_fails() -> None:
    key, other = new_key(), new_key()
    token = _jwt({"alg": "EdDSA", "kid": key.verification_method}, _credential(key.did), key.sign)
    head, _payload, signature = token.split(".")
    changed = _credential(key.did)
    changed["name"] = "Something else"
    forged = f"{head}.{_b64(json.dumps(changed).encode())}.{signature}"
    assert "signature_mismatch" in problem_codes(verify_presented(forged, now=NOW))
    wrong = _jwt({"alg": "EdDSA", "kid": other.verification_method}, _credential(key.did), key.sign)
    assert "signature_mismatch" in problem_codes(verify_presented(wrong, now=NOW))


def test_a_private_or_weak_jwk_is_refused() -> None:
    jwk, sign = _rsa()
    report = verify_presented(_jwt({"alg": "RS256", "jwk": {**jwk, "d": "AAAA"}}, _credential("https://x.example"), sign), now=NOW)
    assert "key_format" in problem_codes(report)
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    n = weak.public_key().public_numbers().n
    token = _jwt({"alg": "RS256", "jwk": {"kty": "RSA", "n": _b64(n.to_bytes(128, "big")), "e": "AQAB"}},
                 _credential("https://x.example"), lambda d: weak.sign(d, padding.PKCS1v15(), hashes.SHA256()))
    assert "key_format" in problem_codes(verify_presented(token, now=NOW))


def test_an_enveloped_credential_is_opened() -> None:
    key = new_key()
    token = _jwt({"alg": "EdDSA", "kid": key.verification_method}, _credential(key.did), key.sign)
    envelope = {"@context": "https://www.w3.org/ns/credentials/v2", "type": "EnvelopedVerifiableCredential",
                "id": "data:application/vc+jwt," + token}
    assert verify_presented({"verifiableCredential": envelope}, now=NOW).verified


def test_ed25519_jwk_with_eddsa() -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    token = _jwt({"alg": "EdDSA", "jwk": {"kty": "OKP", "crv": "Ed25519", "x": _b64(raw)}},
                 _credential("https://x.example"), private.sign)
    assert statuses(verify_presented(token, now=NOW))["proof"] == "passed"
