"""The research export: a de-identified zip of CSV files with a data dictionary.

For the department's study of the programme. Audited: who exported which years, when, and its digest.

People appear only as pseudonyms: an HMAC-SHA256 of the user id under a key kept with the
instance (MICROCRED_RESEARCH_KEY, else instance/secrets/research-pseudonym-key), so the same
teacher has the same pseudonym in every export, and nobody without the key can link it back.
No names, emails, written answers or assessor feedback are exported; survey comments (which
may name someone) only when the exporter opts in.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import os
import secrets
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from ..audit import record_event
from ..config import Settings
from ..models import Attempt, BadgeClassRecord, District, Enrolment, Judgement, Submission, SurveyResponse
from ..people.districts import programme_year
from .dashboards import days_between, year_window

DICTIONARY: dict[str, list[tuple[str, str]]] = {
    "enrolments.csv": [
        ("teacher", "Pseudonymous id of the teacher (stable across exports)"),
        ("year", "Programme year (1 July to 30 June), e.g. 2026-27"),
        ("district", "Code of the district the teacher was enrolled in"),
        ("pathway", "team (TEAM-aligned) or teacher-leader"),
        ("cohort", "Programme year the teacher first enrolled"),
    ],
    "submissions.csv": [
        ("submission", "Pseudonymous id of the submission (one teacher working toward one micro-credential)"),
        ("teacher", "Pseudonymous id of the teacher"),
        ("district", "District code at the time of the work"),
        ("badge_class", "Micro-credential (badge class) slug"),
        ("badge_version", "Version of the micro-credential the work was started under"),
        ("year", "Programme year in which the work was started"),
        ("state", "draft, submitted (waiting for an assessor), not_yet, earned or withdrawn, at export time"),
        ("started_on", "Date the work was started (UTC)"),
        ("first_submitted_on", "Date of the first submission, empty if never submitted"),
        ("decided_on", "Date of the latest decision, empty if none"),
        ("attempts", "Number of times the work was submitted"),
        ("days_to_first_submission", "Days from start to the first submission"),
    ],
    "attempts.csv": [
        ("submission", "Pseudonymous id of the submission"),
        ("attempt", "1 for the first submission, 2 for the first resubmission, ..."),
        ("submitted_on", "Date the attempt was submitted"),
        ("decided_on", "Date it was decided, empty while waiting"),
        ("decision", "earned, not_yet, withdrawn, or empty while waiting"),
        ("assessor", "Pseudonymous id of the assessor who decided"),
        ("days_to_decision", "Days from the attempt's submission to its decision"),
    ],
    "judgements.csv": [
        ("submission", "Pseudonymous id of the submission"),
        ("attempt", "Attempt number"),
        ("criterion", "Id of the evaluation criterion in the micro-credential's scoring guide"),
        ("level", "Rubric level the assessor chose (assessors' written feedback is never exported)"),
    ],
    "surveys.csv": [
        ("teacher", "Pseudonymous id of the teacher"),
        ("kind", "attempt (after a decision) or year (end-of-year survey)"),
        ("year", "Programme year of the survey"),
        ("submission", "Pseudonymous id of the submission (attempt surveys)"),
        ("attempt", "Attempt number the survey followed (attempt surveys)"),
        ("decision", "Decision on that attempt: earned or not_yet"),
        ("badge_class", "Micro-credential slug (attempt surveys)"),
        ("district", "District code"),
        ("quality", "Rating of the micro-credential's quality, 1 (very poor) to 5 (excellent); empty: not answered"),
        ("rigour", "Rating of its rigour, 1-5"),
        ("relevance", "Rating of its relevance to the teacher's work, 1-5"),
        ("resources", "Rating of the helpfulness of its resources, 1-5"),
        ("hours", "Hours the teacher says they spent"),
        ("worked_with", "alone, mentor or colleagues"),
    ],
}
COMMENT_COLUMN = ("comment", ("The teacher's free-text comment (included only when the exporter opted in; it may "
                             "contain names despite the survey asking not to)"))


def pseudonym_key(settings: Settings) -> bytes:
    """The key of the pseudonyms: MICROCRED_RESEARCH_KEY, else a random one kept in the instance."""
    configured = settings.environ.get("MICROCRED_RESEARCH_KEY")
    if configured:
        return configured.encode()
    path = settings.secrets_dir / "research-pseudonym-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(32))
        except FileExistsError:
            pass  # another process made it first; use theirs
    return path.read_text().strip().encode()


@dataclass(frozen=True)
class Pseudonyms:
    key: bytes

    def of(self, kind: str, value: int | None) -> str:
        if value is None:
            return ""
        digest = hmac.new(self.key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
        return f"{kind[0].upper()}-{digest[:16]}"


@dataclass(frozen=True)
class ExportResult:
    rows: dict[str, int]
    sha256: str
    size: int


def export(session: Session, out: IO[bytes], *, settings: Settings, years: list[str], actor: str,
           include_comments: bool, now: datetime) -> ExportResult:
    """Write the zip to `out` (seekable) and record who exported what in the audit log."""
    ids = Pseudonyms(pseudonym_key(settings))
    counts: dict[str, int] = {}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, rows in _files(session, ids, years, include_comments):
            header = [c for c, _ in DICTIONARY[name]] + (["comment"] if include_comments and name == "surveys.csv" else [])
            counts[name] = _write_csv(archive, name, header, rows)
        _write_csv(archive, "data_dictionary.csv", ["file", "column", "meaning"], _dictionary_rows(include_comments))
        archive.writestr("README.txt", _readme(years, include_comments, counts, now))
    out.seek(0)
    digest, size = hashlib.sha256(), 0
    for chunk in iter(lambda: out.read(1 << 16), b""):
        digest.update(chunk)
        size += len(chunk)
    out.seek(0)
    record_event(session, actor=actor, action="research.exported", subject=f"research-export:{','.join(years)}",
                 detail={"years": years, "comments": include_comments, "rows": counts, "sha256": digest.hexdigest()})
    return ExportResult(counts, digest.hexdigest(), size)


def _write_csv(archive: zipfile.ZipFile, name: str, header: list[str], rows: Iterable[Iterable[Any]]) -> int:
    n = 0
    with archive.open(name, "w") as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as text:
        writer = csv.writer(text)
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
            n += 1
    return n


def _dictionary_rows(include_comments: bool) -> Iterator[list[str]]:
    for name, columns in DICTIONARY.items():
        for column, meaning in columns:
            yield [name, column, meaning]
        if name == "surveys.csv" and include_comments:
            yield [name, *COMMENT_COLUMN]


def _readme(years: list[str], include_comments: bool, counts: dict[str, int], now: datetime) -> str:
    lines = [f"Teacher micro-credential programme: research export made {now:%Y-%m-%d %H:%M} UTC.",
             f"Programme years: {', '.join(years)}. Work belongs to the year it was started in.", "",
             "People appear only as pseudonyms (T-... teacher, A-... assessor, S-... submission): stable across",
             "exports of this service, not reversible without the service's key. No names, email addresses,",
             "written answers or assessor feedback are included. Survey comments are "
             + ("INCLUDED (the exporter opted in): handle them as personal data." if include_comments
                else "left out."), "", "Rows per file:"]
    lines += [f"  {name}: {n}" for name, n in counts.items()]
    lines += ["", "data_dictionary.csv explains every column."]
    return "\n".join(lines) + "\n"


# --- the files -----------------------------------------------------------------------------------


def _stream(session: Session, query: Select) -> Iterator[Any]:
    yield from session.execute(query.execution_options(yield_per=2000))


def _day(moment: datetime | None) -> str | None:
    return moment.date().isoformat() if moment else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


def _files(session: Session, ids: Pseudonyms, years: list[str], include_comments: bool) -> Iterator[tuple[str, Iterator]]:
    in_years = or_(*[and_(Submission.started_at >= start, Submission.started_at < end)
                     for start, end in map(year_window, years)])
    yield "enrolments.csv", _enrolments(session, ids, years)
    yield "submissions.csv", _submissions(session, ids, in_years, years)
    yield "attempts.csv", _attempts(session, ids, in_years)
    yield "judgements.csv", _judgements(session, ids, in_years)
    yield "surveys.csv", _surveys(session, ids, years, include_comments)


def _enrolments(session: Session, ids: Pseudonyms, years: list[str]) -> Iterator[list[Any]]:
    cohorts = select(Enrolment.user_id, func.min(Enrolment.year).label("cohort")).group_by(Enrolment.user_id).subquery()
    query = (select(Enrolment.user_id, Enrolment.year, District.code, Enrolment.pathway, cohorts.c.cohort)
             .join(District, District.id == Enrolment.district_id).join(cohorts, cohorts.c.user_id == Enrolment.user_id)
             .where(Enrolment.year.in_(years)).order_by(Enrolment.year, Enrolment.id))
    for user_id, year, code, pathway, cohort in _stream(session, query):
        yield [ids.of("teacher", user_id), year, code, pathway, cohort]


def _submissions(session: Session, ids: Pseudonyms, in_years: Any, years: list[str]) -> Iterator[list[Any]]:
    first = aliased(Attempt)
    attempts = select(Attempt.submission_id, func.count().label("n")).group_by(Attempt.submission_id).subquery()
    query = (select(Submission.id, Submission.user_id, District.code, BadgeClassRecord.slug, Submission.badge_version,
                    Submission.state, Submission.started_at, first.submitted_at, Submission.decided_at, attempts.c.n,
                    days_between(session, first.submitted_at, Submission.started_at))
             .join(BadgeClassRecord, BadgeClassRecord.id == Submission.badge_class_id)
             .outerjoin(District, District.id == Submission.district_id)
             .outerjoin(first, (first.submission_id == Submission.id) & (first.number == 1))
             .outerjoin(attempts, attempts.c.submission_id == Submission.id)
             .where(in_years).order_by(Submission.id))
    for sid, uid, code, slug, version, state, started, first_at, decided, n, days in _stream(session, query):
        yield [ids.of("submission", sid), ids.of("teacher", uid), code, slug, version,
               programme_year(started.date()), state, _day(started), _day(first_at), _day(decided), n or 0, _round(days)]


def _attempts(session: Session, ids: Pseudonyms, in_years: Any) -> Iterator[list[Any]]:
    query = (select(Attempt.submission_id, Attempt.number, Attempt.submitted_at, Attempt.decided_at, Attempt.decision,
                    Attempt.assessor_id, days_between(session, Attempt.decided_at, Attempt.submitted_at))
             .join(Submission, Submission.id == Attempt.submission_id).where(in_years)
             .order_by(Attempt.submission_id, Attempt.number))
    for sid, number, sent, decided, decision, assessor, days in _stream(session, query):
        yield [ids.of("submission", sid), number, _day(sent), _day(decided), decision, ids.of("assessor", assessor),
               _round(days) if decided else None]


def _judgements(session: Session, ids: Pseudonyms, in_years: Any) -> Iterator[list[Any]]:
    query = (select(Attempt.submission_id, Attempt.number, Judgement.criterion_id, Judgement.level)
             .join(Attempt, Attempt.id == Judgement.attempt_id).join(Submission, Submission.id == Attempt.submission_id)
             .where(in_years).order_by(Judgement.id))
    for sid, number, criterion, level in _stream(session, query):
        yield [ids.of("submission", sid), number, criterion, level]


def _surveys(session: Session, ids: Pseudonyms, years: list[str], include_comments: bool) -> Iterator[list[Any]]:
    query = (select(SurveyResponse, Attempt.submission_id, Attempt.number, Attempt.decision, BadgeClassRecord.slug,
                    District.code)
             .outerjoin(Attempt, Attempt.id == SurveyResponse.attempt_id)
             .outerjoin(BadgeClassRecord, BadgeClassRecord.id == SurveyResponse.badge_class_id)
             .outerjoin(District, District.id == SurveyResponse.district_id)
             .where(SurveyResponse.year.in_(years)).order_by(SurveyResponse.id))
    for row, sid, number, decision, slug, code in _stream(session, query):
        cells = [ids.of("teacher", row.user_id), row.kind, row.year, ids.of("submission", sid), number, decision, slug,
                 code, row.quality, row.rigour, row.relevance, row.resources, row.hours, row.worked_with]
        yield cells + ([row.comment] if include_comments else [])


def write_file(session: Session, path: Path, **kwargs: Any) -> ExportResult:
    """The export written to a file (the CLI)."""
    with open(path, "w+b") as fh:
        return export(session, fh, **kwargs)

