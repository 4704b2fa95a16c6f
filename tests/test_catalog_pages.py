"""The public catalogue through the test client: list and filters, badge class pages and their
OB 3.0 Achievement (JSON-LD), images, retiring and versions. The catalogue is read from the
database, which `microcred init` filled from the shipped definition files."""

from __future__ import annotations

import dataclasses
import hashlib
import html
import io
import re
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from flask import Flask
from markupsafe import escape
from PIL import Image

from badge_classes.catalog import PACKAGE_CATALOG
from issuer.catalog import versions as service
from issuer.runtime import Runtime
from verifier.document_loader import OB_V3, VC_V2
from verifier.schema import schema_problems

LD = {"Accept": "application/ld+json"}
JSON = {"Accept": "application/json"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
SLUG = "questioning-higher-order"
SVG = "{http://www.w3.org/2000/svg}"


def _e(text: str) -> str:
    """Text as the templates escape it."""
    return str(escape(text))


def _rt(app: Flask) -> Runtime:
    return app.extensions["microcred"]


def _today() -> date:
    return datetime.now(UTC).date()


def _html(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def _listed(client, query: str = "") -> list[str]:
    """Slugs of the cards on the catalogue page for a query string."""
    page = _html(client.get(f"/achievements{query}"))
    return re.findall(r'<h4 class="card-title"><a href="/achievements/([a-z0-9-]+)">', page)


def _listed_json(client, query: str = "") -> list[str]:
    response = client.get(f"/achievements{query}", headers=JSON)
    assert response.status_code == 200 and response.mimetype == "application/json"
    return [a["id"].split("/achievements/")[1].split("/v/")[0] for a in response.get_json()]


def _article(page: str) -> str:
    """The version's content on a badge class page (banners and the version list are outside it)."""
    return page[page.index("<article"):page.index("</article>")]


def _credential(achievement: dict[str, Any]) -> dict[str, Any]:
    """A minimal OpenBadgeCredential embedding the Achievement, for the schema check."""
    return {
        "@context": [VC_V2, OB_V3],
        "id": "urn:uuid:0b5b7a43-5a6f-4bb6-8a0e-000000000001",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "did:example:issuer", "type": ["Profile"], "name": "Test issuer"},
        "validFrom": "2025-01-01T00:00:00Z",
        "name": achievement["name"],
        "credentialSubject": {"type": ["AchievementSubject"], "id": "did:example:teacher",
                              "achievement": {k: v for k, v in achievement.items() if k != "@context"}},
    }


def test_every_shipped_badge_class_has_a_complete_page_and_a_valid_achievement(app: Flask, client) -> None:
    rt = _rt(app)
    assert len(rt.catalog.badge_classes) >= 20
    for slug, badge in rt.catalog.badge_classes.items():
        page = _html(client.get(f"/achievements/{slug}"))
        assert f'<h1 id="badge-title">{_e(badge.title)}</h1>' in page
        assert _e(badge.description) in page and _e(badge.competency) in page
        assert 'id="criteria"' in page
        for part in badge.parts:
            assert _e(part.title) in page
            assert all(_e(q) in page for q in part.questions)
            assert all(_e(a.name) in page for a in part.artifacts)
            if part.word_limit:
                assert f"at most {part.word_limit} words" in page
            for crit in part.criteria:
                assert _e(crit.name) in page and f'id="criterion-{crit.id}"' in page
                assert all(_e(descriptor) in page for _, descriptor in crit.levels)
        for alignment in badge.alignments:
            assert alignment.code in page and _e(alignment.name) in page
            assert f'href="{_e(alignment.url)}"' in page
        for link in badge.research + badge.resources:
            assert f'href="{_e(link.url)}"' in page
        pdp = rt.catalog.policy.value_on(slug, badge.pathway, _today())
        assert pdp is not None
        assert f'<strong class="pdp-value">{pdp.value:g} {_e(pdp.unit)}</strong>' in page
        assert _e(pdp.rule.note) in page and pdp.rule.effective_from.isoformat() in page
        assert f"about {badge.estimated_hours} hours" in page
        assert f"/achievements/{slug}/v/1/image.svg" in page and f'alt="Badge for {_e(badge.title)}"' in page
        assert "retired" not in page.lower() and "not the current version" not in page

        response = client.get(f"/achievements/{slug}", headers=LD)
        assert response.status_code == 200 and response.mimetype == "application/ld+json"
        achievement = response.get_json(force=True)
        assert achievement["@context"] == [VC_V2, OB_V3]
        assert achievement["id"] == f"{rt.settings.public_url}/achievements/{slug}/v/1"
        assert achievement["criteria"]["id"] == achievement["id"] + "#criteria"
        assert achievement["name"] == badge.title
        assert achievement["creditsAvailable"] == pdp.value
        assert achievement["creator"] == rt.identity().profile()
        assert schema_problems(_credential(achievement)) == []


def test_catalogue_filters_return_exactly_the_matching_badge_classes(app: Flask, client) -> None:
    badges = _rt(app).catalog.badge_classes

    def searchable(b) -> str:
        return " ".join([b.title, b.description, b.competency, b.category, *b.tags,
                         *(a.name for a in b.alignments)]).lower()

    def expected(pathway=None, category=None, indicator=None, words=()) -> list[str]:
        return sorted(s for s, b in badges.items()
                      if pathway in (None, b.pathway) and category in (None, b.category)
                      and indicator in (None, *(a.code for a in b.alignments))
                      and all(w in searchable(b) for w in words))

    cases = {
        "": expected(),
        "?pathway=team": expected(pathway="team"),
        "?pathway=teacher-leader": expected(pathway="teacher-leader"),
        "?category=Questioning": expected(category="Questioning"),
        "?category=Problem+Solving": expected(category="Problem Solving"),
        "?indicator=TEAM-I-QU": expected(indicator="TEAM-I-QU"),
        "?indicator=team-i-th": expected(indicator="TEAM-I-TH"),  # codes compare case-insensitively
        "?indicator=TLMS-1": expected(indicator="TLMS-1"),
        "?q=coaching": expected(words=["coaching"]),
        "?q=WAIT+Time": expected(words=["wait", "time"]),
        "?q=respectful+culture": expected(words=["respectful", "culture"]),  # an alignment name
        "?pathway=team&category=Thinking&q=students": expected("team", "Thinking", words=["students"]),
        "?pathway=team&indicator=TEAM-I-PS": expected(pathway="team", indicator="TEAM-I-PS"),
    }
    for query, slugs in cases.items():
        assert slugs, query  # every case selects something...
        if query:
            assert len(slugs) < len(badges), query  # ...and filters something out
        assert sorted(_listed(client, query)) == slugs, query
        assert sorted(_listed_json(client, query)) == slugs, query

    page = _html(client.get("/achievements?pathway=team&category=Questioning"))
    assert f"{len(expected('team', 'Questioning'))} micro-credentials match your filters" in page
    assert '<option value="team" selected>' in page and '<option value="Questioning" selected>' in page
    for field in ("q", "pathway", "category", "indicator"):  # a labelled control for each filter
        assert f'<label for="filter-{field}">' in page and f'id="filter-{field}" name="{field}"' in page
    assert page.index("TEAM-aligned pathway</h2>") < page.index("<h3>Questioning</h3>")

    everything = _html(client.get("/achievements"))
    assert everything.index("TEAM-aligned pathway</h2>") < everything.index("Teacher-leader pathway</h2>")
    assert f"{len(badges)} micro-credentials available" in everything


def test_unknown_filter_values_give_an_empty_list_not_an_error(client) -> None:
    for query in ("?pathway=nope", "?category=Underwater+Basket+Weaving", "?indicator=TEAM-X-YZ",
                  "?q=zzzqqqxxx", "?pathway=" + "x" * 5000, "?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E"):
        response = client.get(f"/achievements{query}")
        page = _html(response)
        assert "No micro-credentials match these filters" in page
        assert '<a href="/achievements">Show all micro-credentials</a>' in page
        assert 'class="card"' not in page and "<script>alert" not in page
        assert client.get(f"/achievements{query}", headers=JSON).get_json() == []


def test_unknown_badge_class_or_version_is_a_404_with_a_message(client) -> None:
    for url, words in (("/achievements/no-such-badge", "There is no micro-credential"),
                       (f"/achievements/{SLUG}/v/2", "has no version 2"),
                       (f"/achievements/{SLUG}/v/0", "has no version 0"),
                       ("/achievements/no-such-badge/v/1", "There is no micro-credential"),
                       ("/achievements/no-such-badge/image.png", "There is no micro-credential"),
                       (f"/achievements/{SLUG}/v/9/image.svg", "has no version 9")):
        response = client.get(url)
        assert response.status_code == 404 and response.mimetype == "text/html", url
        assert words in html.unescape(response.get_data(as_text=True)), url
        response = client.get(url, headers=JSON)
        assert response.status_code == 404, url
        error = response.get_json()["error"]
        assert error["code"] == "unknown_achievement" and words in error["message"], url
    assert client.get(f"/achievements/{SLUG}/v/one").status_code == 404
    assert client.get(f"/achievements/{SLUG}/image.gif").status_code == 404


def test_content_negotiation_and_vary(app: Flask, client) -> None:
    for url in (f"/achievements/{SLUG}", f"/achievements/{SLUG}/v/1", "/achievements"):
        for headers, mimetype in (({}, "text/html"), (BROWSER, "text/html"), ({"Accept": "*/*"}, "text/html"),
                                  (LD, "application/ld+json"), (JSON, "application/json"),
                                  ({"Accept": "text/html;q=0.5, application/json"}, "application/json")):
            response = client.get(url, headers=headers)
            assert response.status_code == 200 and response.mimetype == mimetype, (url, headers)
            assert "Accept" in response.vary, (url, headers)
        assert client.get(url + "?format=json-ld", headers=BROWSER).mimetype == "application/ld+json"
    page = _html(client.get(f"/achievements/{SLUG}"))
    assert f'href="/achievements/{SLUG}/v/1?format=json-ld" type="application/ld+json"' in page
    current = client.get(f"/achievements/{SLUG}", headers=LD).get_data()
    assert current == client.get(f"/achievements/{SLUG}/v/1", headers=LD).get_data()
    listed = client.get("/achievements?category=Questioning", headers=LD).get_json(force=True)
    assert client.get(f"/achievements/{SLUG}", headers=LD).get_json(force=True) in listed


def test_achievement_of_a_did_web_issuer(did_web_client) -> None:
    achievement = did_web_client.get(f"/achievements/{SLUG}", headers=LD).get_json(force=True)
    assert achievement["id"] == f"https://badges.example.gov/achievements/{SLUG}/v/1"
    assert achievement["image"]["id"] == f"https://badges.example.gov/achievements/{SLUG}/v/1/image.png"
    assert achievement["creator"]["id"] == "did:web:badges.example.gov"
    assert schema_problems(_credential(achievement)) == []


def test_achievement_without_an_issuer_key_has_no_creator(uninitialised_app: Flask) -> None:
    rt = _rt(uninitialised_app)
    rt.database.upgrade()  # a database with the catalogue, but no key yet
    with rt.database.transaction() as session:
        service.sync_catalog(session, rt.catalog, actor="test")
    response = uninitialised_app.test_client().get(f"/achievements/{SLUG}", headers=LD)
    assert response.status_code == 200
    achievement = response.get_json(force=True)
    assert "creator" not in achievement and schema_problems(_credential(achievement)) == []


def test_images_are_cacheable_and_conditional(app: Flask, client) -> None:
    achievement = client.get(f"/achievements/{SLUG}", headers=LD).get_json(force=True)
    png_url = achievement["image"]["id"].removeprefix(_rt(app).settings.public_url)
    assert png_url == f"/achievements/{SLUG}/v/1/image.png"
    for url, cache in ((png_url, "public, max-age=31536000, immutable"),
                       (f"/achievements/{SLUG}/v/1/image.svg", "public, max-age=31536000, immutable"),
                       (f"/achievements/{SLUG}/image.png", "public, max-age=300"),
                       (f"/achievements/{SLUG}/image.svg", "public, max-age=300")):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == cache
        body = response.get_data()
        etag, weak = response.get_etag()
        assert etag == hashlib.sha256(body).hexdigest() and not weak
        if url.endswith(".png"):
            assert response.mimetype == "image/png"
            with Image.open(io.BytesIO(body)) as img:
                assert img.format == "PNG" and img.size == (512, 512)
        else:
            assert response.mimetype == "image/svg+xml"
            assert ElementTree.fromstring(body).tag == f"{SVG}svg"
        again = client.get(url, headers={"If-None-Match": f'"{etag}"'})
        assert again.status_code == 304 and again.get_data() == b""
        assert client.get(url, headers={"If-None-Match": '"something-else"'}).status_code == 200
    assert client.get(png_url).get_data() == client.get(f"/achievements/{SLUG}/image.png").get_data()


def test_a_custom_image_is_served_as_png_and_wrapped_in_svg(app: Flask, client) -> None:
    jpeg = io.BytesIO()
    Image.new("RGB", (200, 160), (200, 30, 30)).save(jpeg, "JPEG")
    with _rt(app).database.transaction() as session:
        badge = service.current_badge(session, SLUG)
        service.record_definition(session, dataclasses.replace(badge, image="custom.jpg"), image=jpeg.getvalue(),
                                  source="web", actor="test")
    for url in (f"/achievements/{SLUG}/v/2/image.png", f"/achievements/{SLUG}/image.png"):
        with Image.open(io.BytesIO(client.get(url).get_data())) as img:
            assert img.format == "PNG" and img.size == (200, 160)
    svg = client.get(f"/achievements/{SLUG}/v/2/image.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    root = ElementTree.fromstring(svg.get_data())
    assert root.get("role") == "img" and badge.title in root.find(f"{SVG}title").text
    assert root.find(f"{SVG}image").get("href").startswith("data:image/png;base64,")
    with Image.open(io.BytesIO(client.get(f"/achievements/{SLUG}/v/1/image.png").get_data())) as img:
        assert img.size == (512, 512)  # version 1 keeps its generated image


def test_a_retired_badge_class_is_not_listed_but_its_pages_stay(app: Flask, client) -> None:
    assert SLUG in _listed(client)
    home = _html(client.get("/"))
    with _rt(app).database.transaction() as session:
        service.set_status(session, service.get_record(session, SLUG), "retired", actor="test")
    assert SLUG not in _listed(client) and SLUG not in _listed(client, "?category=Questioning")
    assert SLUG not in _listed_json(client)
    page = _html(client.get(f"/achievements/{SLUG}"))
    assert "This micro-credential is retired" in page and 'class="banner banner-retired"' in page
    assert "This micro-credential is retired" in _html(client.get(f"/achievements/{SLUG}/v/1"))
    assert client.get(f"/achievements/{SLUG}", headers=LD).status_code == 200
    assert client.get(f"/achievements/{SLUG}/v/1/image.png").status_code == 200
    assert _html(client.get("/")) != home  # the home page counts come from the database


def test_a_new_version_keeps_the_old_one_unchanged(app: Flask, client) -> None:
    old_url = f"/achievements/{SLUG}/v/1"
    before_html = _html(client.get(old_url))
    before_json = client.get(old_url, headers=LD).get_data()
    old_title = _rt(app).catalog.badge_classes[SLUG].title
    new_title = "New title <script>alert(1)</script>"
    with _rt(app).database.transaction() as session:
        badge = service.current_badge(session, SLUG)
        _, change = service.record_definition(session, dataclasses.replace(badge, title=new_title), image=None,
                                              source="web", actor="test")
    assert change.action == "new_version" and change.version == 2

    assert client.get(old_url, headers=LD).get_data() == before_json
    after_html = _html(client.get(old_url))
    assert _article(after_html) == _article(before_html)
    assert f'<h1 id="badge-title">{_e(old_title)}</h1>' in after_html
    assert "not the current version" in after_html and "not the current version" not in before_html
    assert f'<a href="/achievements/{SLUG}">Read the current version (version 2)</a>' in after_html

    for url in (f"/achievements/{SLUG}", f"/achievements/{SLUG}/v/2"):
        page = _html(client.get(url))
        assert _e(new_title) in page and "<script>alert(1)" not in page
        assert "not the current version" not in page
        assert f'href="/achievements/{SLUG}/v/1"' in page and f'href="/achievements/{SLUG}/v/2"' in page
        achievement = client.get(url, headers=LD).get_json(force=True)
        assert achievement["name"] == new_title and achievement["id"].endswith(f"/achievements/{SLUG}/v/2")
    assert SLUG in _listed(client, "?q=new+title")
    current_svg = client.get(f"/achievements/{SLUG}/image.svg").get_data()
    assert ElementTree.fromstring(current_svg).find(f"{SVG}title").text.startswith(new_title)
    assert current_svg != client.get(f"/achievements/{SLUG}/v/1/image.svg").get_data()


def test_the_pdp_value_shown_is_the_rule_in_force_today(make_app, tmp_path: Path) -> None:
    catalog_dir = tmp_path / "catalogue"
    shutil.copytree(PACKAGE_CATALOG / "definitions", catalog_dir / "definitions")
    shutil.copytree(PACKAGE_CATALOG / "config", catalog_dir / "config")
    policy = catalog_dir / "config" / "pdp_policy.yaml"
    yesterday, tomorrow = _today() - timedelta(days=1), _today() + timedelta(days=1)
    policy.write_text(policy.read_text(encoding="utf-8") + (
        f"  - {{effective_from: {yesterday.isoformat()}, value: 7.5, badge_class: {SLUG}, note: A special rule.}}\n"
        f"  - {{effective_from: {tomorrow.isoformat()}, value: 9, note: Not yet in force.}}\n"), encoding="utf-8")
    app = make_app(catalog_dir=str(catalog_dir))
    client = app.test_client()
    policy_today = _rt(app).catalog.policy
    for slug in (SLUG, "thinking-creative"):
        badge = _rt(app).catalog.badge_classes[slug]
        pdp = policy_today.value_on(slug, badge.pathway, _today())
        page = _html(client.get(f"/achievements/{slug}"))
        assert f'<strong class="pdp-value">{pdp.value:g} {pdp.unit}</strong>' in page
        assert client.get(f"/achievements/{slug}", headers=LD).get_json(force=True)["creditsAvailable"] == pdp.value
    assert "7.5 Professional Development Points" in _html(client.get(f"/achievements/{SLUG}"))
    assert "A special rule." in _html(client.get(f"/achievements/{SLUG}"))
    assert "7.5 PDPs" in _html(client.get("/achievements?category=Questioning"))
    assert "9 PDPs" not in _html(client.get("/achievements"))
