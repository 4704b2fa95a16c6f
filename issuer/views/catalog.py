"""Public catalogue pages: the list of micro-credentials, one page per badge class, its images.

Everything is read from the database (issuer.catalog); the definition files only seed it. Every
version keeps its own URL for good, retired or not: issued credentials point at it. Pages and
JSON-LD share URLs and are chosen by the Accept header (hence `Vary: Accept`).
"""

from __future__ import annotations

import base64
import hashlib
import io
from dataclasses import asdict, astuple, dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from flask import Blueprint, Response, current_app, make_response, render_template, request, url_for
from PIL import Image
from werkzeug.datastructures import MultiDict

from badge_classes import PATHWAYS, BadgeClass, PdpValue, to_achievement
from badge_classes.images import badge_png, badge_svg
from badge_classes.model import PART_KINDS
from verifier.document_loader import OB_V3, VC_V2

from ..catalog import versions as service
from ..errors import NotInitialisedError
from ..runtime import runtime

bp = Blueprint("catalog", __name__)

HTML, LD_JSON, JSON = "text/html", "application/ld+json", "application/json"
FORMATS = {"json-ld": LD_JSON, "json": JSON}
MAX_ARG = 200  # longer filter values match nothing anyway
CURRENT_CACHE = "public, max-age=300"
VERSION_CACHE = "public, max-age=31536000, immutable"  # a version's content never changes
SVG_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


@dataclass(frozen=True)
class Filters:
    """The catalogue's GET filters. Values compare case-insensitively; an unknown value matches nothing.

    `q` matches when every word of it occurs in the title, description, competency, tags, category
    or alignment names.
    """

    pathway: str = ""
    category: str = ""
    indicator: str = ""
    q: str = ""

    @classmethod
    def from_args(cls, args: MultiDict[str, str]) -> Filters:
        def arg(name: str) -> str:
            return " ".join(args.get(name, "").split())[:MAX_ARG]

        return cls(arg("pathway"), arg("category"), arg("indicator"), arg("q"))

    @property
    def active(self) -> bool:
        return any(astuple(self))

    def args(self) -> dict[str, str]:
        """The filters in use, as query arguments."""
        return {name: value for name, value in asdict(self).items() if value}

    def selected(self, name: str, value: str) -> bool:
        return getattr(self, name).casefold() == value.casefold()

    def matches(self, badge: BadgeClass) -> bool:
        if self.pathway and not self.selected("pathway", badge.pathway):
            return False
        if self.category and not self.selected("category", badge.category):
            return False
        if self.indicator and not any(self.selected("indicator", a.code) for a in badge.alignments):
            return False
        text = "\n".join([badge.title, badge.description, badge.competency, badge.category, *badge.tags,
                          *(a.name for a in badge.alignments)]).casefold()
        return all(word in text for word in self.q.casefold().split())


@bp.get("/achievements")
def index():
    """The catalogue, filtered; a list of Achievements when JSON is asked for."""
    filters = Filters.from_args(request.args)
    with runtime().database.transaction() as session:
        everything = service.all_current(session)
    badges = [b for b in everything if filters.matches(b)]
    kind = _negotiated()
    if kind != HTML:
        creator = _creator()
        return _json_answer([_achievement_document(b, creator) for b in badges], kind)
    return _html_answer(render_template(
        "catalog/index.html", filters=filters, groups=_grouped(badges), count=len(badges),
        options=_options(everything), pdp={b.slug: _pdp_today(b) for b in badges},
        json_url=url_for("catalog.index", **filters.args(), format="json-ld")))


@bp.get("/achievements/<slug>")
def badge(slug: str):
    """The current version of a badge class (page or OB 3.0 Achievement)."""
    return _badge_answer(slug, None)


@bp.get("/achievements/<slug>/v/<int:version>")
def badge_version(slug: str, version: int):
    """One stored version of a badge class (page or OB 3.0 Achievement); raises UnknownAchievementError."""
    return _badge_answer(slug, version)


@bp.get("/achievements/<slug>/image.<any(svg, png):fmt>")
def image(slug: str, fmt: str):
    """The current version's image (short cache: the current version may change)."""
    with runtime().database.transaction() as session:
        badge = service.current_badge(session, slug)
        custom = service.version_image(session, slug, badge.version)
    return _image_answer(*_image_bytes(badge, custom, fmt), cache=CURRENT_CACHE)


@bp.get("/achievements/<slug>/v/<int:version>/image.<any(svg, png):fmt>")
def version_image(slug: str, version: int, fmt: str):
    """A version's image, cacheable for good."""
    with runtime().database.transaction() as session:
        badge = service.badge_version(session, slug, version)
        custom = service.version_image(session, slug, version)
    return _image_answer(*_image_bytes(badge, custom, fmt), cache=VERSION_CACHE)


def _badge_answer(slug: str, version: int | None) -> Response:
    with runtime().database.transaction() as session:
        badge = (service.current_badge(session, slug) if version is None
                 else service.badge_version(session, slug, version))
        versions = service.history(session, slug)
    kind = _negotiated()
    if kind != HTML:
        return _json_answer(_achievement_document(badge, _creator()), kind)
    return _html_answer(render_template(
        "catalog/badge.html", badge=badge, pdp=_pdp_today(badge), versions=versions,
        current=versions[0]["version"], part_kinds=PART_KINDS))


