"""Negative tests of the verifier: tampering, wrong keys, malformed proofs, unknown contexts,
safe mode, hostile input, validity dates and recipients.

The credential under test is the 1EdTech validator's simple.json without its proof, issued
by a did:key generated here and signed with verifier.add_proof.
"""

from __future__ import annotations

import copy
import json
import socket
import time
from typing import Any

import pytest

from verifier import (
    DocumentLoaderError,
    UndefinedTermError,
    add_proof,
    canonicalize,
    verify_credential,
    verify_proofs,
)
from verifier.document_loader import CONTEXTS_DIR, document_loader, pinned_urls
from verifier.inputs import MAX_BYTES, UnreadableInput, read_presented
from verifier.multikey import multibase_decode, multibase_encode
from verifier_support import (
    NOW,
    Ed25519Key,
    changed_scalar,
    delete_at,
    failed_checks,
    get_at,
    hashed_email_identity,
    leaf_paths,
    member_paths,
    new_key,
    path_id,
    problem_codes,
    set_at,
    sign,
    statuses,
    unsigned_simple,
    without_proof,
)

EVIL_CONTEXT = "https://example.com/evil-context.json"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
EMAIL, SALT = "teacher@example.org", "s3a1t"


@pytest.fixture(scope="module")
def key_a() -> Ed25519Key:
    return new_key()


@pytest.fixture(scope="module")
def key_b() -> Ed25519Key:
    return new_key()


@pytest.fixture(scope="module")
def unsigned(key_a: Ed25519Key) -> dict[str, Any]:
    return unsigned_simple(key_a)


@pytest.fixture(scope="module")
def signed(unsigned: dict[str, Any], key_a: Ed25519Key) -> dict[str, Any]:
    return sign(unsigned, key_a)


def verify(document: Any, **kwargs: Any):
    return verify_credential(document, now=kwargs.pop("now", NOW), **kwargs)


def assert_proof_failed(document: Any, code: str | None = None) -> None:
    """Not verified, because the proof check failed (with `code` among the problems)."""
    report = verify(document)
    assert not report.verified
    assert "proof" in failed_checks(report), report.to_json()
    if code is not None:
        assert code in problem_codes(report), report.to_json()


def assert_signature_does_not_cover(document: dict[str, Any]) -> None:
    """No proof of the document verifies, and verify_credential does not accept it."""
    assert not any(result.verified for result in verify_proofs(document))
    report = verify(document)
    assert not report.verified
    failed = failed_checks(report)
    # A change that stops it being a Verifiable Credential at all ends the checks at parse.
    assert "proof" in failed or (report.check("proof") is None and failed == {"parse"}), report.to_json()


# --- the positive baseline -------------------------------------------------------------------

def test_sign_then_verify_passes(signed: dict[str, Any], key_a: Ed25519Key) -> None:
    report = verify(signed)
    assert report.verified, report.to_json()
    assert all(check.ok for check in report.checks)
    assert statuses(report) == {
        "parse": "passed", "context": "passed", "schema": "passed", "proof": "passed",
        "issuer": "passed", "validity": "passed", "status": "passed", "recipient": "skipped",
    }
    [result] = verify_proofs(signed)
    assert result.verified and result.key.public_key == key_a.public_bytes and result.key.confirmed
    assert verify_credential(signed).verified  # the real clock: validFrom is in the past


def test_signing_does_not_change_the_input(unsigned: dict[str, Any], key_a: Ed25519Key) -> None:
    before = copy.deepcopy(unsigned)
    sign(unsigned, key_a)
    assert unsigned == before
    with pytest.raises(Exception, match="already has a proof"):
        sign(sign(unsigned, key_a), key_a)


# --- tampering: every value, added fields, removed fields -------------------------------------

_TEMPLATE = without_proof(unsigned_simple(new_key()))
LEAF_PATHS = list(leaf_paths(_TEMPLATE))
MEMBER_PATHS = list(member_paths(_TEMPLATE))


