"""The marshmallow schema of a badge class definition: files and the admin form share it.

`parse_definition(data, frameworks)` validates a plain dict and returns a BadgeClass, or raises
DefinitionInvalid whose `problems` name each field (as a dotted path) and what is wrong with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from .errors import DefinitionInvalid, flatten_messages
from .model import (
    PART_KINDS,
    PATHWAYS,
    STATUSES,
    Alignment,
    Artifact,
    BadgeClass,
    Component,
    Criterion,
    Link,
    Part,
    RubricLevel,
)

SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
FILE_TYPES = ("pdf", "docx", "doc", "pptx", "xlsx", "txt", "jpg", "jpeg", "png", "gif", "mp4", "mov", "mp3", "m4a")
DEFAULT_LEVELS = [
    {"name": "Demonstrated", "description": "The evidence fully meets the criterion."},
    {"name": "Progressing", "description": "The evidence partly meets the criterion; revise and resubmit."},
    {"name": "Not yet demonstrated", "description": "The evidence does not yet address the criterion."},
]

def _not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("must not be blank")


def _Text(*, max: int = 4000) -> fields.String:
    """Required text with visible content, at most `max` characters."""
    return fields.String(required=True, validate=[validate.Length(min=1, max=max), _not_blank])


def _url(**kw: Any) -> fields.Url:
    return fields.Url(required=True, schemes={"https", "http"}, require_tld=True, **kw)


class _Strict(Schema):
    class Meta:
        unknown = RAISE  # a misspelt field is an error, not silently ignored


class LinkSchema(_Strict):
    title = _Text(max=300)
    url = _url()
    note = fields.String(load_default="", validate=validate.Length(max=1000))


class ComponentSchema(_Strict):
    name = _Text(max=200)
    description = _Text(max=2000)


class LevelSchema(_Strict):
    name = _Text(max=60)
    description = _Text(max=1000)


class CriterionSchema(_Strict):
    id = fields.String(required=True, validate=validate.Regexp(SLUG, error="use lower-case words joined by hyphens"))
    name = _Text(max=200)
    description = _Text(max=2000)
    levels = fields.Dict(keys=fields.String(), values=fields.String(validate=validate.Length(min=1, max=2000)),
                         required=True)


class ArtifactSchema(_Strict):
    name = _Text(max=200)
    description = _Text(max=2000)
    file_types = fields.List(fields.String(validate=validate.OneOf(FILE_TYPES)), required=True,
                             validate=validate.Length(min=1))
    min_files = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=0, max=20))
    max_files = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1, max=20))

    @validates_schema
    def _counts(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("min_files", 1) > data.get("max_files", 1):
            raise ValidationError("must not exceed max_files", "min_files")


class PartSchema(_Strict):
    id = fields.String(required=True, validate=validate.Regexp(SLUG, error="use lower-case words joined by hyphens"))
    kind = fields.String(required=True, validate=validate.OneOf(list(PART_KINDS)))
    title = _Text(max=200)
    instructions = _Text(max=4000)
    questions = fields.List(_Text(max=1000), load_default=list)
    artifacts = fields.List(fields.Nested(ArtifactSchema), load_default=list)
    word_limit = fields.Integer(load_default=None, allow_none=True, strict=True,
                                validate=validate.Range(min=50, max=10000))
    criteria = fields.List(fields.Nested(CriterionSchema), required=True, validate=validate.Length(min=1))

    @validates_schema
    def _content(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("kind") == "artifacts" and not data.get("artifacts"):
            raise ValidationError("an artifacts part lists at least one artifact", "artifacts")
        if data.get("kind") in ("overview", "reflection") and not data.get("questions"):
            raise ValidationError(f"a {data['kind']} part asks at least one question", "questions")


class DefinitionSchema(_Strict):
    slug = fields.String(required=True, validate=[validate.Length(min=3, max=80),
                                                  validate.Regexp(SLUG, error="use lower-case words joined by hyphens")])
    title = _Text(max=120)
    description = _Text(max=600)
    pathway = fields.String(required=True, validate=validate.OneOf(list(PATHWAYS)))
    category = _Text(max=80)
    alignments = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    competency = _Text(max=1000)
    key_method = fields.Dict(keys=fields.String(), required=True)
    research = fields.List(fields.Nested(LinkSchema), load_default=list)
    resources = fields.List(fields.Nested(LinkSchema), load_default=list)
    rubric_levels = fields.List(fields.Nested(LevelSchema), load_default=lambda: [dict(x) for x in DEFAULT_LEVELS],
                                validate=validate.Length(min=2, max=6))
    passing_level = fields.String(load_default="Demonstrated")
    parts = fields.List(fields.Nested(PartSchema), required=True, validate=validate.Length(min=1, max=12))
    estimated_hours = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=200))
    tags = fields.List(fields.String(validate=validate.Length(min=1, max=40)), load_default=list)
    image = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^[\w.-]+\.(png|jpe?g)$",
                          error="name a PNG or JPEG file beside the definition"))
    status = fields.String(load_default="active", validate=validate.OneOf(STATUSES))
    # Absent: credentials never expire. Set: validUntil is this many calendar months after issuance.
    valid_for_months = fields.Integer(load_default=None, allow_none=True, strict=True,
                                      validate=validate.Range(min=1, max=120))

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        _check_key_method(data.get("key_method"))
        levels = [lvl["name"] for lvl in data.get("rubric_levels") or []]
        if len(set(levels)) != len(levels):
            raise ValidationError("level names must be different", "rubric_levels")
        if levels and data.get("passing_level") not in levels:
            raise ValidationError(f"must be one of the rubric levels {levels}", "passing_level")
        _check_ids(data.get("parts") or [], levels)


def _check_key_method(value: Any) -> None:
    if not isinstance(value, dict) or set(value) - {"summary", "components"} or not isinstance(value.get("summary"), str) \
            or not value["summary"].strip():
        raise ValidationError("needs a summary (text) and components (a list of name and description)", "key_method")
    comps = value.get("components")
    if not isinstance(comps, list) or not comps:
        raise ValidationError({"components": ["list at least one component"]}, "key_method")
    errors = ComponentSchema(many=True).validate(comps)
    if errors:
        raise ValidationError({"components": errors}, "key_method")


def _check_ids(parts: list[dict[str, Any]], levels: list[str]) -> None:
    seen_parts: set[str] = set()
    seen_criteria: set[str] = set()
    for i, part in enumerate(parts):
        if part["id"] in seen_parts:
            raise ValidationError({i: {"id": [f"duplicate part id {part['id']!r}"]}}, "parts")
        seen_parts.add(part["id"])
        for j, crit in enumerate(part["criteria"]):
            where: dict[int, dict[str, dict[int, Any]]] = {i: {"criteria": {j: None}}}
            if crit["id"] in seen_criteria:
                where[i]["criteria"][j] = {"id": [f"duplicate criterion id {crit['id']!r}"]}
                raise ValidationError(where, "parts")
            seen_criteria.add(crit["id"])
            if levels and set(crit["levels"]) != set(levels):
                missing, extra = sorted(set(levels) - set(crit["levels"])), sorted(set(crit["levels"]) - set(levels))
                detail = "; ".join(x for x in (missing and f"missing {missing}", extra and f"unknown {extra}") if x)
                where[i]["criteria"][j] = {"levels": [f"describe each rubric level exactly once ({detail})"]}
                raise ValidationError(where, "parts")


def parse_definition(data: Any, frameworks: Mapping[str, Alignment], *, source: str) -> BadgeClass:
    """Validate a definition (a dict from YAML, JSON or the admin form) into a BadgeClass.

    Raises DefinitionInvalid naming `source` and each bad field.
    """
    if not isinstance(data, dict):
        raise DefinitionInvalid(source, [("(file)", "must be a mapping of fields")])
    try:
        loaded = DefinitionSchema().load(data)
    except ValidationError as exc:
        raise DefinitionInvalid(source, flatten_messages(exc.normalized_messages())) from None
    alignments = []
    for i, code in enumerate(loaded["alignments"]):
        target = frameworks.get(code)
        if target is None:
            raise DefinitionInvalid(source, [(f"alignments.{i}", f"unknown indicator code {code!r}")])
        if target.pathway != loaded["pathway"]:
            raise DefinitionInvalid(source, [(f"alignments.{i}", f"{code} belongs to the other pathway")])
        alignments.append(target)
    return _build(loaded, tuple(alignments), data)


def _build(d: dict[str, Any], alignments: tuple[Alignment, ...], raw: dict[str, Any]) -> BadgeClass:
    levels = tuple(RubricLevel(**lvl) for lvl in d["rubric_levels"])
    order = [lvl.name for lvl in levels]
    parts = tuple(
        Part(id=p["id"], kind=p["kind"], title=p["title"], instructions=p["instructions"],
             questions=tuple(p["questions"]), word_limit=p["word_limit"],
             artifacts=tuple(Artifact(name=a["name"], description=a["description"], file_types=tuple(a["file_types"]),
                                      min_files=a["min_files"], max_files=a["max_files"]) for a in p["artifacts"]),
             criteria=tuple(Criterion(id=c["id"], name=c["name"], description=c["description"],
                                      levels=tuple((name, c["levels"][name]) for name in order))
                            for c in p["criteria"]))
        for p in d["parts"]
    )
    km = d["key_method"]
    return BadgeClass(
        slug=d["slug"], title=d["title"].strip(), description=d["description"].strip(), pathway=d["pathway"],
        category=d["category"].strip(), alignments=alignments, competency=d["competency"].strip(),
        key_method=km["summary"].strip(), components=tuple(Component(**c) for c in km["components"]),
        research=tuple(Link(**x) for x in d["research"]), resources=tuple(Link(**x) for x in d["resources"]),
        parts=parts, rubric_levels=levels, passing_level=d["passing_level"], estimated_hours=d["estimated_hours"],
        tags=tuple(dict.fromkeys(t.strip() for t in d["tags"])), status=d["status"], image=d["image"],
        valid_for_months=d["valid_for_months"], definition=raw,
    )
