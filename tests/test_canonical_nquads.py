"""Oxigraph's canonical N-Quads are pyld's, byte for byte, or the document goes to pyld for a stated
reason; never a silent difference.

The reference is pyld alone (canonicalize(..., memo=False): pyld's expansion in safe mode, its
to_rdf and URDNA2015), computed independently of the path under test. Compared: every document
of the W3C and 1EdTech vectors, the credentials the shipped catalogue makes (the typical one
with evidence, results and a status entry), and a differential run over generated credentials
(tests/canonical_documents.py; MICROCRED_DIFFERENTIAL_DOCUMENTS sets how many, default 2000,
MICROCRED_DIFFERENTIAL_SEED the seed).
"""

from __future__ import annotations

import copy
import difflib
import functools
import json
import marshal
import os
import random
import threading
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from canonical_documents import EXTENSION, Generator, small_achievements

from verifier import VerifierError, canonical_nquads, canonicalize, cryptosuite, expansion_memo
from verifier.canonicalization import canonicalize_proof_configuration, canonicalize_traced
from verifier.document_loader import OB_V3, VC_V2

from verifier_support import VECTORS, json_ld_documents, load_json, without_proof

ROOT = Path(__file__).resolve().parent.parent
TYPICAL = json.loads((ROOT / "bench" / "fixtures" / "typical-credential.json").read_text(encoding="utf-8"))
DIFFERENTIAL_DOCUMENTS = int(os.environ.get("MICROCRED_DIFFERENTIAL_DOCUMENTS", "2000"))
SEED = int(os.environ.get("MICROCRED_DIFFERENTIAL_SEED", "20261201"))
# Why a document may go to pyld (canonical_nquads.Route reasons, and "error": pyld refuses it).
REASONS = {"error", "escaping", "iri", "collision", "merged", "encoding", "structure", "literal", "oxigraph",
           "repeated-blank-node"}


def outcome(document: dict[str, Any], **options: Any) -> tuple[Any, ...]:
    """("ok", N-Quads) or ("error", type, code, message)."""
    try:
        return ("ok", canonicalize(document, **options))
    except VerifierError as exc:
        return ("error", type(exc).__name__, exc.code, str(exc))


def traced(document: dict[str, Any]) -> tuple[tuple[Any, ...], str | None]:
    try:
        nquads, route = canonicalize_traced(document)
        return ("ok", nquads), route
    except VerifierError as exc:
        return ("error", type(exc).__name__, exc.code, str(exc)), "error"


def difference(ours: tuple[Any, ...], reference: tuple[Any, ...]) -> str | None:
    """None when identical, else what differs (a unified diff of the N-Quads lines)."""
    if ours == reference:
        return None
    if ours[0] == reference[0] == "ok":
        diff = difflib.unified_diff(reference[1].split("\n"), ours[1].split("\n"), "pyld", "microcred", lineterm="", n=0)
        return "\n".join(list(diff)[:20]) or "the texts differ in line endings or duplicate lines"
    return f"pyld: {reference!r:.400}\nmicrocred: {ours!r:.400}"


def assert_identical(document: dict[str, Any], label: str) -> str | None:
    """Both outcomes, compared; returns the route (None: Oxigraph wrote it)."""
    ours, route = traced(document)
    problem = difference(ours, outcome(document, memo=False))
    assert problem is None, f"{label} (route {route}):\n{problem}"
    assert route is None or route in REASONS, route
    return route


# --- the comparator can fail --------------------------------------------------------------------

REFERENCE = outcome(TYPICAL, memo=False)


@pytest.mark.parametrize("change", [
    lambda text: text.replace('"Earned"', '"earned"', 1),       # one literal
    lambda text: text.replace("_:c14n1 ", "_:c14n2 ", 1),      # one blank node label
    lambda text: "".join(text.splitlines(keepends=True)[1:]),  # a line missing
    lambda text: text + text.splitlines(keepends=True)[0],     # a line twice
    lambda text: "".join(sorted(text.splitlines(keepends=True), reverse=True)),  # order
    lambda text: text.rstrip("\n"),                            # the final newline
], ids=["literal", "label", "missing", "duplicate", "order", "newline"])
def test_the_comparator_sees_any_difference(change) -> None:
    assert REFERENCE[0] == "ok"
    assert difference(REFERENCE, REFERENCE) is None
    assert difference(("ok", change(REFERENCE[1])), REFERENCE) is not None
    assert difference(("error", "CanonicalizationError", "x", "y"), REFERENCE) is not None


