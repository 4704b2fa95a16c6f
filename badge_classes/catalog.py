"""Loading the catalogue directory: definitions (YAML or JSON), alignment frameworks, PDP policy.

A catalogue directory holds `config/frameworks.yaml`, `config/pdp_policy.yaml` and
`definitions/<slug>.yaml` (custom badge images beside them). Loading is all or nothing: every
problem in every file is collected and raised together as CatalogInvalid.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from .errors import BadgeClassError, CatalogInvalid, DefinitionInvalid
from .model import Alignment, BadgeClass
from .pdp import PdpPolicy, parse_policy
from .schema import parse_definition

PACKAGE_CATALOG = Path(__file__).parent
DEFINITION_SUFFIXES = (".yaml", ".yml", ".json")
MAX_IMAGE_BYTES = 2 * 1024 * 1024
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: same result, ~10x faster


@dataclass(frozen=True)
class Catalog:
    """A validated catalogue as files describe it (versions are assigned when synced to the database)."""

    directory: Path
    badge_classes: dict[str, BadgeClass]
    frameworks: dict[str, Alignment]
    policy: PdpPolicy
    sources: dict[str, Path]  # slug -> definition file

    def image_bytes(self, badge: BadgeClass) -> bytes | None:
        """The custom image file's bytes, or None when the badge uses the generated image."""
        return (self.directory / "definitions" / badge.image).read_bytes() if badge.image else None


def read_data_file(path: Path) -> Any:
    """YAML or JSON by suffix; raises DefinitionInvalid when unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
        return json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=_YAML_LOADER)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            detail = f"line {mark.line + 1}, column {mark.column + 1}: {getattr(exc, 'problem', None) or detail}"
        raise DefinitionInvalid(path.name, [("(file)", f"cannot be read: {detail}")]) from None


def load_frameworks(path: Path) -> dict[str, Alignment]:
    """Alignment targets by code from frameworks.yaml."""
    data = read_data_file(path)
    targets: dict[str, Alignment] = {}
    try:
        for fw in data["frameworks"]:
            for t in fw["targets"]:
                targets[t["code"]] = Alignment(code=t["code"], name=t["name"], domain=t.get("domain", ""),
                                               framework=fw["name"], url=fw["url"], target_type=fw["target_type"],
                                               pathway=fw["pathway"])
    except (KeyError, TypeError) as exc:
        raise DefinitionInvalid(path.name, [("frameworks", f"each framework needs name, url, target_type, pathway "
                                                           f"and targets with code and name ({exc})")]) from None
    return targets


def load_catalog(directory: Path | None = None) -> Catalog:
    """Load and validate the whole catalogue; raises CatalogInvalid listing every problem found."""
    directory = Path(directory or PACKAGE_CATALOG)
    errors: list[BadgeClassError] = []
    try:
        frameworks = load_frameworks(directory / "config" / "frameworks.yaml")
    except BadgeClassError as exc:
        raise CatalogInvalid([exc]) from None
    badges: dict[str, BadgeClass] = {}
    sources: dict[str, Path] = {}
    for path in definition_files(directory / "definitions"):
        try:
            badge = load_definition(path, frameworks)
        except BadgeClassError as exc:
            errors.append(exc)
            continue
        if badge.slug in badges:
            errors.append(DefinitionInvalid(path.name, [("slug", f"duplicate slug {badge.slug!r}, "
                                                                 f"also in {sources[badge.slug].name}")]))
            continue
        badges[badge.slug], sources[badge.slug] = badge, path
    policy = None
    try:
        policy_path = directory / "config" / "pdp_policy.yaml"
        known = set(badges) | {p.stem for p in definition_files(directory / "definitions")}
        policy = parse_policy(read_data_file(policy_path), source=policy_path.name, slugs=known)
    except BadgeClassError as exc:
        errors.append(exc)
    if errors or policy is None:
        raise CatalogInvalid(errors)
    return Catalog(directory=directory, badge_classes=badges, frameworks=frameworks, policy=policy, sources=sources)


def definition_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*") if p.suffix in DEFINITION_SUFFIXES and p.is_file())


def load_definition(path: Path, frameworks: dict[str, Alignment]) -> BadgeClass:
    """One definition file, its custom image checked, with its content hash."""
    badge = parse_definition(read_data_file(path), frameworks, source=path.name)
    if path.stem != badge.slug:
        raise DefinitionInvalid(path.name, [("slug", f"must match the file name ({path.stem!r})")])
    image = None
    if badge.image:
        image_path = path.parent / badge.image
        image = image_path.read_bytes() if image_path.is_file() else None
        if image is None:
            raise DefinitionInvalid(path.name, [("image", f"{badge.image} is not beside the definition")])
        check_image(image, source=path.name)
    return with_hash(badge, image)


def check_image(data: bytes, *, source: str) -> str:
    """A custom badge image must be a real PNG or JPEG of sensible size; returns its format."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_IMAGE_BYTES:
        raise DefinitionInvalid(source, [("image", "is larger than 2 MB")])
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.verify()
            fmt, size = img.format, img.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise DefinitionInvalid(source, [("image", "is not a PNG or JPEG image")]) from None
    if fmt not in ("PNG", "JPEG"):
        raise DefinitionInvalid(source, [("image", f"is a {fmt} image; use PNG or JPEG")])
    if min(size) < 128 or max(size) > 4096:
        raise DefinitionInvalid(source, [("image", f"is {size[0]}x{size[1]}; use 128 to 4096 pixels a side")])
    return fmt


