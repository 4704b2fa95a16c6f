"""The catalogue as a library (no Flask, no database): shipped definitions, how a broken file is
reported, the dated PDP policy, and content hashes.

Generated badge images are tested in test_badge_images.py; here only a custom `image:` file counts.
"""

from __future__ import annotations

import io
import json
import shutil
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image

from badge_classes import (
    BadgeClass,
    Catalog,
    CatalogInvalid,
    DefinitionInvalid,
    PdpPolicy,
    content_hash,
    load_catalog,
    parse_definition,
    to_achievement,
)
from badge_classes.catalog import PACKAGE_CATALOG
from badge_classes.pdp import parse_policy
from verifier.canonicalization import canonicalize
from verifier.document_loader import OB_V3, VC_V2
from verifier.schema import schema_problems

BASE_URL = "https://badges.example.gov"
TODAY = date(2024, 9, 1)
GOOD = "questioning-higher-order"
OTHER = "thinking-creative"
YEAR_ONE_CATEGORIES = ("Questioning", "Thinking", "Problem Solving")
YEAR_ONE_INDICATORS = {"TEAM-I-QU", "TEAM-I-TH", "TEAM-I-PS"}
ALIGNMENT_FIELDS = ("targetFramework", "targetName", "targetCode", "targetUrl", "targetType")

Data = dict[str, Any]


@pytest.fixture(scope="module")
def shipped() -> Catalog:
    return load_catalog()


# ----- helpers -----

def minimal_credential(achievement: Data) -> Data:
    """The smallest OpenBadgeCredential (VC 2.0) that embeds an Achievement."""
    return {
        "@context": [VC_V2, OB_V3],
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "issuer": {"id": "did:example:issuer", "type": ["Profile"], "name": "Department of Education"},
        "validFrom": "2024-09-01T00:00:00Z",
        "credentialSubject": {"type": ["AchievementSubject"], "achievement": achievement},
    }


def catalogue_dir(tmp_path: Path, *slugs: str) -> Path:
    """A catalogue directory holding the shipped config and the named definitions (default: one)."""
    root = tmp_path / "catalog"
    shutil.copytree(PACKAGE_CATALOG / "config", root / "config")
    (root / "definitions").mkdir()
    for slug in slugs or (GOOD,):
        shutil.copy(PACKAGE_CATALOG / "definitions" / f"{slug}.yaml", root / "definitions")
    return root


def read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def write_yaml(path: Path, data: Any) -> None:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def edit_definition(root: Path, change: Callable[[Data], object], slug: str = GOOD) -> None:
    path = root / "definitions" / f"{slug}.yaml"
    data = read_yaml(path)
    change(data)
    write_yaml(path, data)


def edit_policy(root: Path, change: Callable[[Data], object]) -> None:
    path = root / "config" / "pdp_policy.yaml"
    data = read_yaml(path)
    change(data)
    write_yaml(path, data)


def png_bytes(colour: tuple[int, int, int], size: int = 256) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(out, format="PNG")
    return out.getvalue()


def assert_reported(exc: CatalogInvalid, file: str, field: str) -> None:
    """The message names the file and the field, and so does one structured error."""
    assert file in exc.message and field in exc.message, exc.message
    assert any(isinstance(e, DefinitionInvalid) and e.source == file and any(f == field for f, _ in e.problems)
               for e in exc.errors), [(getattr(e, "source", None), getattr(e, "problems", None)) for e in exc.errors]


# ----- the shipped catalogue -----

def test_every_shipped_definition_loads(shipped: Catalog) -> None:
    files = sorted(p.name for p in (PACKAGE_CATALOG / "definitions").iterdir()
                   if p.suffix in (".yaml", ".yml", ".json"))
    assert sorted(path.name for path in shipped.sources.values()) == files
    for slug, badge in shipped.badge_classes.items():
        assert badge.slug == slug == shipped.sources[slug].stem
        assert badge.status == "active"
        assert badge.content_hash.startswith("sha256:") and len(badge.content_hash) == len("sha256:") + 64


def test_year_one_team_classes_are_fourteen_in_questioning_thinking_and_problem_solving(shipped: Catalog) -> None:
    team = [b for b in shipped.badge_classes.values() if b.pathway == "team"]
    year_one = [b for b in team if b.category in YEAR_ONE_CATEGORIES]
    assert len(year_one) == 14
    for category in YEAR_ONE_CATEGORIES:
        assert any(b.category == category for b in year_one), category
    for badge in year_one:  # each is aligned to the indicator of its category
        assert {a.code for a in badge.alignments} & YEAR_ONE_INDICATORS, badge.slug