# --- the typical credential and the catalogue -------------------------------------------------

def test_the_typical_credential_is_written_by_oxigraph_identically() -> None:
    assert REFERENCE[0] == "ok" and REFERENCE[1].count("\n") > 200
    for _ in range(3):  # cold, then with the Achievement's memo copy and its quads reused
        ours, route = traced(copy.deepcopy(TYPICAL))
        assert route is None and difference(ours, REFERENCE) is None
    assert outcome(TYPICAL, safe=False, memo=False) == REFERENCE  # safe mode changes nothing here


def catalogue_credentials() -> list[dict[str, Any]]:
    """Every shipped badge class as the issuer embeds it, with the fixture's evidence, results and
    status entry around it, for a few recipients (the memo copies repeat, as in production)."""
    from badge_classes import load_catalog, to_achievement

    catalog = load_catalog()
    docs = []
    for slug, badge in sorted(catalog.badge_classes.items()):
        pdp = catalog.policy.value_on(slug, badge.pathway, date(2026, 9, 1))
        achievement = to_achievement(badge, base_url="https://badges.example.gov", pdp=pdp, creator=TYPICAL["issuer"])
        for n in range(3):
            doc = copy.deepcopy(TYPICAL)
            doc["credentialSubject"]["achievement"] = json.loads(json.dumps(achievement))
            doc["credentialSubject"]["name"] = f"Teacher {n} of {slug}"
            doc["credentialStatus"]["statusListIndex"] = str(1000 + n)
            docs.append(doc)
    return docs


def test_every_catalogue_credential_is_identical_and_native() -> None:
    routes = Counter(assert_identical(doc, doc["credentialSubject"]["name"]) for doc in catalogue_credentials())
    assert routes == Counter({None: sum(routes.values())}), routes


# --- every vector -----------------------------------------------------------------------------

DOCUMENTS = json_ld_documents()


def test_every_vector_is_identical_and_most_are_native() -> None:
    routes = Counter()
    for path in DOCUMENTS:
        document = without_proof(load_json(path))
        label = path.relative_to(VECTORS).as_posix()
        routes[assert_identical(document, label)] += 1
        assert_identical(document, f"{label}, again (memo warm)")
    assert len(DOCUMENTS) >= 60
    native = routes[None]
    assert native >= 0.8 * (len(DOCUMENTS) - routes["error"]), routes


# --- generated credentials ------------------------------------------------------------------------

@functools.cache
def generator(seed: int) -> Generator:
    from badge_classes import load_catalog, to_achievement

    catalog = load_catalog()
    big = [to_achievement(badge, base_url="https://badges.example.gov", pdp=None)
           for _, badge in sorted(catalog.badge_classes.items())[:2]]
    return Generator(seed, small_achievements(random.Random(seed), 12) + big)


def test_generated_credentials_are_identical() -> None:
    gen = generator(SEED)
    routes: Counter[str | None] = Counter()
    for i in range(DIFFERENTIAL_DOCUMENTS):
        routes[assert_identical(gen.document(i), f"generated document {i} (seed {SEED})")] += 1
    # Most go native, so the comparison above is one of Oxigraph's output, and each kind of
    # document that must go to pyld did so at least once.
    assert routes[None] >= 0.6 * DIFFERENTIAL_DOCUMENTS, routes
    assert_memo_unchanged()
    if DIFFERENTIAL_DOCUMENTS >= 1000:
        assert {"error", "escaping", "iri", "collision", "merged"} <= set(routes), routes


def assert_memo_unchanged() -> None:
    """The memo's shared objects (handed out without a copy) are still what was remembered."""
    entries = list(expansion_memo._EXPANSION_MEMO._entries.values())
    shared = [entry for entry in entries if entry._shared is not None]
    assert shared and all(json.dumps(e._shared) == json.dumps(marshal.loads(e.blob)) for e in shared)


# --- each route, on purpose -------------------------------------------------------------------------

def extended(**subject: Any) -> dict[str, Any]:
    return {"@context": [VC_V2, OB_V3, EXTENSION], "id": "urn:uuid:6a1a3c4e-0000-4000-8000-000000000001",
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "issuer": {"id": "did:example:issuer", "type": ["Profile"], "name": "Issuer"},
            "validFrom": "2026-01-01T00:00:00Z",
            "credentialSubject": {"type": ["AchievementSubject"], **subject}}


