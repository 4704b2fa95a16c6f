"""Canonicalization: pinned contexts, the context / IRI memo (output identical to plain pyld),
and safe mode agreeing with plain RDFC-1.0 on every well-formed vector."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import threading
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from verifier import VerifierError, canonicalize
from verifier import canonicalization, document_loader
from verifier.document_loader import CONTEXTS_DIR, OB_V3, load_context
from verifier.errors import UndefinedTermError
from verifier_support import (
    OB30,
    VECTORS,
    expected_results,
    json_ld_documents,
    load_json,
    without_proof,
)

INDEX = json.loads((CONTEXTS_DIR / "contexts.json").read_bytes())

REQUIRED_CONTEXTS = {
    "https://www.w3.org/2018/credentials/v1",
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    "https://w3id.org/security/data-integrity/v1",
    "https://w3id.org/security/data-integrity/v2",
    "https://w3id.org/security/multikey/v1",
    "https://w3id.org/security/suites/ed25519-2020/v1",
    "https://w3id.org/vc/status-list/2021/v1",
    "https://www.w3.org/ns/credentials/status/v1",
}


# --- pinned contexts -----------------------------------------------------------------------------

@pytest.mark.parametrize("url", sorted(INDEX["contexts"]))
def test_pinned_context_matches_recorded_sha256(url: str) -> None:
    path = CONTEXTS_DIR / INDEX["contexts"][url]
    data = path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == INDEX["sha256"][url]
    parsed = json.loads(data)
    assert isinstance(parsed, dict) and "@context" in parsed
    assert load_context(url) == parsed


def test_contexts_index_is_complete() -> None:
    assert set(INDEX["contexts"]) == set(INDEX["sha256"])
    assert REQUIRED_CONTEXTS <= set(INDEX["contexts"])
    on_disk = {p.name for p in CONTEXTS_DIR.iterdir() if p.is_file() and p.name != "contexts.json"}
    assert on_disk == set(INDEX["contexts"].values())  # no stray or missing file
    assert all(len(digest) == 64 and int(digest, 16) >= 0 for digest in INDEX["sha256"].values())


def test_a_modified_context_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy_dir = tmp_path / "contexts"
    shutil.copytree(CONTEXTS_DIR, copy_dir)
    url = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
    target = copy_dir / INDEX["contexts"][url]
    target.write_bytes(target.read_bytes().replace(b"vocab.html#Criteria", b"vocab.html#criteria", 1))
    monkeypatch.setattr(document_loader, "CONTEXTS_DIR", copy_dir)
    uncached = load_context.__wrapped__  # bypass the process-wide cache of verified files
    with pytest.raises(VerifierError, match="SHA-256"):
        uncached(url)
    assert uncached("https://www.w3.org/ns/credentials/v2") == load_context("https://www.w3.org/ns/credentials/v2")


# --- memo: identical output to plain pyld ---------------------------------------------------------

DOCUMENTS = json_ld_documents()


def _rel(path: Path) -> str:
    return path.relative_to(VECTORS).as_posix()


def _unsecured(path: Path) -> dict[str, Any]:
    return without_proof(load_json(path))


def _outcome(document: dict[str, Any], **options: Any) -> tuple[Any, ...]:
    """The N-Quads, or the error (type, code, message) for documents that cannot be processed."""
    try:
        return ("ok", canonicalize(document, **options))
    except VerifierError as exc:
        return ("error", type(exc).__name__, exc.code, str(exc))


@pytest.fixture
def fresh_memo(monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty context memo and IRI memo for this test (cold start)."""
    monkeypatch.setattr(canonicalization, "_MEMO", canonicalization._ContextMemo())
    if hasattr(canonicalization, "_IRI_MEMO"):
        monkeypatch.setattr(canonicalization, "_IRI_MEMO", canonicalization._IriMemo())
    monkeypatch.setattr(canonicalization, "_EXPANSION_MEMO", canonicalization._ExpansionMemo())


