"""A corpus of validly signed forgeries (issue 13): every one names an issuer whose key did not sign it.

Reusable by any test that presents credentials (the library, the CLI, both HTTP APIs, the
/verify page): `corpus()` builds fresh attacker keys each call and returns `Forgery` items whose
`presented` is what an attacker hands over (a JSON object, or a compact JWS as text), and
`routes` what the hosts they name serve (for tests.verifier_support.LocalSite: the genuine
issuers' own documents next to the attacker's). None of them may ever read "verified".

The issuers claimed: the production `did:web:badges.education.example.gov` (and its https
form), a did:jwk and a did:key issuer (pass `victim_did_key` to claim, e.g., our own issuer
id in did:key mode), and the Open Badges 2.0 issuer of the 1EdTech vectors,
https://example.org/organization.json.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from verifier_support import OB30, Ed25519Key, new_key, sign, unsigned_simple

PRODUCTION_DID = "did:web:badges.education.example.gov"
PRODUCTION_HOST = "badges.education.example.gov"
PRODUCTION_HTTPS = f"https://{PRODUCTION_HOST}/issuer"
ATTACKER_HOST = "badges.attacker.example"
OB2_HOST = "example.org"
OB2_ISSUER = "https://example.org/organization.json"
OB20 = OB30.parent / "ob20"
Route = tuple[str, str]


@dataclass(frozen=True)
class Forgery:
    name: str
    description: str
    presented: dict[str, Any] | str
    claims: str  # the issuer id the forgery names
    routes: dict[Route, Any] = field(default_factory=dict)

    @property
    def hosts(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(host for host, _ in self.routes))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact_jws(header: dict[str, Any], payload: dict[str, Any], signer: Callable[[bytes], bytes]) -> str:
    head = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    return f"{head}.{_b64(signer(head.encode()))}"


class RsaKey:
    """A throw-away RSA key, as a JWK, a did:jwk and a PEM."""

    def __init__(self) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        numbers = self.private.public_key().public_numbers()
        self.jwk = {"kty": "RSA", "n": _b64(numbers.n.to_bytes(256, "big")), "e": _b64(numbers.e.to_bytes(3, "big"))}
        self.did = "did:jwk:" + _b64(json.dumps(self.jwk).encode())
        self.pem = self.private.public_key().public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data, padding.PKCS1v15(), hashes.SHA256())


def _claiming(issuer_id: str, template_key: Ed25519Key) -> dict[str, Any]:
    """An OB 3.0 credential naming `issuer_id` (the 1EdTech simple.json, no proof)."""
    document = unsigned_simple(template_key)
    document["issuer"] = {"id": issuer_id, "type": ["Profile"], "name": "Department of Education"}
    return document


def genuine_routes(production_key: Ed25519Key) -> dict[Route, Any]:
    """The genuine issuers' own documents: the production DID document (listing only
    `production_key`), and the OB 2.0 issuer's profile, badge class and key from the vectors."""
    vm = f"{PRODUCTION_DID}#key-1"
    did_document = {"id": PRODUCTION_DID, "verificationMethod": [
        {"id": vm, "type": "Multikey", "controller": PRODUCTION_DID, "publicKeyMultibase": production_key.multibase}],
        "assertionMethod": [vm]}
    https_document = {**did_document, "id": PRODUCTION_HTTPS,
                      "verificationMethod": [{**did_document["verificationMethod"][0],
                                              "id": f"{PRODUCTION_HTTPS}#key-1", "controller": PRODUCTION_HTTPS}],
                      "assertionMethod": [f"{PRODUCTION_HTTPS}#key-1"]}
    routes: dict[Route, Any] = {(PRODUCTION_HOST, "/.well-known/did.json"): did_document,
                                (PRODUCTION_HOST, "/issuer"): https_document}
    for name in ("organization.json", "robotics-badge.json", "key1.json"):
        routes[(OB2_HOST, "/" + name)] = (OB20 / "assets" / name).read_bytes()
    return routes


def _jwt_forgeries(attacker: RsaKey, victim_jwk: RsaKey, victim_key: str, template: Ed25519Key) -> list[Forgery]:
    stranger = new_key()
    return [
        Forgery("vc-jwt-jwk-header-https", "VC-JWT signed by a throw-away key carried in its own jwk header, "
                "naming an https issuer", compact_jws({"alg": "RS256", "typ": "vc+jwt", "jwk": attacker.jwk},
                                                      _claiming(PRODUCTION_HTTPS, template), attacker.sign),
                PRODUCTION_HTTPS),
        Forgery("vc-jwt-jwk-header-did-web", "VC-JWT signed by a throw-away jwk header key, naming the production "
                "did:web", compact_jws({"alg": "RS256", "typ": "vc+jwt", "jwk": attacker.jwk},
                                       _claiming(PRODUCTION_DID, template), attacker.sign), PRODUCTION_DID),
        Forgery("vc-jwt-did-jwk-resigned", "A did:jwk issuer's credential, edited and re-signed with another RSA key "
                "in the jwk header", compact_jws({"alg": "RS256", "jwk": attacker.jwk},
                                                 {**_claiming(victim_jwk.did, template), "name": "Edited"},
                                                 attacker.sign), victim_jwk.did),
        Forgery("vc-jwt-did-key-stranger-kid", "VC-JWT naming a did:key issuer, signed by a stranger's did:key (kid)",
                compact_jws({"alg": "EdDSA", "kid": stranger.verification_method},
                            _claiming(victim_key, template), stranger.sign), victim_key),
    ]


