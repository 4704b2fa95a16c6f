"""The native form of pyld's expanded output: one walk that decides whether Oxigraph's canonical
N-Quads of it are sure to equal pyld's (else Route), and puts it into the form in which they are.

* Numbers, booleans, @json and xsd:double literals get pyld's own lexical form (pyld's
  _object_to_rdf writes them, e.g. 16 significant digits and integer-valued floats as integers).
* @direction is dropped (pyld writes no direction without an rdfDirection option).
* Routed to pyld: what safe mode refuses (pyld gives today's message); an IRI pyld would drop
  (white space, no scheme) or a blank-node property or type; explicit rdf:langString or an
  empty language tag (pyld writes a plain literal); values that pyld keeps twice or merges
  although they are the same literal (or not): only numbers, booleans, @index and explicit
  xsd:string can cause that, in one list or in a named node stated twice; structure pyld does
  not produce.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyld.identifier_issuer import IdentifierIssuer
from pyld.jsonld import JsonLdProcessor, _is_absolute_iri

from .expansion import is_defined_iri

XSD_DOUBLE = "http://www.w3.org/2001/XMLSchema#double"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_VALUE_KEYS = frozenset({"@value", "@type", "@language", "@direction", "@index"})
_CONVERTED_TYPES = frozenset({XSD_DOUBLE, "@json"})
_MAX_COMPARED = 64  # values of one property compared pairwise; more go to pyld
_TO_RDF = {"rdfDirection": None, "processingMode": "json-ld-1.1"}
_PYLD = JsonLdProcessor()
_IRI_VERDICTS: dict[str, bool] = {}


class Route(Exception):
    """This document is canonicalized by pyld; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _iri_ok(iri: Any) -> bool:
    """Defined (safe mode) and absolute by pyld's own test, so pyld keeps its triples."""
    if type(iri) is not str:
        return False
    verdict = _IRI_VERDICTS.get(iri)
    if verdict is None:
        verdict = is_defined_iri(iri) and (iri.startswith("_:") or bool(_is_absolute_iri(iri)))
        if len(_IRI_VERDICTS) > 65536:
            _IRI_VERDICTS.clear()
        _IRI_VERDICTS[iri] = verdict
    return verdict


def term_ok(iri: Any) -> bool:
    """A property or a node type: as _iri_ok, and not a blank node (pyld drops those)."""
    return _iri_ok(iri) and not iri.startswith("_:")


def _rdf_literal(item: dict) -> dict:
    """pyld's own conversion of a value object to an RDF literal (value, datatype, language)."""
    try:
        return _PYLD._object_to_rdf(item, IdentifierIssuer("_:b"), [], _TO_RDF)
    except (ArithmeticError, ValueError, TypeError, RecursionError):
        raise Route("literal") from None


def _nonplain(item: Any) -> bool:
    """A value object whose equality in pyld's node map may differ from its literal's."""
    if type(item) is not dict or "@value" not in item:
        return False
    t = item.get("@type")
    return (type(item["@value"]) is not str or "@index" in item or type(t) is not str and t is not None
            or t == XSD_STRING or t in _CONVERTED_TYPES)


def _check_collisions(values: list) -> None:
    """pyld keeps a value once if equal to another by compare_values, Oxigraph if the literal is."""
    raws = [v for v in values if type(v) is dict and "@value" in v]
    if len(raws) < 2 or not any(_nonplain(v) for v in raws):
        return
    if len(raws) > _MAX_COMPARED:
        raise Route("collision")
    literals = [_literal_key(v) for v in raws]
    for i in range(len(raws)):
        for j in range(i + 1, len(raws)):
            if JsonLdProcessor.compare_values(raws[i], raws[j]) != (literals[i] == literals[j]):
                raise Route("collision")


def _literal_key(item: dict) -> tuple:
    literal = _rdf_literal(item)
    return (literal["value"], literal.get("datatype"), literal.get("language"))