def test_every_vector_document_is_found() -> None:
    rels = {_rel(p) for p in DOCUMENTS}
    assert f"{OB30.relative_to(VECTORS).as_posix()}/complete.json" in rels
    assert "eddsa-rdfc-2022/employ/employmentAuth.json" in rels
    assert "w3c-vc-di-eddsa/TestVectors/proof-set-chain/proofChainTempDoc2.json" in rels
    assert len(rels) >= 60


@pytest.fixture(scope="module")
def reference() -> dict[str, dict[bool, tuple[Any, ...]]]:
    """Plain pyld (memo off) results for every document, in plain and in safe mode."""
    return {
        _rel(path): {safe: _outcome(_unsecured(path), safe=safe, memo=False) for safe in (False, True)}
        for path in DOCUMENTS
    }


@pytest.mark.parametrize("path", DOCUMENTS, ids=_rel)
def test_memo_cold_and_warm_equal_plain(path: Path, reference: dict, fresh_memo: None) -> None:
    document = _unsecured(path)
    expected = reference[_rel(path)]
    for safe in (False, True):
        cold = _outcome(document, safe=safe, memo=True)
        warm = _outcome(document, safe=safe, memo=True)
        assert cold == expected[safe]
        assert warm == expected[safe]


def test_memo_shared_across_interleaved_documents(reference: dict, fresh_memo: None) -> None:
    documents = [(_rel(p), _unsecured(p)) for p in DOCUMENTS]
    orders = [documents, list(reversed(documents))]
    shuffled = list(documents)
    random.Random(20260101).shuffle(shuffled)
    orders.append(shuffled)
    # Round robin: safe and plain runs of different documents alternate on one shared memo.
    for order in orders:
        for index, (rel, document) in enumerate(order):
            safe = index % 2 == 0
            assert _outcome(document, safe=safe, memo=True) == reference[rel][safe], rel
            assert _outcome(document, safe=not safe, memo=True) == reference[rel][not safe], rel


def test_memo_does_not_change_the_documents(fresh_memo: None) -> None:
    for path in DOCUMENTS[:20]:
        document = _unsecured(path)
        before = json.dumps(document, sort_keys=True)
        _outcome(document, memo=True)
        assert json.dumps(document, sort_keys=True) == before


VC_V1, VC_V2 = "https://www.w3.org/2018/credentials/v1", "https://www.w3.org/ns/credentials/v2"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/"
# Context combinations the vectors use (OB 3.0.0 / 3.0.1 redefine protected VC 2.0 terms, so
# they go with VC 1.1; extensions.json redefines protected OB 3.0.0 / 3.0.1 terms).
CONTEXT_SETS = [
    [VC_V2, OB + "context-3.0.3.json"],
    [VC_V2, OB + "context-3.0.2.json"],
    [VC_V2, OB + "context-3.0.3.json", OB + "extensions.json"],
    [VC_V1, OB + "context.json", "https://w3id.org/security/suites/ed25519-2020/v1"],
    [VC_V1, OB + "context-3.0.1.json", "https://w3id.org/security/data-integrity/v1"],
]