def _data_integrity_forgeries(victim_key: str, template: Ed25519Key) -> list[Forgery]:
    attacker = new_key()
    fragment = attacker.multibase
    return [
        Forgery("di-did-key-under-production-did-web", "Data Integrity, signed by the attacker's own did:key, "
                "naming did:web:badges.education.example.gov", sign(_claiming(PRODUCTION_DID, template), attacker),
                PRODUCTION_DID),
        Forgery("di-did-key-under-https", "Data Integrity, the attacker's did:key, naming an https issuer",
                sign(_claiming(PRODUCTION_HTTPS, template), attacker), PRODUCTION_HTTPS),
        Forgery("di-https-fragment-key", "Data Integrity whose https verification method carries the attacker's key "
                "in its fragment", sign(_claiming(PRODUCTION_HTTPS, template), attacker,
                                        verification_method=f"{PRODUCTION_HTTPS}#{fragment}"), PRODUCTION_HTTPS),
        Forgery("di-did-web-fragment-key", "Data Integrity whose did:web verification method carries the attacker's "
                "key in its fragment", sign(_claiming(PRODUCTION_DID, template), attacker,
                                            verification_method=f"{PRODUCTION_DID}#{fragment}"), PRODUCTION_DID),
        Forgery("di-did-key-under-did-key", "Data Integrity naming a did:key issuer, signed by another did:key",
                sign(_claiming(victim_key, template), attacker), victim_key),
    ]


def _ob2_forgeries() -> list[Forgery]:
    attacker = RsaKey()
    assertion = json.loads((OB20 / "basic-assertion.json").read_bytes())
    hosted_url = f"https://{ATTACKER_HOST}/assertions/1.json"
    badge_url = f"https://{ATTACKER_HOST}/badges/robotics.json"
    badge = {**json.loads((OB20 / "assets/robotics-badge.json").read_bytes()), "id": badge_url}
    embedded_profile = {**json.loads((OB20 / "assets/organization.json").read_bytes()),
                        "verification": {"type": "VerificationObject", "allowedOrigins": [ATTACKER_HOST]}}
    hosted = {**assertion, "id": hosted_url, "badge": {**badge, "issuer": embedded_profile}}
    # A profile on the attacker's host that says it is the recognised issuer.
    elsewhere_badge_url = f"https://{ATTACKER_HOST}/badges/elsewhere.json"
    elsewhere_profile_url = f"https://{ATTACKER_HOST}/profile.json"
    elsewhere = {**assertion, "id": f"https://{ATTACKER_HOST}/assertions/2.json", "badge": elsewhere_badge_url}
    key_url = f"https://{ATTACKER_HOST}/key.json"
    signed_payload = {**assertion, "id": f"https://{ATTACKER_HOST}/assertions/3.json",
                      "verification": {"type": "signed", "creator": key_url}}
    routes: dict[Route, Any] = {
        (ATTACKER_HOST, "/assertions/1.json"): hosted, (ATTACKER_HOST, "/badges/robotics.json"): hosted["badge"],
        (ATTACKER_HOST, "/assertions/2.json"): elsewhere,
        (ATTACKER_HOST, "/badges/elsewhere.json"): {**badge, "id": elsewhere_badge_url,
                                                    "issuer": elsewhere_profile_url},
        (ATTACKER_HOST, "/profile.json"): embedded_profile,  # its id says https://example.org/organization.json
        (ATTACKER_HOST, "/key.json"): {"@context": "https://w3id.org/openbadges/v2", "type": "CryptographicKey",
                                       "id": key_url, "owner": OB2_ISSUER, "publicKeyPem": attacker.pem},
    }
    return [
        Forgery("ob2-hosted-embedded-issuer", "OB 2.0 assertion hosted on the attacker's site, its badge class "
                "embedding a profile that claims a recognised issuer and allows the attacker's host",
                copy.deepcopy(hosted), OB2_ISSUER, routes),
        Forgery("ob2-hosted-profile-elsewhere", "OB 2.0 assertion whose badge class names a profile on the "
                "attacker's host that says it is the recognised issuer", copy.deepcopy(elsewhere), OB2_ISSUER, routes),
        Forgery("ob2-signed-attacker-key", "Signed OB 2.0 assertion of the recognised issuer's badge, signed with the "
                "attacker's key whose document claims the issuer as owner",
                compact_jws({"alg": "RS256", "typ": "JWT"}, signed_payload, attacker.sign), OB2_ISSUER, routes),
        Forgery("ob2-signed-embedded-profile", "Signed OB 2.0 assertion with an ephemeral badge class embedding the "
                "recognised issuer's profile with the attacker's key",
                compact_jws({"alg": "RS256"}, {**signed_payload, "verification": {"type": "signed"}, "badge": {
                    **badge, "id": "urn:uuid:3b8c0cf8-0d1c-4f55-8a34-2d8e1c7f1f01",
                    "issuer": {**embedded_profile, "publicKey": {"id": key_url, "owner": OB2_ISSUER,
                                                                 "publicKeyPem": attacker.pem}}}}, attacker.sign),
                OB2_ISSUER, routes),
    ]


def corpus(*, victim_did_key: str | None = None) -> list[Forgery]:
    """Every forgery kind, with fresh attacker keys; `victim_did_key` is the did:key issuer to claim."""
    template = new_key()
    victim_key = victim_did_key or new_key().did
    return [*_jwt_forgeries(RsaKey(), RsaKey(), victim_key, template),
            *_data_integrity_forgeries(victim_key, template), *_ob2_forgeries()]
