"""JSON-LD expansion with pyld, in safe mode, with memos that leave its output unchanged.

* Safe mode (as in jsonld.js): a property or type that the contexts do not define is an error
  instead of being silently dropped, so nothing can be added to a signed credential without the
  signature covering it. Terms that only resolve through the VC 2.0 `@vocab` fallback
  (`issuer-dependent#`) count as undefined too.
* A memo of processed contexts. pyld re-processes the same type- and property-scoped contexts
  for every node because each clone of an active context gets a fresh id; the memo returns the
  identical processed context for the same (active context, local context) pair.
* A memo of expanded objects. Credentials of one badge class embed the same Achievement (with
  its rubric, often most of the document); expanding an object is a pure function of (frozen
  active context, active property, flags, the object's JSON), so a repeat is a copy. A
  processor in native mode also records which objects were such copies (see canonical_nquads).
"""

from __future__ import annotations

import json
import marshal
import threading
import uuid
from collections import OrderedDict
from typing import Any

import orjson
from cachetools import LRUCache
from frozendict import frozendict
from pyld import jsonld, resolved_context
from pyld.jsonld import JsonLdProcessor

from .document_loader import load_context, pinned_urls
from .errors import UndefinedTermError

ISSUER_DEPENDENT = "https://www.w3.org/ns/credentials/issuer-dependent#"
_MEMO_SIZE = 4096
# Containers whose expansion edits the expanded members afterwards (adds @index, @type, ...).
_EDITING_CONTAINERS = frozenset({"@index", "@type", "@id", "@language", "@graph"})


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
    """Per frozen active context, the expansions already computed (bounded). Reads take no lock
    (a dict read is atomic); creating a context's map and evicting one do."""

    def __init__(self) -> None:
        self._by_context: OrderedDict[int, tuple[Any, dict]] = OrderedDict()
        self._lock = threading.Lock()

    def cache_for(self, active_ctx: Any) -> dict:
        entry = self._by_context.get(id(active_ctx))
        if entry is not None and entry[0] is active_ctx:
            return entry[1]
        with self._lock:
            entry = self._by_context.get(id(active_ctx))
            if entry is None or entry[0] is not active_ctx:
                entry = (active_ctx, {})
                self._by_context[id(active_ctx)] = entry
                if len(self._by_context) > _IRI_CONTEXTS:
                    self._by_context.popitem(last=False)
            return entry[1]


_IRI_MEMO = _IriMemo()


class ExpansionEntry:
    """One memoized expansion: the contexts it is valid under and a marshal copy of the result.
    `native` is filled in by canonical_nquads (its quads, or False when it cannot be reused);
    `reuses` counts the times it was asked to."""

    __slots__ = ("active_ctx", "type_scoped_ctx", "blob", "native", "reuses", "shape")

    def __init__(self, active_ctx: Any, type_scoped_ctx: Any, blob: bytes) -> None:
        self.active_ctx, self.type_scoped_ctx, self.blob = active_ctx, type_scoped_ctx, blob
        self.native: Any = None
        self.reuses = 0
        self.shape: tuple | None = None  # top_level_shape of the expansion, when first asked

    def copy(self) -> Any:
        return marshal.loads(self.blob)


