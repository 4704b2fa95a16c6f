"""Verifying what educators present, for the licensure office: the app's side of verify_presented.

One Fetcher per process and policy (its cache is shared by every request). Our own credentials
are checked against our own DID documents and status lists, read in-process (never fetched from
ourselves). Uploaded zips are opened with limits on entries, sizes and compression ratio.
"""

from __future__ import annotations

import io
import json
import threading
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from badge_classes import PdpPolicy
from verifier.fetch import Fetcher, FetchPolicy
from verifier.multikey import did_key
from verifier.presented import unreadable, verify_presented
from verifier.renewal import RenewalPolicy
from verifier.report import Problem, VerificationReport
from verifier.status import TrustedLists, status_list_checker

from ..config import Settings, parse_thresholds
from ..credentials.status_lists import our_status_lists, status_url
from ..errors import InvalidInput
from ..identity import IssuerIdentity
from ..models import StatusList

ZIP_MAX_ENTRIES = 2000
ZIP_MAX_ENTRY_BYTES = 10 * 1024 * 1024  # a baked image is at most 10 MB (verifier.baking)
ZIP_MAX_TOTAL_BYTES = 200 * 1024 * 1024
ZIP_MAX_RATIO = 100  # uncompressed / compressed; more is a zip bomb
CREDENTIAL_SUFFIXES = (".json", ".jsonld", ".png", ".svg", ".jwt", ".jws", ".txt")

_fetchers: dict[FetchPolicy, Fetcher] = {}
_fetchers_lock = threading.Lock()


def fetch_policy(settings: Settings) -> FetchPolicy:
    return FetchPolicy(allowed_hosts=settings.fetch_allowed_hosts, timeout=settings.fetch_timeout,
                       ca_file=settings.fetch_ca_file)


def fetcher_for(policy: FetchPolicy) -> Fetcher:
    """The process's Fetcher for this policy (thread-safe; its JSON cache is shared)."""
    with _fetchers_lock:
        if policy not in _fetchers:
            _fetchers[policy] = Fetcher(policy)
        return _fetchers[policy]


@dataclass(frozen=True)
class OwnData:
    """Our DID documents and signed status lists, as plain data (picklable for batch workers)."""

    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    status_lists: dict[str, dict[str, Any]] = field(default_factory=dict)
    status_prefix: str | None = None  # our status list URLs start with this


def own_data(session: Session | None, settings: Settings) -> OwnData:
    """Snapshot of our own documents and every signed status list (no signing key needed)."""
    if not settings.keys_dir.exists():
        return OwnData()
    identity = IssuerIdentity.public(settings)
    documents: dict[str, dict[str, Any]] = {}
    for key in identity.store.list():
        controller = did_key(key.public_key_multibase)
        found = identity.documents(controller)
        if found is not None:
            documents[controller] = found
    if settings.base_url:
        documents[identity.did] = identity.did_document()
    lists: dict[str, dict[str, Any]] = {}
    prefix = status_url(settings.public_url, "")
    if session is not None:
        for row in session.scalars(select(StatusList)):
            if row.signed_document and row.signed_revision == row.revision:
                lists[prefix + row.list_id] = json.loads(row.signed_document)
    return OwnData(documents, lists, prefix)


class Verifier:
    """verify(source, recipient=None) with our own data first, then the network under the policy."""

    def __init__(self, *, fetcher: Fetcher | None, own_documents: Callable[[str], dict | None] | None = None,
                 own_status: Callable[[str], dict | None] | None = None, own_prefix: str | None = None,
                 now: datetime | None = None) -> None:
        self.fetcher = fetcher
        self._own_documents = own_documents
        self._own_status = own_status
        self._own_prefix = own_prefix
        self._now = now
        self._trusted = TrustedLists()  # status lists verified with this verifier's key sources

    def documents(self, controller: str) -> dict[str, Any] | None:
        if self._own_documents is not None:
            found = self._own_documents(controller)
            if found is not None:
                return found
        return self.fetcher.documents(controller) if self.fetcher is not None else None

    def _status_list(self, url: str) -> dict[str, Any] | None:
        if self._own_status is not None and self._own_prefix and isinstance(url, str) and url.startswith(self._own_prefix):
            return self._own_status(url)  # ours: never fetched from ourselves
        if self.fetcher is None:
            return None
        # A FetchError reaches the status checker, whose "status unknown" then says why.
        listed = self.fetcher.get_json(url)
        return listed if isinstance(listed, dict) else None

    def verify(self, source: bytes | str | dict[str, Any], *, recipient: str | None = None) -> VerificationReport:
        now = self._now or datetime.now(UTC)
        checker = status_list_checker(self._status_list, documents=self.documents, now=now, trusted=self._trusted)
        return verify_presented(source, now=now, fetcher=self.fetcher, recipient=recipient,
                                documents=self.documents, status_checker=checker)


def data_verifier(own: OwnData, policy: FetchPolicy | None, *, now: datetime | None = None) -> Verifier:
    """A Verifier from a snapshot (batch workers, the benchmark)."""
    return Verifier(fetcher=fetcher_for(policy) if policy is not None else None,
                    own_documents=own.documents.get, own_status=own.status_lists.get,
                    own_prefix=own.status_prefix, now=now)


