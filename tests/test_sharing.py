"""Sharing: baked images round-trip, QR codes decode to the page, LinkedIn fields, the backpack's controls."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from issuer.catalog.versions import current_badge
from issuer.credentials.issuance import issue_credential
from issuer.models import AuditEvent, Credential, User
from issuer.people.accounts import hash_password
from verifier import verify_credential
from verifier.baking import unbake_png, unbake_svg

from app_support import require_module

PASSWORD = "a long enough password"


@pytest.fixture
def earned(app: Flask) -> dict:
    """A teacher with two earned credentials, and another teacher."""
    rt = app.extensions["microcred"]
    with rt.database.transaction() as s:
        teacher = User(email="sam@district.example", display_name="Sam Lee Park", roles=["teacher"],
                       password_hash=hash_password(PASSWORD))
        other = User(email="kim@district.example", display_name="Kim", roles=["teacher"],
                     password_hash=hash_password(PASSWORD))
        s.add_all([teacher, other])
        s.flush()
        rows = [issue_credential(s, current_badge(s, slug), identity=rt.identity(), policy=rt.catalog.policy,
                                 recipient_email=teacher.email, recipient_name=teacher.display_name, actor="test",
                                 recipient_user_id=teacher.id)
                for slug in ("questioning-higher-order", "thinking-analytical")]
        return {"public_ids": [r.public_id for r in rows], "ids": [r.credential_id for r in rows]}


def _sign_in(client: FlaskClient, email: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"csrf_token": token, "email": email, "password": PASSWORD}).status_code == 302


def _token(client: FlaskClient, url: str = "/my/credentials") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).get_data(as_text=True)).group(1)


def _stored(app: Flask, public_id: str) -> Credential:
    with app.extensions["microcred"].database.transaction() as s:
        return s.scalar(select(Credential).where(Credential.public_id == public_id))


def test_the_baked_png_and_svg_carry_the_credential_exactly_as_stored(app: Flask, client: FlaskClient,
                                                                      earned: dict) -> None:
    public_id = earned["public_ids"][0]
    row = _stored(app, public_id)
    png = client.get(f"/credentials/{public_id}/badge.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert unbake_png(png.data) == row.document.strip()
    with Image.open(io.BytesIO(png.data)) as img:
        assert img.size == (512, 512)
    svg = client.get(f"/credentials/{public_id}/badge.svg")
    assert unbake_svg(svg.data) == row.document.strip()
    report = verify_credential(json.loads(unbake_png(png.data)), documents=app.extensions["microcred"].identity().documents)
    assert report.check("proof").ok


def test_the_qr_code_decodes_to_the_credential_page(app: Flask, client: FlaskClient, earned: dict) -> None:
    zxingcpp = require_module("zxingcpp", "the QR codes are decoded by ZXing")
    public_id = earned["public_ids"][0]
    page_url = f"{app.extensions['microcred'].settings.public_url}/credentials/{public_id}"
    png = client.get(f"/credentials/{public_id}/qr.png")
    with Image.open(io.BytesIO(png.data)) as img:
        assert [r.text for r in zxingcpp.read_barcodes(img)] == [page_url]
    svg = client.get(f"/credentials/{public_id}/qr.svg")
    assert svg.mimetype == "image/svg+xml" and svg.data.startswith(b"<svg")
    certificate = client.get(f"/credentials/{public_id}/certificate").get_data(as_text=True)
    assert page_url in certificate and "<svg" in certificate and "Sam Lee Park" in certificate
    assert client.get(f"/credentials/{public_id}/qr.gif").status_code == 404


def test_the_linkedin_link_carries_every_field(app: Flask, client: FlaskClient, earned: dict) -> None:
    _sign_in(client, "sam@district.example")
    page = client.get("/my/credentials").get_data(as_text=True)
    links = re.findall(r'href="(https://www\.linkedin\.com/profile/add\?[^"]+)"', page)
    assert len(links) == 2
    row = _stored(app, earned["public_ids"][0])
    document = json.loads(row.document)
    by_name = {parse_qs(urlsplit(link.replace("&amp;", "&")).query)["name"][0]: link for link in links}
    fields = parse_qs(urlsplit(by_name[document["credentialSubject"]["achievement"]["name"]].replace("&amp;", "&")).query)
    now = datetime.now(UTC)
    assert fields["startTask"] == ["CERTIFICATION_NAME"]
    assert fields["name"] == [document["credentialSubject"]["achievement"]["name"]]
    assert fields["organizationName"] == [document["issuer"]["name"]]
    assert fields["issueYear"] == [str(now.year)] and 1 <= int(fields["issueMonth"][0]) <= 12
    assert fields["certUrl"] == [f"{app.extensions['microcred'].settings.public_url}/credentials/{row.public_id}"]
    assert fields["certId"] == [row.credential_id]


def test_private_credentials_and_rotated_links_answer_404(app: Flask, client: FlaskClient, earned: dict) -> None:
    public_id = earned["public_ids"][0]
    owner = app.test_client()
    _sign_in(owner, "sam@district.example")
    token = _token(owner)
    response = owner.post(f"/my/credentials/{public_id}/sharing",
                          data={"csrf_token": token, "visibility": "private", "name_display": "initials"})
    assert response.status_code == 302
    for url in (f"/credentials/{public_id}", f"/credentials/{public_id}/badge.png", f"/credentials/{public_id}/qr.svg",
                f"/credentials/{public_id}/certificate"):
        assert client.get(url).status_code == 404, url  # anonymous
        assert owner.get(url).status_code == 200, url  # the owner still sees it
    owner.post(f"/my/credentials/{public_id}/sharing", data={"csrf_token": token, "visibility": "public",
                                                            "name_display": "initials"})
    assert "S. L. P." in client.get(f"/credentials/{public_id}/certificate").get_data(as_text=True)

    assert owner.post(f"/my/credentials/{public_id}/rotate", data={"csrf_token": token}).status_code == 302
    assert client.get(f"/credentials/{public_id}").status_code == 404
    assert _stored(app, public_id) is None
    with app.extensions["microcred"].database.transaction() as s:
        rotated = s.scalar(select(Credential).where(Credential.credential_id == earned["ids"][0]))
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "credential.link_rotated")) is not None
    assert client.get(f"/credentials/{rotated.public_id}").status_code == 200


def test_another_teacher_cannot_change_my_sharing(app: Flask, client: FlaskClient, earned: dict) -> None:
    _sign_in(client, "kim@district.example")
    token = _token(client)
    public_id = earned["public_ids"][0]
    assert client.post(f"/my/credentials/{public_id}/sharing",
                       data={"csrf_token": token, "visibility": "private", "name_display": "full"}).status_code == 404
    assert client.post(f"/my/credentials/{public_id}/rotate", data={"csrf_token": token}).status_code == 404
    assert _stored(app, public_id).visibility == "public"


def test_download_all_is_a_zip_of_the_signed_json(app: Flask, client: FlaskClient, earned: dict) -> None:
    _sign_in(client, "sam@district.example")
    response = client.get("/my/credentials.zip")
    assert response.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        documents = sorted(archive.read(name).decode() for name in archive.namelist())
    stored = sorted(_stored(app, p).document for p in earned["public_ids"])
    assert documents == stored


def test_bad_sharing_choices_are_refused(app: Flask, client: FlaskClient, earned: dict) -> None:
    _sign_in(client, "sam@district.example")
    token = _token(client)
    public_id = earned["public_ids"][0]
    for data in ({"visibility": "everyone", "name_display": "full"}, {"visibility": "public", "name_display": "nick"},
                 {"visibility": "public", "name_display": "full", "shown_evidence": "ni:///sha-256;forged"}):
        response = client.post(f"/my/credentials/{public_id}/sharing", data={"csrf_token": token, **data},
                               follow_redirects=True)
        assert response.status_code == 200
        assert "alert" in response.get_data(as_text=True)
    assert _stored(app, public_id).visibility == "public"
    assert client.post(f"/my/credentials/{public_id}/sharing", data={"visibility": "private",
                                                                    "name_display": "full"}).status_code == 400


def test_the_public_page_shows_what_was_earned_and_never_the_email(app: Flask, client: FlaskClient,
                                                                     earned: dict) -> None:
    public_id = earned["public_ids"][0]
    page = client.get(f"/credentials/{public_id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert "sam@district.example" not in text
    assert "TEAM-I-QU" in text and "Context and rationale" in text  # alignment and criteria
    assert 'property="og:image" content="' in text and "/image.png" in text  # a PNG preview, not SVG
    for accept in ("text/html;q=oops", "*/*", "garbage/", ""):
        response = client.get(f"/credentials/{public_id}", headers={"Accept": accept})
        assert response.status_code == 200 and response.mimetype == "text/html", accept
    as_json = client.get(f"/credentials/{public_id}", headers={"Accept": "application/vc+ld+json"})
    assert as_json.mimetype == "application/vc+ld+json"
    assert as_json.get_data(as_text=True) == _stored(app, public_id).document
    assert "sam@district.example" not in as_json.get_data(as_text=True)


def test_a_revoked_credential_says_so_on_the_page_and_its_json_is_unchanged(app: Flask, client: FlaskClient,
                                                                            earned: dict) -> None:
    public_id = earned["public_ids"][1]
    before = _stored(app, public_id).document
    result = app.test_cli_runner().invoke(args=["revoke", public_id, "--reason", "Plagiarised evidence"])
    assert result.exit_code == 0, result.output
    text = client.get(f"/credentials/{public_id}").get_data(as_text=True)
    assert "REVOKED" in text and "Not verified" in text
    assert "Plagiarised" not in text  # the reason is internal
    as_json = client.get(f"/credentials/{public_id}", headers={"Accept": "application/json"})
    assert as_json.get_data(as_text=True) == before  # the signed document never changes; the list does
