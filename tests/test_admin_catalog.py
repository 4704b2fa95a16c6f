"""The administrator's catalogue pages through the real app, with real CSRF tokens.

Roles are enforced on the server for every admin URL; editing makes version n+1 and keeps the old
one; a form with a mistake answers 400 naming the field, keeps the rest of the input and stores
nothing; the form and a definition file give the same content hash.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from badge_classes import canonical_definition, load_definition
from issuer.catalog.form import form_values
from issuer.catalog.versions import badge_version, current_badge, get_record, history, version_image
from issuer.models import AuditEvent, BadgeClassRecord, BadgeClassVersion, User
from issuer.people.accounts import hash_password

from app_support import clean_environment, initialised_app, module_config

PASSWORD = "correct horse battery staple"
SOURCE = "questioning-higher-order"  # a shipped class that is only read here: new classes copy it
ROLES = {"admin": ["admin"], "teacher": ["teacher"], "assessor": ["assessor"],
         "assessor-admin": ["assessor", "admin"]}


# --- one initialised app for the module -------------------------------------------------------



@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One initialised app for the whole module (overrides conftest's per-test `app`: `microcred
    init` costs about a second). Tests stay apart by each changing its own badge class."""
    with clean_environment():
        application = initialised_app(module_config(tmp_path_factory, "admin-catalog"))
    yield application
    application.extensions["microcred"].database.dispose()


@pytest.fixture(scope="module")
def users(app: Flask) -> dict[str, str]:
    """An account per role set (one password hash shared: argon2 is slow on purpose); name -> email."""
    digest = hash_password(PASSWORD)
    emails = {name: f"{name}@admin-tests.example" for name in ROLES}
    with _db(app) as session:
        session.add_all(User(email=email, display_name=name.title(), roles=ROLES[name], password_hash=digest)
                        for name, email in emails.items())
    return emails


@pytest.fixture
def admin(client: FlaskClient, users: dict[str, str]) -> FlaskClient:
    """A test client signed in as the administrator."""
    _sign_in(client, users["admin"])
    return client


# --- helpers ------------------------------------------------------------------------------------


