"""RDF Dataset Canonicalization (RDFC-1.0) of JSON-LD documents, in safe mode, with pinned contexts.

RDFC-1.0 is the algorithm pyld calls URDNA2015 (the W3C Recommendation renamed it;
the output is identical). Two things are added to plain pyld:

* Safe mode (as in jsonld.js): a property or type that the contexts do not define is
  an error instead of being silently dropped, so nothing can be added to a signed
  credential without the signature covering it. Terms that only resolve through the
  VC 2.0 `@vocab` fallback (`issuer-dependent#`) count as undefined too.
* A memo of processed contexts. pyld re-processes the same type- and property-scoped
  contexts for every node because each clone of an active context gets a fresh id; the
  memo returns the identical processed context for the same (active context, local
  context) pair. Output is unchanged (tests compare it with plain pyld).
* A memo of expanded objects. Credentials of one badge class embed the same Achievement
  (with its rubric, often most of the document); expanding an object is a pure function of
  (frozen active context, active property, flags, the object's JSON), so a repeat is a copy.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import OrderedDict
from typing import Any

from cachetools import LRUCache
from frozendict import frozendict
from pyld import jsonld, resolved_context
from pyld.jsonld import JsonLdError, JsonLdProcessor

from .document_loader import document_loader, load_context, pinned_urls
from .errors import CanonicalizationError, DocumentLoaderError, UndefinedTermError

ISSUER_DEPENDENT = "https://www.w3.org/ns/credentials/issuer-dependent#"
_MEMO_SIZE = 4096


class _LockedLRU(LRUCache):
    """cachetools' LRUCache behind a lock. pyld keeps module-wide LRU caches of resolved contexts
    (and one per resolved context) that every thread shares; cachetools caches are not
    thread-safe, and the web service verifies and signs on several threads at once."""

    def __init__(self, maxsize: int, getsizeof: Any = None) -> None:
        super().__init__(maxsize, getsizeof)
        self._lock = threading.RLock()

    def __getitem__(self, key: Any) -> Any:
        with self._lock:
            return super().__getitem__(key)

    def __setitem__(self, key: Any, value: Any) -> None:
        with self._lock:
            super().__setitem__(key, value)

    def __delitem__(self, key: Any) -> None:
        with self._lock:
            super().__delitem__(key)

    def __contains__(self, key: Any) -> bool:
        with self._lock:
            return super().__contains__(key)

    def get(self, key: Any, default: Any = None) -> Any:
        with self._lock:
            return super().get(key, default)

    def popitem(self) -> Any:
        with self._lock:
            return super().popitem()


# Installed once, at import: the shared caches pyld consults on every call, and the class it
# gives each resolved context. Same contents, same results; only the locking is added.
jsonld._resolved_context_cache = _LockedLRU(jsonld.RESOLVED_CONTEXT_CACHE_MAX_SIZE)
jsonld._inverse_context_cache = _LockedLRU(jsonld.INVERSE_CONTEXT_CACHE_MAX_SIZE)
resolved_context.LRUCache = _LockedLRU
_IRI_CONTEXTS, _IRI_PER_CONTEXT = 256, 2048


def _pinned_object_ids() -> frozenset[int]:
    """ids of every dict inside the pinned contexts: only those are memoized by identity."""
    found: set[int] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            found.add(id(node))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for url in pinned_urls():
        walk(load_context(url))
    return frozenset(found)


class _ContextMemo:
    """A bounded, thread-safe map (active ctx, local ctx, flags) -> processed active ctx."""

    def __init__(self) -> None:
        self._entries: OrderedDict[tuple, tuple] = OrderedDict()
        self._lock = threading.Lock()
        self._pinned: frozenset[int] | None = None

    def key(self, active_ctx: Any, local_ctx: Any, flags: tuple) -> tuple | None:
        """A memo key, or None when the inputs are not stable enough to memoize."""
        if not isinstance(active_ctx, frozendict):
            return None  # partially built contexts (pyld's pre-validation pass) change later
        if self._pinned is None:
            self._pinned = _pinned_object_ids()
        if isinstance(local_ctx, str):
            ctx_key: Any = local_ctx
        elif isinstance(local_ctx, list) and all(isinstance(c, str) for c in local_ctx):
            ctx_key = tuple(local_ctx)
        elif isinstance(local_ctx, dict) and id(local_ctx) in self._pinned:
            ctx_key = ("pinned", id(local_ctx))
        else:
            return None  # inline contexts from a document: process normally
        return (id(active_ctx), ctx_key, flags)

    def get(self, key: tuple, active_ctx: Any) -> Any:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] is not active_ctx:
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: tuple, active_ctx: Any, result: Any) -> None:
        with self._lock:
            # Holding active_ctx keeps its id from being reused while the entry lives.
            self._entries[key] = (active_ctx, result)
            if len(self._entries) > _MEMO_SIZE:
                self._entries.popitem(last=False)


_MEMO = _ContextMemo()


class _IriMemo:
    """Per frozen active context, the expansions already computed (bounded)."""

    def __init__(self) -> None:
        self._by_context: OrderedDict[int, tuple[Any, dict]] = OrderedDict()
        self._lock = threading.Lock()

    def expand(self, processor: JsonLdProcessor, active_ctx: Any, value: Any, base: Any, vocab: bool) -> Any:
        if not isinstance(value, str) or not isinstance(base, (str, type(None))):
            return JsonLdProcessor._expand_iri(processor, active_ctx, value, base, vocab)
        with self._lock:
            entry = self._by_context.get(id(active_ctx))
            if entry is None or entry[0] is not active_ctx:
                entry = (active_ctx, {})
                self._by_context[id(active_ctx)] = entry
                if len(self._by_context) > _IRI_CONTEXTS:
                    self._by_context.popitem(last=False)
            cache = entry[1]
        key = (value, base, vocab)
        try:
            return cache[key]
        except KeyError:
            result = JsonLdProcessor._expand_iri(processor, active_ctx, value, base, vocab)
            if len(cache) < _IRI_PER_CONTEXT:
                cache[key] = result
            return result


_IRI_MEMO = _IriMemo()


class _ExpansionMemo:
    """(active ctx, type-scoped ctx, property, flags, object JSON) -> expanded object (bounded)."""

    MIN_KEYS = 4  # small objects cost less to expand than to serialize as a key

    def __init__(self, size: int = 1024) -> None:
        self._entries: OrderedDict[tuple, tuple] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def key(self, active_ctx: Any, type_scoped_ctx: Any, active_property: Any, element: Any,
            flags: tuple) -> tuple | None:
        if not isinstance(element, dict) or len(element) < self.MIN_KEYS or "@context" in element:
            return None
        if not isinstance(active_ctx, frozendict) or not isinstance(type_scoped_ctx, (frozendict, type(None))):
            return None
        try:
            text = json.dumps(element, sort_keys=True, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError):
            return None
        return (id(active_ctx), id(type_scoped_ctx), active_property, flags, text)

    def get(self, key: tuple, active_ctx: Any, type_scoped_ctx: Any) -> Any:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] is not active_ctx or entry[1] is not type_scoped_ctx:
                return None
            self._entries.move_to_end(key)
        return _copy(entry[2])

    def put(self, key: tuple, active_ctx: Any, type_scoped_ctx: Any, expanded: Any) -> None:
        with self._lock:
            # Holding the contexts keeps their ids from being reused while the entry lives.
            self._entries[key] = (active_ctx, type_scoped_ctx, _copy(expanded))
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)


def _copy(node: Any) -> Any:
    """A deep copy of JSON-shaped data (pyld may annotate what it is given later on)."""
    if isinstance(node, dict):
        return {k: _copy(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_copy(v) for v in node]
    return node


_EXPANSION_MEMO = _ExpansionMemo()


class _SafeProcessor(JsonLdProcessor):
    """pyld's processor with safe-mode expansion and memoized context processing."""

    def __init__(self, *, safe: bool, memo: bool) -> None:
        super().__init__(on_property_dropped=self._dropped if safe else jsonld.noop)
        self._safe = safe
        self._memo = memo

    @staticmethod
    def _dropped(expanded_property: Any) -> None:
        raise UndefinedTermError(
            f"The property {expanded_property!r} is not defined by the credential's "
            "@context, so a signature could not cover it."
        )

    def expand(self, input_: Any, options: dict) -> Any:
        expanded = super().expand(input_, options)
        if self._safe:
            _check_expanded(expanded)
        return expanded

    def _expand_iri(self, active_ctx, value, base=None, vocab=False, local_ctx=None, defined=None):
        # Expansion of a term against a frozen (finished) context is a pure function of
        # (context, value, base, vocab); pyld recomputes it, with regexes, for every key.
        if not self._memo or local_ctx is not None or defined is not None or not isinstance(active_ctx, frozendict):
            return super()._expand_iri(active_ctx, value, base, vocab, local_ctx, defined)
        return _IRI_MEMO.expand(self, active_ctx, value, base, vocab)

    def _expand(self, active_ctx, active_property, element, options, inside_list=False, inside_index=False,
                type_scoped_ctx=None):
        key = None
        if self._memo:
            key = _EXPANSION_MEMO.key(active_ctx, type_scoped_ctx, active_property, element,
                                      (inside_list, inside_index, self._safe))
            if key is not None:
                hit = _EXPANSION_MEMO.get(key, active_ctx, type_scoped_ctx)
                if hit is not None:
                    return hit
        result = super()._expand(active_ctx, active_property, element, options, inside_list=inside_list,
                                 inside_index=inside_index, type_scoped_ctx=type_scoped_ctx)
        if key is not None:
            _EXPANSION_MEMO.put(key, active_ctx, type_scoped_ctx, result)
        return result

    def _process_context(self, active_ctx, local_ctx, options, override_protected=False,
                         propagate=True, validate_scoped=True, cycles=None):
        key = None
        if self._memo:
            key = _MEMO.key(active_ctx, local_ctx, (override_protected, propagate, validate_scoped))
            if key is not None:
                hit = _MEMO.get(key, active_ctx)
                if hit is not None:
                    return hit
        result = super()._process_context(
            active_ctx, local_ctx, options, override_protected=override_protected,
            propagate=propagate, validate_scoped=validate_scoped, cycles=cycles,
        )
        if key is not None:
            if not isinstance(result, frozendict):
                # A fresh clone (an empty context list, or a non-propagating scope):
                # freeze it with a stable id so lookups keyed on it hit from now on.
                result = frozendict({**result, "_uuid": result.get("_uuid") or _new_uuid()})
            _MEMO.put(key, active_ctx, result)
        return result