def test_template_has_every_json_value_kind() -> None:
    kinds = {type(get_at(_TEMPLATE, path)) for path in LEAF_PATHS}
    assert kinds == {str, int, bool}
    assert len(LEAF_PATHS) >= 20


@pytest.mark.parametrize("path", LEAF_PATHS, ids=path_id)
def test_changing_any_value_breaks_the_signature(signed: dict[str, Any], path: tuple) -> None:
    tampered = set_at(signed, path, changed_scalar(get_at(signed, path)))
    assert tampered != signed
    assert_signature_does_not_cover(tampered)


ADDED_FIELDS = [
    # (where, term, value, defined by the credential's contexts)
    ((), "description", "Added after signing.", True),
    (("issuer",), "email", "registrar@example.com", True),
    (("credentialSubject",), "role", "Lead teacher", True),
    (("credentialSubject", "achievement"), "humanCode", "TW-1", True),
    (("credentialSubject", "achievement", "criteria"), "id", "https://example.com/criteria/1", True),
    ((), "favouriteColour", "blue", False),
    (("issuer",), "favouriteColour", "blue", False),
    (("credentialSubject",), "favouriteColour", "blue", False),
    (("credentialSubject", "achievement"), "favouriteColour", "blue", False),
    (("credentialSubject", "identifier", 0), "favouriteColour", "blue", False),
]


@pytest.mark.parametrize(("where", "term", "value", "defined"), ADDED_FIELDS,
                         ids=[f"{path_id(w)}+{t}" for w, t, _, _ in ADDED_FIELDS])
def test_adding_a_field_breaks_the_signature(signed: dict[str, Any], where: tuple, term: str,
                                             value: Any, defined: bool) -> None:
    assert term not in get_at(signed, where)
    tampered = copy.deepcopy(signed)
    get_at(tampered, where)[term] = value
    assert_signature_does_not_cover(tampered)
    if defined:
        canonicalize(without_proof(tampered))  # a real term: only the signature refuses it
        assert_proof_failed(tampered, "signature_mismatch")
    else:
        with pytest.raises(UndefinedTermError):
            canonicalize(without_proof(tampered))
        assert_proof_failed(tampered, "undefined_term")


@pytest.mark.parametrize("path", MEMBER_PATHS, ids=path_id)
def test_removing_any_field_breaks_the_signature(signed: dict[str, Any], path: tuple) -> None:
    assert_signature_does_not_cover(delete_at(signed, path))


def test_reordering_members_keeps_the_signature(signed: dict[str, Any]) -> None:
    """The signature covers the RDF, not the JSON text: key order does not matter (control)."""
    reordered = json.loads(json.dumps(signed, sort_keys=True))
    assert list(reordered) != list(signed)
    assert verify(reordered).verified


# --- keys --------------------------------------------------------------------------------------

def test_signature_by_another_key_fails(unsigned: dict[str, Any], key_a: Ed25519Key, key_b: Ed25519Key) -> None:
    # Signed with B, naming A's key; and signed with A, naming B's key.
    forged = sign(unsigned, key_b, verification_method=key_a.verification_method)
    assert_proof_failed(forged, "signature_mismatch")
    mislabelled = sign(unsigned, key_a, verification_method=key_b.verification_method)
    assert_proof_failed(mislabelled, "signature_mismatch")


def test_did_key_fragment_naming_another_key_fails(unsigned: dict[str, Any], key_a: Ed25519Key,
                                                   key_b: Ed25519Key) -> None:
    document = sign(unsigned, key_a, verification_method=f"{key_a.did}#{key_b.multibase}")
    assert_proof_failed(document, "key_unresolved")


def test_credential_of_one_did_key_signed_by_another_did_key_is_not_verified(
        unsigned: dict[str, Any], key_b: Ed25519Key) -> None:
    impostor = sign(unsigned, key_b)  # B's own, valid proof, but the issuer is still A
    assert verify_proofs(impostor)[0].verified
    report = verify(impostor)
    assert not report.verified and "issuer" in failed_checks(report)


# --- malformed proofs ----------------------------------------------------------------------------