def _db(app: Flask):
    return app.extensions["microcred"].database.transaction()


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, list[str]]  # what a browser would submit (file inputs left out)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._textarea: str | None = None
        self._text: list[str] = []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []

    def _add(self, name: str, value: str) -> None:
        self.forms[-1].fields.setdefault(name, []).append(value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append(Form(action=a.get("action") or "", method=(a.get("method") or "get").lower(),
                                   fields={}))
        elif not self.forms or ("name" not in a and tag != "option"):
            return
        elif tag == "input":
            kind = a.get("type") or "text"
            if kind in ("file", "submit", "button", "reset", "image"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self._add(a["name"], a.get("value") or ("on" if kind == "checkbox" else ""))
        elif tag == "textarea":
            self._textarea, self._text = a["name"], []
        elif tag == "select":
            self._select, self._options = a["name"], []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value") or "", "selected" in a))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None:
            self._add(self._textarea, "".join(self._text))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            chosen = [v for v, selected in self._options if selected] or [v for v, _ in self._options[:1]]
            for value in chosen:
                self._add(self._select, value)
            self._select = None


def _forms(page: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(page)
    return parser.forms


def _the_form(response) -> dict[str, list[str]]:
    """The fields of the page's own form, the one posting back to the page (a copy, safe to change)."""
    forms = [f for f in _forms(response.get_data(as_text=True)) if f.method == "post" and not f.action]
    assert len(forms) == 1, [f.action for f in forms]
    return {name: list(values) for name, values in forms[0].fields.items()}


def _sign_in(client: FlaskClient, email: str) -> None:
    fields = _the_form(client.get("/login"))
    fields.update(email=[email], password=[PASSWORD])
    response = client.post("/login", data=fields)
    assert response.status_code == 302, response.get_data(as_text=True)


def _csrf(client: FlaskClient) -> str:
    """A CSRF token of the client's session, read from the sign-in form."""
    return _the_form(client.get("/login"))["csrf_token"][0]


def _edit_form(client: FlaskClient, slug: str) -> dict[str, list[str]]:
    response = client.get(f"/admin/catalog/{slug}/edit")
    assert response.status_code == 200
    return _the_form(response)


def _copy_of_source(admin: FlaskClient, slug: str, title: str) -> dict[str, list[str]]:
    """The new-class form filled in with a shipped class's content (as an admin would copy it)."""
    fields = _edit_form(admin, SOURCE)
    fields.update(slug=[slug], title=[title])
    return fields


def _field_errors(page: str, field: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(rf'<span class="field-error" id="{field}-error">(.*?)</span>', page,
                                                  re.S)]


def _flashes(client: FlaskClient) -> list[str]:
    with client.session_transaction() as session:
        return [message for _category, message in session.get("_flashes", [])]


def _versions(app: Flask) -> int:
    with _db(app) as session:
        return session.scalar(select(func.count()).select_from(BadgeClassVersion))


def _snapshot(app: Flask) -> tuple:
    """Everything an admin action could change: versions, records' status and version, audit log."""
    with _db(app) as session:
        records = sorted((r.slug, r.status, r.current_version) for r in session.scalars(select(BadgeClassRecord)))
        audit = session.scalar(select(func.count()).select_from(AuditEvent))
    return _versions(app), records, audit


def _with_upload(fields: dict[str, list[str]], image: bytes | None) -> dict:
    """Keyword arguments posting `fields` as multipart/form-data, with `image` as the upload.

    Encoded in memory: the test client spools bodies over 500 KB to a temporary file it never
    closes (a ResourceWarning, an error here)."""
    upload = FileStorage(io.BytesIO(image or b""), filename="my badge.png" if image is not None else "",
                         content_type="image/png")
    boundary, body = encode_multipart({**fields, "image": upload})
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def _png(size: int = 256) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (30, 90, 160)).save(out, "PNG")
    return out.getvalue()


def _other_pathway_code(app: Flask, pathway: str) -> str:
    return next(code for code, t in sorted(app.extensions["microcred"].catalog.frameworks.items())
                if t.pathway != pathway)


# --- roles ------------------------------------------------------------------------------------

TARGET = "questioning-student-generated"  # only ever refused here
GET_URLS = ["/admin/", "/admin/catalog", "/admin/catalog/new", f"/admin/catalog/{TARGET}/edit"]
POST_URLS = ["/admin/catalog/new", f"/admin/catalog/{TARGET}/edit", f"/admin/catalog/{TARGET}/status"]


def _would_change_something(app: Flask, url: str, token: str, *, slug: str = TARGET,
                             new_slug: str = "planted-by-a-non-admin") -> dict[str, list[str] | str]:
    """A valid payload for `url` (with TARGET replaced by `slug`) that an admin's post would store."""
    if url.endswith("/status"):
        return {"csrf_token": token, "status": "retired"}
    with _db(app) as session:
        values = form_values(current_badge(session, slug))
    data: dict[str, list[str] | str] = {k: v for k, v in values.items() if isinstance(v, str)}
    data.update(csrf_token=token, alignments=list(values["alignments"]), title="Changed by someone else")
    if url.endswith("/new"):
        data["slug"] = new_slug
    return data


@pytest.mark.parametrize("url", GET_URLS)
def test_anonymous_get_is_sent_to_sign_in(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == [url]


@pytest.mark.parametrize("url", POST_URLS)
def test_anonymous_post_is_sent_to_sign_in_and_changes_nothing(app: Flask, client: FlaskClient, url: str) -> None:
    before = _snapshot(app)
    response = client.post(url, data=_would_change_something(app, url, _csrf(client)))
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    # A form post cannot be repeated after signing in, so no `next` (it would answer 405).
    assert (location.path, parse_qs(location.query).get("next")) == ("/login", None)
    assert _snapshot(app) == before


def test_signing_in_from_the_redirect_returns_to_the_admin_page(client: FlaskClient, users: dict[str, str]) -> None:
    login_url = client.get("/admin/catalog").headers["Location"]
    fields = _the_form(client.get(login_url))
    fields.update(email=[users["admin"]], password=[PASSWORD])
    response = client.post(login_url, data=fields)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/catalog"
    assert client.get("/admin/catalog").status_code == 200


@pytest.mark.parametrize("role", ["teacher", "assessor"])
def test_other_roles_are_refused_on_every_admin_url(app: Flask, client: FlaskClient, users: dict[str, str],
                                                      role: str) -> None:
    _sign_in(client, users[role])
    for url in GET_URLS:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "for admin accounts" in response.get_data(as_text=True)
    before = _snapshot(app)
    for url in POST_URLS:
        response = client.post(url, data=_would_change_something(app, url, _csrf(client)))
        assert response.status_code == 403, url
    assert _snapshot(app) == before


def test_the_refused_posts_are_ones_an_admin_may_make(app: Flask, admin: FlaskClient) -> None:
    slug = "managing-student-behavior-routines"
    for url in POST_URLS:
        before = _snapshot(app)
        data = _would_change_something(app, url, _csrf(admin), slug=slug, new_slug="planted-by-an-admin")
        response = admin.post(url.replace(TARGET, slug), data=data)
        assert response.status_code == 302, url
        assert _snapshot(app) != before, url


@pytest.mark.parametrize("role", ["admin", "assessor-admin"])
def test_admins_reach_every_admin_page(client: FlaskClient, users: dict[str, str], role: str) -> None:
    _sign_in(client, users[role])
    assert client.get("/admin/").headers["Location"] == "/admin/catalog"
    for url in GET_URLS:
        response = client.get(url, follow_redirects=True)
        assert response.status_code == 200, url


# --- the list and status ---------------------------------------------------------------------


def _row(page: str, slug: str) -> str:
    """The text of the catalogue table's row for `slug` (tags dropped)."""
    rows = [row for row in page.split("<tr") if f"<code>{slug}</code>" in row]
    assert len(rows) == 1, slug
    return html.unescape(" ".join(re.sub(r"<[^>]*>", " ", rows[0]).split()))


def _status_form(admin: FlaskClient, slug: str) -> dict[str, list[str]]:
    page = admin.get("/admin/catalog").get_data(as_text=True)
    return next(f.fields for f in _forms(page) if f.action == f"/admin/catalog/{slug}/status")


def test_list_shows_every_class_with_version_status_and_pdp_policy(app: Flask, admin: FlaskClient) -> None:
    retired = "problem-solving-improving-solutions"
    assert admin.post(f"/admin/catalog/{retired}/status", data=_status_form(admin, retired)).status_code == 302

    page = admin.get("/admin/catalog").get_data(as_text=True)
    with _db(app) as session:
        records = list(session.scalars(select(BadgeClassRecord)))
        assert len(records) >= 25
        for record in records:
            row = _row(page, record.slug)
            assert f"v{record.current_version}" in row.split()
            assert record.status in row.split()
            assert current_badge(session, record.slug).title in row
            assert f'href="/admin/catalog/{record.slug}/edit"' in page
    assert {"retired", "Reactivate"} <= set(_row(page, retired).split())
    assert {"active", "Retire"} <= set(_row(page, SOURCE).split())

    policy = app.extensions["microcred"].catalog.policy
    text = html.unescape(" ".join(re.sub(r"<[^>]*>", " ", page).split()))
    assert policy.unit in text
    for rule in policy.rules:
        assert re.search(rf"{rule.effective_from.isoformat()} ({rule.value:g}|{round(rule.value, 2)}) ", text), rule
        assert rule.note in text


def test_retire_and_reactivate_from_the_list_are_audited(app: Flask, admin: FlaskClient, users: dict[str, str]) -> None:
    slug = "thinking-practical"
    versions = _versions(app)
    fields = _status_form(admin, slug)
    assert fields["status"] == ["retired"]
    response = admin.post(f"/admin/catalog/{slug}/status", data=fields)
    assert (response.status_code, response.headers["Location"]) == (302, "/admin/catalog")
    assert any("is now retired" in m for m in _flashes(admin))
    page = admin.get("/admin/catalog").get_data(as_text=True)
    assert "is now retired" in page and "retired" in _row(page, slug).split()

    fields = _status_form(admin, slug)
    assert fields["status"] == ["active"]
    assert admin.post(f"/admin/catalog/{slug}/status", data=fields).status_code == 302

    with _db(app) as session:
        record = get_record(session, slug)
        assert (record.status, record.current_version) == ("active", 1)
        events = session.scalars(select(AuditEvent).where(AuditEvent.subject == slug).order_by(AuditEvent.id)).all()
        assert [(e.action, e.actor) for e in events if e.action != "badge_class.created"] == [
            ("badge_class.retired", users["admin"]), ("badge_class.reactivated", users["admin"])]
    assert _versions(app) == versions  # status is not content: no new version


def test_unknown_status_is_400_and_changes_nothing(app: Flask, admin: FlaskClient) -> None:
    slug = "thinking-research-based"
    fields = _status_form(admin, slug)
    fields["status"] = ["deleted"]
    before = _snapshot(app)
    response = admin.post(f"/admin/catalog/{slug}/status", data=fields)
    assert response.status_code == 400
    assert "active or retired" in response.get_data(as_text=True)
    assert _snapshot(app) == before


def test_status_of_an_unknown_class_is_404(admin: FlaskClient) -> None:
    response = admin.post("/admin/catalog/no-such-class/status", data={"csrf_token": _csrf(admin), "status": "retired"})
    assert response.status_code == 404


# --- editing ---------------------------------------------------------------------------------


def test_edit_form_is_prefilled_with_the_current_version(app: Flask, admin: FlaskClient) -> None:
    response = admin.get(f"/admin/catalog/{SOURCE}/edit")
    page = response.get_data(as_text=True)
    fields = _the_form(response)
    with _db(app) as session:
        badge = current_badge(session, SOURCE)
    d = canonical_definition(badge)
    assert f"(now version {badge.version})" in page
    assert fields["slug"] == [SOURCE]
    assert re.search(r'<input[^>]*name="slug"[^>]*readonly', page)  # a slug never changes
    assert fields["title"] == [d["title"]]
    assert fields["description"] == [d["description"]]
    assert fields["pathway"] == [d["pathway"]]
    assert fields["category"] == [d["category"]]
    assert fields["competency"] == [d["competency"]]
    assert fields["key_method_summary"] == [d["key_method"]["summary"]]
    assert fields["estimated_hours"] == [str(d["estimated_hours"])]
    assert fields["tags"] == [", ".join(d["tags"])]
    assert fields["status"] == [d["status"]]
    assert fields["alignments"] == d["alignments"]
    structured = yaml.safe_load(fields["structured"][0])
    assert structured["components"] == d["key_method"]["components"]
    for key in ("research", "resources", "rubric_levels", "passing_level", "parts"):
        assert structured[key] == d[key], key


def test_edit_of_an_unknown_class_is_404(admin: FlaskClient) -> None:
    assert admin.get("/admin/catalog/no-such-class/edit").status_code == 404


def test_changed_title_makes_the_next_version_and_keeps_the_old(app: Flask, admin: FlaskClient,
                                                               users: dict[str, str]) -> None:
    slug = "questioning-wait-time-equity"
    with _db(app) as session:
        old = current_badge(session, slug)
    fields = _edit_form(admin, slug)
    fields["title"] = ["Questioning: Wait Time for Every Student"]
    response = admin.post(f"/admin/catalog/{slug}/edit", data=fields)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/achievements/{slug}"
    assert f"{slug}: Saved as version {old.version + 1}." in _flashes(admin)

    with _db(app) as session:
        newest = history(session, slug)[0]
        assert (newest["version"], newest["source"], newest["created_by"]) == (old.version + 1, "web", users["admin"])
        assert current_badge(session, slug).title == "Questioning: Wait Time for Every Student"
        assert badge_version(session, slug, old.version).title == old.title
        assert badge_version(session, slug, old.version).content_hash == old.content_hash
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "badge_class.new_version",
                                                         AuditEvent.subject == slug)).one()
        assert event.actor == users["admin"] and event.detail["version"] == old.version + 1
    public = admin.get(f"/achievements/{slug}")
    assert public.status_code == 200
    assert "Questioning: Wait Time for Every Student" in public.get_data(as_text=True)
    assert _edit_form(admin, slug)["title"] == ["Questioning: Wait Time for Every Student"]


def test_saving_without_a_change_stores_nothing(app: Flask, admin: FlaskClient) -> None:
    slug = "questioning-hinge-questions"
    before = _snapshot(app)
    response = admin.post(f"/admin/catalog/{slug}/edit", data=_edit_form(admin, slug))
    assert (response.status_code, response.headers["Location"]) == (302, f"/achievements/{slug}")
    assert f"{slug}: No changes: nothing was saved." in _flashes(admin)
    assert _snapshot(app) == before


def test_edit_post_without_csrf_token_is_400_and_stores_nothing(app: Flask, admin: FlaskClient) -> None:
    slug = "thinking-analytical"
    fields = _edit_form(admin, slug)
    fields["title"] = ["Changed without a token"]
    del fields["csrf_token"]
    before = _snapshot(app)
    assert admin.post(f"/admin/catalog/{slug}/edit", data=fields).status_code == 400
    fields["csrf_token"] = ["not-a-real-token"]
    assert admin.post(f"/admin/catalog/{slug}/edit", data=fields).status_code == 400
    assert admin.post(f"/admin/catalog/{slug}/status", data={"status": "retired"}).status_code == 400
    fields["slug"] = ["new-without-a-token"]
    del fields["csrf_token"]
    assert admin.post("/admin/catalog/new", data=fields).status_code == 400
    assert _snapshot(app) == before


# --- creating --------------------------------------------------------------------------------


def test_new_class_from_a_copied_definition_is_version_1_with_the_file_hash(
        app: Flask, admin: FlaskClient, users: dict[str, str], tmp_path: Path) -> None:
    slug = "questioning-copied-on-the-web"
    blank = _the_form(admin.get("/admin/catalog/new"))
    assert blank["slug"] == [""] and yaml.safe_load(blank["structured"][0])["parts"]
    fields = _copy_of_source(admin, slug, "Questioning: Copied on the Web")
    response = admin.post("/admin/catalog/new", data=fields)
    assert response.status_code == 302, _field_errors(response.get_data(as_text=True), "structured")
    assert response.headers["Location"] == f"/achievements/{slug}"
    assert f"{slug}: Created version 1." in _flashes(admin)

    with _db(app) as session:
        (only,) = history(session, slug)
        assert (only["version"], only["source"], only["created_by"]) == (1, "web", users["admin"])
        created = current_badge(session, slug)
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "badge_class.created",
                                                         AuditEvent.subject == slug)).one()
        assert event.actor == users["admin"] and event.detail["source"] == "web"
    assert created.title == "Questioning: Copied on the Web"
    with _db(app) as session:
        assert created.parts == current_badge(session, SOURCE).parts

    definitions = tmp_path / "definitions"
    definitions.mkdir()
    path = definitions / f"{slug}.yaml"
    path.write_text(yaml.safe_dump(canonical_definition(created), sort_keys=False, allow_unicode=True),
                    encoding="utf-8")
    from_file = load_definition(path, app.extensions["microcred"].catalog.frameworks)
    assert from_file.content_hash == only["content_hash"]
    assert admin.get(f"/achievements/{slug}").status_code == 200