@pytest.mark.parametrize(("subject", "route"), [
    ({"name": "plain"}, None),
    ({"exDouble": ["1", 2.5, 0.30000000000000004, 1e21], "exInteger": 10 ** 25}, None),  # pyld's number forms
    ({"exJson": {"b": [1, 2.0, -0.0, "é"], "a": None}}, None),
    ({"exLangs": {"EN-us": "hi", "en_US": "invalid tag, kept as pyld keeps it"}}, None),
    ({"name": {"@value": "مرحبا", "@language": "ar", "@direction": "rtl"}}, None),  # pyld writes no direction
    ({"exList": [1, [2, 3], {"exAny": "nested"}, []]}, None),
    ({"exAny": {"id": "_:x", "exAny": {"id": "_:y", "exAny": {"id": "_:x"}}}}, None),  # explicit labels, a cycle
    ({"exAny": {"id": "_:x", "exAny": {"id": "_:x"}}}, "repeated-blank-node"),  # _:x <any> _:x
    ({"name": {"@value": "x", "@language": ""}}, "literal"),  # pyld writes no tag
    ({"exAny": {"@value": "x", "@type": "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"}}, "iri"),
    ({"name": "back\x08space"}, "escaping"),   # pyld writes it raw, RDFC-1.0 as \b
    ({"name": "del\x7f"}, "escaping"),
    ({"name": "lone \ud800"}, "error"),  # not UTF-8: pyld refuses it (hashing), as before
    ({"exRef": "https://example.org/a b"}, "iri"),  # pyld drops the triple
    ({"exAny": [1, True, 1.0]}, None),       # pyld keeps 1 and True (strict), merges 1 and 1.0: one "1"
    ({"exAny": [0.30000000000000004, 0.3]}, "collision"),  # both "3.0E-1": pyld writes the line twice
    ({"exAny": ["same", {"@value": "same", "@type": "xsd:string"}]}, "collision"),  # the same, twice
    ({"exAny": "x", "id": "relative"}, "error"),  # safe mode: pyld's message
    ({"exList": [{"id": "https://example.org/a b"}]}, "error"),  # pyld's to_rdf fails on it: a clear error
    ({"notDefinedAnywhere": 1}, "error"),
])
def test_each_route(subject: dict[str, Any], route: str | None) -> None:
    document = extended(**subject)
    assert assert_identical(document, repr(subject)) == route


def test_a_named_node_merged_with_a_number_goes_to_pyld() -> None:
    twice = {"id": "https://example.org/n", "exAny": 1}
    document = extended(exAny=[twice, {"id": "https://example.org/n", "exAny": 1.0}])
    assert assert_identical(document, "merged") == "merged"


# --- memo copies and the quads kept with them -----------------------------------------------------