def _with_proof(document: dict[str, Any], **changes: Any) -> dict[str, Any]:
    result = copy.deepcopy(document)
    for key, value in changes.items():
        if value is _REMOVE:
            del result["proof"][key]
        else:
            result["proof"][key] = value
    return result


_REMOVE = object()


def _flip_one_character(value: str) -> str:
    middle = len(value) // 2
    replacement = "2" if value[middle] != "2" else "3"
    return value[:middle] + replacement + value[middle + 1:]


def _proof_value_variants(proof_value: str) -> dict[str, tuple[Any, str]]:
    signature = multibase_decode(proof_value)
    return {
        "tampered": (_flip_one_character(proof_value), "signature_mismatch"),
        "other-signature": (multibase_encode(bytes(64)), "signature_mismatch"),
        "not-base58-zero": (proof_value[:10] + "0" + proof_value[11:], "proof_value_malformed"),
        "not-base58-l": (proof_value[:10] + "l" + proof_value[11:], "proof_value_malformed"),
        "not-base58-plus": (proof_value + "+", "proof_value_malformed"),
        "no-multibase-prefix": (proof_value[1:], "proof_value_malformed"),
        "base64url-multibase": ("u" + "A" * 86, "proof_value_malformed"),
        "63-bytes": (multibase_encode(signature[:63]), "proof_value_malformed"),
        "65-bytes": (multibase_encode(signature + b"\x01"), "proof_value_malformed"),
        "empty": ("", "proof_value_malformed"),
        "just-z": ("z", "proof_value_malformed"),
        "null": (None, "proof_value_missing"),
        "number": (12345, "proof_value_missing"),
        "list": ([proof_value], "proof_value_missing"),
    }


PROOF_VALUE_CASES = sorted(_proof_value_variants(multibase_encode(bytes(range(64)))))


@pytest.mark.parametrize("case", PROOF_VALUE_CASES)
def test_bad_proof_values_fail(signed: dict[str, Any], case: str) -> None:
    value, code = _proof_value_variants(signed["proof"]["proofValue"])[case]
    tampered = _with_proof(signed, proofValue=value)
    [result] = verify_proofs(tampered)
    assert not result.verified and result.error is not None and result.error.code == code
    assert_proof_failed(tampered, code)


def test_missing_proof_value_fails(signed: dict[str, Any]) -> None:
    assert_proof_failed(_with_proof(signed, proofValue=_REMOVE), "proof_value_missing")


@pytest.mark.parametrize("proof", [_REMOVE, None, [], {}], ids=["absent", "null", "empty-list", "empty-object"])
def test_missing_proof_fails(signed: dict[str, Any], proof: Any) -> None:
    document = without_proof(signed) if proof is _REMOVE else {**signed, "proof": proof}
    report = verify(document)
    assert not report.verified
    assert "proof" in failed_checks(report)
    assert problem_codes(report) & {"proof_missing", "proof_unsupported"}
    assert "issuer" in failed_checks(report)  # nobody is shown to have issued it


@pytest.mark.parametrize(("changes", "code"), [
    ({"cryptosuite": "ecdsa-rdfc-2019"}, "proof_unsupported"),
    ({"cryptosuite": "eddsa-jcs-2022"}, "proof_unsupported"),
    ({"cryptosuite": _REMOVE}, "proof_unsupported"),
    ({"type": "Ed25519Signature2018"}, "proof_unsupported"),
    ({"type": "EcdsaSecp256k1Signature2019", "cryptosuite": _REMOVE}, "proof_unsupported"),
    ({"proofPurpose": "authentication"}, "proof_purpose_mismatch"),
    ({"proofPurpose": "capabilityInvocation"}, "proof_purpose_mismatch"),
    ({"proofPurpose": _REMOVE}, "proof_purpose_mismatch"),
    ({"created": "yesterday"}, "proof_created_invalid"),
    ({"created": "2025-06-01T12:00:00Z"}, None),  # same instant, written the same: still valid
    ({"created": "2025-06-01T12:00:01Z"}, "signature_mismatch"),
    ({"verificationMethod": _REMOVE}, "key_unresolved"),
    ({"verificationMethod": "did:example:123#key-1"}, "key_unresolved"),
], ids=lambda v: json.dumps(v, default=lambda _: "REMOVED") if isinstance(v, dict) else str(v))
def test_proof_options(signed: dict[str, Any], changes: dict[str, Any], code: str | None) -> None:
    tampered = _with_proof(signed, **changes)
    if code is None:
        assert verify(tampered).verified
        return
    assert_proof_failed(tampered, code)