# --- bad input: 400, the field named, the rest kept, nothing stored -------------------------


def _yaml_edit(change):
    def edit(fields: dict[str, list[str]], app: Flask) -> None:
        structured = yaml.safe_load(fields["structured"][0])
        change(structured)
        fields["structured"] = [yaml.safe_dump(structured, sort_keys=False, allow_unicode=True)]
    return edit


def _set(name: str, *values: str):
    def edit(fields: dict[str, list[str]], app: Flask) -> None:
        fields[name] = list(values)
    return edit


def _add_other_pathway_alignment(fields: dict[str, list[str]], app: Flask) -> None:
    fields["alignments"] = fields["alignments"] + [_other_pathway_code(app, fields["pathway"][0])]


# (case id, change to a valid form, field whose error is shown, part of the message, only when creating)
BAD_INPUT = [
    ("empty-title", _set("title", ""), "title", "length must be between 1", False),
    ("invalid-slug", _set("slug", "Not A Slug!"), "slug", "lower-case words joined by hyphens", True),
    ("duplicate-slug", _set("slug", SOURCE), "slug", "already used", True),
    ("unknown-pathway", _set("pathway", "middle-school"), "pathway", "must be one of", False),
    ("no-alignments", _set("alignments"), "alignments", "minimum length 1", False),
    ("other-pathway-alignment", _add_other_pathway_alignment, "alignments", "belongs to the other pathway", False),
    ("hours-as-words", _set("estimated_hours", "ten"), "estimated_hours", "not a valid integer", False),
    ("negative-hours", _set("estimated_hours", "-3"), "estimated_hours", "not a valid integer", False),
    ("invalid-yaml", _set("structured", "components:\n  - name: A\n    description: [unclosed\n"), "structured",
     "line", False),
    ("unknown-section", _yaml_edit(lambda s: s.update(appendix=["more"])), "structured", "appendix", False),
    ("criterion-missing-a-level", _yaml_edit(lambda s: s["parts"][0]["criteria"][0]["levels"].pop("Progressing")),
     "structured", "levels: describe each rubric level exactly once (missing ['Progressing'])", False),
]
IMAGES = [
    ("text-file-as-image", b"This is a text file, not a picture.\n", "is not a PNG or JPEG image"),
    ("image-over-2-mb", b"\x89PNG\r\n\x1a\n" + b"\0" * (2 * 1024 * 1024), "larger than 2 MB"),
]
EDITED_BADLY = "questioning-socratic-discussion"  # every bad edit is refused, so it never changes


