"""Generate a state programme's worth of data for the dashboards: districts, teachers and their
enrolments, submissions with attempts and decisions spread over two programme years, the level
of every criterion of every decided attempt (judgements), surveys.

    python bench/programme_data.py URL [--districts 100] [--teachers 10000] [--submissions 100000]

The database must be initialised (`microcred init`: migrations and the catalogue). Rows go in
with Core bulk inserts (executemany), not one ORM object at a time. Deterministic for a seed.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, func, insert, select, text

from issuer.catalog.versions import badge_from_version
from issuer.db import make_engine
from issuer.models import (
    Attempt,
    BadgeClassRecord,
    BadgeClassVersion,
    District,
    Enrolment,
    Judgement,
    Submission,
    SurveyResponse,
    User,
)
from issuer.models.work import seconds_between, year_of
from issuer.people.districts import programme_year

CHUNK = 5000


@dataclass(frozen=True)
class Sizes:
    districts: int = 100
    teachers: int = 10_000
    submissions: int = 100_000


@dataclass(frozen=True)
class Badge:
    """What the generator needs of a badge class: its current version, criteria and rubric."""

    id: int
    version: int
    criteria: tuple[str, ...]
    levels: tuple[str, ...]  # highest first, as the badge class lists them
    passing: int  # index in `levels` of the passing level: it and those before it pass

    def judgements(self, rng: random.Random, earned: bool) -> list[tuple[str, str]]:
        """A level per criterion that agrees with the decision (badge_classes.BadgeClass.passes):
        every one passing when earned, at least one below passing otherwise."""
        chosen = [rng.randrange(self.passing + 1) if earned else rng.randrange(len(self.levels)) for _ in self.criteria]
        if not earned and all(i <= self.passing for i in chosen) and self.passing + 1 < len(self.levels):
            chosen[rng.randrange(len(chosen))] = rng.randrange(self.passing + 1, len(self.levels))
        return [(c, self.levels[i]) for c, i in zip(self.criteria, chosen, strict=True)]


@dataclass(frozen=True)
class Generated:
    admin_id: int
    coordinator_ids: dict[int, int]  # district id -> its coordinator's user id
    district_ids: list[int]
    year: str
    last_year: str
    rows: dict[str, int]


def _bulk(engine: Engine, model: Any, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as connection:
        for i in range(0, len(rows), CHUNK):
            connection.execute(insert(model), rows[i:i + CHUNK])


def _next_id(engine: Engine, model: Any) -> int:
    with engine.connect() as connection:
        return (connection.scalar(select(func.max(model.id))) or 0) + 1


def _badges(engine: Engine) -> dict[str, list[Badge]]:
    """Every badge class (its current version), by pathway."""
    from sqlalchemy.orm import Session

    out: dict[str, list[Badge]] = {}
    with Session(engine) as session:
        for record, version in session.execute(select(BadgeClassRecord, BadgeClassVersion).join(
                BadgeClassVersion, (BadgeClassVersion.badge_class_id == BadgeClassRecord.id)
                & (BadgeClassVersion.version == BadgeClassRecord.current_version))):
            badge = badge_from_version(record, version)
            levels = tuple(level.name for level in badge.rubric_levels)
            out.setdefault(badge.pathway, []).append(Badge(record.id, version.version, tuple(c.id for c in badge.criteria),
                                                           levels, levels.index(badge.passing_level)))
    if not out:
        raise SystemExit("The database has no catalogue: run `microcred init` on it first.")
    return out


def generate(engine: Engine, sizes: Sizes = Sizes(), *, now: datetime | None = None, seed: int = 8) -> Generated:
    """Insert the programme's data; returns who to sign in as and what was made."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    year = programme_year(now.date())
    last_year = f"{int(year[:4]) - 1}-{int(year[2:4]):02d}"
    badges = _badges(engine)
    first_district, first_user = _next_id(engine, District), _next_id(engine, User)
    district_ids = list(range(first_district, first_district + sizes.districts))
    _bulk(engine, District, [{"id": d, "name": f"Bench District {d:04d}", "code": f"BD{d:04d}", "created_at": now}
                             for d in district_ids])
    users, enrolments, teachers = [], [], []
    uid = first_user
    admin_id = uid
    users.append({"id": uid, "email": f"admin{uid}@bench.example", "display_name": "Bench Admin", "roles": ["admin"],
                  "district_id": None, "created_at": now, "session_epoch": 0, "active": True})
    coordinators, assessors = {}, []
    for d in district_ids:
        uid += 1
        coordinators[d] = uid
        users.append({"id": uid, "email": f"coordinator{uid}@bench.example", "display_name": f"Coordinator {uid}",
                      "roles": ["coordinator"], "district_id": d, "created_at": now, "session_epoch": 0, "active": True})
        uid += 1
        assessors.append(uid)
        users.append({"id": uid, "email": f"assessor{uid}@bench.example", "display_name": f"Assessor {uid}",
                      "roles": ["assessor"], "district_id": d, "created_at": now, "session_epoch": 0, "active": True})
    year_start = datetime(int(year[:4]), 7, 1, tzinfo=UTC)
    for i in range(sizes.teachers):
        uid += 1
        d = district_ids[i % len(district_ids)]
        # About one in eight teachers in the teacher-leader pathway: under its cap of 14 per district.
        pathway = "teacher-leader" if (i // len(district_ids)) % 8 == 0 else "team"
        users.append({"id": uid, "email": f"teacher{uid}@bench.example", "display_name": f"Teacher {uid}",
                      "roles": ["teacher"], "district_id": d, "created_at": now, "session_epoch": 0, "active": True})
        enrolled = year_start + timedelta(days=rng.randint(0, 60))
        enrolments.append({"user_id": uid, "district_id": d, "pathway": pathway, "year": year, "created_by": "bench",
                           "created_at": enrolled})
        if rng.random() < 0.4:  # a returning teacher: their cohort is last year
            enrolments.append({"user_id": uid, "district_id": d, "pathway": pathway, "year": last_year,
                               "created_by": "bench", "created_at": enrolled - timedelta(days=365)})
        teachers.append((uid, d, pathway))
    _bulk(engine, User, users)
    _bulk(engine, Enrolment, enrolments)
    rows = _work(engine, rng, teachers, assessors, badges, now=now, year_start=year_start, sizes=sizes)
    rows.update(districts=len(district_ids), users=len(users), enrolments=len(enrolments))
    if engine.dialect.name == "postgresql":  # explicit ids: move the sequences past them
        with engine.begin() as connection:
            for table in ("districts", "users", "submissions", "attempts", "survey_responses"):
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                        f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
    return Generated(admin_id, coordinators, district_ids, year, last_year, rows)


def _work(engine: Engine, rng: random.Random, teachers: list[tuple[int, int, str]], assessors: list[int],
          badges: dict[str, list[Badge]], *, now: datetime, year_start: datetime, sizes: Sizes) -> dict[str, int]:
    """Submissions over last year and this one (up to now), their attempts and decisions (with the
    programme facts submissions.submit and reviews.decide write), judgements, surveys."""
    span_start = year_start - timedelta(days=365)
    span = (now - span_start).total_seconds()
    sid, aid = _next_id(engine, Submission), _next_id(engine, Attempt)
    submissions, attempts, judgements, surveys = [], [], [], []
    for _ in range(sizes.submissions):
        user_id, district_id, pathway = teachers[rng.randrange(len(teachers))]
        badge = rng.choice(badges.get(pathway) or next(iter(badges.values())))
        badge_id = badge.id
        started = span_start + timedelta(seconds=rng.random() * span)
        row = {"id": sid, "user_id": user_id, "badge_class_id": badge_id, "badge_version": badge.version,
               "district_id": district_id, "state": "draft", "revision": 1, "answers": {}, "started_at": started,
               "updated_at": started, "submitted_at": None, "decided_at": None, "year": year_of(started)}
        roll = rng.random()
        moment = started
        if roll < 0.12:
            row["state"] = "withdrawn"
        elif roll >= 0.30:  # submitted at least once
            for number in range(1, 4):
                moment = moment + timedelta(days=rng.uniform(3, 40))
                if moment >= now:
                    break
                decided = moment + timedelta(days=rng.uniform(0.5, 21))
                attempt = {"id": aid, "submission_id": sid, "number": number, "content": {}, "submitted_at": moment,
                           "decision": None, "decided_at": None, "assessor_id": None, "feedback": None,
                           "work_year": row["year"], "district_id": district_id, "badge_class_id": badge_id,
                           "seconds_from_start": seconds_between(moment, started), "seconds_to_decision": None}
                row.update(state="submitted", submitted_at=moment, updated_at=moment)
                attempts.append(attempt)
                aid += 1
                if decided >= now:
                    break
                decision = "earned" if rng.random() < 0.62 or number == 3 else "not_yet"
                attempt.update(decision=decision, decided_at=decided, assessor_id=rng.choice(assessors),
                               seconds_to_decision=seconds_between(decided, moment))
                judgements += [{"attempt_id": attempt["id"], "criterion_id": criterion, "level": level, "feedback": ""}
                               for criterion, level in badge.judgements(rng, decision == "earned")]
                row.update(state=decision, decided_at=decided, updated_at=decided)
                if rng.random() < 0.45:
                    surveys.append(_survey(rng, user_id, district_id, badge_id, attempt, decided))
                if decision == "earned" or rng.random() < 0.25:
                    break  # earned, or "not yet" and never resubmitted
                moment = decided
        submissions.append(row)
        sid += 1
    _bulk(engine, Submission, submissions)
    _bulk(engine, Attempt, attempts)
    _bulk(engine, Judgement, judgements)
    _bulk(engine, SurveyResponse, surveys)
    return {"submissions": len(submissions), "attempts": len(attempts), "judgements": len(judgements),
            "surveys": len(surveys)}


def _survey(rng: random.Random, user_id: int, district_id: int, badge_id: int, attempt: dict[str, Any],
            decided: datetime) -> dict[str, Any]:
    def rating() -> int | None:
        return None if rng.random() < 0.1 else rng.randint(1, 5)

    return {"user_id": user_id, "kind": "attempt", "year": programme_year(decided.date()), "attempt_id": attempt["id"],
            "end_of_year": None, "badge_class_id": badge_id, "district_id": district_id, "quality": rating(),
            "rigour": rating(), "relevance": rating(), "resources": rating(), "hours": round(rng.uniform(2, 30), 1),
            "worked_with": rng.choice(("alone", "mentor", "colleagues")), "comment": None, "created_at": decided,
            "updated_at": decided, "revision": 1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="SQLAlchemy URL of an initialised database")
    parser.add_argument("--districts", type=int, default=Sizes.districts)
    parser.add_argument("--teachers", type=int, default=Sizes.teachers)
    parser.add_argument("--submissions", type=int, default=Sizes.submissions)
    args = parser.parse_args()
    engine = make_engine(args.url)
    t0 = time.perf_counter()
    made = generate(engine, Sizes(args.districts, args.teachers, args.submissions))
    print(f"made {made.rows} in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
