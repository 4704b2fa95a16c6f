"""POST /api/v1/verify and the VC-API POST /credentials/verify: every input form, our credentials
and others', a revoked one, URLs (allowed and forbidden), garbage, size limits, the rate limit."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator

import pytest
from flask import Flask

from badge_classes import load_catalog
from badge_classes.images import badge_png, badge_svg
from verifier.baking import bake_png, bake_svg, unbake_png, unbake_svg

from app_support import clean_environment, initialised_app, module_config
from licensure_support import EDUCATOR_EMAIL, RecordingServer, credential, issue_ours, make_user, sign_in
from verifier_support import OB30, new_key

KEY = new_key()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with clean_environment():
        application = initialised_app(module_config(tmp_path_factory, "verify-api", fetch_allowed_hosts="127.0.0.1",
                                                    verify_rate_limit="1000/minute"))
        yield application
        application.extensions["microcred"].database.dispose()


@pytest.fixture(scope="module")
def ours(app: Flask) -> dict:
    return issue_ours(app)


def _post_json(client, body, path: str = "/api/v1/verify"):
    return client.post(path, data=json.dumps(body), content_type="application/json")


def test_our_credential_verifies_with_our_own_status_list_read_in_process(app: Flask, ours: dict) -> None:
    response = _post_json(app.test_client(), ours)
    assert response.status_code == 200
    report = response.get_json()
    assert report["verified"] is True
    assert {c["id"]: c["status"] for c in report["checks"]}["status"] == "passed"
    assert report["credential"]["issuer"]["id"] == ours["issuer"]["id"]


def test_the_same_report_as_the_cli_json(app: Flask, ours: dict, tmp_path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps(ours))
    cli = app.test_cli_runner().invoke(args=["verify", "--json", str(path)])
    api = _post_json(app.test_client(), ours).get_json()
    assert json.loads(cli.output) == api


def test_a_wrapped_credential_and_another_issuers_credential(app: Flask, ours: dict) -> None:
    client = app.test_client()
    assert _post_json(client, {"verifiableCredential": ours}).get_json()["verified"] is True
    other = _post_json(client, credential(KEY)).get_json()
    assert other["verified"] is True and other["credential"]["issuer"]["id"] == KEY.did


def test_files_json_png_svg_as_multipart(app: Flask, ours: dict) -> None:
    catalog = load_catalog()
    badge = catalog.badge_classes["questioning-higher-order"]
    text = json.dumps(ours)
    client = app.test_client()
    for name, data in [("c.json", text.encode()), ("c.png", bake_png(badge_png(badge), text)),
                       ("c.svg", bake_svg(badge_svg(badge), text).encode())]:
        response = client.post("/api/v1/verify", data={"file": (io.BytesIO(data), name)},
                               content_type="multipart/form-data")
        assert response.status_code == 200, name
        assert response.get_json()["verified"] is True, name


def test_a_revoked_credential_of_ours_is_not_verified(app: Flask) -> None:
    revoked = issue_ours(app, "revoked.teacher@schools.example")
    result = app.test_cli_runner().invoke(args=["revoke", revoked["id"], "--reason", "tests"])
    assert result.exit_code == 0, result.output
    report = _post_json(app.test_client(), revoked).get_json()
    assert report["verified"] is False
    assert {c["id"]: c["status"] for c in report["checks"]}["status"] == "failed"


def test_a_url_on_an_allowed_host_is_fetched_and_a_forbidden_one_never(app: Flask) -> None:
    body = json.dumps(credential(KEY)).encode()
    with RecordingServer({"/c.json": (200, body, "application/json")}) as server:
        client = app.test_client()
        good = _post_json(client, server.url("/c.json")).get_json()
        assert good["verified"] is True and server.hits == ["/c.json"]
        forbidden = _post_json(client, server.url("/c.json", host="localhost")).get_json()
        assert forbidden["verified"] is False and server.hits == ["/c.json"]  # no second hit
        assert "localhost" in forbidden["checks"][0]["message"]


def test_a_redirect_loop_and_a_missing_document_get_reasons(app: Flask) -> None:
    with RecordingServer() as server:
        server.routes["/loop"] = (302, server.url("/loop").encode(), "")
        client = app.test_client()
        for path in ("/loop", "/missing"):
            report = _post_json(client, server.url(path)).get_json()
            assert report["verified"] is False and report["problems"], path


@pytest.mark.parametrize("body, content_type", [
    (b"\x00\x01garbage", "application/octet-stream"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
    (b"[1, 2, 3]", "application/json"),
    (b"{\"@context\": ", "application/json"),
    (b"not.a.jws", "text/plain"),
    (b"{}", "application/json"),
    (b"[" * 100_000, "application/json"),
])
def test_garbage_never_gives_a_500(app: Flask, body: bytes, content_type: str) -> None:
    response = app.test_client().post("/api/v1/verify", data=body, content_type=content_type)
    assert response.status_code in (200, 400), response.get_data(as_text=True)[:300]
    data = response.get_json()
    assert data.get("verified") is False or "error" in data


def test_an_empty_body_is_a_clear_400(app: Flask) -> None:
    response = app.test_client().post("/api/v1/verify", data=b"", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_request"


def test_a_100_mb_upload_is_refused_with_413_unread(app: Flask) -> None:
    big = b"\0" * (100 * 1024 * 1024)
    response = app.test_client().post("/api/v1/verify", data=big, content_type="application/json")
    assert response.status_code == 413
    assert "larger than 4 MB" in response.get_json()["error"]["message"]
    multipart = app.test_client().post("/api/v1/verify", data=big, content_type="multipart/form-data; boundary=x")
    assert multipart.status_code == 413 and "larger than 20 MB" in multipart.get_json()["error"]["message"]


def test_several_credentials_need_the_licensure_role(app: Flask, ours: dict) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.json", json.dumps(ours))
        archive.writestr("b.json", json.dumps(credential(KEY)))
        archive.writestr("c.txt", "garbage")
    data = buffer.getvalue()
    anonymous = app.test_client().post("/api/v1/verify", data={"file": (io.BytesIO(data), "all.zip")},
                                       content_type="multipart/form-data")
    assert anonymous.status_code == 403 and anonymous.get_json()["error"]["code"] == "batch_needs_licensure"
    staff = app.test_client()
    sign_in(staff, make_user(app, "licensure"))
    response = staff.post("/api/v1/verify", data={"file": (io.BytesIO(data), "all.zip")},
                          content_type="multipart/form-data")
    results = response.get_json()["results"]
    assert [(r["source"], r["verified"]) for r in results] == [
        ("all.zip: a.json", True), ("all.zip: b.json", True), ("all.zip: c.txt", False)]


def test_recipient_is_checked_when_given(app: Flask, ours: dict) -> None:
    client = app.test_client()
    good = client.post(f"/api/v1/verify?recipient={EDUCATOR_EMAIL}", data=json.dumps(ours),
                       content_type="application/json").get_json()
    bad = client.post("/api/v1/verify?recipient=someone@else.example", data=json.dumps(ours),
                      content_type="application/json").get_json()
    assert good["verified"] is True and bad["verified"] is False


# --- VC-API ----------------------------------------------------------------------------------


def test_vc_api_verifies_a_credential(app: Flask, ours: dict) -> None:
    response = _post_json(app.test_client(), {"verifiableCredential": ours, "options": {}}, "/credentials/verify")
    assert response.status_code == 200
    result = response.get_json()
    assert result["verified"] is True and "proof" in result["checks"] and result["errors"] == []


def test_vc_api_reports_a_failed_credential_as_400_with_errors(app: Flask) -> None:
    tampered = credential(KEY)
    tampered["name"] = "changed"
    response = _post_json(app.test_client(), {"verifiableCredential": tampered}, "/credentials/verify")
    assert response.status_code == 400
    result = response.get_json()
    assert result["verified"] is False and result["errors"] and "proof" not in result["checks"]


@pytest.mark.parametrize("body", [{"options": {}}, [], "text", {"verifiableCredential": 5}])
def test_vc_api_malformed_requests(app: Flask, body) -> None:
    response = _post_json(app.test_client(), body, "/credentials/verify")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_request"


# --- the rate limit ----------------------------------------------------------------------------


def test_anonymous_clients_are_rate_limited_and_licensure_staff_are_not(tmp_path_factory, ours: dict) -> None:
    with clean_environment():
        limited = initialised_app(module_config(tmp_path_factory, "verify-limit", verify_rate_limit="2/minute"))
    try:
        client = limited.test_client()
        codes = [_post_json(client, ours).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        response = _post_json(client, ours)
        assert response.status_code == 429
        assert response.get_json()["error"]["code"] == "too_many_requests"
        assert int(response.headers["Retry-After"]) > 0
        other_address = limited.test_client()
        assert _post_json(other_address, ours, "/credentials/verify").status_code == 429  # the same address
        staff = limited.test_client()
        sign_in(staff, make_user(limited, "licensure"))
        assert [_post_json(staff, ours).status_code for _ in range(4)] == [200] * 4
        behind = limited.test_client()
        assert behind.post("/api/v1/verify", data=json.dumps(ours), content_type="application/json",
                           environ_base={"REMOTE_ADDR": "127.9.8.7"}).status_code == 200
    finally:
        limited.extensions["microcred"].database.dispose()


def test_a_status_list_at_a_forbidden_address_says_why_and_is_never_asked(app: Flask) -> None:
    """Another issuer's list on a host the policy forbids: "status unknown" naming the refusal."""
    with RecordingServer({"/list": (200, b"{}", "application/json")}) as server:
        forbidden_list = server.url("/list", host="localhost")  # only 127.0.0.1 is allowed here
        document = credential(KEY, status={"id": forbidden_list + "#5", "type": "BitstringStatusListEntry",
                                           "statusPurpose": "revocation", "statusListIndex": "5",
                                           "statusListCredential": forbidden_list})
        report = _post_json(app.test_client(), document).get_json()
        assert server.hits == []
    status = {c["id"]: c for c in report["checks"]}["status"]
    assert status["status"] == "warning" and status["message"].startswith("Status unknown")
    assert "localhost" in status["message"] and "could not be fetched (" in status["message"]