def _assert_refused(app: Flask, response, posted: dict[str, list[str]], field: str, fragment: str,
                    before: tuple) -> None:
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Nothing was saved." in page
    messages = _field_errors(page, field)
    assert any(fragment.lower() in m.lower() for m in messages), (field, messages, page[:3000])
    summary = [html.unescape(path) for path in re.findall(r"<li><strong>(.*?)</strong>", page)]
    # The summary names the field; a problem inside the YAML box by its path there, repeated at the box.
    assert any(path.split(".")[0] == field or (field == "structured" and any(m.startswith(f"{path}: ") for m in messages))
               for path in summary), summary
    shown = _the_form(response)
    for name in set(posted) | set(shown):
        if name not in ("csrf_token", field):
            assert shown.get(name, []) == posted.get(name, []), name
    assert _snapshot(app) == before


@pytest.mark.parametrize("case", [pytest.param(c, id=c[0]) for c in BAD_INPUT])
def test_bad_new_class_is_refused(app: Flask, admin: FlaskClient, case) -> None:
    _name, change, field, fragment, _creating_only = case
    fields = _copy_of_source(admin, "questioning-bad-input", "Questioning: Bad Input")
    change(fields, app)
    before = _snapshot(app)
    response = admin.post("/admin/catalog/new", data=fields)
    _assert_refused(app, response, fields, field, fragment, before)


