"""The administrator's badge class form: simple fields as inputs, the nested parts as YAML.

`definition_from_form` builds the same plain dict a definition file holds, so the form is
validated by exactly the same schema and stored by the same `record_definition` as a file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml
from sqlalchemy.orm import Session

from badge_classes import BadgeClass, Catalog, DefinitionInvalid, canonical_definition, check_image, parse_definition
from badge_classes.schema import SLUG

from ..errors import Conflict, UnknownAchievementError
from .versions import SyncChange, get_record, record_definition, version_image

SIMPLE_FIELDS = ("slug", "title", "description", "pathway", "category", "competency", "key_method_summary",
                 "estimated_hours", "tags", "status")
STRUCTURED_KEYS = ("components", "research", "resources", "rubric_levels", "passing_level", "parts",
                   "valid_for_months")  # the last is optional: absent, credentials never expire
MAX_STRUCTURED = 200_000


def form_values(badge: BadgeClass) -> dict[str, Any]:
    """Prefill for editing a badge class."""
    d = canonical_definition(badge)
    structured = {"components": d["key_method"]["components"], **{k: d[k] for k in STRUCTURED_KEYS[1:] if k in d}}
    return {
        "slug": d["slug"], "title": d["title"], "description": d["description"], "pathway": d["pathway"],
        "category": d["category"], "competency": d["competency"], "key_method_summary": d["key_method"]["summary"],
        "estimated_hours": str(d["estimated_hours"]), "tags": ", ".join(d["tags"]), "status": d["status"],
        "alignments": d["alignments"], "image": d.get("image"),
        "structured": yaml.safe_dump(structured, sort_keys=False, allow_unicode=True, width=100),
    }


def definition_from_form(form: Mapping[str, Any], alignments: list[str], *, image: str | None) -> dict[str, Any]:
    """The definition dict; DefinitionInvalid when the YAML block cannot be read."""
    # Browsers send textarea line breaks as CRLF; files have LF. Same content, same hash.
    form = {k: v.replace("\r\n", "\n").replace("\r", "\n") if isinstance(v, str) else v for k, v in form.items()}
    text = form.get("structured") or ""
    if len(text) > MAX_STRUCTURED:
        raise DefinitionInvalid("form", [("structured", "is longer than 200,000 characters")])
    try:
        structured = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise DefinitionInvalid("form", [("structured", f"is not valid YAML{where}: "
                                                        f"{getattr(exc, 'problem', None) or exc}")]) from None
    if not isinstance(structured, dict):
        raise DefinitionInvalid("form", [("structured", "must be a mapping with " + ", ".join(STRUCTURED_KEYS))])
    unknown = sorted(set(structured) - set(STRUCTURED_KEYS))
    if unknown:
        raise DefinitionInvalid("form", [("structured", f"unknown section(s) {unknown}; use "
                                                        + ", ".join(STRUCTURED_KEYS))])
    hours = (form.get("estimated_hours") or "").strip()
    definition: dict[str, Any] = {
        "slug": (form.get("slug") or "").strip(), "title": form.get("title") or "",
        "description": form.get("description") or "", "pathway": form.get("pathway") or "",
        "category": form.get("category") or "", "alignments": list(alignments),
        "competency": form.get("competency") or "",
        "key_method": {"summary": form.get("key_method_summary") or "", "components": structured.get("components")},
        "estimated_hours": int(hours) if hours.isascii() and hours.isdigit() else hours,
        "tags": [t.strip() for t in (form.get("tags") or "").split(",") if t.strip()],
        "status": form.get("status") or "active",
        **{k: structured[k] for k in STRUCTURED_KEYS[1:] if k in structured},
    }
    if image:
        definition["image"] = image
    return definition


class EditConflict(Conflict):
    """Someone saved a newer version since this form was opened."""

    code = "edit_conflict"


def save_from_form(session: Session, catalog: Catalog, definition: dict[str, Any], *, image: bytes | None,
                   keep_image: bool, creating: bool, actor: str, base_version: int | None = None) -> SyncChange:
    """Validate and store the form's definition: a new badge class, or a new version of one.

    Raises DefinitionInvalid naming each bad field, or EditConflict when `base_version` (the
    version the form was opened on) is no longer current; nothing is stored then.
    """
    slug = definition.get("slug", "")
    existing = _existing(session, slug)
    if creating and existing is not None:
        raise DefinitionInvalid("form", [("slug", f"{slug!r} is already used by another badge class")])
    if existing is not None and base_version is not None and existing.current_version != base_version:
        raise EditConflict(f"Someone saved version {existing.current_version} of {slug} after you opened this form "
                           f"(on version {base_version}). Open the badge class again and redo your change; "
                           "nothing was saved.")
    if image is not None:
        fmt = check_image(image, source="form")
        stem = slug if re.fullmatch(SLUG, slug) else "badge"  # a bad slug is reported once, as the slug
        definition["image"] = f"{stem}.{'png' if fmt == 'PNG' else 'jpg'}"
    elif keep_image and existing is not None and existing.versions[-1].image is not None:
        image = version_image(session, slug, existing.current_version)
        definition["image"] = existing.versions[-1].definition.get("image")
    else:
        definition.pop("image", None)
    badge = parse_definition(definition, catalog.frameworks, source="form")
    _record, change = record_definition(session, badge, image=image, source="web", actor=actor)
    return change


def _existing(session: Session, slug: str):
    try:
        return get_record(session, slug) if slug else None
    except UnknownAchievementError:
        return None