def test_further_team_classes_cover_at_least_four_other_indicators(shipped: Catalog) -> None:
    further = [b for b in shipped.badge_classes.values()
               if b.pathway == "team" and b.category not in YEAR_ONE_CATEGORIES]
    covered = {a.code for b in further for a in b.alignments} - YEAR_ONE_INDICATORS
    assert len(covered) >= 4, covered
    assert all(shipped.frameworks[code].pathway == "team" for code in covered)


def test_at_least_five_teacher_leader_classes_aligned_to_the_standards(shipped: Catalog) -> None:
    leaders = [b for b in shipped.badge_classes.values() if b.pathway == "teacher-leader"]
    assert len(leaders) >= 5
    for badge in leaders:
        assert all(a.code.startswith("TLMS-") and a.pathway == "teacher-leader" for a in badge.alignments), badge.slug


@pytest.mark.parametrize("slug", sorted(load_catalog().badge_classes))
def test_each_shipped_class_is_a_schema_valid_achievement_that_canonicalizes_in_safe_mode(
        shipped: Catalog, slug: str) -> None:
    badge = shipped.badge_classes[slug]
    pdp = shipped.policy.value_on(slug, badge.pathway, TODAY)
    achievement = to_achievement(badge, base_url=BASE_URL, pdp=pdp)
    credential = minimal_credential(achievement)

    assert schema_problems(credential) == []
    canonicalize(credential)  # safe mode: raises if any term would be dropped

    assert achievement["id"] == f"{BASE_URL}/achievements/{slug}/v/{badge.version}"
    assert achievement["achievementType"] == "MicroCredential"
    assert achievement["humanCode"] == slug.upper()
    assert achievement["version"] == str(badge.version)
    assert achievement["tag"] == list(badge.tags) and achievement["tag"]
    assert achievement["image"]["id"].startswith(achievement["id"] + "/")
    assert pdp is not None and achievement["creditsAvailable"] == pdp.value == 6

    assert [a["targetCode"] for a in achievement["alignment"]] == [a.code for a in badge.alignments]
    for alignment in achievement["alignment"]:
        assert all(alignment.get(name) for name in ALIGNMENT_FIELDS), alignment

    per_criterion = [r for r in achievement["resultDescription"] if r["resultType"] == "RubricCriterionLevel"]
    assert [r["name"] for r in per_criterion] == [c.name for c in badge.criteria]
    level_names = [lvl.name for lvl in badge.rubric_levels]
    for description in per_criterion:
        levels = description["rubricCriterionLevel"]
        assert [lvl["name"] for lvl in levels] == level_names
        assert all(lvl["type"] == ["RubricCriterionLevel"] for lvl in levels)
        [passing] = [lvl for lvl in levels if lvl["name"] == badge.passing_level]
        assert description["requiredLevel"] == passing["id"]


def test_no_pdp_value_means_no_credits_available(shipped: Catalog) -> None:
    badge = shipped.badge_classes[GOOD]
    pdp = shipped.policy.value_on(GOOD, badge.pathway, date(2016, 1, 1))
    assert pdp is None
    achievement = to_achievement(badge, base_url=BASE_URL, pdp=pdp)
    assert "creditsAvailable" not in achievement
    assert schema_problems(minimal_credential(achievement)) == []


# ----- broken catalogues: every problem names the file and the field -----

def _image_not_an_image(root: Path) -> None:
    (root / "definitions" / "x.png").write_text("this is text, not a PNG", encoding="utf-8")
    edit_definition(root, lambda d: d.update(image="x.png"))


def _duplicate_slug(root: Path) -> None:
    data = read_yaml(root / "definitions" / f"{GOOD}.yaml")
    (root / "definitions" / f"{GOOD}.json").write_text(json.dumps(data), encoding="utf-8")


def _file_name_not_slug(root: Path) -> None:
    (root / "definitions" / f"{GOOD}.yaml").rename(root / "definitions" / "questions.yaml")


def _set(**fields: Any) -> Callable[[Path], None]:
    return lambda root: edit_definition(root, lambda d: d.update(fields))


def _in_part(index: int, change: Callable[[Data], object]) -> Callable[[Path], None]:
    return lambda root: edit_definition(root, lambda d: change(d["parts"][index]))