@pytest.mark.parametrize("case", [pytest.param(c, id=c[0]) for c in BAD_INPUT if not c[4]])
def test_bad_edit_is_refused(app: Flask, admin: FlaskClient, case) -> None:
    _name, change, field, fragment, _creating_only = case
    fields = _edit_form(admin, EDITED_BADLY)
    fields["description"] = ["A description the editor typed and must not lose."]
    change(fields, app)
    before = _snapshot(app)
    response = admin.post(f"/admin/catalog/{EDITED_BADLY}/edit", data=fields)
    _assert_refused(app, response, fields, field, fragment, before)


@pytest.mark.parametrize("name, data, fragment", IMAGES, ids=[i[0] for i in IMAGES])
@pytest.mark.parametrize("creating", [True, False], ids=["new", "edit"])
def test_bad_image_is_refused(app: Flask, admin: FlaskClient, name: str, data: bytes, fragment: str,
                              creating: bool) -> None:
    if creating:
        fields, url = _copy_of_source(admin, "questioning-bad-image", "Questioning: Bad Image"), "/admin/catalog/new"
    else:
        fields, url = _edit_form(admin, EDITED_BADLY), f"/admin/catalog/{EDITED_BADLY}/edit"
    fields["title"] = ["A title the editor typed and must not lose"]
    before = _snapshot(app)
    response = admin.post(url, **_with_upload(fields, data))
    _assert_refused(app, response, fields, "image", fragment, before)