def _variants(count: int = 20) -> list[dict[str, Any]]:
    """Variants of simple.json: other names, ids, context versions and optional members."""
    rng = random.Random(42)
    base = _unsecured(OB30 / "simple.json")
    variants = []
    for n in range(count):
        doc = json.loads(json.dumps(base))
        doc["@context"] = list(CONTEXT_SETS[n % len(CONTEXT_SETS)])
        vc_v1 = doc["@context"][0] == VC_V1
        if vc_v1:
            doc["issuanceDate"] = doc.pop("validFrom")
        doc["id"] = f"urn:uuid:{uuid.UUID(int=rng.getrandbits(128))}"
        doc["name"] = f"Badge {n} {rng.choice(['Teamwork', 'Läsning', 'Números', '数学', 'x' * n])}"
        doc["issuer"]["id"] = rng.choice([f"https://example.com/issuers/{n}", f"did:web:example.org:i{n}",
                                          f"urn:uuid:{uuid.UUID(int=rng.getrandbits(128))}"])
        doc["issuer"]["name"] = f"Issuer {rng.randint(1, 10 ** 6)}"
        subject = doc["credentialSubject"]
        subject["id"] = f"did:example:{rng.getrandbits(64):x}"
        achievement = subject["achievement"]
        achievement["id"] = f"https://example.com/achievements/{n}"
        achievement["name"] = f"Achievement {n}"
        if n % 2:
            achievement["humanCode"] = f"HC-{n}"
            achievement["creditsAvailable"] = n + 0.5
        if n % 3 == 0:
            subject["identifier"] = [{"type": "IdentityObject", "identityType": "emailAddress", "hashed": bool(n % 2),
                                      "identityHash": f"person{n}@example.org", "salt": str(n)}]
        if n % 4 == 1:
            doc["expirationDate" if vc_v1 else "validUntil"] = "2030-01-01T00:00:00Z"
            doc["description"] = "A variant."
        variants.append(doc)
    return variants


VARIANTS = _variants()


def test_variants_are_distinct_and_well_formed() -> None:
    outputs = [canonicalize(doc, memo=False) for doc in VARIANTS]
    assert len(set(outputs)) == len(VARIANTS) == 20


def test_memo_equals_plain_on_generated_variants(fresh_memo: None) -> None:
    expected = [(canonicalize(doc, safe=False, memo=False), canonicalize(doc, memo=False)) for doc in VARIANTS]
    for _ in range(2):  # cold, then warm
        for doc, (plain, safe) in zip(VARIANTS, expected, strict=True):
            assert canonicalize(doc, safe=False, memo=True) == plain
            assert canonicalize(doc, memo=True) == safe
            assert safe == plain


def test_memo_is_thread_safe(fresh_memo: None) -> None:
    expected = {i: canonicalize(doc, memo=False) for i, doc in enumerate(VARIANTS)}
    mismatches: list[Any] = []
    barrier = threading.Barrier(4)

    def work(offset: int) -> None:
        barrier.wait()
        for step in range(len(VARIANTS)):
            i = (offset * 5 + step) % len(VARIANTS)
            try:
                if canonicalize(VARIANTS[i], memo=True) != expected[i]:
                    mismatches.append(i)
            except Exception as exc:  # pragma: no cover - reported below
                mismatches.append((i, exc))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert mismatches == []


# --- safe mode agrees with plain RDFC-1.0 on well-formed documents --------------------------------

def _positive_documents() -> list[Path]:
    signatures = expected_results()["signatures"]
    positives = [
        VECTORS / rel for rel, entry in signatures.items()
        if (VECTORS / rel).exists() and all(p["result"] == "valid" for p in entry["proofs"])
    ]
    positives += [path for path in DOCUMENTS if path.is_relative_to(VECTORS / "w3c-vc-di-eddsa")
                  or path.is_relative_to(VECTORS / "eddsa-rdfc-2022")]
    positives += [VECTORS / "derived/ob3-impl-guide-eddsa-rdfc-2022-unsigned.json"]
    return sorted(set(positives))


POSITIVES = _positive_documents()


def test_positive_documents_cover_the_vectors() -> None:
    names = {p.name for p in POSITIVES}
    assert {"simple.json", "complete.json", "simple_v1.json", "simple-eddsa-2022.json", "testlist",
            "signedProofChain2.json", "employmentAuth.json", "ob3-impl-guide-eddsa-rdfc-2022-signed.json"} <= names
    assert len(POSITIVES) >= 35