BROKEN = {
    # id: (break the catalogue, file named, field named)
    "missing required field": (lambda root: edit_definition(root, lambda d: d.pop("title")),
                               f"{GOOD}.yaml", "title"),
    "estimated_hours not a number": (_set(estimated_hours="ten"), f"{GOOD}.yaml", "estimated_hours"),
    "tags a string": (_set(tags="questioning"), f"{GOOD}.yaml", "tags"),
    "unknown pathway": (_set(pathway="principal"), f"{GOOD}.yaml", "pathway"),
    "unknown indicator code": (_set(alignments=["TEAM-I-QU", "TEAM-I-XX"]), f"{GOOD}.yaml", "alignments.1"),
    "indicator of the other pathway": (_set(alignments=["TLMS-1"]), f"{GOOD}.yaml", "alignments.0"),
    "misspelt field": (lambda root: edit_definition(root, lambda d: d.update(catgory=d.pop("category"))),
                       f"{GOOD}.yaml", "catgory"),
    "duplicate slug in two files": (_duplicate_slug, f"{GOOD}.yaml", "slug"),
    "file name not the slug": (_file_name_not_slug, "questions.yaml", "slug"),
    "duplicate criterion id": (_in_part(2, lambda p: p["criteria"][0].update(id="context")),
                               f"{GOOD}.yaml", "parts.2.criteria.0.id"),
    "criterion levels not the rubric levels": (_in_part(0, lambda p: p["criteria"][0]["levels"].pop("Progressing")),
                                               f"{GOOD}.yaml", "parts.0.criteria.0.levels"),
    "criterion level not in the rubric": (_in_part(0, lambda p: p["criteria"][0]["levels"].update(Excellent="x")),
                                          f"{GOOD}.yaml", "parts.0.criteria.0.levels"),
    "passing level not a rubric level": (_set(passing_level="Excellent"), f"{GOOD}.yaml", "passing_level"),
    "artifacts part without artifacts": (_in_part(1, lambda p: p.update(artifacts=[])),
                                         f"{GOOD}.yaml", "parts.1.artifacts"),
    "min_files above max_files": (_in_part(1, lambda p: p["artifacts"][0].update(min_files=3, max_files=2)),
                                  f"{GOOD}.yaml", "parts.1.artifacts.0.min_files"),
    "invalid YAML": (lambda root: (root / "definitions" / f"{GOOD}.yaml").write_text(
        "slug: [questioning-higher-order\ntitle: oops\n", encoding="utf-8"), f"{GOOD}.yaml", "(file)"),
    "negative PDP value": (lambda root: edit_policy(root, lambda p: p["rules"][1].update(value=-6)),
                           "pdp_policy.yaml", "rules.1.value"),
    "PDP rule for an unknown badge class": (
        lambda root: edit_policy(root, lambda p: p["rules"].append(
            {"effective_from": date(2020, 1, 1), "value": 3, "badge_class": "no-such-class"})),
        "pdp_policy.yaml", "rules.2.badge_class"),
    "image that is not an image": (_image_not_an_image, f"{GOOD}.yaml", "image"),
    "image that is missing": (_set(image="missing.png"), f"{GOOD}.yaml", "image"),
}


@pytest.mark.parametrize("breakage", list(BROKEN))
def test_broken_catalogue_names_the_file_and_the_field(tmp_path: Path, breakage: str) -> None:
    break_it, file, field = BROKEN[breakage]
    root = catalogue_dir(tmp_path)
    break_it(root)
    with pytest.raises(CatalogInvalid) as caught:
        load_catalog(root)
    assert_reported(caught.value, file, field)
    assert "Traceback" not in caught.value.message


def test_duplicate_slug_names_both_files(tmp_path: Path) -> None:
    root = catalogue_dir(tmp_path)
    _duplicate_slug(root)
    with pytest.raises(CatalogInvalid) as caught:
        load_catalog(root)
    assert f"{GOOD}.json" in caught.value.message and f"{GOOD}.yaml" in caught.value.message


def test_every_broken_file_is_reported_at_once_and_nothing_is_loaded(tmp_path: Path) -> None:
    root = catalogue_dir(tmp_path, GOOD, OTHER, "thinking-analytical")
    edit_definition(root, lambda d: d.pop("title"))
    edit_definition(root, lambda d: d.update(estimated_hours="ten"), slug=OTHER)
    edit_policy(root, lambda p: p["rules"][0].update(value=-1))
    with pytest.raises(CatalogInvalid) as caught:
        load_catalog(root)  # thinking-analytical is valid, but no partial catalogue comes back
    errors = caught.value.errors
    assert sorted(e.source for e in errors if isinstance(e, DefinitionInvalid)) == sorted(
        [f"{GOOD}.yaml", f"{OTHER}.yaml", "pdp_policy.yaml"])
    assert_reported(caught.value, f"{GOOD}.yaml", "title")
    assert_reported(caught.value, f"{OTHER}.yaml", "estimated_hours")
    assert_reported(caught.value, "pdp_policy.yaml", "rules.0.value")