# --- custom images -----------------------------------------------------------------------------


def _post_edit(admin: FlaskClient, slug: str, fields: dict[str, list[str]], image: bytes | None = None):
    response = admin.post(f"/admin/catalog/{slug}/edit", **_with_upload(fields, image))
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def test_uploaded_png_is_kept_by_later_edits_until_generated_is_chosen(app: Flask, admin: FlaskClient) -> None:
    slug = "thinking-creative"
    png = _png()
    with _db(app) as session:
        first = get_record(session, slug).current_version
        assert version_image(session, slug, first) is None

    _post_edit(admin, slug, _edit_form(admin, slug), image=png)
    with _db(app) as session:
        assert get_record(session, slug).current_version == first + 1
        assert version_image(session, slug, first + 1) == png
        assert current_badge(session, slug).image == f"{slug}.png"
        assert version_image(session, slug, first) is None  # the old version keeps its (generated) image

    fields = _edit_form(admin, slug)
    page = admin.get(f"/admin/catalog/{slug}/edit").get_data(as_text=True)
    assert "Custom image in use" in page and f"{slug}.png" in page
    assert "generated_image" not in fields  # offered, not ticked

    before = _snapshot(app)
    _post_edit(admin, slug, fields)
    assert f"{slug}: No changes: nothing was saved." in _flashes(admin)
    assert _snapshot(app) == before

    fields["title"] = ["Creative Thinking, Retitled"]
    _post_edit(admin, slug, fields)
    with _db(app) as session:
        assert get_record(session, slug).current_version == first + 2
        assert version_image(session, slug, first + 2) == png

    fields = _edit_form(admin, slug)
    fields["generated_image"] = ["on"]
    _post_edit(admin, slug, fields)
    with _db(app) as session:
        assert get_record(session, slug).current_version == first + 3
        assert version_image(session, slug, first + 3) is None
        assert current_badge(session, slug).image is None
        assert version_image(session, slug, first + 2) == png
    assert "Custom image in use" not in admin.get(f"/admin/catalog/{slug}/edit").get_data(as_text=True)


