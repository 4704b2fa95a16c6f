"""Mapping a badge class version to an Open Badges 3.0 Achievement (OB 3.0 §B.1.1 Achievement)."""

from __future__ import annotations

from typing import Any

from .model import BadgeClass, Criterion
from .pdp import PdpValue

OVERALL_RESULT = ("Earned", "Not yet earned")


def achievement_id(base_url: str, slug: str, version: int) -> str:
    """Each version has its own stable URL, so an old credential keeps pointing at what it was earned under."""
    return f"{base_url.rstrip('/')}/achievements/{slug}/v/{version}"


def image_url(base_url: str, slug: str, version: int, fmt: str = "png") -> str:
    return f"{achievement_id(base_url, slug, version)}/image.{fmt}"


def criteria_narrative(badge: BadgeClass, pdp: PdpValue | None = None) -> str:
    """criteria.narrative in Markdown, built from the competency, key method and submission parts."""
    lines = [f"**Competency.** {badge.competency}", "", f"**Key method.** {badge.key_method}", ""]
    lines += [f"- *{c.name}*: {c.description}" for c in badge.components]
    lines += ["", "## Submission requirements", ""]
    for n, part in enumerate(badge.parts, start=1):
        lines += [f"### Part {n}: {part.title}", "", part.instructions, ""]
        lines += [f"{i}. {q}" for i, q in enumerate(part.questions, start=1)]
        for art in part.artifacts:
            count = f"{art.min_files}" if art.min_files == art.max_files else f"{art.min_files}-{art.max_files}"
            lines.append(f"- **{art.name}** ({count} file(s): {', '.join(art.file_types)}): {art.description}")
        lines += ["", "Evaluation criteria:", ""]
        lines += [f"- **{c.name}**: {c.description}" for c in part.criteria]
        lines.append("")
    lines.append(f"**Result.** Earned when every criterion is rated *{badge.passing_level}*; otherwise "
                 "*not yet earned*, with feedback, and the teacher may revise and resubmit.")
    if pdp is not None:
        lines += ["", f"**Credit.** {_number(pdp.value)} {pdp.unit} toward license renewal."]
    if badge.valid_for_months:
        lines += ["", f"**Validity.** The credential is valid for {badge.valid_for_months} months from the day it "
                      "is earned; it is renewed by submitting the evidence again."]
    return "\n".join(lines).strip() + "\n"


def result_descriptions(badge: BadgeClass, achievement: str) -> list[dict[str, Any]]:
    """One ResultDescription per criterion with its RubricCriterionLevels, and the overall result."""
    out = [_criterion_description(badge, crit, achievement) for crit in badge.criteria]
    out.append({
        "id": f"{achievement}#result", "type": ["ResultDescription"], "name": "Overall result",
        "resultType": "Result", "allowedValue": list(OVERALL_RESULT), "requiredValue": OVERALL_RESULT[0],
    })
    return out


def _criterion_description(badge: BadgeClass, crit: Criterion, achievement: str) -> dict[str, Any]:
    levels = []
    for rank, (level, descriptor) in enumerate(crit.levels):
        levels.append({
            "id": f"{achievement}#criterion-{crit.id}-level-{rank + 1}", "type": ["RubricCriterionLevel"],
            "name": level, "description": descriptor, "level": level,
            "points": str(len(crit.levels) - rank - 1),
        })
    required = next(lvl["id"] for lvl in levels if lvl["name"] == badge.passing_level)
    return {"id": f"{achievement}#criterion-{crit.id}", "type": ["ResultDescription"],
            "name": crit.name, "resultType": "RubricCriterionLevel",
            "rubricCriterionLevel": levels, "requiredLevel": required}


def to_achievement(badge: BadgeClass, *, base_url: str, pdp: PdpValue | None = None,
                   creator: dict[str, Any] | None = None) -> dict[str, Any]:
    """The OB 3.0 Achievement for a badge class version; `pdp` is the value in force when earned or served."""
    ident = achievement_id(base_url, badge.slug, badge.version)
    achievement: dict[str, Any] = {
        "id": ident,
        "type": ["Achievement"],
        "achievementType": "MicroCredential",
        "name": badge.title,
        "description": badge.description,
        "criteria": {"id": f"{ident}#criteria", "narrative": criteria_narrative(badge, pdp)},
        "image": {"id": image_url(base_url, badge.slug, badge.version), "type": "Image",
                  "caption": f"{badge.title} ({badge.pathway_name} pathway, {badge.category})"},
        "fieldOfStudy": f"{badge.pathway_name} pathway: {badge.category}",
        "humanCode": badge.human_code,
        "version": str(badge.version),
        "inLanguage": "en",
        "tag": list(badge.tags),
        "alignment": [
            {"type": ["Alignment"], "targetType": a.target_type, "targetFramework": a.framework,
             "targetName": a.name, "targetCode": a.code, "targetUrl": a.url,
             "targetDescription": f"{a.domain}: {a.name}" if a.domain else a.name}
            for a in badge.alignments
        ],
        "resultDescription": result_descriptions(badge, ident),
    }
    if pdp is not None:
        achievement["creditsAvailable"] = float(pdp.value)
    if creator:
        achievement["creator"] = creator
    return achievement


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
