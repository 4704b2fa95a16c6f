"""Loading badge class definitions and mapping them to Open Badges 3.0 Achievements."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFINITIONS_DIR = Path(__file__).parent / "definitions"
PATHWAYS = {"team": "TEAM-aligned", "teacher-leader": "Teacher-leader"}
PDP_UNIT = "Professional Development Points (PDPs)"


class BadgeClassError(ValueError):
    """A definition file is invalid; the message names the file and the field."""

    code = "badge_class_invalid"

    def __init__(self, path: Path, field: str, problem: str) -> None:
        self.message = f"{path.name}: {field}: {problem}"
        super().__init__(self.message)


@dataclass(frozen=True)
class Alignment:
    framework: str
    name: str
    code: str
    url: str


@dataclass(frozen=True)
class BadgeClass:
    slug: str
    title: str
    description: str
    pathway: str
    category: str
    competency: str
    key_method: str
    criteria: tuple[str, ...]
    alignments: tuple[Alignment, ...]
    pdp_value: int
    hours: int
    tags: tuple[str, ...]
    version: int


_REQUIRED_TEXT = ("slug", "title", "description", "pathway", "category", "competency", "key_method")


def load_badge_class(path: Path) -> BadgeClass:
    """Parse and check one definition file; raises BadgeClassError naming the field."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BadgeClassError(path, "(file)", f"not readable JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadgeClassError(path, "(file)", "must be a JSON object")
    for name in _REQUIRED_TEXT:
        if not isinstance(data.get(name), str) or not data[name].strip():
            raise BadgeClassError(path, name, "required text is missing")
    if data["pathway"] not in PATHWAYS:
        raise BadgeClassError(path, "pathway", f"must be one of {sorted(PATHWAYS)}")
    for name in ("pdp_value", "hours", "version"):
        if not isinstance(data.get(name), int) or isinstance(data[name], bool) or data[name] < (1 if name == "version" else 0):
            raise BadgeClassError(path, name, "must be a non-negative whole number")
    criteria = data.get("criteria")
    if not isinstance(criteria, list) or not criteria or not all(isinstance(c, str) for c in criteria):
        raise BadgeClassError(path, "criteria", "must be a non-empty list of text")
    try:
        alignments = tuple(Alignment(**a) for a in data.get("alignments", []))
    except TypeError as exc:
        raise BadgeClassError(path, "alignments", f"each needs framework, name, code, url ({exc})") from None
    return BadgeClass(
        slug=data["slug"], title=data["title"], description=data["description"], pathway=data["pathway"],
        category=data["category"], competency=data["competency"], key_method=data["key_method"],
        criteria=tuple(criteria), alignments=alignments, pdp_value=data["pdp_value"], hours=data["hours"],
        tags=tuple(data.get("tags", [])), version=data["version"],
    )


def load_catalog(directory: Path = DEFINITIONS_DIR) -> dict[str, BadgeClass]:
    """All definitions by slug; duplicate slugs are an error."""
    catalog: dict[str, BadgeClass] = {}
    for path in sorted(directory.glob("*.json")):
        badge = load_badge_class(path)
        if badge.slug in catalog:
            raise BadgeClassError(path, "slug", f"duplicate slug {badge.slug!r}")
        catalog[badge.slug] = badge
    return catalog


def criteria_narrative(badge: BadgeClass) -> str:
    """criteria.narrative in Markdown, built from the submission requirements."""
    lines = [f"**Competency:** {badge.competency}", "", f"**Key method:** {badge.key_method}", "",
             "**To earn this micro-credential, submit:**", ""]
    lines += [f"{i}. {item}" for i, item in enumerate(badge.criteria, start=1)]
    return "\n".join(lines)


def to_achievement(badge: BadgeClass, *, base_url: str, creator: dict[str, Any] | None = None) -> dict[str, Any]:
    """The OB 3.0 Achievement for a badge class version."""
    base = base_url.rstrip("/")
    achievement: dict[str, Any] = {
        "id": f"{base}/achievements/{badge.slug}/v/{badge.version}",
        "type": ["Achievement"],
        "achievementType": "MicroCredential",
        "name": badge.title,
        "description": badge.description,
        "criteria": {"narrative": criteria_narrative(badge)},
        "fieldOfStudy": f"{PATHWAYS[badge.pathway]} pathway: {badge.category}",
        "humanCode": badge.slug.upper(),
        "version": str(badge.version),
        "creditsAvailable": float(badge.pdp_value),
        "tag": list(badge.tags),
        "alignment": [
            {"type": ["Alignment"], "targetType": "ext:TEAMIndicator", "targetFramework": a.framework,
             "targetName": a.name, "targetCode": a.code, "targetUrl": a.url}
            for a in badge.alignments
        ],
    }
    if creator:
        achievement["creator"] = creator
    return achievement