def canonical_definition(badge: BadgeClass) -> dict[str, Any]:
    """The definition as plain data in one fixed shape: what files, the form and the database share."""
    d: dict[str, Any] = {
        "slug": badge.slug, "title": badge.title, "description": badge.description, "pathway": badge.pathway,
        "category": badge.category, "alignments": [a.code for a in badge.alignments], "competency": badge.competency,
        "key_method": {"summary": badge.key_method,
                       "components": [{"name": c.name, "description": c.description} for c in badge.components]},
        "research": [_link(x) for x in badge.research], "resources": [_link(x) for x in badge.resources],
        "rubric_levels": [{"name": lvl.name, "description": lvl.description} for lvl in badge.rubric_levels],
        "passing_level": badge.passing_level,
        "parts": [_part(p) for p in badge.parts],
        "estimated_hours": badge.estimated_hours, "tags": list(badge.tags), "status": badge.status,
    }
    if badge.image:
        d["image"] = badge.image
    if badge.valid_for_months is not None:  # only when set: classes without it keep their content hash
        d["valid_for_months"] = badge.valid_for_months
    return d


def content_hash(badge: BadgeClass, image: bytes | None = None) -> str:
    """SHA-256 of the content (status excluded: retiring is not a new version), image bytes included."""
    content = {k: v for k, v in canonical_definition(badge).items() if k != "status"}
    if image is not None:
        content["image_sha256"] = hashlib.sha256(image).hexdigest()
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def with_hash(badge: BadgeClass, image: bytes | None = None) -> BadgeClass:
    return replace(badge, content_hash=content_hash(badge, image))


def _link(link: Any) -> dict[str, str]:
    return {"title": link.title, "url": link.url, **({"note": link.note} if link.note else {})}


def _part(p: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"id": p.id, "kind": p.kind, "title": p.title, "instructions": p.instructions}
    if p.questions:
        d["questions"] = list(p.questions)
    if p.artifacts:
        d["artifacts"] = [{"name": a.name, "description": a.description, "file_types": list(a.file_types),
                           "min_files": a.min_files, "max_files": a.max_files} for a in p.artifacts]
    if p.word_limit:
        d["word_limit"] = p.word_limit
    d["criteria"] = [{"id": c.id, "name": c.name, "description": c.description, "levels": dict(c.levels)}
                     for c in p.criteria]
    return d
