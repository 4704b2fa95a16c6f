"""OpenID4VCI pre-authorized code flow, played over HTTP the way a wallet would.

One initialised app for the module; every test has its own freshly signed-in teacher and credential.
The teacher makes the offer through the page (real CSRF); the wallet is a separate client without
cookies that reads the offer link off the page, the metadata, then token, nonce and credential.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import qrcode
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from issuer.catalog.versions import current_badge
from issuer.credentials.issuance import issue_credential
from issuer.credentials.oid4vci import CONFIGURATION_ID, PRE_AUTHORIZED_GRANT, InvalidNonce, InvalidProof, issue_nonce
from issuer.credentials.oid4vci.nonces import nonce_issued_at
from issuer.credentials.oid4vci.proofs import verify_key_proof
from issuer.credentials.status_lists import change_status
from issuer.models import AuditEvent, Credential, CredentialOffer, User
from issuer.people.accounts import hash_password
from verifier import verify_credential
from verifier.multikey import did_key, encode_public_key, multibase_encode

from app_support import clean_environment, initialised_app, module_config, require_module

PASSWORD = "a long enough password"
SLUG = "questioning-higher-order"
PROOF_TYP = "openid4vci-proof+jwt"
FORM = "application/x-www-form-urlencoded"


# --- one app, fresh people ----------------------------------------------------------------------



@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with clean_environment():
        application = initialised_app(module_config(tmp_path_factory, "oid4vci"))
    yield application
    application.extensions["microcred"].database.dispose()


@pytest.fixture(scope="module")
def digest() -> str:
    return hash_password(PASSWORD)  # argon2 is slow on purpose: one hash for every teacher


_numbers = itertools.count()


@dataclass
class Teacher:
    client: FlaskClient
    id: int
    email: str
    public_id: str  # an earned, active credential


def _db(app: Flask):
    return app.extensions["microcred"].database.transaction()


def _new_teacher(app: Flask, digest: str) -> Teacher:
    """A teacher with one earned credential, signed in through the login form."""
    n = next(_numbers)
    rt = app.extensions["microcred"]
    with _db(app) as s:
        user = User(email=f"wallet{n}@district.example", display_name=f"Wally Teacher {n}", roles=["teacher"],
                    password_hash=digest)
        s.add(user)
        s.flush()
        row = issue_credential(s, current_badge(s, SLUG), identity=rt.identity(), policy=rt.catalog.policy,
                               recipient_email=user.email, recipient_name=user.display_name, actor="test",
                               recipient_user_id=user.id)
        teacher = Teacher(app.test_client(), user.id, user.email, row.public_id)
    page = teacher.client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = teacher.client.post("/login", data={"csrf_token": token, "email": teacher.email, "password": PASSWORD})
    assert response.status_code == 302
    return teacher


@pytest.fixture
def teacher(app: Flask, digest: str) -> Teacher:
    return _new_teacher(app, digest)


@pytest.fixture
def wallet(app: Flask) -> FlaskClient:
    return app.test_client()  # no cookies: a wallet app


# --- the teacher's page -------------------------------------------------------------------------


@dataclass
class Offer:
    page: str
    link: str
    offer: dict[str, Any]
    code: str
    pin: str | None


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _make_offer(t: Teacher, *, pin: str = "on") -> Offer:
    """Press "Create a wallet offer" on the page and read the offer off the answer."""
    url = f"/my/credentials/{t.public_id}/wallet"
    form_page = t.client.get(url)
    assert form_page.status_code == 200
    response = t.client.post(url, data={"csrf_token": _csrf(form_page.get_data(as_text=True)), "pin": pin})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    link = unescape(re.search(r'<a id="offer-link" href="([^"]+)"', page).group(1))
    assert link.startswith("openid-credential-offer://?credential_offer=")
    offer = json.loads(parse_qs(urlsplit(link).query)["credential_offer"][0])
    found = re.search(r'<strong id="offer-pin"[^>]*>(\d+)</strong>', page)
    code = offer["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
    return Offer(page, link, offer, code, found.group(1) if found else None)


# --- the wallet ---------------------------------------------------------------------------------


class WalletKey:
    """A wallet's key pair and the key proofs it signs."""

    def __init__(self, kind: str = "ed25519", header: str = "kid") -> None:
        self.kind, self.header = kind, header
        if kind == "ed25519":
            self.private = Ed25519PrivateKey.generate()
            self.alg = "EdDSA"
            raw = self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            self.did = did_key(encode_public_key(raw))
        else:
            self.private = ec.generate_private_key(ec.SECP256R1())
            self.alg = "ES256"
            point = self.private.public_key().public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
            self.did = did_key(multibase_encode(b"\x80\x24" + point))

    def key_header(self) -> dict[str, Any]:
        if self.header == "kid":
            return {"kid": f"{self.did}#{self.did.removeprefix('did:key:')}"}
        return {"jwk": jwt.algorithms.get_default_algorithms()[self.alg].to_jwk(self.private.public_key(),
                                                                               as_dict=True)}

    def proof(self, *, aud: str, nonce: str | None, iat: float | None = None, headers: dict | None = None,
              signer: Any = None, **claims: Any) -> str:
        body = {"aud": aud, "iat": int(time.time() if iat is None else iat), **claims}
        if nonce is not None:
            body["nonce"] = nonce
        header = {"typ": PROOF_TYP, **self.key_header(), **(headers or {})}
        return jwt.encode(body, signer or self.private, algorithm=self.alg, headers=header)