def test_unsupported_proof_next_to_a_valid_one_is_a_warning(signed: dict[str, Any]) -> None:
    other = {"type": "DataIntegrityProof", "cryptosuite": "ecdsa-rdfc-2019", "proofPurpose": "assertionMethod",
             "verificationMethod": "did:example:1#k", "proofValue": "zabc"}
    report = verify({**signed, "proof": [other, signed["proof"]]})
    assert report.verified and statuses(report)["proof"] == "warning"


def test_a_bad_supported_proof_next_to_a_valid_one_fails(signed: dict[str, Any]) -> None:
    bad = {**signed["proof"], "proofValue": _flip_one_character(signed["proof"]["proofValue"])}
    document = {**signed, "proof": [signed["proof"], bad]}
    assert [r.verified for r in verify_proofs(document)] == [True, False]
    assert_proof_failed(document, "signature_mismatch")


@pytest.mark.parametrize("field", ["proofValue", "verificationMethod"])
def test_oversized_base58_values_are_refused_quickly(signed: dict[str, Any], field: str) -> None:
    huge = "z" + "2" * 100_000
    value = huge if field == "proofValue" else "https://example.com/issuers/1#" + huge
    document = _with_proof(signed, **{field: value})
    start = time.perf_counter()
    report = verify(document)
    elapsed = time.perf_counter() - start
    assert not report.verified
    assert elapsed < 0.3, f"{elapsed:.2f} s"


# --- contexts and the network ------------------------------------------------------------------

@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every attempt to open a connection or resolve a name is recorded and refused."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise OSError("network access attempted in a verifier test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


def test_unknown_context_fails_without_network(signed: dict[str, Any], unsigned: dict[str, Any],
                                               key_a: Ed25519Key, no_network: list[Any]) -> None:
    document = {**signed, "@context": [*signed["@context"], EVIL_CONTEXT]}
    report = verify(document)
    assert not report.verified
    assert statuses(report)["context"] == "failed"
    assert "proof" in failed_checks(report)
    assert "context_not_allowed" in problem_codes(report)
    [result] = verify_proofs(document)
    assert not result.verified and result.error.code == "context_not_allowed"
    with pytest.raises(DocumentLoaderError):
        sign({**unsigned, "@context": [*unsigned["@context"], EVIL_CONTEXT]}, key_a)
    assert no_network == []


@pytest.mark.parametrize("where", ["credentialSubject", "achievement", "inline-import"])
def test_nested_unknown_context_is_not_fetched(signed: dict[str, Any], where: str, no_network: list[Any]) -> None:
    """A context below the top level escapes the context check, but the loader still refuses it."""
    document = copy.deepcopy(signed)
    if where == "credentialSubject":
        document["credentialSubject"]["@context"] = EVIL_CONTEXT
    elif where == "achievement":
        document["credentialSubject"]["achievement"]["@context"] = [EVIL_CONTEXT]
    else:
        document["@context"] = [*document["@context"], {"@import": EVIL_CONTEXT}]
    assert_proof_failed(document, "context_not_allowed")
    with pytest.raises(DocumentLoaderError):
        canonicalize(without_proof(document))
    assert no_network == []


@pytest.mark.parametrize("url", [
    EVIL_CONTEXT,
    "https://www.w3.org/ns/credentials/v3",
    "http://www.w3.org/ns/credentials/v2",
    "https://www.w3.org/ns/credentials/v2/",
    "https://www.w3.org/ns/credentials/v2#",
    "https://WWW.W3.ORG/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.4.json",
    "https://w3id.org/security/suites/ed25519-2018/v1",
    "file:///etc/passwd",
    "contexts.json",
    "",
])
def test_loader_refuses_every_url_that_is_not_pinned(url: str, no_network: list[Any]) -> None:
    with pytest.raises(DocumentLoaderError):
        document_loader(url)
    with pytest.raises(DocumentLoaderError):
        document_loader(url, {"documentLoader": None})
    assert no_network == []


