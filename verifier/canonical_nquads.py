"""Expanded JSON-LD -> RDFC-1.0 canonical N-Quads with Oxigraph, byte for byte what pyld writes.

pyld's pure-Python to_rdf and URDNA2015 were most of the cost of a signature; Oxigraph (Rust)
does the same work natively. One walk over pyld's expanded output decides whether Oxigraph's
output is sure to equal pyld's, and puts the document into the form in which it is:

* numbers, booleans, @json and xsd:double literals get pyld's own lexical form (pyld's
  _object_to_rdf writes them, e.g. 16 significant digits and integer-valued floats as integers);
* @direction is dropped (pyld writes no direction without an rdfDirection option).

Anything outside what is proven identical raises Route(reason), and the caller canonicalizes the
document with pyld, exactly as before: a safe-mode refusal (pyld gives today's message); an IRI
pyld would drop (white space, no scheme) or a blank-node property or type; a literal holding
characters that pyld 3.3 writes raw and RDFC-1.0 escapes (C0 controls but tab, LF and CR; DEL;
U+FFFE/U+FFFF); a quad naming one blank node twice (pyld 3.3 hashes it twice, RDFC-1.0 once);
values that pyld keeps twice or merges although they are the same literal (or
not), which only numbers, booleans, @index and explicit xsd:string can cause; text that is not
UTF-8; structure pyld does not produce.

Memo copies (a badge class's Achievement, see expansion.SafeProcessor) are not parsed again:
their quads are kept with the memo entry, those without blank nodes already serialized, and
the copy is replaced by a reference to its root (used once per document: a second copy is walked,
for pyld gives it blank nodes of its own). RDFC-1.0
labels blank nodes from the quads that mention them only, so the other quads are written as they
are and merged in (a set: pyld writes a triple once however often a merged node states it).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

import orjson
import pyoxigraph as ox
from pyld.identifier_issuer import IdentifierIssuer
from pyld.jsonld import JsonLdProcessor, _is_absolute_iri

from .expansion import ExpansionEntry, is_defined_iri, top_level_shape

XSD_DOUBLE = "http://www.w3.org/2001/XMLSchema#double"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_VALUE_KEYS = frozenset({"@value", "@type", "@language", "@direction", "@index"})
_CONVERTED_TYPES = frozenset({XSD_DOUBLE, "@json"})
# In orjson's output: an escaped C0 control other than \t \n \r (an even run of backslashes
# before it is escaped backslashes), DEL, or U+FFFE / U+FFFF. Oxigraph escapes these, pyld not.
_RAW_IN_PYLD = re.compile(rb'(?<!\\)(?:\\\\)*\\(?:u00[01][0-9a-fA-F]|[bf])|\x7f|\xef\xbf[\xbe\xbf]')
_MAYBE_RAW_IN_PYLD = re.compile(rb'\\[bfu]|\x7f|\xef\xbf[\xbe\xbf]')  # a fast first look (no lookbehind)
_MAX_COMPARED = 64  # values of one property compared pairwise; more go to pyld
_TO_RDF = {"rdfDirection": None, "processingMode": "json-ld-1.1"}
_PYLD = JsonLdProcessor()
_IRI_VERDICTS: dict[str, bool] = {}


class Route(Exception):
    """This document is canonicalized by pyld; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class _Reusable:
    """What a memo entry contributes to a document: its root, quads and named nodes."""

    root: str
    lines: tuple[str, ...]  # quads without blank nodes, in canonical N-Quads
    blank_quads: tuple[ox.Quad, ...]  # quads with blank nodes (labels unique to this entry)
    counts: dict[str, int]
    nonplain: frozenset[str]


def canonical_nquads(expanded: list, hits: dict) -> str:
    """The canonical N-Quads of pyld's expanded output (which this may rewrite); raises Route."""
    walk = _Walk(hits)
    if type(expanded) is not list:
        raise Route("structure")
    for node in expanded:
        if type(node) is not dict or "@value" in node or "@list" in node:
            raise Route("structure")
        walk.node(node, in_graph=False)
    walk.check_merged_nodes()
    quads = _parse(_json(expanded))
    if walk.labelled and any(_repeats_a_blank_node(q) for q in quads):
        raise Route("repeated-blank-node")
    dataset = ox.Dataset(quads)
    for reused in walk.used:
        for quad in reused.blank_quads:
            dataset.add(quad)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    lines = str(dataset).split("\n")
    lines.pop()  # the text ends with a newline
    if walk.used:
        for reused in walk.used:
            lines.extend(reused.lines)
        lines = list(set(lines))
    if not lines:
        return ""
    # pyld sorts lines with their "\n"; no character below " " is left unescaped, so sorting
    # without it gives the same order.
    lines.sort()
    return "\n".join(lines) + "\n"


def _json(expanded: Any) -> bytes:
    try:
        body = orjson.dumps(expanded)
    except (TypeError, orjson.JSONEncodeError):
        raise Route("encoding") from None  # e.g. a lone surrogate: not UTF-8
    if _MAYBE_RAW_IN_PYLD.search(body) and _RAW_IN_PYLD.search(body):
        raise Route("escaping")
    return body