def _metadata(wallet: FlaskClient, issuer: str) -> tuple[dict, dict]:
    """Both well-known documents, as a wallet finds them from the offer's credential_issuer (§12.2.2)."""
    path = urlsplit(issuer).path.rstrip("/")
    credential_issuer = wallet.get(f"/.well-known/openid-credential-issuer{path}")
    authorization_server = wallet.get(f"/.well-known/oauth-authorization-server{path}")
    assert credential_issuer.status_code == authorization_server.status_code == 200
    return credential_issuer.get_json(), authorization_server.get_json()


def _path(url: str) -> str:
    return urlsplit(url).path


def _token(wallet: FlaskClient, code: str, pin: str | None, **extra: Any):
    data = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code, **extra}
    if pin is not None:
        data["tx_code"] = pin
    return wallet.post("/oid4vci/token", data=data, content_type=FORM)


def _access_token(wallet: FlaskClient, offer: Offer) -> str:
    response = _token(wallet, offer.code, offer.pin)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["access_token"]


def _nonce(wallet: FlaskClient) -> str:
    response = wallet.post("/oid4vci/nonce")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    return response.get_json()["c_nonce"]


def _ask(wallet: FlaskClient, token: str | None, body: Any):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return wallet.post("/oid4vci/credential", json=body, headers=headers)


def _request(proof: str, **extra: Any) -> dict[str, Any]:
    return {"credential_configuration_id": CONFIGURATION_ID, "proofs": {"jwt": [proof]}, **extra}


def _error(response, status: int = 400) -> str:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == {"error", "error_description"} and body["error_description"].isascii()
    return body["error"]


def _stored(app: Flask, public_id: str) -> Credential:
    with _db(app) as s:
        return s.scalar(select(Credential).where(Credential.public_id == public_id))


def _offer_row(app: Flask, code: str) -> CredentialOffer:
    with _db(app) as s:
        return s.scalar(select(CredentialOffer).where(
            CredentialOffer.code_hash == hashlib.sha256(code.encode()).hexdigest()))


def _issuer(app: Flask) -> str:
    return app.extensions["microcred"].settings.public_url


# --- the whole flow -----------------------------------------------------------------------------