def test_loader_serves_the_pinned_files(no_network: list[Any]) -> None:
    index = json.loads((CONTEXTS_DIR / "contexts.json").read_bytes())["contexts"]
    assert set(pinned_urls()) == set(index)
    for url, name in index.items():
        served = document_loader(url)
        assert served["documentUrl"] == url
        assert served["document"] == json.loads((CONTEXTS_DIR / name).read_bytes())
    assert no_network == []


# --- safe mode --------------------------------------------------------------------------------------

@pytest.mark.parametrize("change", ["property", "type", "nested-type", "relative-id"])
def test_safe_mode_refuses_undefined_terms(unsigned: dict[str, Any], signed: dict[str, Any], key_a: Ed25519Key,
                                          change: str) -> None:
    def apply(document: dict[str, Any]) -> dict[str, Any]:
        document = copy.deepcopy(document)
        if change == "property":
            document["credentialSubject"]["favouriteColour"] = "blue"
        elif change == "type":
            document["type"] = [*document["type"], "FancyCredential"]
        elif change == "nested-type":
            document["credentialSubject"]["achievement"]["type"] = ["Achievement", "FancyAchievement"]
        else:
            document["credentialSubject"]["id"] = "not-an-absolute-iri"
        return document

    bad = apply(unsigned)
    with pytest.raises(UndefinedTermError):
        canonicalize(bad)
    canonicalize(bad, safe=False)  # plain RDFC-1.0 silently accepts it: safe mode is the guard
    with pytest.raises(UndefinedTermError):
        add_proof(bad, verification_method=key_a.verification_method, sign=key_a.sign, created=NOW)
    assert_proof_failed(apply(signed), "undefined_term")


def test_undefined_property_would_be_invisible_to_plain_canonicalization(unsigned: dict[str, Any]) -> None:
    """Why safe mode matters: without it an undefined property adds nothing to the signed data."""
    with_extra = {**unsigned, "favouriteColourX": "blue"}
    without_vocab = {**with_extra, "@context": [VC_V1, OB_CONTEXT]}  # VC 1.1 has no @vocab fallback
    plain = canonicalize(without_vocab, safe=False)
    assert plain == canonicalize({**unsigned, "@context": [VC_V1, OB_CONTEXT]}, safe=False)
    with pytest.raises(UndefinedTermError):
        canonicalize(without_vocab)


# --- hostile input ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("data", "code"), [
    (b'{"@context": [}', "not_json"),
    (b'{"a": 1,}', "not_json"),
    (b"", "not_json"),
    (b"\xff\xfe{\x00}\x00", "not_json"),
    (b'{"name": "caf\xe9"}', "not_json"),
    (b" " * (MAX_BYTES + 1), "input_too_large"),
    (b"[" * 100_000 + b"]" * 100_000, "too_deep"),
    (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "too_deep"),
], ids=["truncated", "trailing-comma", "empty", "utf16", "latin1", "too-large", "deep-arrays", "deep-objects"])
def test_unreadable_input(data: bytes, code: str) -> None:
    with pytest.raises(UnreadableInput) as caught:
        read_presented(data)
    assert caught.value.problem.code == code


def test_huge_integer_literal_is_unreadable_input() -> None:
    with pytest.raises(UnreadableInput) as caught:
        read_presented(b'{"n": ' + b"1" * 5000 + b"}")
    assert caught.value.problem.code == "not_json"


def test_readable_input(signed: dict[str, Any]) -> None:
    data = json.dumps(signed).encode("utf-8")
    assert read_presented(data) == signed
    assert read_presented(b"\xef\xbb\xbf" + data) == signed  # UTF-8 BOM
    padded = data + b" " * (MAX_BYTES - len(data))
    assert len(padded) == MAX_BYTES and read_presented(padded) == signed


