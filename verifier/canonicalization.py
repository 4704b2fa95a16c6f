"""RDF Dataset Canonicalization (RDFC-1.0) of JSON-LD documents, in safe mode, with pinned contexts.

RDFC-1.0 is the algorithm pyld calls URDNA2015 (the W3C Recommendation renamed it). pyld
expands the document (safe mode and memos: verifier.expansion); Oxigraph turns the expanded
form into canonical N-Quads (verifier.canonical_nquads), byte for byte what pyld's own to_rdf
and URDNA2015 write. A document outside what is proven identical there is canonicalized by
pyld, as before (canonicalize_traced says which, and why); plain mode (safe=False) and
memo=False are pyld alone, the reference the tests compare with.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from pyld.jsonld import JsonLdError

from .canonical_nquads import Route, canonical_nquads
from .config_templates import ConfigTemplates
from .document_loader import document_loader
from .errors import CanonicalizationError, DocumentLoaderError, UndefinedTermError, VerifierError
from .expansion import SafeProcessor
from .expansion_memo import json_key

_SMALL_DOCUMENTS = 512  # canonical forms of proof configurations remembered


def canonicalize(document: dict[str, Any], *, safe: bool = True, memo: bool = True) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document.

    Raises UndefinedTermError (safe mode), DocumentLoaderError (context not pinned) or
    CanonicalizationError (any other JSON-LD error).
    """
    return canonicalize_traced(document, safe=safe, memo=memo)[0]


def canonicalize_traced(document: dict[str, Any], *, safe: bool = True, memo: bool = True) -> tuple[str, str | None]:
    """(canonical N-Quads, None) when Oxigraph wrote them, else (..., why pyld did)."""
    if not (safe and memo):
        return _pyld(document, safe=safe, memo=memo), "reference"
    processor = SafeProcessor(safe=True, memo=True, native=True)
    try:
        expanded = processor.expand(document, _options(safe=True))
    except (JsonLdError, VerifierError, RecursionError, ArithmeticError, ValueError, TypeError):
        # pyld refuses it: the pyld path raises the same error, with the same message
        return _pyld(document, safe=True, memo=True), "error"
    try:
        return canonical_nquads(expanded, processor.hits), None
    except Route as route:
        return _pyld(document, safe=True, memo=True), route.reason


class _SmallDocuments:
    """Canonical forms of small documents by their JSON (a pure function of it: the contexts
    are pinned), bounded: the proof configuration of a proof signed and verified again."""

    def __init__(self, size: int) -> None:
        self._entries: OrderedDict[Any, str] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def canonicalize(self, document: dict[str, Any]) -> str:
        key = json_key(document)
        if key is None:
            return canonicalize(document)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
        result = canonicalize(document)
        with self._lock:
            self._entries[key] = result
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return result


_SMALL = _SmallDocuments(_SMALL_DOCUMENTS)
_TEMPLATES = ConfigTemplates(canonicalize)


def canonicalize_proof_configuration(config: dict[str, Any]) -> str:
    """canonicalize(config) of a Data Integrity proof configuration: from the template of its
    shape (config_templates), else remembered for a few hundred configurations."""
    from_template = _TEMPLATES.canonical(config)
    return from_template if from_template is not None else _SMALL.canonicalize(config)


def _options(*, safe: bool) -> dict[str, Any]:
    return {
        "algorithm": "URDNA2015",
        "format": "application/n-quads",
        "documentLoader": document_loader,
        # Safe mode keeps relative IRIs relative (pyld would resolve them against an
        # example base) so the check can refuse them; plain mode matches pyld.
        "base": None if safe else "",
    }


def _pyld(document: dict[str, Any], *, safe: bool, memo: bool) -> str:
    """pyld's to_rdf and URDNA2015 on its safe-mode expansion (the reference path)."""
    processor = SafeProcessor(safe=safe, memo=memo)
    try:
        return processor.normalize(document, _options(safe=safe))
    except JsonLdError as exc:
        raise _translate(exc) from exc
    except RecursionError as exc:
        raise CanonicalizationError("The document is nested too deeply to process.") from exc
    except (OverflowError, ValueError) as exc:
        # e.g. a 400-digit number: valid JSON, but no RDF literal can be made of it
        raise CanonicalizationError(f"The document holds a value that cannot be canonicalized: {exc}.") from exc
    except TypeError as exc:
        # pyld 3.3 fails inside to_rdf on, e.g., a list item whose identifier is not an absolute IRI
        raise CanonicalizationError(
            "The document could not be canonicalized: pyld could not process a value in it "
            f"(for example a list item whose @id is not an absolute IRI): {exc}.") from exc


def _translate(exc: BaseException) -> Exception:
    """Find our own error inside pyld's chain of wrapped causes, else describe the JSON-LD error."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (UndefinedTermError, DocumentLoaderError)):
            return seen
        seen = seen.__cause__ or seen.__context__
    innermost: BaseException = exc
    while innermost.__cause__ is not None and isinstance(innermost.__cause__, JsonLdError):
        innermost = innermost.__cause__
    code = getattr(innermost, "code", None)
    message = str(innermost).split("\n")[0]
    detail = f" ({code})" if code else ""
    return CanonicalizationError(f"The JSON-LD could not be processed: {message}{detail}")