@pytest.mark.parametrize("path", POSITIVES, ids=_rel)
def test_safe_mode_equals_plain_on_positive_vectors(path: Path, reference: dict) -> None:
    document = _unsecured(path)
    safe = canonicalize(document)  # must not raise: nothing undefined in a positive vector
    assert safe == canonicalize(document, safe=False, memo=False)
    if _rel(path) in reference:
        assert reference[_rel(path)][True] == reference[_rel(path)][False] == ("ok", safe)


# --- expansion memo: repeated objects (the embedded Achievement) ------------------------------

def _catalogue_credentials() -> list[dict]:
    """Credentials of two badge classes, several recipients each: the Achievement repeats."""
    from badge_classes import load_catalog, to_achievement

    catalog = load_catalog()
    docs = []
    for slug in sorted(catalog.badge_classes)[:2]:
        badge = catalog.badge_classes[slug]
        achievement = to_achievement(badge, base_url="https://badges.example.gov",
                                     pdp=catalog.policy.value_on(slug, badge.pathway, datetime(2026, 1, 1)))
        for i in range(3):
            docs.append({
                "@context": [VC_V2, OB_V3], "id": f"urn:uuid:00000000-0000-4000-8000-00000000000{i}",
                "type": ["VerifiableCredential", "OpenBadgeCredential"],
                "issuer": {"id": "did:example:issuer", "type": ["Profile"], "name": f"Issuer {i}"},
                "validFrom": "2026-01-01T00:00:00Z",
                "credentialSubject": {"type": ["AchievementSubject"], "name": f"Teacher {i}",
                                      "achievement": json.loads(json.dumps(achievement))},
            })
    return docs


def test_expansion_memo_equals_plain_on_repeated_achievements(fresh_memo: None) -> None:
    docs = _catalogue_credentials()
    expected = [canonicalize(doc, memo=False) for doc in docs]
    for _ in range(2):  # cold, then every object warm
        assert [canonicalize(doc, memo=True) for doc in docs] == expected


def test_expansion_memo_never_caches_an_undefined_term(fresh_memo: None) -> None:
    good = _catalogue_credentials()[0]
    bad = json.loads(json.dumps(good))
    bad["credentialSubject"]["achievement"]["notInTheContext"] = "smuggled"
    canonicalize(good)
    for _ in range(2):
        with pytest.raises(UndefinedTermError):
            canonicalize(bad)
    # and the good one still canonicalizes as plain pyld does
    assert canonicalize(good) == canonicalize(good, memo=False)


def test_expansion_memo_keys_on_the_context(fresh_memo: None) -> None:
    """The same object under another @context must not reuse the first expansion."""
    doc = _catalogue_credentials()[0]
    del doc["credentialSubject"]["achievement"]["inLanguage"]  # a term OB 3.0.2 does not define
    other = json.loads(json.dumps(doc))
    other["@context"] = [VC_V2, OB_V3.replace("3.0.3", "3.0.2")]
    assert canonicalize(doc) == canonicalize(doc, memo=False)
    assert canonicalize(other) == canonicalize(other, memo=False)
    assert canonicalize(other) != canonicalize(doc)  # the 3.0.2 context maps some terms elsewhere


def test_pylds_shared_context_caches_are_locked_for_threads() -> None:
    """pyld shares LRU caches across threads; cachetools' are not thread-safe, so ours lock them."""
    from pyld import jsonld as pyld_jsonld
    from pyld.resolved_context import ResolvedContext

    assert isinstance(pyld_jsonld._resolved_context_cache, canonicalization._LockedLRU)
    assert isinstance(ResolvedContext({}).cache, canonicalization._LockedLRU)
    cache = canonicalization._LockedLRU(maxsize=8)
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def churn(seed: int) -> None:
        rng = random.Random(seed)
        barrier.wait()
        try:
            for _ in range(20_000):
                key = rng.randrange(32)
                if cache.get(key) is None:
                    cache[key] = {"value": key}
        except BaseException as exc:  # pragma: no cover - what an unlocked cache does under load
            errors.append(exc)

    threads = [threading.Thread(target=churn, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(cache) <= 8