@pytest.mark.parametrize("name, version", [
    ("simple-jwt.png", "Open Badges 3.0 (VC 2.0, VC-JWT)"), ("simple-jwt_v1.svg", "Open Badges 3.0 (VC 1.1, VC-JWT)"),
])
def test_the_1edtech_validators_baked_jwt_vectors_through_the_api(app: Flask, name: str, version: str) -> None:
    """Another implementation's credentials, as an educator would bring them: a baked image, and the JWS
    inside it pasted as text (a JSON string) and wrapped for the VC-API."""
    data = (OB30 / name).read_bytes()
    client = app.test_client()
    as_file = client.post("/api/v1/verify", data={"file": (io.BytesIO(data), name)},
                          content_type="multipart/form-data").get_json()
    jws = unbake_png(data) if name.endswith(".png") else unbake_svg(data)
    as_text = _post_json(client, jws).get_json()
    for report in (as_file, as_text):
        assert report["version"] == version
        checks = {c["id"]: c["status"] for c in report["checks"]}
        # a key carried in the JWT proves integrity, not who the issuer is (issue 13): not verified
        assert checks["proof"] == "passed" and checks["issuer"] == "failed" and not report["verified"]
        assert {p["code"] for p in report["problems"]} == {"issuer_not_confirmed"}
    assert as_file["checks"] == as_text["checks"]
    vc_api = _post_json(client, {"verifiableCredential": jws}, "/credentials/verify").get_json()
    assert "proof" in vc_api["checks"] and not vc_api["verified"]
    assert [e["code"] for e in vc_api["errors"]] == ["issuer_not_confirmed"]
