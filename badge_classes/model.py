"""What a badge class holds, as frozen dataclasses built only by the validated loader (schema.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PATHWAYS = {"team": "TEAM-aligned", "teacher-leader": "Teacher-leader"}
PART_KINDS = {"overview": "Overview questions", "artifacts": "Work examples and artifacts",
              "reflection": "Reflection questions"}
STATUSES = ("active", "retired")


@dataclass(frozen=True)
class Alignment:
    """A TEAM indicator or teacher-leader standard, resolved from config/frameworks.yaml."""

    code: str
    name: str
    framework: str
    url: str
    target_type: str
    domain: str
    pathway: str


@dataclass(frozen=True)
class Link:
    title: str
    url: str
    note: str = ""


@dataclass(frozen=True)
class Component:
    """One component of the key method."""

    name: str
    description: str


@dataclass(frozen=True)
class RubricLevel:
    """A level of the badge class's rubric scale, highest first."""

    name: str
    description: str


@dataclass(frozen=True)
class Criterion:
    """An evaluation criterion of a part, with a descriptor for each rubric level (by level name)."""

    id: str
    name: str
    description: str
    levels: tuple[tuple[str, str], ...]

    def descriptor(self, level: str) -> str:
        return dict(self.levels)[level]


@dataclass(frozen=True)
class Artifact:
    """A work example the teacher uploads: which file types, how many."""

    name: str
    description: str
    file_types: tuple[str, ...]
    min_files: int
    max_files: int


@dataclass(frozen=True)
class Part:
    """A submission part: overview questions, artifacts, or reflection questions."""

    id: str
    kind: str
    title: str
    instructions: str
    questions: tuple[str, ...]
    artifacts: tuple[Artifact, ...]
    word_limit: int | None
    criteria: tuple[Criterion, ...]


@dataclass(frozen=True)
class BadgeClass:
    """One version of a micro-credential. `version` and `content_hash` come from the catalogue history."""

    slug: str
    title: str
    description: str
    pathway: str
    category: str
    alignments: tuple[Alignment, ...]
    competency: str
    key_method: str
    components: tuple[Component, ...]
    research: tuple[Link, ...]
    resources: tuple[Link, ...]
    parts: tuple[Part, ...]
    rubric_levels: tuple[RubricLevel, ...]
    passing_level: str
    estimated_hours: int
    tags: tuple[str, ...]
    status: str = "active"
    image: str | None = None  # file name of a custom image beside the definition, else generated
    valid_for_months: int | None = None  # credentials expire this many calendar months after issuance
    version: int = 1
    content_hash: str = ""
    definition: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def pathway_name(self) -> str:
        return PATHWAYS[self.pathway]

    @property
    def human_code(self) -> str:
        return self.slug.upper()

    @property
    def criteria(self) -> tuple[Criterion, ...]:
        return tuple(c for part in self.parts for c in part.criteria)

    def criterion(self, criterion_id: str) -> Criterion:
        """The criterion with this id; KeyError if none."""
        for crit in self.criteria:
            if crit.id == criterion_id:
                return crit
        raise KeyError(criterion_id)

    def passes(self, levels: dict[str, str]) -> bool:
        """Earned when every criterion is at the passing level or above (levels are highest first)."""
        order = [lvl.name for lvl in self.rubric_levels]
        bar = order.index(self.passing_level)
        return all(c.id in levels and levels[c.id] in order and order.index(levels[c.id]) <= bar
                   for c in self.criteria)