def test_a_memo_copy_is_reused_once_per_document(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same Achievement twice in one document: pyld gives the second its own blank nodes."""
    monkeypatch.setattr(expansion_memo, "_EXPANSION_MEMO", expansion_memo.ExpansionMemo())
    achievement = copy.deepcopy(TYPICAL["credentialSubject"]["achievement"])
    for n in range(6):
        document = extended(name=f"twice {n}", achievement=copy.deepcopy(achievement), exAny=[copy.deepcopy(achievement)])
        assert assert_identical(document, f"twice {n}") in (None, "merged")


@pytest.mark.parametrize("container", ["exIndexed", "exGraph"])
def test_memo_copies_in_edited_or_graph_positions(container: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under an @index map pyld edits the copy (adds @index); in a @graph its quads are in
    another graph: either way the remembered quads must not be used."""
    monkeypatch.setattr(expansion_memo, "_EXPANSION_MEMO", expansion_memo.ExpansionMemo())
    small = small_achievements(random.Random(5), 4)
    for n in range(8):
        value = {"k": copy.deepcopy(small[n % 2])} if container == "exIndexed" else copy.deepcopy(small[n % 2])
        assert assert_identical(extended(name=f"n{n}", **{container: value}), f"{container} {n}") in (None, "merged")


def test_memo_entries_are_not_changed_by_canonicalization(monkeypatch: pytest.MonkeyPatch) -> None:
    memo = expansion_memo.ExpansionMemo()
    monkeypatch.setattr(expansion_memo, "_EXPANSION_MEMO", memo)
    docs = [generator(7).document(i) for i in range(150)]
    for doc in docs:
        outcome(doc)
    before = {key: entry.blob for key, entry in memo._entries.items()}
    assert len(before) > 20
    for doc in docs:
        outcome(doc)
    assert all(memo._entries[key].blob == blob for key, blob in before.items() if key in memo._entries)
    # the objects handed out without a copy are still exactly what was remembered
    shared = [entry for entry in memo._entries.values() if entry._shared is not None]
    assert len(shared) > 20
    assert all(json.dumps(entry._shared) == json.dumps(marshal.loads(entry.blob)) for entry in shared)


def test_concurrent_canonicalization_is_identical() -> None:
    docs = [generator(11).document(i) for i in range(60)]
    expected = [outcome(doc, memo=False) for doc in docs]
    mismatches: list[int] = []
    barrier = threading.Barrier(4)

    def work(offset: int) -> None:
        barrier.wait()
        for step in range(len(docs)):
            i = (offset * 15 + step) % len(docs)
            if outcome(docs[i]) != expected[i]:
                mismatches.append(i)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert mismatches == []


# --- proof configurations --------------------------------------------------------------------------

def test_remembered_proof_configurations_are_the_canonical_form() -> None:
    options = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": "2026-09-01T12:00:00Z",
               "verificationMethod": "did:key:z6MkExample#z6MkExample", "proofPurpose": "assertionMethod"}
    first = cryptosuite.proof_configuration(options, TYPICAL["@context"])
    again = cryptosuite.proof_configuration(dict(options), TYPICAL["@context"])
    reference = canonicalize({**options, "@context": TYPICAL["@context"]}, memo=False)
    assert first == again == reference
    other = cryptosuite.proof_configuration({**options, "created": "2026-09-01T12:00:01Z"}, TYPICAL["@context"])
    assert other != first and other == canonicalize({**options, "created": "2026-09-01T12:00:01Z",
                                                     "@context": TYPICAL["@context"]}, memo=False)
    with pytest.raises(VerifierError):
        canonicalize_proof_configuration({**options, "notATerm": 1, "@context": TYPICAL["@context"]})


def test_oxigraph_escapes_what_pyld_writes_raw() -> None:
    """Why those documents go to pyld: the two write a backspace differently (and RDFC-1.0 says
    \\b), so the canonical form, the blank node labels and the signature would differ."""
    raw = canonical_nquads._RAW_IN_PYLD
    assert canonical_nquads._MAYBE_RAW_IN_PYLD.search(orjson.dumps({"a": "\b"})) and raw.search(orjson.dumps({"a": "\b"}))
    assert raw.search(orjson.dumps({"a": "\\\x01"}))  # an escaped backslash, then a control
    assert not raw.search(orjson.dumps({"a": "\\b"}))  # an escaped backslash, then b
    assert not raw.search(orjson.dumps({"a": "tab\tnl\ncr\r\"\\ é \u2028"}))
    reference = outcome(extended(name="back\x08space"), memo=False)
    assert "back\x08space" in reference[1]  # pyld 3.3: raw


# --- values from hypothesis ------------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=12) | st.sampled_from(
    ["\ud800", "a\udfff", "\x00", "\x08", "\x7f", "\ufffe", "\u2028", "e\u0301", "\\b", "\\\x01"])
NUMBER = st.integers(min_value=-(10 ** 30), max_value=10 ** 30) | st.floats(allow_nan=True, allow_infinity=True) | st.booleans()
JSON = st.recursive(st.none() | st.booleans() | NUMBER | TEXT,
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3), max_leaves=8)
LANGUAGE = st.from_regex(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8}){0,2}", fullmatch=True) | st.sampled_from(["en_US", "", "x y"])


IRI = st.builds(str.__add__, st.sampled_from(["https://e.org/", "did:x:", "urn:a:", "a:", "_:", "", "1a:", "é:"]), TEXT)
EXAMPLES = int(os.environ.get("MICROCRED_HYPOTHESIS_EXAMPLES", "400"))


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(TEXT | NUMBER, max_size=4), json_value=JSON, language=LANGUAGE, text=TEXT,
       doubles=st.lists(TEXT | NUMBER, max_size=2), direction=st.sampled_from([None, "ltr", "rtl"]),
       ref=IRI, node_id=IRI)
def test_generated_values_are_identical(values, json_value, language, text, doubles, direction, ref, node_id) -> None:
    name: dict[str, Any] = {"@value": text, "@language": language}
    if direction:
        name["@direction"] = direction
    document = extended(name=name, exAny=values + [{"id": node_id, "exAny": text}], exJson=json_value,
                        exDouble=doubles, exLangs={language: text} if language else {"en": text}, exRef=ref)
    assert_identical(document, repr(document["credentialSubject"]))


