"""verify_presented: whatever an educator brings (a file, a baked image, a JWT, a URL, parsed JSON),
recognised and verified as what it is: Open Badges 3.0 (Data Integrity or VC-JWT, VC 2.0 or 1.1)
or Open Badges 2.0 (hosted or signed).

It never raises for bad input: an unreadable one is a report with a failed `parse` check. With
no `fetcher` nothing is fetched: what needs the network is reported as not checked offline.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from . import ob2, vc_jwt
from .fetch import Fetcher, FetchError
from .inputs import UnreadableInput, is_compact_jws, parse_json_bytes, read_presented
from .key_resolution import DocumentSource, pinned_documents
from .report import Check, Problem, Status, VerificationReport
from .status import status_list_checker
from .summary import summarize
from .verify import KnownIssuers, StatusChecker, verify_credential

ENVELOPED_PREFIXES = ("data:application/vc+jwt,", "data:application/vc-ld+jwt,", "data:application/jwt,")
ACCEPT = "application/ld+json, application/vc+ld+json, application/json, application/vc+jwt, application/jwt"


@dataclasses.dataclass(frozen=True)
class _Setting:
    now: datetime
    fetcher: Fetcher | None
    recipient: str | None
    documents: DocumentSource | None
    status_checker: StatusChecker | None
    known_issuers: KnownIssuers | None


def verify_presented(
    source: bytes | str | dict[str, Any],
    *,
    now: datetime | None = None,
    fetcher: Fetcher | None = None,
    recipient: str | None = None,
    documents: DocumentSource | None = None,
    status_checker: StatusChecker | None = None,
    known_issuers: KnownIssuers | None = None,
) -> VerificationReport:
    """Verify a presented credential of any supported form; the report says which form it was.

    `known_issuers` (issuer id -> controller document) pins the issuers the caller knows: anything
    naming one is checked against its pinned document only, never resolved elsewhere."""
    now = now or datetime.now(UTC)
    if documents is None and fetcher is not None:
        documents = fetcher.documents
    if status_checker is None and fetcher is not None:
        status_checker = status_list_checker(fetcher.get_json, documents=pinned_documents(known_issuers, documents),
                                             now=now)
    setting = _Setting(now, fetcher, recipient, documents, status_checker, known_issuers)
    try:
        item, origin = _load(source, fetcher)
        report = _dispatch(item, origin, setting)
    except UnreadableInput as exc:
        report = unreadable(exc.problem)
    except FetchError as exc:
        report = unreadable(exc.problem, f"The credential could not be fetched: {exc.message}")
    return dataclasses.replace(report, summary=summarize(report))


def unreadable(problem: Problem, message: str | None = None) -> VerificationReport:
    """The report for input that is not a credential at all."""
    return VerificationReport((Check("parse", Status.FAILED, message or problem.detail),), (problem,))


def _load(source: Any, fetcher: Fetcher | None) -> tuple[Any, str | None]:
    """(parsed JSON or compact JWS text, the URL it was fetched from)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        item = read_presented(bytes(source))
    elif isinstance(source, str):
        text = source.strip()
        item = text if _is_url(text) or is_compact_jws(text) else parse_json_bytes(text.encode("utf-8"))
    else:
        item = source
    origin = None
    if isinstance(item, str) and _is_url(item):
        origin = item
        if fetcher is None:
            raise UnreadableInput(Problem("offline", "Not checked offline",
                                          f"The credential is hosted at {item}; it could not be checked "
                                          "offline (no fetching was allowed).", item))
        item = read_presented(fetcher.get(item, accept=ACCEPT))
        if isinstance(item, str) and _is_url(item):
            raise UnreadableInput(Problem("not_a_credential", "Not a credential",
                                          f"{origin} holds only another URL, not a credential."))
    return _unwrapped(item), origin


def _is_url(text: str) -> bool:
    return text[:8].lower() == "https://" or text[:7].lower() == "http://"


def _unwrapped(item: Any) -> Any:
    """The credential inside {"verifiableCredential": ...} (VC-API) or an enveloped VC-JOSE credential."""
    if isinstance(item, dict) and "verifiableCredential" in item and "credentialSubject" not in item:
        inner = item["verifiableCredential"]
        if isinstance(inner, list):
            if len(inner) != 1:
                raise UnreadableInput(Problem("several_credentials", "More than one credential",
                                              f"The presentation holds {len(inner)} credentials; verify them one "
                                              "at a time."))
            inner = inner[0]
        item = inner
    if isinstance(item, dict) and "EnvelopedVerifiableCredential" in _list(item.get("type")):
        data = item.get("id")
        prefix = next((p for p in ENVELOPED_PREFIXES if isinstance(data, str) and data.startswith(p)), None)
        if prefix is None:
            raise UnreadableInput(Problem("envelope_unsupported", "Unsupported envelope",
                                          "The enveloped credential is not a VC-JWT data: URL."))
        item = data[len(prefix):]
    return item


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _dispatch(item: Any, origin: str | None, setting: _Setting) -> VerificationReport:
    if isinstance(item, str):
        if ob2.is_ob2_jws(item):
            return ob2.verify_signed(item, now=setting.now, fetcher=setting.fetcher, recipient=setting.recipient,
                                     known_issuers=tuple(setting.known_issuers or ()))
        return vc_jwt.verify_vc_jwt(item, now=setting.now, documents=setting.documents,
                                    status_checker=setting.status_checker, recipient=setting.recipient,
                                    known_issuers=setting.known_issuers)
    if ob2.is_ob2(item):
        return ob2.verify_hosted(item, origin=origin, now=setting.now, fetcher=setting.fetcher,
                                 recipient=setting.recipient, known_issuers=tuple(setting.known_issuers or ()))
    return verify_credential(item, now=setting.now, documents=setting.documents,
                             status_checker=setting.status_checker, recipient=setting.recipient,
                             known_issuers=setting.known_issuers)