def session_verifier(session: Session, settings: Settings, *, now: datetime | None = None) -> Verifier:
    """A Verifier reading our status lists live from the caller's transaction."""
    if not settings.keys_dir.exists():
        return Verifier(fetcher=fetcher_for(fetch_policy(settings)), now=now)
    identity = IssuerIdentity.public(settings)
    return Verifier(fetcher=fetcher_for(fetch_policy(settings)), own_documents=identity.documents,
                    own_status=our_status_lists(session, identity, can_sign=False),
                    own_prefix=status_url(settings.public_url, ""), now=now)


# --- what the licensure office counts ---------------------------------------------------------


def thresholds(settings: Settings) -> dict[str, float]:
    """PDPs required per license type (the setting was checked when it was loaded)."""
    return parse_thresholds(settings.pdp_thresholds)


@dataclass(frozen=True)
class PdpRule:
    """The catalogue's dated PDP policy applied to a credential (picklable for batch workers)."""

    policy: PdpPolicy
    our_issuers: frozenset[str]
    achievements_prefix: str  # our achievement ids: {prefix}{slug}/v/{n}
    pathways: dict[str, str]  # slug -> pathway

    def __call__(self, summary: Any) -> float | None:
        if summary is None or summary.earned is None:
            return None
        slug = pathway = ""
        achievement = summary.achievement_id or ""
        if summary.issuer_id in self.our_issuers and achievement.startswith(self.achievements_prefix):
            slug = achievement[len(self.achievements_prefix):].split("/", 1)[0]
            pathway = self.pathways.get(slug, "")
        value = self.policy.value_on(slug, pathway, summary.earned)
        return value.value if value is not None else None


def renewal_policy(settings: Settings, catalog: Any, our_issuers: frozenset[str]) -> RenewalPolicy:
    rule = PdpRule(catalog.policy, our_issuers, settings.public_url + "/achievements/",
                   {slug: badge.pathway for slug, badge in catalog.badge_classes.items()})
    return RenewalPolicy(pdp_value=rule, thresholds=thresholds(settings))


def parse_day(text: str, what: str) -> date:
    """A YYYY-MM-DD date; InvalidInput naming `what`."""
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        raise InvalidInput(f"{what} {text!r} is not a date (YYYY-MM-DD).", code="invalid_date") from None


# --- files ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Presented:
    """One thing to verify: where it came from, and its content or why it could not be read."""

    source: str
    content: bytes | str | dict[str, Any] | None
    problem: Problem | None = None


def unreadable_report(item: Presented) -> VerificationReport:
    return unreadable(item.problem or Problem("unreadable", "Unreadable", "The input could not be read."))


def expand_upload(name: str, data: bytes) -> list[Presented]:
    """A file as presented credentials: a zip gives one per entry (with limits), anything else itself."""
    if not data.startswith(b"PK\x03\x04"):
        return [Presented(name, data)]
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        return [Presented(name, None, Problem("bad_zip", "Damaged zip file", f"{name} is not a readable zip ({exc})."))]
    with archive:
        return list(read_zip(archive, name))


def read_zip(archive: zipfile.ZipFile, label: str):
    """Yield one Presented per credential-like entry; limits give each offending entry a clear reason."""
    infos = [i for i in archive.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX/")]
    if len(infos) > ZIP_MAX_ENTRIES:
        yield Presented(label, None, Problem("zip_too_many_entries", "Too many files in the zip",
                                             f"{label} holds {len(infos):,} files; at most {ZIP_MAX_ENTRIES:,} are read."))
        return
    total = 0
    for info in infos:
        source = f"{label}: {info.filename}"
        data, problem = read_entry(archive, info)
        if problem is None:
            total += len(data or b"")
            if total > ZIP_MAX_TOTAL_BYTES:
                problem = Problem("zip_too_large", "The zip is too large uncompressed",
                                  f"{label} holds more than {ZIP_MAX_TOTAL_BYTES // (1024 * 1024)} MB uncompressed; "
                                  "the rest is not read.")
                yield Presented(source, None, problem)
                return
        yield Presented(source, data, problem)


def read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[bytes | None, Problem | None]:
    """An entry's bytes, read with a hard limit (the header's sizes are not trusted)."""
    name = info.filename
    if info.flag_bits & 0x1:
        return None, Problem("zip_encrypted", "Encrypted file", f"{name} is encrypted.")
    if info.file_size > ZIP_MAX_ENTRY_BYTES:
        return None, _entry_too_large(name)
    if info.compress_size and info.file_size / info.compress_size > ZIP_MAX_RATIO:
        return None, _bomb(name)
    try:
        with archive.open(info) as fh:
            data = fh.read(ZIP_MAX_ENTRY_BYTES + 1)
    except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError, RuntimeError, zlib.error) as exc:
        return None, Problem("zip_entry_unreadable", "Unreadable file in the zip", f"{name} cannot be read ({exc}).")
    if len(data) > ZIP_MAX_ENTRY_BYTES:
        return None, _entry_too_large(name)
    if info.compress_size and len(data) / max(info.compress_size, 1) > ZIP_MAX_RATIO:
        return None, _bomb(name)
    return data, None


def _entry_too_large(name: str) -> Problem:
    return Problem("zip_entry_too_large", "File too large",
                   f"{name} is larger than {ZIP_MAX_ENTRY_BYTES // (1024 * 1024)} MB uncompressed; it is not read.")


def _bomb(name: str) -> Problem:
    return Problem("zip_bomb", "Suspicious compression",
                   f"{name} expands more than {ZIP_MAX_RATIO} times: refused as a possible zip bomb.")