def test_a_wallet_collects_the_credential_exactly_as_stored(app: Flask, teacher: Teacher, wallet: FlaskClient) -> None:
    offer = _make_offer(teacher)
    issuer = _issuer(app)
    assert offer.offer == {"credential_issuer": issuer, "credential_configuration_ids": [CONFIGURATION_ID],
                           "grants": {PRE_AUTHORIZED_GRANT: {"pre-authorized_code": offer.code, "tx_code": {
                               "input_mode": "numeric", "length": 6,
                               "description": offer.offer["grants"][PRE_AUTHORIZED_GRANT]["tx_code"]["description"]}}}}
    assert offer.pin is not None and re.fullmatch(r"\d{6}", offer.pin)
    assert len(offer.code) >= 43  # secrets.token_urlsafe(32)

    metadata, oauth = _metadata(wallet, offer.offer["credential_issuer"])
    assert metadata["credential_issuer"] == issuer and oauth["issuer"] == issuer
    configuration = metadata["credential_configurations_supported"][CONFIGURATION_ID]
    assert configuration["format"] == "ldp_vc"
    assert configuration["credential_definition"] == {
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "type": ["VerifiableCredential", "OpenBadgeCredential"]}
    assert configuration["proof_types_supported"] == {"jwt": {"proof_signing_alg_values_supported": ["EdDSA", "ES256"]}}
    assert configuration["cryptographic_binding_methods_supported"] == ["did:key", "jwk"]
    assert configuration["credential_signing_alg_values_supported"] == ["eddsa-rdfc-2022"]
    assert PRE_AUTHORIZED_GRANT in oauth["grant_types_supported"]
    assert oauth["pre-authorized_grant_anonymous_access_supported"] is True
    for document in ("openid-credential-issuer", "oauth-authorization-server"):
        response = wallet.get(f"/.well-known/{document}")
        assert response.mimetype == "application/json" and "max-age" in response.headers["Cache-Control"]

    granted = wallet.post(_path(oauth["token_endpoint"]), data={
        "grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": offer.code, "tx_code": offer.pin}, content_type=FORM)
    assert granted.status_code == 200 and granted.headers["Cache-Control"] == "no-store"
    assert granted.headers["Pragma"] == "no-cache"
    token = granted.get_json()
    assert token["token_type"] == "Bearer" and token["expires_in"] == 300 and token["access_token"]

    nonce = wallet.post(_path(metadata["nonce_endpoint"])).get_json()["c_nonce"]
    key = WalletKey()
    body = _request(key.proof(aud=issuer, nonce=nonce))
    response = wallet.post(_path(metadata["credential_endpoint"]), json=body,
                           headers={"Authorization": f"Bearer {token['access_token']}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json" and response.headers["Cache-Control"] == "no-store"

    stored = _stored(app, teacher.public_id)
    # The credential is the stored text itself, spliced in byte for byte (never re-serialised).
    assert response.data == b'{"credentials":[{"credential":' + stored.document.encode("utf-8") + b"}]}"
    delivered = response.get_json()["credentials"][0]["credential"]
    assert delivered == json.loads(stored.document)
    rt = app.extensions["microcred"]
    assert verify_credential(delivered, documents=rt.identity().documents).verified

    row = _offer_row(app, offer.code)
    assert row.holder == key.did and row.delivered_at is not None and row.code_used_at is not None
    values = {c.name: getattr(row, c.name) for c in CredentialOffer.__table__.columns}
    assert not {offer.code, offer.pin, token["access_token"], nonce} & {str(v) for v in values.values()}
    with _db(app) as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "credential.sent_to_wallet",
                                                  AuditEvent.subject == stored.credential_id))
        assert event.detail == {"offer": row.id, "holder": key.did}

    # Again with the same token: only with a fresh nonce.
    assert _error(_ask(wallet, token["access_token"], body)) == "invalid_nonce"
    again = _ask(wallet, token["access_token"], _request(key.proof(aud=issuer, nonce=_nonce(wallet))))
    assert again.status_code == 200 and again.data == response.data
    # The access token lives five minutes.
    with _db(app) as s:
        s.execute(update(CredentialOffer).where(CredentialOffer.id == row.id)
                  .values(token_expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    expired = _ask(wallet, token["access_token"], _request(key.proof(aud=issuer, nonce=_nonce(wallet))))
    assert _error(expired, 401) == "invalid_token"
    assert 'error="invalid_token"' in expired.headers["WWW-Authenticate"]


# --- the QR code is the offer -------------------------------------------------------------------


def _svg_modules(page: str) -> set[tuple[int, int]]:
    """Dark modules of the inline SVG QR code (each path part is one rectangle M x,y H x2 V y2 H x z)."""
    svg = re.search(r"<svg[^>]*>.*?</svg>", page, re.S).group(0)
    dark = set()
    for x, y, x2, y2 in re.findall(r"M(\d+),(\d+)H(\d+)V(\d+)H\d+z", svg):
        dark |= {(i, j) for i in range(int(x), int(x2)) for j in range(int(y), int(y2))}
    return dark


def test_the_qr_code_holds_the_offer_link(teacher: Teacher) -> None:
    """The SVG's modules are exactly those of a QR code of the link (qrcode's own matrix, same settings)."""
    offer = _make_offer(teacher)
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(offer.link)
    code.make(fit=True)
    matrix = code.get_matrix()
    assert _svg_modules(offer.page) == {(x, y) for y, row in enumerate(matrix) for x, dark in enumerate(row) if dark}
    assert 'role="img" aria-labelledby="qr-caption"' in offer.page and 'id="qr-caption"' in offer.page


def test_the_qr_code_decodes_to_the_offer_link(teacher: Teacher) -> None:
    """Drawn from the SVG and read back by an independent decoder (ZXing)."""
    zxingcpp = require_module("zxingcpp", "the QR codes are decoded by ZXing")
    from PIL import Image, ImageDraw

    offer = _make_offer(teacher)
    modules, scale = _svg_modules(offer.page), 6
    size = (max(x for x, _ in modules) + 5) * scale
    image = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(image)
    for x, y in modules:
        draw.rectangle([x * scale, y * scale, (x + 1) * scale - 1, (y + 1) * scale - 1], fill=0)
    found = zxingcpp.read_barcodes(image)
    assert [r.text for r in found] == [offer.link]


# --- the page -----------------------------------------------------------------------------------


def test_only_the_teacher_may_offer_their_own_active_credential(app: Flask, digest: str, teacher: Teacher) -> None:
    url = f"/my/credentials/{teacher.public_id}/wallet"
    page = teacher.client.get(url)
    assert page.status_code == 200 and "Create a wallet offer" in page.get_data(as_text=True)
    other = _new_teacher(app, digest)
    assert other.client.get(url).status_code == 404
    token = _csrf(other.client.get(f"/my/credentials/{other.public_id}/wallet").get_data(as_text=True))
    assert other.client.post(url, data={"csrf_token": token}).status_code == 404
    assert other.client.get("/my/credentials/no-such-credential/wallet").status_code == 404
    anonymous = app.test_client().get(url)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert teacher.client.post(url, data={}).status_code == 400  # no CSRF token: nothing is made
    with _db(app) as s:
        assert s.scalar(select(func.count()).select_from(CredentialOffer).join(
            Credential, Credential.id == CredentialOffer.credential_row_id).where(
            Credential.public_id == teacher.public_id)) == 0


def test_a_new_offer_retires_the_unused_older_one(teacher: Teacher, wallet: FlaskClient) -> None:
    first, second = _make_offer(teacher), _make_offer(teacher)
    assert first.code != second.code
    assert _error(_token(wallet, first.code, first.pin)) == "invalid_grant"
    assert _token(wallet, second.code, second.pin).status_code == 200


def test_an_offer_without_a_pin(app: Flask, teacher: Teacher, wallet: FlaskClient) -> None:
    offer = _make_offer(teacher, pin="off")
    assert offer.pin is None and "tx_code" not in offer.offer["grants"][PRE_AUTHORIZED_GRANT]
    assert "This offer has no PIN" in offer.page
    assert _error(_token(wallet, offer.code, "123456")) == "invalid_request"  # §6.3: a PIN nobody asked for
    token = _access_token(wallet, offer)
    response = _ask(wallet, token, _request(WalletKey().proof(aud=_issuer(app), nonce=_nonce(wallet))))
    assert response.status_code == 200


# --- token endpoint refusals --------------------------------------------------------------------


def test_token_request_refusals(teacher: Teacher, wallet: FlaskClient) -> None:
    offer = _make_offer(teacher)
    assert _error(_token(wallet, offer.code, offer.pin, grant_type="authorization_code")) == "unsupported_grant_type"
    assert _error(wallet.post("/oid4vci/token", data={"pre-authorized_code": offer.code, "tx_code": offer.pin},
                              content_type=FORM)) == "invalid_request"
    assert _error(wallet.post("/oid4vci/token", data={"grant_type": PRE_AUTHORIZED_GRANT},
                              content_type=FORM)) == "invalid_request"
    assert _error(_token(wallet, offer.code, None)) == "invalid_request"  # §6.3: the PIN is missing
    assert _error(_token(wallet, "not-a-code", offer.pin)) == "invalid_grant"
    assert _error(wallet.post("/oid4vci/token", json={"grant_type": PRE_AUTHORIZED_GRANT,
                                                       "pre-authorized_code": offer.code})) == "invalid_request"
    repeated = f"grant_type={PRE_AUTHORIZED_GRANT}&pre-authorized_code={offer.code}&tx_code=1&tx_code=2"
    assert _error(wallet.post("/oid4vci/token", data=repeated, content_type=FORM)) == "invalid_request"
    too_large = wallet.post("/oid4vci/token", data="x=" + "a" * 70_000, content_type=FORM)
    assert _error(too_large, 413) == "invalid_request"
    assert _token(wallet, offer.code, offer.pin).status_code == 200  # none of these used up the offer


def test_the_code_is_single_use_and_reuse_revokes_its_token(app: Flask, teacher: Teacher, wallet: FlaskClient) -> None:
    offer = _make_offer(teacher)
    token = _access_token(wallet, offer)
    assert _error(_token(wallet, offer.code, offer.pin)) == "invalid_grant"
    response = _ask(wallet, token, _request(WalletKey().proof(aud=_issuer(app), nonce=_nonce(wallet))))
    assert _error(response, 401) == "invalid_token"  # RFC 6749 §4.1.2


def test_five_wrong_pins_close_the_offer(app: Flask, teacher: Teacher, wallet: FlaskClient) -> None:
    offer = _make_offer(teacher)
    wrong = f"{(int(offer.pin) + 1) % 1_000_000:06d}"
    descriptions = []
    for _ in range(5):
        response = _token(wallet, offer.code, wrong)
        assert _error(response) == "invalid_grant"
        descriptions.append(response.get_json()["error_description"])
    assert descriptions[0] == "Wrong PIN: 4 tries left." and descriptions[3] == "Wrong PIN: 1 try left."
    assert "closed" in descriptions[4]
    sixth = _token(wallet, offer.code, offer.pin)  # the right PIN, too late
    assert _error(sixth) == "invalid_grant" and "too many wrong PINs" in sixth.get_json()["error_description"]
    with _db(app) as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "credential.wallet_pin_refused",
            AuditEvent.subject == f"credential_offer:{_offer_row(app, offer.code).id}")) == 5


