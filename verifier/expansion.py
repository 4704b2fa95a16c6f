"""JSON-LD expansion with pyld, in safe mode, with memos that leave its output unchanged.

Safe mode (as in jsonld.js): a property or type that the contexts do not define is an error
instead of being silently dropped, so nothing can be added to a signed credential without the
signature covering it. Terms that only resolve through the VC 2.0 `@vocab` fallback
(`issuer-dependent#`) count as undefined too. The memos are in expansion_memo; a processor in
native mode also records which expanded objects were memo copies (see canonical_nquads).
"""

from __future__ import annotations

import marshal
import uuid
from typing import Any

from frozendict import frozendict
from pyld import jsonld
from pyld.jsonld import JsonLdProcessor

from . import expansion_memo as memo
from .errors import UndefinedTermError
from .expansion_memo import ExpansionEntry

ISSUER_DEPENDENT = "https://www.w3.org/ns/credentials/issuer-dependent#"
_SCALARS = frozenset({str, int, float, bool})
# Containers whose expansion edits the expanded members afterwards (adds @index, @type, ...).
_EDITING_CONTAINERS = frozenset({"@index", "@type", "@id", "@language", "@graph"})


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


class SafeProcessor(JsonLdProcessor):
    """pyld's processor with safe-mode expansion and memoized context processing.

    With `native`, the safe-mode check is left to the caller (canonical_nquads runs it with its
    own walk), and a memo hit outside the map containers whose members pyld edits afterwards
    (@index, @id, @type, @language, @graph) is the entry's shared object itself, not a copy:
    `hits` maps its id to (entry, object), and the caller must copy it before changing it. The
    pyld path (native off) always gets copies: its to_rdf edits what it is given.
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
        cache = memo._IRI_MEMO.cache_for(active_ctx)
        key = (value, base, vocab)
        try:
            return cache[key]
        except KeyError:
            result = super()._expand_iri(active_ctx, value, base, vocab)
            if len(cache) < memo._IRI_PER_CONTEXT:
                cache[key] = result
            return result

    def _expand(self, active_ctx, active_property, element, options, inside_list=False, inside_index=False,
                type_scoped_ctx=None):
        if self._memo and type(element) in _SCALARS:
            return self._expand_scalar(active_ctx, active_property, element, options, inside_list, inside_index,
                                       type_scoped_ctx)
        key = None
        if self._memo:
            key = memo._EXPANSION_MEMO.key(active_ctx, type_scoped_ctx, active_property, element,
                                      (inside_list, inside_index, self._safe))
            if key is not None:
                entry = memo._EXPANSION_MEMO.get(key, active_ctx, type_scoped_ctx)
                if entry is not None:
                    if self._native and not self._edited_later(active_ctx, active_property):
                        shared = entry.shared  # not copied: the caller copies what it changes
                        self.hits[id(shared)] = (entry, shared)
                        return shared
                    return entry.copy()
        result = super()._expand(active_ctx, active_property, element, options, inside_list=inside_list,
                                 inside_index=inside_index, type_scoped_ctx=type_scoped_ctx)
        if key is not None:
            memo._EXPANSION_MEMO.put(key, active_ctx, type_scoped_ctx, result)
        return result

    def _expand_scalar(self, active_ctx, active_property, element, options, inside_list, inside_index,
                       type_scoped_ctx):
        """A string, number or boolean: expanding it is a pure function of the frozen context, the
        property, flags, the base and the value (its type and repr: 1, 1.0 and True, 0.0 and -0.0
        differ), so repeats (a badge class's description, a status purpose) are copies."""
        if not isinstance(active_ctx, frozendict) or not isinstance(type_scoped_ctx, (frozendict, type(None))):
            return super()._expand(active_ctx, active_property, element, options, inside_list=inside_list,
                                   inside_index=inside_index, type_scoped_ctx=type_scoped_ctx)
        cache = memo._SCALAR_MEMO.cache_for(active_ctx)
        key = (active_property, type(element), repr(element) if type(element) is float else element,
               inside_list, inside_index, id(type_scoped_ctx), self._safe, options.get("base"))
        hit = cache.get(key)
        if hit is not None and hit[0] is type_scoped_ctx:
            return dict(hit[1])  # a value object of scalars: a shallow copy is a copy
        result = super()._expand(active_ctx, active_property, element, options, inside_list=inside_list,
                                 inside_index=inside_index, type_scoped_ctx=type_scoped_ctx)
        if type(result) is dict and all(type(v) in _SCALARS for v in result.values()):
            if len(cache) >= memo._SCALARS_PER_CONTEXT:
                cache.clear()  # unique values (names, ids) fill it; the repeating ones come back
            cache[key] = (type_scoped_ctx, dict(result))  # holding the scoped context keeps its id
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
            key = memo._MEMO.key(active_ctx, local_ctx, (override_protected, propagate, validate_scoped))
            if key is not None:
                hit = memo._MEMO.get(key, active_ctx)
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
            memo._MEMO.put(key, active_ctx, result)
        return result


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