def _new_uuid() -> str:
    return str(uuid.uuid4())


def _check_expanded(node: Any, path: str = "") -> None:
    """Safe mode on expanded JSON-LD: every IRI that would become RDF must be absolute and defined."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            _check_expanded(item, f"{path}[{i}]")
        return
    if not isinstance(node, dict):
        return
    is_value = "@value" in node
    for key, value in node.items():
        if key.startswith("@"):
            if key == "@type":
                for t in value if isinstance(value, list) else [value]:
                    _require_defined_iri(t, f"{path}/@type", is_type=True, is_value=is_value)
            elif key == "@id":
                _require_defined_iri(value, f"{path}/@id", is_type=False, is_value=False)
            elif key in ("@graph", "@list", "@set", "@included", "@reverse"):
                _check_expanded(value, f"{path}/{key}")
            continue
        _require_defined_iri(key, path, is_type=False, is_value=False)
        _check_expanded(value, f"{path}/{key}")


def _require_defined_iri(iri: Any, path: str, *, is_type: bool, is_value: bool) -> None:
    if not isinstance(iri, str):
        return
    if iri.startswith("_:") or iri == "@json":
        return
    if iri.startswith(ISSUER_DEPENDENT):
        term = iri[len(ISSUER_DEPENDENT):]
        what = "type" if is_type else "property"
        raise UndefinedTermError(
            f"The {what} {term!r} is not defined by the credential's @context "
            f"(it only matched the VC 2.0 issuer-dependent vocabulary), at {path or '/'}."
        )
    if ":" not in iri:
        what = "type" if is_type else "identifier"
        raise UndefinedTermError(
            f"The {what} {iri!r} at {path or '/'} is not defined by the credential's @context "
            "and is not an absolute IRI."
        )


def canonicalize(document: dict[str, Any], *, safe: bool = True, memo: bool = True) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document.

    Raises UndefinedTermError (safe mode), DocumentLoaderError (context not pinned) or
    CanonicalizationError (any other JSON-LD error).
    """
    processor = _SafeProcessor(safe=safe, memo=memo)
    options = {
        "algorithm": "URDNA2015",
        "format": "application/n-quads",
        "documentLoader": document_loader,
        # Safe mode keeps relative IRIs relative (pyld would resolve them against an
        # example base) so the check above can refuse them; plain mode matches pyld.
        "base": None if safe else "",
    }
    try:
        return processor.normalize(document, options)
    except JsonLdError as exc:
        raise _translate(exc) from exc
    except RecursionError as exc:
        raise CanonicalizationError("The document is nested too deeply to process.") from exc
    except (OverflowError, ValueError) as exc:
        # e.g. a 400-digit number: valid JSON, but no RDF literal can be made of it
        raise CanonicalizationError(f"The document holds a value that cannot be canonicalized: {exc}.") from exc


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
