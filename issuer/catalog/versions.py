"""The catalogue in the database: syncing definition files, web edits, versions, retiring.

Files and the admin form go through the same validation (badge_classes.parse_definition) and the
same `record_definition`, so the same content gives the same version content and hash either way.
A version is immutable once written; changing content makes version n+1.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from badge_classes import Alignment, BadgeClass, Catalog, canonical_definition, content_hash, parse_definition

from ..audit import record_event
from ..errors import Conflict, InvalidInput, UnknownAchievementError
from ..models import BadgeClassRecord, BadgeClassVersion


class CatalogConflict(Conflict):
    """A definition file changed while the same badge class was also edited on the web."""

    code = "catalog_conflict"


@dataclass(frozen=True)
class SyncChange:
    slug: str
    action: str  # created | new_version | status | unchanged | conflict | not_in_files
    version: int
    detail: str = ""


def fingerprint(badge: BadgeClass) -> str:
    return f"{badge.content_hash}:{badge.status}"


def sync_catalog(session: Session, catalog: Catalog, *, actor: str, force: bool = False) -> list[SyncChange]:
    """Record every definition file in the database. A badge class edited on the web since the last
    sync and whose file also changed is a conflict: skipped (reported) unless `force`."""
    changes = []
    records = {r.slug: r for r in session.scalars(select(BadgeClassRecord))}
    for slug, badge in sorted(catalog.badge_classes.items()):
        record = records.get(slug)
        if record is not None and record.file_fingerprint == fingerprint(badge):
            changes.append(SyncChange(slug, "unchanged", record.current_version))
            continue
        if record is not None and not force and _edited_on_web_since_sync(record, badge):
            changes.append(SyncChange(slug, "conflict", record.current_version,
                                      "edited on the web since the last sync; export it or sync with --force"))
            continue
        if record is not None and not force and _file_status(record) == badge.status:
            # Only a status the file changed wins; otherwise keep what an administrator set.
            badge = replace(badge, status=record.status)
        record, change = record_definition(session, badge, image=catalog.image_bytes(badge), source="file",
                                           actor=actor)
        record.file_fingerprint = fingerprint(catalog.badge_classes[slug])
        changes.append(change)
    for slug, record in sorted(records.items()):
        if slug not in catalog.badge_classes:
            changes.append(SyncChange(slug, "not_in_files", record.current_version, "kept as it is in the database"))
    return changes


def _edited_on_web_since_sync(record: BadgeClassRecord, badge: BadgeClass) -> bool:
    """The current version came from the web, differs from the file, and is not what the file said
    at the last sync (a file that equals the web version, e.g. an export, is no conflict)."""
    current = record.versions[-1]
    synced_hash = (record.file_fingerprint or "").rsplit(":", 1)[0]
    return current.source == "web" and current.content_hash not in (synced_hash, badge.content_hash)


def _file_status(record: BadgeClassRecord) -> str | None:
    """The status the file had at the last sync."""
    return record.file_fingerprint.rsplit(":", 1)[1] if record.file_fingerprint else None


def record_definition(session: Session, badge: BadgeClass, *, image: bytes | None, source: str,
                      actor: str) -> tuple[BadgeClassRecord, SyncChange]:
    """Store a validated badge class: a new record, a new version when the content changed, or only
    its status. Returns the record and what happened."""
    badge = replace(badge, content_hash=content_hash(badge, image))
    record = session.scalar(select(BadgeClassRecord).where(BadgeClassRecord.slug == badge.slug).with_for_update())
    if record is None:
        record = BadgeClassRecord(slug=badge.slug, status=badge.status, current_version=1)
        session.add(record)
        session.flush()
        _add_version(session, record, badge, image, 1, source, actor)
        record_event(session, actor=actor, action="badge_class.created", subject=badge.slug,
                     detail={"version": 1, "hash": badge.content_hash, "source": source})
        return record, SyncChange(badge.slug, "created", 1)
    action, detail = "unchanged", ""
    if record.versions[-1].content_hash != badge.content_hash:
        record.current_version = record.versions[-1].version + 1
        _add_version(session, record, badge, image, record.current_version, source, actor)
        record_event(session, actor=actor, action="badge_class.new_version", subject=badge.slug,
                     detail={"version": record.current_version, "hash": badge.content_hash, "source": source})
        action = "new_version"
    if record.status != badge.status:
        set_status(session, record, badge.status, actor=actor)
        action, detail = ("status" if action == "unchanged" else action), badge.status
    return record, SyncChange(badge.slug, action, record.current_version, detail)


def _add_version(session: Session, record: BadgeClassRecord, badge: BadgeClass, image: bytes | None,
                 number: int, source: str, actor: str) -> None:
    definition = canonical_definition(badge)
    definition["alignment_targets"] = [_target(a) for a in badge.alignments]
    version = BadgeClassVersion(badge_class_id=record.id, version=number, content_hash=badge.content_hash,
                                definition=definition, image=image, source=source, created_by=actor)
    session.add(version)
    record.versions.append(version)
    session.flush()


def set_status(session: Session, record: BadgeClassRecord, status: str, *, actor: str) -> None:
    """Retire (no new starts; issued credentials stay valid) or reactivate."""
    if status not in ("active", "retired"):
        raise InvalidInput(f"Unknown status {status!r}: use active or retired.", code="invalid_status")
    if record.status != status:
        record.status = status
        record_event(session, actor=actor, action=f"badge_class.{'retired' if status == 'retired' else 'reactivated'}",
                     subject=record.slug, detail={"version": record.current_version})


def _target(a: Alignment) -> dict[str, str]:
    return {"code": a.code, "name": a.name, "framework": a.framework, "url": a.url,
            "target_type": a.target_type, "domain": a.domain, "pathway": a.pathway}


# Versions are immutable, so a parsed version is cached for the life of the process.
_parsed: dict[tuple[str, int, str], BadgeClass] = {}


def badge_from_version(record: BadgeClassRecord, row: BadgeClassVersion) -> BadgeClass:
    """The BadgeClass of a stored version, with its own alignment targets (so later framework edits
    never change what an old version says). Status is the badge class's current status."""
    key = (record.slug, row.version, row.content_hash)
    badge = _parsed.get(key)
    if badge is None:
        definition = dict(row.definition)
        targets = {t["code"]: Alignment(**t) for t in definition.pop("alignment_targets", [])}
        definition.pop("status", None)
        badge = parse_definition(definition, targets, source=f"{record.slug} v{row.version}")
        badge = replace(badge, version=row.version, content_hash=row.content_hash)
        _parsed[key] = badge
    return replace(badge, status=record.status) if badge.status != record.status else badge


