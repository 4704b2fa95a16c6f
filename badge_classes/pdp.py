"""Professional development points as dated policy (config/pdp_policy.yaml), never a constant.

The value of a badge class on a date is the most specific rule in force that day: a rule for the
badge class, then for its pathway, then for all; among equals, the latest effective date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from .errors import DefinitionInvalid, flatten_messages
from .model import PATHWAYS


@dataclass(frozen=True)
class PdpRule:
    effective_from: date
    value: float
    badge_class: str | None = None
    pathway: str | None = None
    note: str = ""

    def applies(self, slug: str, pathway: str, on: date) -> bool:
        return (self.effective_from <= on and self.badge_class in (None, slug)
                and self.pathway in (None, pathway))

    @property
    def specificity(self) -> int:
        return 2 if self.badge_class else 1 if self.pathway else 0


@dataclass(frozen=True)
class PdpValue:
    """A value and the rule it came from (so pages can say why)."""

    value: float
    unit: str
    rule: PdpRule


@dataclass(frozen=True)
class PdpPolicy:
    unit: str
    rules: tuple[PdpRule, ...]

    def value_on(self, slug: str, pathway: str, on: date | datetime) -> PdpValue | None:
        """The PDP value in force on `on` (None before the first rule: the class earns no PDPs then)."""
        day = on.date() if isinstance(on, datetime) else on
        candidates = [r for r in self.rules if r.applies(slug, pathway, day)]
        if not candidates:
            return None
        rule = max(candidates, key=lambda r: (r.specificity, r.effective_from))
        return PdpValue(value=rule.value, unit=self.unit, rule=rule)


class _RuleSchema(Schema):
    class Meta:
        unknown = RAISE

    effective_from = fields.Date(required=True)
    value = fields.Float(required=True, validate=validate.Range(min=0, max=100, error="must be between 0 and 100"))
    badge_class = fields.String(load_default=None)
    pathway = fields.String(load_default=None, validate=validate.OneOf(list(PATHWAYS)))
    note = fields.String(load_default="")


class _PolicySchema(Schema):
    class Meta:
        unknown = RAISE

    unit = fields.String(required=True, validate=validate.Length(min=1, max=120))
    rules = fields.List(fields.Nested(_RuleSchema), required=True, validate=validate.Length(min=1))

    @validates_schema
    def _no_ties(self, data: dict[str, Any], **_: Any) -> None:
        seen = set()
        for i, rule in enumerate(data.get("rules", [])):
            key = (rule["effective_from"], rule["badge_class"], rule["pathway"])
            if key in seen:
                raise ValidationError({i: ["two rules for the same scope take effect on the same date"]}, "rules")
            seen.add(key)


def parse_policy(data: Any, *, source: str, slugs: set[str] | None = None) -> PdpPolicy:
    """Validate the policy; raises DefinitionInvalid naming the field. `slugs` checks badge_class names."""
    try:
        loaded = _PolicySchema().load(data if isinstance(data, dict) else {})
    except ValidationError as exc:
        raise DefinitionInvalid(source, flatten_messages(exc.normalized_messages())) from None
    rules = tuple(PdpRule(**r) for r in loaded["rules"])
    for i, rule in enumerate(rules):
        if slugs is not None and rule.badge_class and rule.badge_class not in slugs:
            raise DefinitionInvalid(source, [(f"rules.{i}.badge_class", f"no badge class {rule.badge_class!r}")])
    return PdpPolicy(unit=loaded["unit"], rules=rules)