def test_an_expired_offer_is_refused(app: Flask, teacher: Teacher, wallet: FlaskClient) -> None:
    offer = _make_offer(teacher)
    row = _offer_row(app, offer.code)
    assert abs((row.expires_at.replace(tzinfo=UTC) - row.created_at.replace(tzinfo=UTC))
               - timedelta(minutes=10)) < timedelta(seconds=1)
    with _db(app) as s:
        s.execute(update(CredentialOffer).where(CredentialOffer.id == row.id)
                  .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    response = _token(wallet, offer.code, offer.pin)
    assert _error(response) == "invalid_grant" and "expired" in response.get_json()["error_description"]


# --- credential endpoint refusals ---------------------------------------------------------------


def test_credential_request_refusals(app: Flask, teacher: Teacher, wallet: FlaskClient) -> None:
    issuer, key = _issuer(app), WalletKey()
    token = _access_token(wallet, _make_offer(teacher))
    nonce = _nonce(wallet)
    good = key.proof(aud=issuer, nonce=nonce)

    missing = _ask(wallet, None, _request(good))
    assert _error(missing, 401) == "invalid_token"
    challenge = missing.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer realm=") and "error=" not in challenge  # RFC 6750 §3.1
    assert _error(_ask(wallet, "not-a-token", _request(good)), 401) == "invalid_token"
    basic = wallet.post("/oid4vci/credential", json=_request(good), headers={"Authorization": f"Basic {token}"})
    assert _error(basic, 401) == "invalid_token"

    refusals = {
        "wrong aud": (_request(key.proof(aud="https://elsewhere.example", nonce=nonce)), "invalid_proof"),
        "stale iat": (_request(key.proof(aud=issuer, nonce=nonce, iat=time.time() - 6 * 60)), "invalid_proof"),
        "future iat": (_request(key.proof(aud=issuer, nonce=nonce, iat=time.time() + 10 * 60)), "invalid_proof"),
        "no nonce": (_request(key.proof(aud=issuer, nonce=None)), "invalid_proof"),
        "forged nonce": (_request(key.proof(aud=issuer, nonce=nonce[:-4] + "AAAA")), "invalid_nonce"),
        "foreign nonce": (_request(key.proof(aud=issuer, nonce=issue_nonce("another-secret"))), "invalid_nonce"),
        "old nonce": (_request(key.proof(aud=issuer, nonce=issue_nonce(
            app.config["SECRET_KEY"], now=datetime.now(UTC) - timedelta(minutes=6)))), "invalid_nonce"),
        "bad signature": (_request(key.proof(aud=issuer, nonce=nonce, signer=Ed25519PrivateKey.generate())),
                          "invalid_proof"),
        "wrong typ": (_request(key.proof(aud=issuer, nonce=nonce, headers={"typ": "JWT"})), "invalid_proof"),
        "hmac": (_request(jwt.encode({"aud": issuer, "iat": int(time.time()), "nonce": nonce}, "k" * 32,
                                     algorithm="HS256", headers={"typ": PROOF_TYP, **key.key_header()})),
                 "invalid_proof"),
        "unknown configuration": ({"credential_configuration_id": "UniversityDegree", "proofs": {"jwt": [good]}},
                                  "unknown_credential_configuration"),
        "credential identifier": ({"credential_identifier": "x", "proofs": {"jwt": [good]}},
                                  "unknown_credential_identifier"),
        "no configuration": ({"proofs": {"jwt": [good]}}, "invalid_credential_request"),
        "no proof": ({"credential_configuration_id": CONFIGURATION_ID}, "invalid_proof"),
        "other proof type": ({"credential_configuration_id": CONFIGURATION_ID, "proofs": {"di_vp": [{}]}},
                             "invalid_proof"),
        "two proofs": (_request(good) | {"proofs": {"jwt": [good, good]}}, "invalid_credential_request"),
        "not an object": (["not", "an", "object"], "invalid_credential_request"),
        "draft-13 other format": ({"format": "jwt_vc_json", "proof": {"proof_type": "jwt", "jwt": good}},
                                  "unknown_credential_configuration"),
    }
    for name, (body, expected) in refusals.items():
        assert _error(_ask(wallet, token, body)) == expected, name
    not_json = wallet.post("/oid4vci/credential", data="{", content_type="application/json",
                           headers={"Authorization": f"Bearer {token}"})
    assert _error(not_json) == "invalid_credential_request"
    # No refusal spent the nonce: the good proof still works.
    assert _ask(wallet, token, _request(good)).status_code == 200


def test_a_revoked_credential_is_not_delivered(app: Flask, teacher: Teacher, wallet: FlaskClient) -> None:
    token = _access_token(wallet, _make_offer(teacher))
    rt = app.extensions["microcred"]
    with _db(app) as s:
        row = s.scalar(select(Credential).where(Credential.public_id == teacher.public_id))
        change_status(s, row, "revoked", reason="Awarded in error.", actor="admin@example.gov",
                      identity=rt.identity(), notify=False)
    response = _ask(wallet, token, _request(WalletKey().proof(aud=_issuer(app), nonce=_nonce(wallet))))
    assert _error(response) == "credential_request_denied" and "revoked" in response.get_json()["error_description"]
    page = teacher.client.get(f"/my/credentials/{teacher.public_id}/wallet")
    assert page.status_code == 409 and "revoked" in page.get_data(as_text=True)


def test_a_pin_offer_redeemed_after_revocation_is_refused(app: Flask, teacher: Teacher, wallet: FlaskClient) -> None:
    offer = _make_offer(teacher)
    rt = app.extensions["microcred"]
    with _db(app) as s:
        row = s.scalar(select(Credential).where(Credential.public_id == teacher.public_id))
        change_status(s, row, "suspended", reason="Under review.", actor="admin@example.gov",
                      identity=rt.identity(), notify=False)
    assert _error(_token(wallet, offer.code, offer.pin)) == "invalid_grant"


# --- other keys and the older request shape -----------------------------------------------------


def test_p256_keys_jwk_headers_and_the_draft_13_request(app: Flask, teacher: Teacher, wallet: FlaskClient) -> None:
    issuer = _issuer(app)
    token = _access_token(wallet, _make_offer(teacher))
    stored = _stored(app, teacher.public_id).document.encode("utf-8")

    p256 = WalletKey("p256", header="kid")
    assert _ask(wallet, token, _request(p256.proof(aud=issuer, nonce=_nonce(wallet)))).data.count(stored) == 1

    by_jwk = WalletKey("p256", header="jwk")
    assert _ask(wallet, token, _request(by_jwk.proof(aud=issuer, nonce=_nonce(wallet)))).status_code == 200
    holder = _offer_row_by_token(app, token).holder
    assert holder.startswith("urn:ietf:params:oauth:jwk-thumbprint:sha-256:")

    draft13 = {"format": "ldp_vc",
               "credential_definition": {"type": ["VerifiableCredential", "OpenBadgeCredential"]},
               "proof": {"proof_type": "jwt", "jwt": WalletKey().proof(aud=issuer, nonce=_nonce(wallet))}}
    response = _ask(wallet, token, draft13)
    assert response.status_code == 200 and response.data.count(stored) == 1


def _offer_row_by_token(app: Flask, token: str) -> CredentialOffer:
    with _db(app) as s:
        return s.scalar(select(CredentialOffer).where(
            CredentialOffer.token_hash == hashlib.sha256(token.encode()).hexdigest()))


def test_key_proof_checks_at_the_service_level() -> None:
    """Frozen clocks: the proof's iat window and the nonce's lifetime, both against `now`."""
    key, issuer = WalletKey(), "https://badges.example.gov"
    moment = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    proof = key.proof(aud=issuer, nonce="n", iat=moment.timestamp())
    assert verify_key_proof(proof, audience=issuer, now=moment + timedelta(minutes=4)).holder == key.did
    with pytest.raises(InvalidProof, match="too old"):
        verify_key_proof(proof, audience=issuer, now=moment + timedelta(minutes=6))
    private_jwk = jwt.algorithms.OKPAlgorithm.to_jwk(key.private, as_dict=True)
    leaked = jwt.encode({"aud": issuer, "iat": int(moment.timestamp()), "nonce": "n"}, key.private, algorithm="EdDSA",
                        headers={"typ": PROOF_TYP, "jwk": private_jwk})
    with pytest.raises(InvalidProof, match="private key"):
        verify_key_proof(leaked, audience=issuer, now=moment)
    nonce = issue_nonce("secret", now=moment)
    assert nonce_issued_at(nonce, "secret", now=moment + timedelta(minutes=5)) == moment
    with pytest.raises(InvalidNonce):
        nonce_issued_at(nonce, "secret", now=moment + timedelta(minutes=5, microseconds=1))