def _negotiated() -> str:
    """`?format=json-ld|json` (so a plain link can fetch the data), else the best of HTML, JSON-LD and
    JSON for the Accept header (HTML on a tie or with none)."""
    chosen = FORMATS.get(request.args.get("format", ""))
    return chosen or request.accept_mimetypes.best_match([HTML, LD_JSON, JSON], default=HTML)


def _html_answer(page: str) -> Response:
    response = make_response(page)
    response.vary.add("Accept")
    return response


def _json_answer(data: Any, kind: str) -> Response:
    response = current_app.json.response(data)
    response.mimetype = kind
    response.vary.add("Accept")
    return response


def _pdp_today(badge: BadgeClass) -> PdpValue | None:
    """The PDP value in force today (UTC, as when issuing)."""
    return runtime().catalog.policy.value_on(badge.slug, badge.pathway, datetime.now(UTC).date())


def _creator() -> dict[str, Any] | None:
    """The issuer Profile, or None while the instance has no key."""
    try:
        return runtime().identity().profile()
    except NotInitialisedError:
        return None


def _achievement_document(badge: BadgeClass, creator: dict[str, Any] | None) -> dict[str, Any]:
    """The OB 3.0 Achievement as a JSON-LD document (OB 3.0 §B.1.1)."""
    achievement = to_achievement(badge, base_url=runtime().settings.public_url, pdp=_pdp_today(badge),
                                 creator=creator)
    return {"@context": [VC_V2, OB_V3], **achievement}


def _grouped(badges: list[BadgeClass]) -> list[tuple[str, list[tuple[str, list[BadgeClass]]]]]:
    """[(pathway name, [(category, badges)])], keeping the service's order."""
    groups: dict[str, dict[str, list[BadgeClass]]] = {}
    for badge in badges:
        groups.setdefault(badge.pathway_name, {}).setdefault(badge.category, []).append(badge)
    return [(pathway, list(categories.items())) for pathway, categories in groups.items()]


def _options(badges: list[BadgeClass]) -> dict[str, Any]:
    """The filter form's choices, from the badge classes listed: pathways, categories by pathway,
    indicators by framework."""
    categories: dict[str, set[str]] = {}
    indicators: dict[str, dict[str, str]] = {}
    for badge in badges:
        categories.setdefault(badge.pathway_name, set()).add(badge.category)
        for a in badge.alignments:
            indicators.setdefault(a.framework, {})[a.code] = a.name
    return {
        "pathways": [(code, name) for code, name in PATHWAYS.items() if name in categories],
        "categories": [(pathway, sorted(names)) for pathway, names in categories.items()],
        "indicators": [(framework, sorted(codes.items())) for framework, codes in sorted(indicators.items())],
    }


def _image_bytes(badge: BadgeClass, custom: bytes | None, fmt: str) -> tuple[bytes, str]:
    """(bytes, mimetype): the custom image (as PNG, or wrapped in SVG), else the generated one."""
    if custom is not None:
        png = _as_png(custom)
        return (png, "image/png") if fmt == "png" else (_wrapped_svg(png, badge.title).encode(), "image/svg+xml")
    return _generated(badge, fmt)


@lru_cache(maxsize=128)
def _generated(badge: BadgeClass, fmt: str) -> tuple[bytes, str]:
    """Versions are immutable, so each generated image is drawn once per process."""
    if fmt == "png":
        return badge_png(badge, size=512), "image/png"
    return badge_svg(badge).encode("utf-8"), "image/svg+xml"


@lru_cache(maxsize=32)
def _as_png(data: bytes) -> bytes:
    """A custom image (PNG or JPEG, checked when stored) re-encoded as PNG, dropping any metadata."""
    with Image.open(io.BytesIO(data)) as img:
        img = img if img.mode in ("RGB", "RGBA", "L", "LA", "P") else img.convert("RGB")
        out = io.BytesIO()
        img.save(out, "PNG")
    return out.getvalue()


def _wrapped_svg(png: bytes, title: str) -> str:
    """A small SVG document showing a PNG (as a data: URI), with a text alternative."""
    with Image.open(io.BytesIO(png)) as img:
        width, height = img.size
    uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-labelledby="badge-title">'
            f'<title id="badge-title">{escape(title)} (micro-credential badge)</title>'
            f'<image href={quoteattr(uri)} width="{width}" height="{height}"/></svg>\n')


def _image_answer(data: bytes, mimetype: str, *, cache: str) -> Response:
    """The image with a strong ETag (SHA-256 of the bytes); 304 when If-None-Match matches."""
    response = Response(data, mimetype=mimetype)
    response.set_etag(hashlib.sha256(data).hexdigest())
    response.headers["Cache-Control"] = cache
    response.headers["X-Content-Type-Options"] = "nosniff"
    if mimetype == "image/svg+xml":
        response.headers["Content-Security-Policy"] = SVG_POLICY  # no script even if opened directly
    return response.make_conditional(request)
