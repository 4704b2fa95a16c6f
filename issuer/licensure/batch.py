"""Bulk verification: a CSV of educators and their credentials, verified across every core.

Input columns (any order, more are ignored): name, email, license_number, license_type,
license_valid_from, license_valid_until, credential (an https URL, or a file name inside the zip
given with --files, else relative to the CSV's folder). One row per credential; rows of the same
educator (same email and license number) make one renewal report.

Output: one CSV row per input row (its verdict, counted or why not), written as soon as the
educator's last row is verified, and one renewal summary row per educator in a second CSV. The
parent holds only the rows of educators still in progress, so memory does not grow with the batch
(keep each educator's rows together, as an export naturally does). A bad row gets its reason and
never stops the batch. Workers need no database: our own DID documents and signed status lists
travel to them as data.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import multiprocessing
import os
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from verifier.fetch import FetchPolicy
from verifier.renewal import Educator, RenewalPolicy, TrustedIssuer, renewal_report
from verifier.report import Problem, VerificationReport

from ..errors import InvalidInput
from .reports import ENTRY_COLUMNS, SUMMARY_COLUMNS, educator_from, entry_row, safe_row, summary_row
from .verification import OwnData, Presented, data_verifier, read_entry, unreadable_report

REQUIRED_COLUMNS = ("name", "email", "license_number", "license_type", "license_valid_from", "license_valid_until",
                    "credential")
ROW_COLUMNS = ("row", "name", "email", "license_number") + ENTRY_COLUMNS
MAX_FILE_BYTES = 10 * 1024 * 1024


class BatchInputError(InvalidInput):
    """The CSV as a whole cannot be used (unreadable, or a column is missing)."""

    code = "batch_input_invalid"


@dataclass(frozen=True)
class BatchContext:
    """Everything a worker needs, as plain picklable data."""

    own: OwnData
    fetch: FetchPolicy | None
    registry: tuple[TrustedIssuer, ...]
    policy: RenewalPolicy
    files: str | None = None  # the zip of credential files
    base_dir: str | None = None  # plain file names are read from here when there is no zip
    now: datetime | None = None


@dataclass(frozen=True)
class BatchResult:
    rows: int
    educators: int
    verified: int
    counted: int
    bad_rows: int
    seconds: float


@dataclass(frozen=True)
class _Done:
    index: int
    key: tuple[str, str]
    raw: dict[str, str]
    educator: Educator | None
    error: str | None
    report: VerificationReport


class _Worker:
    def __init__(self, context: BatchContext) -> None:
        self.context = context
        self.verifier = data_verifier(context.own, context.fetch, now=context.now)
        self.archive = zipfile.ZipFile(context.files) if context.files else None

    def run(self, task: tuple[int, dict[str, str]]) -> _Done:
        index, raw = task
        key = _key(raw)
        try:
            educator = educator_from(raw, self.context.policy.thresholds)
        except InvalidInput as exc:
            report = unreadable_report(Presented(raw.get("credential", ""), None,
                                                 Problem("bad_row", "Bad row", str(exc))))
            return _Done(index, key, raw, None, str(exc), report)
        item = self._presented((raw.get("credential") or "").strip())
        if item.problem is not None:
            report = unreadable_report(item)
        else:
            report = self.verifier.verify(item.content, recipient=educator.email)
        return _Done(index, key, raw, educator, None, dataclasses.replace(report, credential=None))

    def _presented(self, cell: str) -> Presented:
        if not cell:
            return Presented(cell, None, Problem("no_credential", "No credential", "The credential cell is empty."))
        if cell.lower().startswith(("https://", "http://")):
            return Presented(cell, cell)
        if self.archive is not None:
            try:
                info = self.archive.getinfo(cell)
            except KeyError:
                return Presented(cell, None, Problem("file_not_found", "File not found",
                                                     f"The zip holds no file named {cell!r}."))
            data, problem = read_entry(self.archive, info)
            return Presented(cell, data, problem)
        return self._local_file(cell)

    def _local_file(self, cell: str) -> Presented:
        base = Path(self.context.base_dir or ".").resolve()
        path = (base / cell).resolve()
        if base not in path.parents:
            return Presented(cell, None, Problem("file_outside", "File outside the batch folder",
                                                 f"{cell!r} is not inside {base}."))
        try:
            with open(path, "rb") as fh:
                data = fh.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            return Presented(cell, None, Problem("file_unreadable", "Cannot read the file",
                                                 f"{cell}: {exc.strerror or exc}."))
        if len(data) > MAX_FILE_BYTES:
            return Presented(cell, None, Problem("input_too_large", "File too large",
                                                 f"{cell} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB."))
        return Presented(cell, data)


_worker: _Worker | None = None


def _init_worker(context: BatchContext) -> None:
    global _worker
    _worker = _Worker(context)


def _run_in_worker(task: tuple[int, dict[str, str]]) -> _Done:
    return _worker.run(task)  # type: ignore[union-attr]  # set by the pool initializer


def _key(raw: dict[str, str]) -> tuple[str, str]:
    return (raw.get("email") or "").strip().lower(), (raw.get("license_number") or "").strip()


def read_header(path: str | os.PathLike, label: str | None = None) -> list[str]:
    """The CSV's columns; BatchInputError naming any required column that is missing (the file as `label`)."""
    name = label or str(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            header = next(csv.reader(fh), None)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise BatchInputError(f"Cannot read {name}: {getattr(exc, 'strerror', None) or exc}.") from None
    return _columns(header, name)


def _columns(header: list[str] | None, name: str) -> list[str]:
    if not header:
        raise BatchInputError(f"{name} is empty: the first line must name the columns "
                              f"({', '.join(REQUIRED_COLUMNS)}).")
    columns = [c.strip().lower() for c in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise BatchInputError(f"{name} has no column {', '.join(repr(m) for m in missing)} "
                              f"(required: {', '.join(REQUIRED_COLUMNS)}).")
    return columns


def inspect_csv(data: bytes, label: str) -> int:
    """The number of rows of an uploaded CSV, after checking it is UTF-8 text naming every required column
    (BatchInputError otherwise, with the messages of `verify-batch`)."""
    try:
        reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
        _columns(next(reader, None), label)
        return sum(1 for values in reader if any(v.strip() for v in values))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise BatchInputError(f"Cannot read {label}: it is not CSV in UTF-8 text ({exc}).") from None


def _rows(path: str | os.PathLike, columns: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        for number, values in enumerate(reader, start=2):  # line 1 is the header
            if not any(v.strip() for v in values):
                continue
            yield number, {c: (values[i] if i < len(values) else "") for i, c in enumerate(columns)}


def run_batch(input_csv: str | os.PathLike, out_csv: str | os.PathLike, renewal_csv: str | os.PathLike,
              context: BatchContext, *, jobs: int | None = None,
              progress: Callable[[int, int, float], None] | None = None, label: str | None = None) -> BatchResult:
    """Verify every row; write both CSVs; BatchInputError when the CSV itself is unusable.

    `progress(done, total, seconds)` is called once before the first row and after every row.
    """
    columns = read_header(input_csv, label)
    try:
        last: dict[tuple[str, str], int] = {}
        total = 0
        for number, raw in _rows(input_csv, columns):
            last[_key(raw)] = number
            total += 1
    except (UnicodeDecodeError, csv.Error) as exc:
        raise BatchInputError(f"Cannot read {label or input_csv}: {exc}.") from None
    jobs = max(1, jobs or os.cpu_count() or 1)
    start = time.monotonic()
    if progress is not None:
        progress(0, total, 0.0)
    with open(out_csv, "w", newline="", encoding="utf-8") as rows_fh, \
            open(renewal_csv, "w", newline="", encoding="utf-8") as sums_fh:
        writer = _Writer(rows_fh, sums_fh, context, last)
        for done in _results(input_csv, columns, context, jobs, total):
            writer.add(done)
            if progress is not None:
                progress(writer.rows, total, time.monotonic() - start)
        writer.finish()
    return BatchResult(writer.rows, writer.educators, writer.verified, writer.counted, writer.bad_rows,
                       time.monotonic() - start)


def _results(input_csv, columns, context: BatchContext, jobs: int, total: int) -> Iterator[_Done]:
    tasks = _rows(input_csv, columns)
    if jobs == 1:
        worker = _Worker(context)
        yield from map(worker.run, tasks)
        return
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    chunk = max(1, min(32, total // (jobs * 16) or 1))
    with multiprocessing.get_context(method).Pool(jobs, initializer=_init_worker, initargs=(context,)) as pool:
        yield from pool.imap(_run_in_worker, tasks, chunksize=chunk)


class _Writer:
    """Streams results out: an educator's rows and summary once their last row is in."""

    def __init__(self, rows_fh, sums_fh, context: BatchContext, last: dict[tuple[str, str], int]) -> None:
        self.rows_out = csv.DictWriter(rows_fh, fieldnames=ROW_COLUMNS, lineterminator="\n")
        self.sums_out = csv.DictWriter(sums_fh, fieldnames=SUMMARY_COLUMNS, lineterminator="\n")
        self.rows_out.writeheader()
        self.sums_out.writeheader()
        self.context, self.last = context, last
        self.pending: dict[tuple[str, str], list[_Done]] = {}
        self.rows = self.educators = self.verified = self.counted = self.bad_rows = 0

    def add(self, done: _Done) -> None:
        self.rows += 1
        self.verified += done.report.verified
        if done.educator is None:
            self.bad_rows += 1
            self._write_bad(done)
        else:
            self.pending.setdefault(done.key, []).append(done)
        if self.last.get(done.key) == done.index:
            self._flush(done.key)

    def _write_bad(self, done: _Done) -> None:
        raw = done.raw
        self.rows_out.writerow(safe_row({
            "row": done.index, "name": raw.get("name", ""), "email": raw.get("email", ""),
            "license_number": raw.get("license_number", ""), "source": raw.get("credential", ""),
            "verified": "no", "counted": "no", "pdps": "0", "reason": "bad_row", "reason_title": "Bad row",
            "message": done.error or "",
        }))

    def _flush(self, key: tuple[str, str]) -> None:
        group = self.pending.pop(key, [])
        if not group:
            return
        presented = [(d.raw.get("credential", ""), d.report) for d in group]
        report = renewal_report(group[0].educator, presented,  # type: ignore[arg-type]  # pending rows have one
                                registry=self.context.registry, policy=self.context.policy)
        for done, entry in zip(group, report.entries, strict=True):  # one entry per credential
            self.counted += entry.counted
            self.rows_out.writerow(safe_row({"row": done.index, "name": done.raw.get("name", ""),
                                             "email": done.raw.get("email", ""),
                                             "license_number": done.raw.get("license_number", ""),
                                             **entry_row(entry)}))
        self.sums_out.writerow(safe_row(summary_row(report)))
        self.educators += 1

    def finish(self) -> None:
        for key in list(self.pending):
            self._flush(key)


def renewal_path(out_csv: str | os.PathLike) -> Path:
    """REPORT.csv -> REPORT.renewal.csv (the per-educator summaries)."""
    out = Path(out_csv)
    return out.with_name(out.stem + ".renewal" + (out.suffix or ".csv"))


def describe_progress(done: int, total: int, seconds: float) -> str:
    rate = done / seconds if seconds > 0 else 0.0
    return f"{done:,}/{total:,} rows, {rate:,.0f}/s"
