"""The memos of JSON-LD expansion (verifier.expansion): each returns exactly what pyld computes.

* Processed contexts. pyld re-processes the same type- and property-scoped contexts for every
  node because each clone of an active context gets a fresh id; the memo returns the identical
  processed context for the same (active context, local context) pair.
* Term expansions against a frozen (finished) context.
* Expanded objects. Credentials of one badge class embed the same Achievement (with its rubric,
  often most of the document); expanding an object is a pure function of (frozen active
  context, active property, flags, the object's JSON), so a repeat is a copy (marshal: exact for
  JSON data). Objects are remembered from their third sighting: most never repeat, and an
  issuer expands each credential twice (to sign it and to verify it once).

pyld's own shared caches are locked here for threads (installed at import).
"""

from __future__ import annotations

import json
import marshal
import threading
from collections import OrderedDict
from typing import Any

import orjson
from cachetools import LRUCache
from frozendict import frozendict
from pyld import jsonld, resolved_context

from .document_loader import load_context, pinned_urls

_MEMO_SIZE = 4096


class LockedLRU(LRUCache):
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
jsonld._resolved_context_cache = LockedLRU(jsonld.RESOLVED_CONTEXT_CACHE_MAX_SIZE)
jsonld._inverse_context_cache = LockedLRU(jsonld.INVERSE_CONTEXT_CACHE_MAX_SIZE)
resolved_context.LRUCache = LockedLRU
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


class ContextMemo:
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


_MEMO = ContextMemo()


class IriMemo:
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


_IRI_MEMO = IriMemo()
_SCALAR_MEMO = IriMemo()  # the same shape: per frozen context, (property, value, flags) -> value object
_SCALARS_PER_CONTEXT = 4096


class ExpansionEntry:
    """One memoized expansion: the contexts it is valid under and a marshal copy of the result.
    `shared` is one decoded copy that callers must never change (a native-mode processor hands it
    out where pyld does not edit its members; canonical_nquads copies it before changing it);
    `native` is filled in by canonical_nquads (its quads, or False when it cannot be reused);
    `reuses` counts the times it was asked to."""

    __slots__ = ("active_ctx", "type_scoped_ctx", "blob", "native", "reuses", "_shared")

    def __init__(self, active_ctx: Any, type_scoped_ctx: Any, blob: bytes) -> None:
        self.active_ctx, self.type_scoped_ctx, self.blob = active_ctx, type_scoped_ctx, blob
        self.native: Any = None
        self.reuses = 0
        self._shared: Any = None

    def copy(self) -> Any:
        return marshal.loads(self.blob)

    @property
    def shared(self) -> Any:
        if self._shared is None:
            self._shared = marshal.loads(self.blob)
        return self._shared


class ExpansionMemo:
    """(active ctx, type-scoped ctx, property, flags, object JSON) -> expanded object (bounded)."""

    MIN_KEYS = 2  # pyld spends ~40 µs on even a small typed object; an orjson key and a copy ~3 µs
    KEPT_AT = 3  # an issuer expands what it signs twice (sign, verify once): keep from the third time

    def __init__(self, size: int = 1024) -> None:
        self._entries: OrderedDict[tuple, ExpansionEntry] = OrderedDict()
        self._seen: OrderedDict[int, int] = OrderedDict()  # hash of a key -> times met, not yet kept
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
        """Remember an expansion met for the KEPT_AT-th time (most objects of a credential, its
        subject or status entry, never repeat: copying them would be wasted)."""
        digest = hash(key)
        with self._lock:
            met = self._seen.pop(digest, 0) + 1
            if met < self.KEPT_AT:
                self._seen[digest] = met
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


_EXPANSION_MEMO = ExpansionMemo()