def _parse(body: bytes) -> Any:
    # lenient: IRIs and language tags kept as written, as pyld does (the walk refused the IRIs
    # pyld drops). Blank node labels are kept, so a reference to a memo entry's unnamed root
    # meets its quads; the other labels Oxigraph draws at random (128 bits), as it does for
    # memo entries, so they never meet by chance. (A str parses faster than bytes.)
    try:
        return list(ox.parse(body.decode("utf-8"), format=ox.RdfFormat.JSON_LD, lenient=True))
    except (SyntaxError, ValueError):
        raise Route("oxigraph") from None


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


def _term_ok(iri: Any) -> bool:
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
    return type(item["@value"]) is not str or "@index" in item or t == XSD_STRING or t in _CONVERTED_TYPES


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


class _Walk:
    """One pass: safe-mode and routing checks, literal forms, memo copies replaced by their root."""

    def __init__(self, hits: dict) -> None:
        self.hits = hits
        self.used: list[_Reusable] = []
        self._used_entries: set[int] = set()
        self.counts: dict[str, int] = {}
        self.nonplain: set[str] = set()
        self.labelled = False  # the document names a blank node (only then can a quad name one twice)

    def node(self, node: dict, in_graph: bool) -> None:
        nonplain = False
        for key, value in node.items():
            if key[:1] == "@":
                self._keyword(node, key, value, in_graph)
            elif not _term_ok(key):
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
            if type(value) is not list or not all(_term_ok(t) for t in value):
                raise Route("iri")
        elif key == "@graph":
            self.items(value, True)
        elif key == "@included":
            self.items(value, in_graph)
        elif key == "@reverse":
            if type(value) is not dict:
                raise Route("structure")
            for prop, items in value.items():
                if prop[:1] == "@" or not _term_ok(prop):
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
            if "@value" in item:
                nonplain = self.value(item) or nonplain
            elif "@list" in item:
                if any(k != "@list" and k != "@index" for k in item):
                    raise Route("structure")
                self.items(item["@list"], in_graph)
            elif not in_graph and (reused := self._reusable(item)) is not None:
                values[i] = {"@id": reused.root}
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

    def _reusable(self, item: dict) -> _Reusable | None:
        hit = self.hits.get(id(item))
        if hit is None or hit[1] is not item:
            return None
        entry = hit[0]
        if id(entry) in self._used_entries:
            return None  # a second copy needs blank nodes of its own
        if entry.shape is None:
            entry.shape = top_level_shape(entry.copy())
        if top_level_shape(item) != entry.shape:
            return None  # pyld edited this copy: it is not the entry
        if entry.native is None:
            entry.reuses += 1
            if entry.reuses < 2:
                return None  # parsing it pays from the second copy on (most copies never repeat)
            entry.native = _reusable_entry(entry)
        if not entry.native:
            return None
        self._used_entries.add(id(entry))
        self.used.append(entry.native)
        return entry.native

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


def _reusable_entry(entry: ExpansionEntry) -> _Reusable | bool:
    """The quads of a memo entry, parsed once; False when it cannot stand on its own (explicit
    blank node labels, or anything that routes a document to pyld). A node without an @id gets a
    random blank node label of its own, which the document's reference to it then names."""
    tree = entry.copy()
    if type(tree) is not dict or "@value" in tree or "@list" in tree:
        return False
    root = tree.get("@id")
    if root is not None and (not _term_ok(root)):
        return False
    walk = _Walk({})
    try:
        walk.node(tree, in_graph=False)
        walk.check_merged_nodes()
        if b'"_:' in _json([tree]):
            return False
        if root is None:
            root = tree["@id"] = "_:" + secrets.token_hex(16)
        quads = _parse(_json([tree]))
    except Route:
        return False
    named = [q for q in quads if not _has_blank_node(q)]
    text = ox.serialize(named, format=ox.RdfFormat.N_QUADS).decode("utf-8") if named else ""
    return _Reusable(root=root, lines=tuple(text.split("\n")[:-1]),
                     blank_quads=tuple(q for q in quads if _has_blank_node(q)),
                     counts=walk.counts, nonplain=frozenset(walk.nonplain))


def _repeats_a_blank_node(quad: ox.Quad) -> bool:
    """pyld 3.3 counts such a quad twice in the blank node's first-degree hash (RDFC-1.0, like
    rdf-canonize and Oxigraph, once), so the labels can differ: `_:x <p> _:x`, or a blank node
    naming the graph its own quad is in."""
    subject, obj, graph = quad.subject, quad.object, quad.graph_name
    if isinstance(subject, ox.BlankNode) and (subject == obj or subject == graph):
        return True
    return isinstance(obj, ox.BlankNode) and obj == graph


def _has_blank_node(quad: ox.Quad) -> bool:
    return any(isinstance(term, ox.BlankNode) for term in (quad.subject, quad.object, quad.graph_name))