def _nested(depth: int) -> Any:
    node: Any = "bottom"
    for _ in range(depth):
        node = {"n": node}
    return node


def test_deeply_nested_document_fails_parse(signed: dict[str, Any]) -> None:
    document = copy.deepcopy(signed)
    document["credentialSubject"]["achievement"]["n"] = _nested(200)
    report = verify(document)
    assert not report.verified
    assert [c.id for c in report.checks] == ["parse"]
    assert problem_codes(report) == {"too_deep"}


@pytest.mark.parametrize("document", [None, [], "credential", 42, {"@context": "x"}, {"type": "VerifiableCredential"}],
                         ids=["null", "list", "string", "number", "no-type", "no-context"])
def test_not_a_credential_fails_parse(document: Any) -> None:
    report = verify(document)
    assert not report.verified and failed_checks(report) == {"parse"}


def test_huge_number_value_does_not_crash(signed: dict[str, Any]) -> None:
    document = read_presented(json.dumps({**signed, "name": 10 ** 400}).encode())
    report = verify(document)
    assert not report.verified and "proof" in failed_checks(report)


def test_object_in_type_array_does_not_crash(signed: dict[str, Any]) -> None:
    report = verify({**signed, "type": ["VerifiableCredential", {"not": "a type"}]})
    assert not report.verified


# --- validity dates ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("dates", "code"), [
    ({"validFrom": "2030-01-01T00:00:00Z"}, "not_yet_valid"),
    ({"validUntil": "2025-12-31T23:59:59Z"}, "expired"),
    ({"validUntil": "2026-01-01T00:00:00Z"}, "expired"),         # until == now: no longer valid
    ({"validFrom": "2026-01-01T00:00:00Z"}, None),               # from == now: valid
    ({"validFrom": "2026-01-01T01:00:00+01:00"}, None),          # the same instant, another offset
    ({"validFrom": "2026-01-01T00:00:01Z"}, "not_yet_valid"),
    ({"validUntil": "2030-01-01T00:00:00.5Z"}, None),
    ({"validFrom": "2031-01-01T00:00:00Z", "validUntil": "2030-01-01T00:00:00Z"}, "not_yet_valid"),
    ({"validFrom": "2020-13-01T00:00:00Z"}, "date_invalid"),
    ({"validFrom": "2020-02-30T00:00:00Z"}, "date_invalid"),
    ({"validFrom": "2020-01-01"}, "date_invalid"),
    ({"validFrom": "2020-01-01T00:00:00"}, "date_invalid"),      # no timezone
    ({"validFrom": "yesterday"}, "date_invalid"),
    ({"validUntil": "2030-01-01T25:00:00Z"}, "date_invalid"),
    ({"validUntil": ""}, "date_invalid"),
], ids=lambda v: json.dumps(v) if isinstance(v, dict) else str(v))
def test_validity_dates(unsigned: dict[str, Any], key_a: Ed25519Key, dates: dict[str, str], code: str | None) -> None:
    report = verify(sign({**unsigned, **dates}, key_a))
    assert report.check("proof").ok  # validly signed: only the dates are being tested
    assert_validity_verdict(report, code)


def assert_validity_verdict(report: Any, code: str | None) -> None:
    """Verified when no problem is expected, else failed on validity with that code."""
    if code is None:
        assert report.verified, report.to_json()
        return
    assert not report.verified
    assert statuses(report)["validity"] == "failed"
    assert code in problem_codes(report)


@pytest.fixture(scope="module")
def unsigned_v1(unsigned: dict[str, Any]) -> dict[str, Any]:
    """The same credential in VC 1.1 form (issuanceDate / expirationDate)."""
    document = {k: v for k, v in unsigned.items() if k != "validFrom"}
    document["@context"] = [VC_V1, OB_CONTEXT, DATA_INTEGRITY_V2]
    document["issuanceDate"] = "2020-01-01T00:00:00Z"
    return document


