"""Licensure pages: who may see what, CSRF, uploads (JSON, PNG, zip, bomb, garbage, 100 MB), the renewal
report (page and CSV), the batch form, and the trusted-issuer registry (web and CLI, audited)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from badge_classes import load_catalog
from badge_classes.images import badge_png
from issuer.models import AuditEvent, TrustedIssuerRecord
from verifier.baking import bake_png

from app_support import clean_environment, initialised_app, module_config
from licensure_support import EDUCATOR_EMAIL, credential, csrf_token, issue_ours, make_user, sign_in
from verifier_support import new_key

STRANGER = new_key()
PAGES = ["/licensure/", "/licensure/verify", "/licensure/renewal", "/licensure/batch", "/licensure/issuers"]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with clean_environment():
        application = initialised_app(module_config(tmp_path_factory, "licensure-pages",
                                                    verify_rate_limit="1000/minute"))
        yield application
        application.extensions["microcred"].database.dispose()


def _client(app: Flask, *roles: str):
    client = app.test_client()
    if roles:
        sign_in(client, make_user(app, *roles))
    return client


@pytest.mark.parametrize("roles, allowed", [((), None), (("teacher",), False), (("assessor",), False),
                                            (("coordinator",), False), (("licensure",), True), (("admin",), True)])
def test_permission_matrix(app: Flask, roles: tuple[str, ...], allowed: bool | None) -> None:
    client = _client(app, *roles)
    for page in PAGES:
        response = client.get(page)
        expected = 302 if allowed is None else 200 if allowed else 403
        assert response.status_code == expected, (roles, page)
    assert client.get("/verify").status_code == 200  # anyone


def test_forms_need_the_csrf_token(app: Flask) -> None:
    client = _client(app, "licensure")
    assert client.post("/licensure/issuers", data={"issuer_id": "did:web:x.example", "name": "X",
                                                   "since": "2020-01-01"}).status_code == 400
    assert app.test_client().post("/verify", data={"pasted": "{}"}).status_code == 400


def test_public_verify_page_checks_one_credential(app: Flask) -> None:
    ours = issue_ours(app)
    client = app.test_client()
    page = client.post("/verify", data={"csrf_token": csrf_token(client, "/verify"), "pasted": json.dumps(ours)})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Verified: “Questioning: Higher-Order Questions”" in text
    badge = bake_png(badge_png(load_catalog().badge_classes["questioning-higher-order"]), json.dumps(ours))
    upload = client.post("/verify", data={"csrf_token": csrf_token(client, "/verify"),
                                          "files": (io.BytesIO(badge), "badge.png")}, content_type="multipart/form-data")
    assert upload.status_code == 200 and "Verified:" in upload.get_data(as_text=True)
    garbage = client.post("/verify", data={"csrf_token": csrf_token(client, "/verify"),
                                           "files": (io.BytesIO(b"\x89PNG\r\n\x1a\nxx"), "bad.png")},
                          content_type="multipart/form-data")
    assert garbage.status_code == 200 and "Not verified" in garbage.get_data(as_text=True)


def test_a_100_mb_upload_is_refused_with_413(app: Flask) -> None:
    client = _client(app, "licensure")
    response = client.post("/licensure/verify", data=b"\0" * (100 * 1024 * 1024),
                           content_type="multipart/form-data; boundary=x")
    assert response.status_code == 413 and "larger than 50 MB" in response.get_data(as_text=True)


def test_staff_verify_many_with_a_zip_holding_a_bomb_and_garbage(app: Flask) -> None:
    ours = issue_ours(app)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("good.json", json.dumps(ours))
        archive.writestr("other.json", json.dumps(credential(STRANGER)))
        archive.writestr("bomb.json", b"0" * (9 * 1024 * 1024))
        archive.writestr("junk.svg", b"<svg><not closed")
    client = _client(app, "licensure")
    response = client.post("/licensure/verify", data={"csrf_token": csrf_token(client, "/licensure/verify"),
                                                      "files": (io.BytesIO(buffer.getvalue()), "all.zip")},
                           content_type="multipart/form-data")
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "4 credentials: 2 verified" in text
    assert "zip bomb" in text and "not in the licensure office" in text


def test_renewal_report_page_and_csv(app: Flask) -> None:
    ours = issue_ours(app, slug="thinking-creative")
    client = _client(app, "licensure")
    form = {"name": "Pat Educator", "email": EDUCATOR_EMAIL, "license_number": "TN-77", "license_type": "practitioner",
            "license_valid_from": "2020-01-01", "license_valid_until": "2035-01-01",
            "pasted": json.dumps(ours), "urls": ""}
    page = client.post("/licensure/renewal", data={**form, "csrf_token": csrf_token(client, "/licensure/renewal")})
    text = page.get_data(as_text=True)
    with client.get("/static/renewal.css") as stylesheet:  # the page's print view, linked
        print_styles = stylesheet.get_data(as_text=True)
    assert page.status_code == 200 and "6 PDPs counted of 30 required" in text and "@media print" in print_styles
    assert "/static/renewal.css" in text
    download = client.post("/licensure/renewal", data={**form, "action": "csv",
                                                        "csrf_token": csrf_token(client, "/licensure/renewal")})
    assert download.mimetype == "text/csv"
    lines = download.get_data(as_text=True).splitlines()
    assert lines[0].startswith("name,email,license_number") and ",6,30,no," in lines[1]
    bad = client.post("/licensure/renewal", data={**form, "license_valid_from": "soon",
                                                  "csrf_token": csrf_token(client, "/licensure/renewal")})
    assert bad.status_code == 400 and "license_valid_from" in bad.get_data(as_text=True)


def test_registry_web_add_edit_end_is_audited_and_our_issuer_is_seeded(make_app) -> None:
    app = make_app()  # an instance of its own: what `init` seeded, whatever the module's other tests added
    rt = app.extensions["microcred"]
    with rt.database.transaction() as session:
        ours = session.scalars(select(TrustedIssuerRecord)).all()
        assert [r.issuer_id for r in ours] == [rt.identity().did]
    client = _client(app, "licensure")
    added = client.post("/licensure/issuers", data={"csrf_token": csrf_token(client, "/licensure/issuers"),
                                                    "issuer_id": STRANGER.did, "name": "Neighbour State",
                                                    "since": "2020-01-01"})
    assert added.status_code == 302
    again = client.post("/licensure/issuers", data={"csrf_token": csrf_token(client, "/licensure/issuers"),
                                                    "issuer_id": STRANGER.did, "name": "Twice", "since": "2020-01-01"})
    assert again.status_code == 409 and "already in the registry" in again.get_data(as_text=True)
    with rt.database.transaction() as session:
        entry_id = session.scalar(select(TrustedIssuerRecord.id).where(TrustedIssuerRecord.issuer_id == STRANGER.did))
    page = f"/licensure/issuers/{entry_id}"
    edited = client.post(page, data={"csrf_token": csrf_token(client, page), "name": "Neighbouring State",
                                     "since": "2019-01-01", "until": "", "note": "MOU 2019"})
    assert edited.status_code == 302
    ended = client.post(f"{page}/end", data={"csrf_token": csrf_token(client, page), "until": "2024-12-31"})
    assert ended.status_code == 302
    listing = app.test_cli_runner().invoke(args=["issuers", "list"])
    assert f"{STRANGER.did}\tNeighbouring State\t2019-01-01\t2024-12-31" in listing.output
    with rt.database.transaction() as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.subject == STRANGER.did)).all()
    assert actions == ["trusted_issuer.added", "trusted_issuer.edited", "trusted_issuer.ended"]


def test_registry_cli_add_and_end(app: Flask) -> None:
    other = new_key()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["issuers", "add", other.did, "--name", "CLI State", "--since", "2021-01-01"]).exit_code == 0
    assert runner.invoke(args=["issuers", "add", other.did, "--name", "Again", "--since", "2021-01-01"]).exit_code == 1
    assert runner.invoke(args=["issuers", "end", other.did, "--until", "2020-01-01"]).exit_code == 1  # before since
    assert runner.invoke(args=["issuers", "end", other.did, "--until", "2022-01-01"]).exit_code == 0
    bad = runner.invoke(args=["issuers", "add", "did:web:y.example", "--name", "Y", "--since", "yesterday"])
    assert bad.exit_code == 2 and "not a date" in bad.output


@pytest.mark.parametrize("fields, message", [
    ({"issuer_id": "Neighbour State", "name": "Neighbour", "since": "2020-01-01"}, "must be a DID or URL"),
    ({"issuer_id": "did:web:badges.neighbour.example", "name": "", "since": "2020-01-01"}, "name is required"),
    ({"issuer_id": "did:web:badges.neighbour.example", "name": "Neighbour", "since": "1 Jan 2020"},
     "Dates are written YYYY-MM-DD"),
    ({"issuer_id": "did:web:badges.neighbour.example", "name": "Neighbour", "since": "2020-01-01",
      "until": "2019-12-31"}, "is before the start date"),
])
def test_a_bad_registry_entry_is_refused_with_a_message_and_nothing_written(app: Flask, fields: dict,
                                                                             message: str) -> None:
    client = _client(app, "licensure")
    with app.extensions["microcred"].database.transaction() as session:
        before = session.scalars(select(TrustedIssuerRecord.issuer_id)).all()
    response = client.post("/licensure/issuers",
                           data={"csrf_token": csrf_token(client, "/licensure/issuers"), **fields})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    with app.extensions["microcred"].database.transaction() as session:
        assert session.scalars(select(TrustedIssuerRecord.issuer_id)).all() == before
    entry = f"/licensure/issuers/{_first_entry(app)}/end"
    ended = client.post(entry, data={"csrf_token": csrf_token(client, "/licensure/issuers"), "until": "soon"})
    assert ended.status_code == 400 and "YYYY-MM-DD" in ended.get_data(as_text=True)


def _first_entry(app: Flask) -> int:
    with app.extensions["microcred"].database.transaction() as session:
        return session.scalar(select(TrustedIssuerRecord.id).order_by(TrustedIssuerRecord.id))
