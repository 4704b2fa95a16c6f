"""Expanded JSON-LD -> RDFC-1.0 canonical N-Quads with Oxigraph, byte for byte what pyld writes.

pyld's pure-Python to_rdf and URDNA2015 were most of the cost of a signature; Oxigraph (Rust)
does the same work natively. native_form's walk decides whether Oxigraph's output is sure to
equal pyld's and puts the expanded document into the form in which it is; here the rest of
what pyld 3.3 writes otherwise than RDFC-1.0 (and Oxigraph, and rdf-canonize) is routed to pyld
too: literals holding characters pyld writes raw and RDFC-1.0 escapes (C0 controls but tab,
LF and CR; DEL; U+FFFE/U+FFFF), a quad naming one blank node twice (pyld hashes it twice), text
that is not UTF-8. The caller canonicalizes a routed document with pyld, exactly as before.

Memo copies (a badge class's Achievement, see expansion.SafeProcessor) are not parsed again:
their quads are kept with the memo entry, those without blank nodes already serialized, and the
copy is replaced by a reference to its root (once per document: pyld gives a second copy blank
nodes of its own). RDFC-1.0 labels blank nodes from the quads that mention them only, so the
other quads are written as they are and merged in (a set: pyld writes a triple once however
often a merged node states it).
"""

from __future__ import annotations

import itertools
import re
import secrets
from dataclasses import dataclass
from typing import Any

import orjson
import pyoxigraph as ox

from .expansion_memo import ExpansionEntry
from .native_form import Route, Walk, term_ok

# In orjson's output: an escaped C0 control other than \t \n \r (an even run of backslashes
# before it is escaped backslashes), DEL, or U+FFFE / U+FFFF. Oxigraph escapes these, pyld not.
_RAW_IN_PYLD = re.compile(rb'(?<!\\)(?:\\\\)*\\(?:u00[01][0-9a-fA-F]|[bf])|\x7f|\xef\xbf[\xbe\xbf]')
_MAYBE_RAW_IN_PYLD = re.compile(rb'\\[bfu]|\x7f|\xef\xbf[\xbe\xbf]')  # a fast first look (no lookbehind)


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
    walk = Walk(hits, _Reuser())
    walk.top(expanded)
    walk.check_merged_nodes()
    quads = _parse(_json(expanded))
    if walk.labelled and any(_repeats_a_blank_node(q) for q in quads):
        raise Route("repeated-blank-node")
    dataset = ox.Dataset(itertools.chain(quads, *(reused.blank_quads for reused in walk.used)))
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


class _Reuser:
    """The memo entries whose remembered quads a document uses: each once (pyld gives a second
    copy blank nodes of its own), from the second time an entry is asked for."""

    def __init__(self) -> None:
        self._used_entries: set[int] = set()

    def __call__(self, entry: ExpansionEntry) -> _Reusable | None:
        if id(entry) in self._used_entries:
            return None
        if entry.native is None:
            entry.reuses += 1
            if entry.reuses < 2:
                return None  # parsing it pays from the second copy on (most copies never repeat)
            entry.native = _reusable_entry(entry)
        if not entry.native:
            return None
        self._used_entries.add(id(entry))
        return entry.native


def _reusable_entry(entry: ExpansionEntry) -> _Reusable | bool:
    """The quads of a memo entry, parsed once; False when it cannot stand on its own (explicit
    blank node labels, or anything that routes a document to pyld). A node without an @id gets a
    random blank node label of its own, which the document's reference to it then names."""
    tree = entry.copy()
    if type(tree) is not dict or "@value" in tree or "@list" in tree:
        return False
    root = tree.get("@id")
    if root is not None and (not term_ok(root)):
        return False
    walk = Walk()
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