def test_proof_configuration_templates_equal_full_canonicalization() -> None:
    """Many configurations of a few shapes: from templates where proven, all equal to pyld's."""
    from verifier import canonicalization

    rng = random.Random(3)
    contexts = [TYPICAL["@context"], [VC_V2], ["https://www.w3.org/2018/credentials/v1", "https://w3id.org/security/suites/ed25519-2020/v1"],
                [VC_V2, {"did": "https://example.org/did-as-a-prefix/"}], [VC_V2, EXTENSION]]
    methods = ["did:key:z6Mk{n}#z6Mk{n}", "did:web:badges.example.gov#key-{n}", "https://issuer.example/keys/{n}",
               "urn:uuid:{n}", "xsd:notAPrefixHere{n}", "ex:key{n}", "did:web:x.example:a%3Ab#k{n}",
               "https://www.w3.org/ns/credentials/issuer-dependent#k{n}", "did:key:z{n}#a b", "relative#{n}"]
    created = ["2026-09-01T12:00:{s:02d}Z", "2026-09-01T12:00:{s:02d}.5+02:00", "2026-09-01 12:00:{s:02d}", "{s}"]
    templated = 0
    for n in range(400):
        config = {"type": rng.choice(["DataIntegrityProof", "Ed25519Signature2020"]), "cryptosuite": "eddsa-rdfc-2022",
                  "created": rng.choice(created).format(s=n % 60), "proofPurpose": "assertionMethod",
                  "verificationMethod": rng.choice(methods).format(n=n), "@context": rng.choice(contexts)}
        if rng.random() < 0.2:
            config["challenge"] = f"c{n % 3}"
        if config["type"] == "Ed25519Signature2020":
            del config["cryptosuite"]
        templated += canonicalization._TEMPLATES.canonical(config) is not None
        expected = outcome(config, memo=False)
        try:
            ours: tuple[Any, ...] = ("ok", canonicalize_proof_configuration(config))
        except VerifierError as exc:
            ours = ("error", type(exc).__name__, exc.code, str(exc))
        assert difference(ours, expected) is None, config
    assert templated > 40  # the shapes proven (the others were canonicalized in full)
    typical = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": "2026-09-01T12:00:00Z",
               "verificationMethod": "did:key:z6Mkx#z6Mkx", "proofPurpose": "assertionMethod", "@context": TYPICAL["@context"]}
    assert canonicalization._TEMPLATES.canonical(typical) == canonicalize(typical, memo=False)


def test_the_achievement_s_quads_are_reused_from_its_memo_copy() -> None:
    """From the second copy on, a memo copy is replaced by its root and its quads are reused
    (the path the typical credential takes), and the result is still pyld's."""
    from verifier.canonicalization import _options
    from verifier.expansion import SafeProcessor

    docs = [copy.deepcopy(TYPICAL) for _ in range(6)]
    for n, doc in enumerate(docs):
        doc["credentialSubject"]["name"] = f"Reused {n}"
    for doc in docs[:5]:  # kept from the third sighting, its quads from the second reuse
        canonicalize(doc)
    processor = SafeProcessor(safe=True, memo=True, native=True)
    expanded = processor.expand(docs[5], _options(safe=True))
    reuser = canonical_nquads._Reuser()
    reused = [entry.native for entry, _ in processor.hits.values() if reuser(entry) is not None]
    roots = {r.root for r in reused}
    assert TYPICAL["credentialSubject"]["achievement"]["id"] in roots
    assert sum(len(r.lines) for r in reused) > 100  # the rubric's quads, written once and kept
    ours = ("ok", canonical_nquads.canonical_nquads(expanded, processor.hits))
    assert difference(ours, outcome(docs[5], memo=False)) is None


def test_scalars_equal_in_python_are_not_confused_by_the_memo(monkeypatch: pytest.MonkeyPatch) -> None:
    """0.0 == -0.0 == False and 1 == 1.0 == True in Python; each keeps its own expansion."""
    monkeypatch.setattr(expansion_memo, "_SCALAR_MEMO", expansion_memo.IriMemo())
    values = [0.0, -0.0, False, 0, 1, 1.0, True, "1", 1e21, 10 ** 21, float("nan")]
    for _ in range(2):  # cold, then warm
        for value in values:
            for term in ("exAny", "exDouble", "exInteger", "exString"):
                assert_identical(extended(**{term: value}), f"{term}={value!r}")