class _ExpansionMemo:
    """(active ctx, type-scoped ctx, property, flags, object JSON) -> expanded object (bounded)."""

    MIN_KEYS = 2  # pyld spends ~40 µs on even a small typed object; an orjson key and a copy ~3 µs

    def __init__(self, size: int = 1024) -> None:
        self._entries: OrderedDict[tuple, ExpansionEntry] = OrderedDict()
        self._seen: OrderedDict[int, None] = OrderedDict()  # hashes of keys met once
        self._lock = threading.Lock()
        self._size = size

    def key(self, active_ctx: Any, type_scoped_ctx: Any, active_property: Any, element: Any,
            flags: tuple) -> tuple | None:
        if not isinstance(element, dict) or len(element) < self.MIN_KEYS or "@context" in element:
            return None
        if not isinstance(active_ctx, frozendict) or not isinstance(type_scoped_ctx, (frozendict, type(None))):
            return None
        text = json_key(element)
        if text is None:
            return None
        return (id(active_ctx), id(type_scoped_ctx), active_property, flags, text)

    def get(self, key: tuple, active_ctx: Any, type_scoped_ctx: Any) -> ExpansionEntry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.active_ctx is not active_ctx or entry.type_scoped_ctx is not type_scoped_ctx:
                return None
            self._entries.move_to_end(key)
        return entry

    def put(self, key: tuple, active_ctx: Any, type_scoped_ctx: Any, expanded: Any) -> None:
        """Remember an expansion met for the second time (most objects of a credential, its
        subject or status entry, never repeat: copying them would be wasted)."""
        digest = hash(key)
        with self._lock:
            if self._seen.pop(digest, False) is False:
                self._seen[digest] = None
                if len(self._seen) > 4 * self._size:
                    self._seen.popitem(last=False)
                return
        try:
            blob = marshal.dumps(expanded)
        except ValueError:
            return  # not plain JSON data: not memoized
        with self._lock:
            # Holding the contexts keeps their ids from being reused while the entry lives.
            self._entries[key] = ExpansionEntry(active_ctx, type_scoped_ctx, blob)
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)


def json_key(element: dict) -> Any:
    """An injective text of JSON data: orjson (fast), else the standard library (exact for big
    integers; NaN refused). orjson writes NaN and Infinity as null, so a text holding "null" is
    made again by the standard library; each text is tagged with its encoder."""
    try:
        text = orjson.dumps(element, option=orjson.OPT_SORT_KEYS)
        if b"null" not in text:
            return (b"o", text)
    except (TypeError, orjson.JSONEncodeError):
        pass
    try:
        return ("j", json.dumps(element, sort_keys=True, separators=(",", ":"), allow_nan=False))
    except (TypeError, ValueError):
        return None


class _MarshalCopied(dict):
    """The input document, for pyld: its defensive deep copy of the input becomes a marshal round
    trip (the same JSON data, a few times faster than copy.deepcopy); other data is deep-copied."""

    def __deepcopy__(self, memo: dict) -> Any:
        import copy

        plain = dict(self)
        try:
            return marshal.loads(marshal.dumps(plain))
        except ValueError:
            return copy.deepcopy(plain, memo)


_EXPANSION_MEMO = _ExpansionMemo()