# --- regressions: bugs found while writing these tests (fixed since) -----------------------


@pytest.mark.parametrize("field", ["title", "description", "category", "competency"])
def test_text_of_only_spaces_is_refused(app: Flask, admin: FlaskClient, field: str) -> None:
    fields = _copy_of_source(admin, "questioning-blank-text", "Questioning: Blank Text")
    fields[field] = ["   "]
    before = _snapshot(app)
    response = admin.post("/admin/catalog/new", data=fields)
    assert response.status_code == 400
    assert any("blank" in m for m in _field_errors(response.get_data(as_text=True), field))
    assert _snapshot(app) == before


@pytest.mark.parametrize("hours", ["²", "١٠"], ids=["superscript-two", "arabic-indic-ten"])
def test_hours_in_other_digits_are_refused_not_a_500(app: Flask, admin: FlaskClient, hours: str) -> None:
    fields = _copy_of_source(admin, "questioning-odd-hours", "Questioning: Odd Hours")
    fields["estimated_hours"] = [hours]
    before = _snapshot(app)
    response = admin.post("/admin/catalog/new", data=fields)
    assert response.status_code == 400
    assert _field_errors(response.get_data(as_text=True), "estimated_hours")
    assert _snapshot(app) == before


def test_refused_edit_keeps_the_custom_image_choice(app: Flask, admin: FlaskClient) -> None:
    slug = "thinking-metacognition"
    _post_edit(admin, slug, _edit_form(admin, slug), image=_png())
    fields = _edit_form(admin, slug)
    fields.update(title=[""], generated_image=["on"])
    response = admin.post(f"/admin/catalog/{slug}/edit", data=fields)
    assert response.status_code == 400
    assert "Custom image in use" in response.get_data(as_text=True)
    assert _the_form(response).get("generated_image") == ["on"]


