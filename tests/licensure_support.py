"""Credentials from other issuers (real did:key signatures, real status lists) for the licensure tests."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import secrets
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from badge_classes import load_catalog, to_achievement
from verifier.document_loader import OB_V3, VC_V2
from verifier.status import MIN_ENTRIES, encode_list, write_status

from verifier_support import Ed25519Key, sign

OTHER_BASE = "https://badges.other-state.example"
EDUCATOR_EMAIL = "pat.educator@schools.example"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def credential(key: Ed25519Key, *, slug: str = "questioning-higher-order", version: int = 1,
               earned: datetime = datetime(2024, 3, 1, tzinfo=UTC), email: str = EDUCATOR_EMAIL,
               credits: float | None = 6.0, base: str = OTHER_BASE, valid_until: datetime | None = None,
               replaces: str | None = None, status: dict[str, Any] | None = None, cid: str | None = None,
               issuer_name: str = "Other State Department of Education") -> dict[str, Any]:
    """A signed OpenBadgeCredential with an embedded Achievement of the shipped catalogue."""
    catalog = load_catalog()
    badge = catalog.badge_classes[slug]
    profile = {"id": key.did, "type": ["Profile"], "name": issuer_name}
    achievement = to_achievement(badge, base_url=base, creator=profile)
    achievement["id"] = f"{base}/achievements/{slug}/v/{version}"
    salt = secrets.token_hex(8)
    subject: dict[str, Any] = {
        "type": ["AchievementSubject"], "name": "Pat Educator",
        "identifier": [{"type": "IdentityObject", "identityType": "emailAddress", "hashed": True, "salt": salt,
                        "identityHash": "sha256$" + hashlib.sha256((email + salt).encode()).hexdigest()}],
        "achievement": achievement,
    }
    if credits is not None:
        subject["creditsEarned"] = credits
    document: dict[str, Any] = {
        "@context": [VC_V2, OB_V3], "id": cid or f"urn:uuid:{secrets.token_hex(16)}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"], "name": f"{badge.title}: Pat Educator",
        "issuer": profile, "validFrom": iso(earned), "credentialSubject": subject,
    }
    if valid_until is not None:
        document["validUntil"] = iso(valid_until)
    if replaces:
        document["relatedResource"] = [{"id": replaces, "digestSRI": "sha256-" + "A" * 43 + "="}]
    if status:
        document["credentialStatus"] = status
    return sign(document, key)


def status_entry(list_url: str, index: int) -> dict[str, Any]:
    return {"id": f"{list_url}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
            "statusListIndex": str(index), "statusListCredential": list_url}


def status_list(key: Ed25519Key, list_url: str, revoked: tuple[int, ...] = ()) -> dict[str, Any]:
    bits = bytearray(MIN_ENTRIES // 8)
    for index in revoked:
        write_status(bits, index, 1)
    document = {"@context": [VC_V2], "id": list_url, "type": ["VerifiableCredential", "BitstringStatusListCredential"],
                "issuer": key.did, "validFrom": "2020-01-01T00:00:00Z", "validUntil": "2099-01-01T00:00:00Z",
                "credentialSubject": {"id": f"{list_url}#list", "type": "BitstringStatusList",
                                      "statusPurpose": "revocation", "encodedList": encode_list(bytes(bits))}}
    return sign(document, key)


# --- the web app: accounts, signing in, a recording local server ------------------------------

PASSWORD = "correct horse battery staple 42"
_serial = itertools.count(1)


def make_user(app, *roles: str) -> str:
    """A user holding `roles`; returns the email."""
    from issuer.models import User
    from issuer.people.accounts import hash_password

    email = f"user{next(_serial)}-{'-'.join(roles) or 'none'}@office.example"
    with app.extensions["microcred"].database.transaction() as session:
        session.add(User(email=email, display_name="Test " + " ".join(roles), roles=list(roles),
                         password_hash=hash_password(PASSWORD)))
    return email


def csrf_token(client, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    tag = re.search(r'<input[^>]*name="csrf_token"[^>]*>', page).group(0)
    return re.search(r'value="([^"]+)"', tag).group(1)


def sign_in(client, email: str) -> None:
    response = client.post("/login", data={"csrf_token": csrf_token(client), "email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


def issue_ours(app, email: str = EDUCATOR_EMAIL, slug: str = "questioning-higher-order") -> dict[str, Any]:
    """A credential issued by this instance (`microcred issue`), as its signed JSON."""
    result = app.test_cli_runner().invoke(args=["issue", "--achievement", slug, "--recipient-email", email,
                                                "--recipient-name", "Pat Educator"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output[result.output.index("{"):])


class RecordingServer:
    """A local HTTP server serving given paths and recording every request path."""

    def __init__(self, routes: dict[str, tuple[int, bytes, str]] | None = None) -> None:
        self.routes = routes or {}
        self.hits: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits.append(self.path)
                status, body, kind = outer.routes.get(self.path, (404, b"not found", "text/plain"))
                if status in (301, 302):
                    self.send_response(status)
                    self.send_header("Location", body.decode())
                    self.end_headers()
                    return
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