def test_a_definition_that_is_not_a_mapping_is_invalid(shipped: Catalog) -> None:
    with pytest.raises(DefinitionInvalid) as caught:
        parse_definition(["slug", GOOD], shipped.frameworks, source="form")
    assert caught.value.source == "form" and caught.value.problems[0][0] == "(file)"


# ----- PDP values are dated policy -----

def policy(*rules: Data) -> PdpPolicy:
    return parse_policy({"unit": "PDPs", "rules": list(rules)}, source="pdp_policy.yaml")


def value(pol: PdpPolicy, on: date, slug: str = GOOD, pathway: str = "team") -> float | None:
    found = pol.value_on(slug, pathway, on)
    return None if found is None else found.value


@pytest.mark.parametrize(("on", "expected"), [
    (date(2017, 6, 30), None),  # before the first rule: no PDPs
    (date(2017, 7, 1), 5),  # the pilot
    (date(2019, 6, 30), 5),
    (date(2019, 7, 1), 6),  # the state rule
    (date(2030, 1, 1), 6),
    (datetime(2019, 7, 1, 0, 0, tzinfo=UTC), 6),
    (datetime(2019, 6, 30, 23, 59, 59, tzinfo=UTC), 5),
])
def test_shipped_policy_value_on_a_date(shipped: Catalog, on: date, expected: float | None) -> None:
    for slug, badge in shipped.badge_classes.items():
        assert value(shipped.policy, on, slug, badge.pathway) == expected, slug


def test_shipped_policy_says_which_rule_and_unit() -> None:
    found = load_catalog().policy.value_on(GOOD, "team", date(2019, 7, 1))
    assert found is not None
    assert found.rule.effective_from == date(2019, 7, 1) and found.unit.startswith("Professional Development Points")


def test_the_most_specific_rule_wins_on_the_same_date() -> None:
    pol = policy({"effective_from": "2019-07-01", "value": 6},
                 {"effective_from": "2019-07-01", "value": 8, "pathway": "teacher-leader"},
                 {"effective_from": "2019-07-01", "value": 10, "badge_class": "leader-collaborative-plc"})
    assert value(pol, date(2019, 7, 1), "leader-collaborative-plc", "teacher-leader") == 10
    assert value(pol, date(2019, 7, 1), "leader-peer-coaching-cycle", "teacher-leader") == 8
    assert value(pol, date(2019, 7, 1), GOOD, "team") == 6


def test_a_later_general_rule_does_not_override_an_earlier_specific_one() -> None:
    pol = policy({"effective_from": "2017-07-01", "value": 5},
                 {"effective_from": "2018-01-01", "value": 4, "badge_class": GOOD},
                 {"effective_from": "2018-01-01", "value": 9, "pathway": "team"},
                 {"effective_from": "2020-01-01", "value": 7})
    assert value(pol, date(2021, 1, 1)) == 4
    assert value(pol, date(2021, 1, 1), OTHER) == 9
    assert value(pol, date(2021, 1, 1), "leader-collaborative-plc", "teacher-leader") == 7


def test_a_specific_rule_applies_only_from_its_effective_date() -> None:
    pol = policy({"effective_from": "2019-07-01", "value": 6},
                 {"effective_from": "2025-01-01", "value": 9, "badge_class": GOOD},
                 {"effective_from": "2026-01-01", "value": 3, "pathway": "team"})
    assert value(pol, date(2024, 12, 31)) == 6
    assert value(pol, date(2025, 1, 1)) == 9
    assert value(pol, date(2025, 12, 31), OTHER) == 6
    assert value(pol, date(2026, 1, 1), OTHER) == 3
    assert value(pol, date(2026, 1, 1)) == 9  # the class's own rule still wins over the later pathway rule
    assert value(pol, date(2019, 6, 30)) is None


def test_two_rules_for_the_same_scope_and_date_are_refused() -> None:
    with pytest.raises(DefinitionInvalid) as caught:
        policy({"effective_from": "2019-07-01", "value": 6}, {"effective_from": "2019-07-01", "value": 7})
    assert caught.value.source == "pdp_policy.yaml" and caught.value.problems[0][0] == "rules.1"


# ----- content hashes -----