def test_unchanged_save_from_a_browser_of_a_multi_line_description_stores_nothing(app: Flask,
                                                                                  admin: FlaskClient) -> None:
    slug = "questioning-multi-line"
    fields = _copy_of_source(admin, slug, "Questioning: Multi-line")
    fields["description"] = ["First paragraph.\nSecond paragraph, as a `|` block in a file gives it."]
    assert admin.post("/admin/catalog/new", data=fields).status_code == 302
    as_a_browser_sends = {name: [v.replace("\n", "\r\n") for v in values]
                          for name, values in _edit_form(admin, slug).items()}
    before = _snapshot(app)
    _post_edit(admin, slug, as_a_browser_sends)
    assert f"{slug}: No changes: nothing was saved." in _flashes(admin)
    assert _snapshot(app) == before


# --- bugs found while writing these tests ----------------------------------------------------


def test_bad_slug_with_a_good_image_blames_only_the_slug(app: Flask, admin: FlaskClient) -> None:
    fields = _copy_of_source(admin, "Not A Slug!", "Questioning: Bad Slug, Good Image")
    before = _snapshot(app)
    response = admin.post("/admin/catalog/new", **_with_upload(fields, _png()))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert _field_errors(page, "slug")
    assert _field_errors(page, "image") == []
    assert _snapshot(app) == before


def test_a_save_on_a_stale_form_is_409_and_stores_nothing(app: Flask, admin: FlaskClient) -> None:
    """Two administrators open the same class; the second save must not silently undo the first."""
    slug = "thinking-creative"
    first, second = _edit_form(admin, slug), _edit_form(admin, slug)
    first["title"] = ["Thinking: Creative Thinking in Every Lesson"]
    assert admin.post(f"/admin/catalog/{slug}/edit", data=first).status_code == 302
    before = _snapshot(app)

    second["description"] = ["A different change made on a form opened before the first save."]
    response = admin.post(f"/admin/catalog/{slug}/edit", data=second)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "after you opened this form" in page and "nothing was saved" in page
    assert "A different change made on a form opened before the first save." in page  # the input is kept
    assert _snapshot(app) == before
    with _db(app) as session:
        assert current_badge(session, slug).title == "Thinking: Creative Thinking in Every Lesson"