class Walk:
    """One pass: safe-mode and routing checks, literal forms, memo copies replaced by their root."""

    def __init__(self, hits: dict | None = None, reuse: Callable[[Any], Any] | None = None) -> None:
        self._hits = hits or {}  # id -> (memo entry, its shared object): never changed, only copied
        self._reuse = reuse  # memo entry -> what it contributes to the document, or None
        self.used: list[Any] = []
        self.counts: dict[str, int] = {}
        self.nonplain: set[str] = set()
        self.labelled = False  # the document names a blank node (only then can a quad name one twice)

    def top(self, nodes: Any) -> None:
        """The expanded document: a list of node objects (of the default graph)."""
        if type(nodes) is not list:
            raise Route("structure")
        for i, node in enumerate(nodes):
            if type(node) is not dict or "@value" in node or "@list" in node:
                raise Route("structure")
            hit = self._hits.get(id(node))
            if hit is not None and hit[1] is node:
                node = nodes[i] = hit[0].copy()
            self.node(node, in_graph=False)

    def node(self, node: dict, in_graph: bool) -> None:
        nonplain = False
        for key, value in node.items():
            if key[:1] == "@":
                self._keyword(node, key, value, in_graph)
            elif not term_ok(key):
                raise Route("iri")
            elif self.items(value, in_graph):
                nonplain = True
        ident = node.get("@id")
        if ident is not None and len(node) > 1:
            self.counts[ident] = self.counts.get(ident, 0) + 1
            if nonplain:
                self.nonplain.add(ident)

    def _keyword(self, node: dict, key: str, value: Any, in_graph: bool) -> None:
        if key == "@id":
            if not _iri_ok(value):
                raise Route("iri")
            if value.startswith("_:"):
                self.labelled = True
        elif key == "@type":
            if type(value) is not list or not all(term_ok(t) for t in value):
                raise Route("iri")
        elif key == "@graph":
            self.items(value, True)
        elif key == "@included":
            self.items(value, in_graph)
        elif key == "@reverse":
            if type(value) is not dict:
                raise Route("structure")
            for prop, items in value.items():
                if prop[:1] == "@" or not term_ok(prop):
                    raise Route("iri")
                self.items(items, in_graph)
        elif key != "@index":
            raise Route("structure")

    def items(self, values: Any, in_graph: bool) -> bool:
        """Walk a list of values; True if it holds a value whose equality pyld judges otherwise."""
        if type(values) is not list:
            raise Route("structure")
        if len(values) > 1:
            _check_collisions(values)
        nonplain = False
        for i, item in enumerate(values):
            if type(item) is not dict:
                raise Route("structure")
            hit = self._hits.get(id(item))
            if hit is not None and hit[1] is item:
                reused = self._reuse(hit[0]) if self._reuse is not None and not in_graph else None
                if reused is not None:
                    self.used.append(reused)
                    values[i] = {"@id": reused.root}
                    continue
                item = values[i] = hit[0].copy()  # the walk changes what it walks: never the memo's
            if "@value" in item:
                nonplain = self.value(item) or nonplain
            elif "@list" in item:
                if any(k != "@list" and k != "@index" for k in item):
                    raise Route("structure")
                self.items(item["@list"], in_graph)
            else:
                self.node(item, in_graph)
        return nonplain

    def value(self, item: dict) -> bool:
        """Check a value object and give it pyld's literal form; True if it is not plain."""
        t = item.get("@type")
        extra = len(item) > 2 or (len(item) == 2 and t is None and "@language" not in item)
        if extra:
            if not _VALUE_KEYS.issuperset(item):
                raise Route("structure")
            item.pop("@direction", None)
        if t is not None and t != "@json" and (t == RDF_LANGSTRING or not _iri_ok(t)):
            raise Route("iri")  # pyld writes an explicit rdf:langString as a plain literal
        if "@language" in item and (type(item["@language"]) is not str or not item["@language"]):
            raise Route("literal")  # pyld writes an empty language tag as no tag
        value = item["@value"]
        if value is None:
            raise Route("structure")
        if type(value) is str and t not in _CONVERTED_TYPES:
            return t == XSD_STRING or "@index" in item
        literal = _rdf_literal(item)
        item.clear()
        item["@value"] = literal["value"]
        item["@type"] = literal["datatype"]
        return True

    def check_merged_nodes(self) -> None:
        """A named node stated in two places is merged by pyld with compare_values: refuse when
        one of them holds a value that compare_values may judge otherwise than the literal."""
        nonplain = set(self.nonplain)
        for reused in self.used:
            nonplain |= reused.nonplain
        for ident in nonplain:
            total = self.counts.get(ident, 0) + sum(r.counts.get(ident, 0) for r in self.used)
            if total > 1:
                raise Route("merged")