def test_content_hash_is_stable_across_reloads(shipped: Catalog) -> None:
    again = load_catalog()
    assert {s: b.content_hash for s, b in again.badge_classes.items()} == \
           {s: b.content_hash for s, b in shipped.badge_classes.items()}
    for badge in shipped.badge_classes.values():
        assert content_hash(badge) == badge.content_hash  # no custom images in the shipped catalogue


def test_yaml_and_equivalent_json_give_the_same_hash(tmp_path: Path, shipped: Catalog) -> None:
    root = catalogue_dir(tmp_path)
    yaml_path = root / "definitions" / f"{GOOD}.yaml"
    (root / "definitions" / f"{GOOD}.json").write_text(json.dumps(read_yaml(yaml_path), indent=1), encoding="utf-8")
    yaml_path.unlink()
    from_json = load_catalog(root).badge_classes[GOOD]
    assert from_json.content_hash == shipped.badge_classes[GOOD].content_hash
    assert from_json == shipped.badge_classes[GOOD]


def test_status_change_keeps_the_hash(tmp_path: Path, shipped: Catalog) -> None:
    root = catalogue_dir(tmp_path)
    edit_definition(root, lambda d: d.update(status="retired"))
    retired = load_catalog(root).badge_classes[GOOD]
    assert retired.status == "retired"
    assert retired.content_hash == shipped.badge_classes[GOOD].content_hash


def test_default_rubric_levels_written_out_give_the_same_hash(tmp_path: Path, shipped: Catalog) -> None:
    root = catalogue_dir(tmp_path)
    # The shipped levels and passing level are the defaults: leaving them out is the same content.
    edit_definition(root, lambda d: (d.pop("rubric_levels"), d.pop("passing_level")))
    assert load_catalog(root).badge_classes[GOOD].content_hash == shipped.badge_classes[GOOD].content_hash


CONTENT_CHANGES: dict[str, Callable[[Data], object]] = {
    "title": lambda d: d.update(title=d["title"] + "!"),
    "description": lambda d: d.update(description=d["description"] + " More."),
    "alignment order": lambda d: d.update(alignments=list(reversed(d["alignments"]))),
    "estimated hours": lambda d: d.update(estimated_hours=d["estimated_hours"] + 1),
    "a tag": lambda d: d.update(tags=d["tags"] + ["new tag"]),
    "a research link": lambda d: d["research"].append({"title": "A study", "url": "https://example.org/study"}),
    "a criterion descriptor": lambda d: d["parts"][0]["criteria"][0]["levels"].update(Demonstrated="Changed."),
    "an artifact count": lambda d: d["parts"][1]["artifacts"][1].update(max_files=3),
    "a question": lambda d: d["parts"][2]["questions"].append("What else?"),
    "a key method component": lambda d: d["key_method"]["components"][0].update(name="Renamed"),
    "the passing level": lambda d: d.update(passing_level="Progressing"),
}


@pytest.mark.parametrize("change", list(CONTENT_CHANGES))
def test_any_content_change_changes_the_hash(tmp_path: Path, shipped: Catalog, change: str) -> None:
    root = catalogue_dir(tmp_path)
    edit_definition(root, CONTENT_CHANGES[change])
    assert load_catalog(root).badge_classes[GOOD].content_hash != shipped.badge_classes[GOOD].content_hash


def test_custom_image_bytes_change_the_hash(tmp_path: Path, shipped: Catalog) -> None:
    root = catalogue_dir(tmp_path)
    edit_definition(root, lambda d: d.update(image="badge.png"))
    image = root / "definitions" / "badge.png"
    hashes = []
    for colour in ((10, 80, 160), (10, 80, 161)):
        image.write_bytes(png_bytes(colour))
        catalog = load_catalog(root)
        badge: BadgeClass = catalog.badge_classes[GOOD]
        assert catalog.image_bytes(badge) == image.read_bytes()
        assert badge.content_hash == content_hash(badge, image.read_bytes())
        hashes.append(badge.content_hash)
    assert len(set(hashes)) == 2
    assert shipped.badge_classes[GOOD].content_hash not in hashes


def test_a_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    from badge_classes.catalog import read_data_file
    from badge_classes.errors import DefinitionInvalid as Invalid

    path = tmp_path / "broken.yaml"
    path.write_text("slug: broken\ntitle: [unclosed\n", encoding="utf-8")
    with pytest.raises(Invalid) as excinfo:
        read_data_file(path)
    assert "broken.yaml" in excinfo.value.message and "line 3" in excinfo.value.message