def get_record(session: Session, slug: str) -> BadgeClassRecord:
    """The badge class record; UnknownAchievementError (404) when there is none."""
    record = session.scalar(select(BadgeClassRecord).where(BadgeClassRecord.slug == slug))
    if record is None:
        raise UnknownAchievementError(f"There is no micro-credential {slug!r} in the catalogue.")
    return record


def current_badge(session: Session, slug: str) -> BadgeClass:
    record = get_record(session, slug)
    return badge_from_version(record, record.versions[-1])


def badge_version(session: Session, slug: str, number: int) -> BadgeClass:
    """A given version; UnknownAchievementError when it does not exist."""
    record = get_record(session, slug)
    for row in record.versions:
        if row.version == number:
            return badge_from_version(record, row)
    raise UnknownAchievementError(f"{slug!r} has no version {number} (the newest is {record.current_version}).")


def version_image(session: Session, slug: str, number: int) -> bytes | None:
    """The custom image stored with a version, if it has one."""
    record = get_record(session, slug)
    return next((row.image for row in record.versions if row.version == number), None)


def all_current(session: Session, *, include_retired: bool = False) -> list[BadgeClass]:
    """Every badge class at its current version, ordered by pathway, category and title."""
    query = select(BadgeClassRecord)
    if not include_retired:
        query = query.where(BadgeClassRecord.status == "active")
    badges = [badge_from_version(r, r.versions[-1]) for r in session.scalars(query)]
    return sorted(badges, key=lambda b: (b.pathway != "team", b.category, b.title))


def history(session: Session, slug: str) -> list[dict[str, Any]]:
    """Each version's number, hash, source, author and date, newest first."""
    record = get_record(session, slug)
    return [{"version": v.version, "content_hash": v.content_hash, "source": v.source, "created_by": v.created_by,
             "created_at": v.created_at} for v in reversed(record.versions)]
