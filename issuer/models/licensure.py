"""The licensure office's registry of recognised issuers (issue 6) and its web batch jobs."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow

BATCH_STATES = ("starting", "running", "finished", "failed")
ACTIVE_BATCH_STATES = ("starting", "running")


class TrustedIssuerRecord(Base):
    """An issuer the office recognises: credentials it issued on since..until (inclusive) may count PDPs."""

    __tablename__ = "trusted_issuers"

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer_id: Mapped[str] = mapped_column(String(500), unique=True)  # the DID or URL credentials name as issuer
    name: Mapped[str] = mapped_column(String(200))
    since: Mapped[date] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)  # None: still recognised
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class BatchJob(Base):
    """A batch submitted on the web, run by its own process (`microcred verify-batch --job ID`).

    Its files live in instance/batches/<id>/. The process writes progress at most once a second
    (`heartbeat_at`); a job that stops beating, or whose process is gone, is read as failed.
    """

    __tablename__ = "batch_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="starting", index=True)  # BATCH_STATES
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    csv_name: Mapped[str] = mapped_column(String(255))  # as uploaded, for people to recognise it
    zip_name: Mapped[str | None] = mapped_column(String(255))
    rows_total: Mapped[int] = mapped_column(default=0)
    rows_done: Mapped[int] = mapped_column(default=0)
    bad_rows: Mapped[int | None] = mapped_column()  # the figures below are set when it finishes
    verified: Mapped[int | None] = mapped_column()
    counted: Mapped[int | None] = mapped_column()
    educators: Mapped[int | None] = mapped_column()
    pid: Mapped[int | None] = mapped_column()  # its process, on `host`
    host: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)  # why it failed, in words
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    heartbeat_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    purged_at: Mapped[datetime | None] = mapped_column()  # its files removed (retention); the row stays