class SafeProcessor(JsonLdProcessor):
    """pyld's processor with safe-mode expansion and memoized context processing.

    With `native`, the safe-mode check is left to the caller (canonical_nquads runs it with its
    own walk) and `hits` maps id(copy) -> (entry, copy) for memo copies outside the map containers
    that pyld edits afterwards; the caller compares the copy's top-level shape with the entry's
    before it reuses what it knows about the entry (pyld only ever edits a member's top level:
    it adds @index or a property, or lengthens @type or a property's values).
    """

    def __init__(self, *, safe: bool, memo: bool, native: bool = False) -> None:
        super().__init__(on_property_dropped=self._dropped if safe else jsonld.noop)
        self._safe = safe
        self._memo = memo
        self._native = native
        self.hits: dict[int, tuple[ExpansionEntry, dict]] = {}

    @staticmethod
    def _dropped(expanded_property: Any) -> None:
        raise UndefinedTermError(
            f"The property {expanded_property!r} is not defined by the credential's "
            "@context, so a signature could not cover it."
        )

    def expand(self, input_: Any, options: dict) -> Any:
        if type(input_) is dict:
            input_ = _MarshalCopied(input_)
        expanded = super().expand(input_, options)
        if self._safe and not self._native:
            check_expanded(expanded)
        return expanded

    def _expand_iri(self, active_ctx, value, base=None, vocab=False, local_ctx=None, defined=None):
        # Expansion of a term against a frozen (finished) context is a pure function of
        # (context, value, base, vocab); pyld recomputes it, with regexes, for every key.
        if (not self._memo or local_ctx is not None or defined is not None or type(value) is not str
                or not isinstance(active_ctx, frozendict) or not isinstance(base, (str, type(None)))):
            return super()._expand_iri(active_ctx, value, base, vocab, local_ctx, defined)
        cache = _IRI_MEMO.cache_for(active_ctx)
        key = (value, base, vocab)
        try:
            return cache[key]
        except KeyError:
            result = super()._expand_iri(active_ctx, value, base, vocab)
            if len(cache) < _IRI_PER_CONTEXT:
                cache[key] = result
            return result

    def _expand(self, active_ctx, active_property, element, options, inside_list=False, inside_index=False,
                type_scoped_ctx=None):
        key = None
        if self._memo:
            key = _EXPANSION_MEMO.key(active_ctx, type_scoped_ctx, active_property, element,
                                      (inside_list, inside_index, self._safe))
            if key is not None:
                entry = _EXPANSION_MEMO.get(key, active_ctx, type_scoped_ctx)
                if entry is not None:
                    hit = entry.copy()
                    if self._native and type(hit) is dict and not self._edited_later(active_ctx, active_property):
                        self.hits[id(hit)] = (entry, hit)  # holding the copy keeps its id unique
                    return hit
        result = super()._expand(active_ctx, active_property, element, options, inside_list=inside_list,
                                 inside_index=inside_index, type_scoped_ctx=type_scoped_ctx)
        if key is not None:
            _EXPANSION_MEMO.put(key, active_ctx, type_scoped_ctx, result)
        return result

    @staticmethod
    def _edited_later(active_ctx: Any, active_property: Any) -> bool:
        """True when pyld edits what this property's values expand to (map containers)."""
        if active_property is None:
            return False
        container = JsonLdProcessor.get_context_value(active_ctx, active_property, "@container") or []
        return bool(_EDITING_CONTAINERS.intersection(container))

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


def top_level_shape(node: dict) -> tuple:
    """Keys and list lengths of a dict's top level (any edit pyld makes to a member changes them)."""
    return tuple((k, len(v) if type(v) is list else -1) for k, v in node.items())


def _new_uuid() -> str:
    return str(uuid.uuid4())


def check_expanded(node: Any, path: str = "") -> None:
    """Safe mode on expanded JSON-LD: every IRI that would become RDF must be absolute and defined."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            check_expanded(item, f"{path}[{i}]")
        return
    if not isinstance(node, dict):
        return
    is_value = "@value" in node
    for key, value in node.items():
        if key.startswith("@"):
            if key == "@type":
                for t in value if isinstance(value, list) else [value]:
                    require_defined_iri(t, f"{path}/@type", is_type=True, is_value=is_value)
            elif key == "@id":
                require_defined_iri(value, f"{path}/@id", is_type=False, is_value=False)
            elif key in ("@graph", "@list", "@set", "@included", "@reverse"):
                check_expanded(value, f"{path}/{key}")
            continue
        require_defined_iri(key, path, is_type=False, is_value=False)
        check_expanded(value, f"{path}/{key}")


def is_defined_iri(iri: Any) -> bool:
    """What require_defined_iri accepts, as a predicate (for walks that only need the verdict)."""
    if not isinstance(iri, str) or iri.startswith("_:") or iri == "@json":
        return True
    return not iri.startswith(ISSUER_DEPENDENT) and ":" in iri


def require_defined_iri(iri: Any, path: str, *, is_type: bool, is_value: bool) -> None:
    if is_defined_iri(iri):
        return
    if iri.startswith(ISSUER_DEPENDENT):
        term = iri[len(ISSUER_DEPENDENT):]
        what = "type" if is_type else "property"
        raise UndefinedTermError(
            f"The {what} {term!r} is not defined by the credential's @context "
            f"(it only matched the VC 2.0 issuer-dependent vocabulary), at {path or '/'}."
        )
    what = "type" if is_type else "identifier"
    raise UndefinedTermError(
        f"The {what} {iri!r} at {path or '/'} is not defined by the credential's @context "
        "and is not an absolute IRI."
    )