@pytest.mark.parametrize(("dates", "code"), [
    ({}, None),
    ({"expirationDate": "2030-01-01T00:00:00Z"}, None),
    ({"expirationDate": "2025-01-01T00:00:00Z"}, "expired"),
    ({"issuanceDate": "2030-01-01T00:00:00Z"}, "not_yet_valid"),
    ({"issuanceDate": "01/01/2020"}, "date_invalid"),
    ({"expirationDate": "soon"}, "date_invalid"),
    ({"issuanceDate": None}, "date_missing"),
], ids=lambda v: json.dumps(v) if isinstance(v, dict) else str(v))
def test_vc11_validity_dates(unsigned_v1: dict[str, Any], key_a: Ed25519Key, dates: dict[str, Any],
                             code: str | None) -> None:
    document = {**unsigned_v1, **dates}  # a JSON null date is no value at all (not signed)
    report = verify(sign(document, key_a))
    assert report.check("proof").ok
    assert statuses(report)["schema"] == "skipped"  # the OB schema covers the VC 2.0 form only
    assert_validity_verdict(report, code)


def test_vc11_credential_without_issuance_date_fails_validity(unsigned_v1: dict[str, Any], key_a: Ed25519Key) -> None:
    document = {k: v for k, v in unsigned_v1.items() if k != "issuanceDate"}
    report = verify(sign(document, key_a))
    assert report.check("proof").ok
    assert statuses(report)["validity"] == "failed"
    assert "date_missing" in problem_codes(report)


# --- recipient -------------------------------------------------------------------------------------

@pytest.mark.parametrize("recipient", [
    EMAIL, "Teacher@Example.ORG", "TEACHER@EXAMPLE.ORG", f"  {EMAIL}  ", "did:example:ebfeb1f712ebc6f1c276e12ec21",
])
def test_recipient_matches(signed: dict[str, Any], recipient: str) -> None:
    assert signed["credentialSubject"]["identifier"] == [hashed_email_identity(EMAIL, SALT)]
    report = verify(signed, recipient=recipient)
    assert report.verified and statuses(report)["recipient"] == "passed"


@pytest.mark.parametrize("recipient", [
    "other@example.org", "teacher@example.com", "teacher@example.org" + SALT, SALT, "",
    "sha256$" + hashed_email_identity(EMAIL, SALT)["identityHash"].split("$")[1],
    "did:example:someone-else",
])
def test_recipient_mismatch(signed: dict[str, Any], recipient: str) -> None:
    report = verify(signed, recipient=recipient)
    assert not report.verified
    assert failed_checks(report) == {"recipient"}
    assert problem_codes(report) == {"recipient_mismatch"}


def test_recipient_unhashed_identifier(unsigned: dict[str, Any], key_a: Ed25519Key) -> None:
    identity = {"type": "IdentityObject", "identityType": "emailAddress", "hashed": False,
                "identityHash": EMAIL, "salt": ""}
    document = copy.deepcopy(unsigned)
    document["credentialSubject"]["identifier"] = [identity]
    signed_plain = sign(document, key_a)
    assert verify(signed_plain, recipient=EMAIL).verified
    assert verify(signed_plain, recipient="TEACHER@example.org").verified
    assert not verify(signed_plain, recipient="other@example.org").verified


def test_recipient_unhashed_mixed_case_identifier(unsigned: dict[str, Any], key_a: Ed25519Key) -> None:
    identity = {"type": "IdentityObject", "identityType": "emailAddress", "hashed": False,
                "identityHash": "Teacher@Example.org", "salt": ""}
    document = copy.deepcopy(unsigned)
    document["credentialSubject"]["identifier"] = [identity]
    assert verify(sign(document, key_a), recipient=EMAIL).verified


def test_recipient_tampered_identifier_breaks_the_signature(signed: dict[str, Any]) -> None:
    """Re-pointing the credential at someone else's email invalidates it (and does not match)."""
    document = copy.deepcopy(signed)
    document["credentialSubject"]["identifier"] = [hashed_email_identity("intruder@example.org", SALT)]
    report = verify(document, recipient="intruder@example.org")
    assert statuses(report)["recipient"] == "passed"
    assert not report.verified and "proof" in failed_checks(report)
