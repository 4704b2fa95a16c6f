"""Standards conformance of the verifier against the official test vectors (tests/vectors/).

* W3C vc-di-eddsa eddsa-rdfc-2022 (alumni and employ): every intermediate, byte for byte.
* W3C Ed25519Signature2020, proof sets and proof chains.
* 1EdTech OB 3.0 implementation-guide vector (canonical N-Quads, hashes, signature).
* W3C CCG did:key test vector (Ed25519 Multikey encoding).
* The 1EdTech validator's OB 3.0 inputs: per-proof results and overall verdicts.
* The OB 3.0 JSON Schema results recorded in derived/expected-results.json.
"""

from __future__ import annotations

import base64
import copy
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from verifier import KeyFormatError, KeyResolutionError, canonicalize, verify_credential, verify_proofs
from verifier import cryptosuite
from verifier.data_integrity import _with_previous_proofs, add_proof
from verifier.key_resolution import resolve_verification_method
from verifier.multikey import (
    b58decode,
    decode_public_key,
    did_key,
    did_key_verification_method,
    encode_public_key,
    multibase_decode,
    multibase_encode,
)
from verifier.schema import schema_for, schema_problems, validator
from verifier.timeutil import parse_datetime
from verifier_support import (
    DERIVED,
    DID_KEY_VECTOR,
    EDDSA_RDFC,
    NOW,
    OB30,
    OB30_REL,
    OB_IMPL_VECTORS,
    VECTORS,
    W3C_EDDSA,
    Ed25519Key,
    expected_results,
    failed_checks,
    key_from_private_multibase,
    key_from_seed,
    load_json,
    problem_codes,
    read_text,
    statuses,
    without_proof,
)

EXPECTED = expected_results()


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- W3C eddsa-rdfc-2022, step by step -----------------------------------------------------

@dataclass(frozen=True)
class RdfcVector:
    folder: Path
    unsigned: dict[str, Any]
    options: dict[str, Any]         # proofConfigDataInt.json without its @context
    config_context: Any             # the @context written in proofConfigDataInt.json
    signed: dict[str, Any]
    key: Ed25519Key
    public_multibase: str

    def text(self, name: str) -> str:
        return read_text(self.folder / name)


RDFC_VARIANTS = {
    "alumni": (EDDSA_RDFC, "unsigned.json"),
    "employ": (EDDSA_RDFC / "employ", "employmentAuth.json"),
}


@pytest.fixture(scope="module", params=sorted(RDFC_VARIANTS))
def rdfc(request: pytest.FixtureRequest) -> RdfcVector:
    folder, unsigned_name = RDFC_VARIANTS[request.param]
    config = load_json(folder / "proofConfigDataInt.json")
    key_pair = load_json(EDDSA_RDFC / "keyPair.json")
    return RdfcVector(
        folder=folder,
        unsigned=load_json(folder / unsigned_name),
        options={k: v for k, v in config.items() if k != "@context"},
        config_context=config["@context"],
        signed=load_json(folder / "signedDataInt.json"),
        key=key_from_private_multibase(key_pair["privateKeyMultibase"]),
        public_multibase=key_pair["publicKeyMultibase"],
    )


def test_w3c_rdfc_canonical_document(rdfc: RdfcVector) -> None:
    expected = rdfc.text("canonDocDataInt.txt")
    assert expected.endswith("\n")
    assert cryptosuite.transformation(rdfc.unsigned) == expected
    assert canonicalize(rdfc.unsigned) == expected


def test_w3c_rdfc_canonical_proof_config(rdfc: RdfcVector) -> None:
    # The vector's proof configuration carries the document's @context (spec 3.3.5).
    assert rdfc.config_context == rdfc.unsigned["@context"]
    canonical = cryptosuite.proof_configuration(rdfc.options, rdfc.unsigned["@context"])
    assert canonical == rdfc.text("proofCanonDataInt.txt")


def test_w3c_rdfc_hashes(rdfc: RdfcVector) -> None:
    transformed = cryptosuite.transformation(rdfc.unsigned)
    canonical_config = cryptosuite.proof_configuration(rdfc.options, rdfc.unsigned["@context"])
    doc_hash, proof_hash = rdfc.text("docHashDataInt.txt"), rdfc.text("proofHashDataInt.txt")
    assert sha256_hex(transformed) == doc_hash
    assert sha256_hex(canonical_config) == proof_hash
    combined = cryptosuite.hashing(transformed, canonical_config)
    assert combined.hex() == rdfc.text("combinedHashDataInt.txt")
    # Hash order: SHA-256(proof config) || SHA-256(document).
    assert combined.hex() == proof_hash + doc_hash


def test_w3c_key_pair_encodings(rdfc: RdfcVector) -> None:
    raw_private = multibase_decode(load_json(EDDSA_RDFC / "keyPair.json")["privateKeyMultibase"])
    assert raw_private[:2] == b"\x80\x26" and len(raw_private) == 34
    assert encode_public_key(rdfc.key.public_bytes) == rdfc.public_multibase
    assert decode_public_key(rdfc.public_multibase) == rdfc.key.public_bytes
    assert rdfc.options["verificationMethod"] == did_key_verification_method(rdfc.public_multibase)


def test_w3c_rdfc_signature(rdfc: RdfcVector) -> None:
    combined = bytes.fromhex(rdfc.text("combinedHashDataInt.txt"))
    signature = rdfc.key.sign(combined)
    assert signature.hex() == rdfc.text("sigHexDataInt.txt")
    assert multibase_encode(signature) == rdfc.text("sigBTC58DataInt.txt")
    assert cryptosuite.proof_serialization(combined, rdfc.key.sign) == rdfc.text("sigBTC58DataInt.txt")
    assert rdfc.signed["proof"]["proofValue"] == rdfc.text("sigBTC58DataInt.txt")


def test_w3c_rdfc_create_proof_reproduces_signed_document(rdfc: RdfcVector) -> None:
    proof = cryptosuite.create_proof(rdfc.unsigned, rdfc.options, rdfc.key.sign)
    assert proof == rdfc.signed["proof"]
    assert {**rdfc.unsigned, "proof": proof} == rdfc.signed
    # add_proof (what the issuer calls) gives the same secured document.
    secured = add_proof(
        rdfc.unsigned,
        verification_method=rdfc.options["verificationMethod"],
        sign=rdfc.key.sign,
        created=parse_datetime(rdfc.options["created"]),
    )
    assert secured == rdfc.signed


def test_w3c_rdfc_signed_document_verifies(rdfc: RdfcVector) -> None:
    [result] = verify_proofs(rdfc.signed)
    assert result.verified and result.error is None
    assert result.key is not None and result.key.public_key == rdfc.key.public_bytes
    assert result.key.confirmed  # did:key is self-certifying
    # The same check rejects the vector once one signed value changes.
    tampered = copy.deepcopy(rdfc.signed)
    tampered["credentialSubject"]["id"] = "did:example:someone-else"
    [bad] = verify_proofs(tampered)
    assert not bad.verified and bad.error.code == "signature_mismatch"


# --- W3C Ed25519Signature2020, proof sets and chains ----------------------------------------

ED_SIG = W3C_EDDSA / "Ed25519Signature2020"


def test_w3c_ed25519signature2020_intermediates_and_signature() -> None:
    signed = load_json(ED_SIG / "signedEdSig.json")
    config = load_json(ED_SIG / "proofConfigEdSig.json")
    key = key_from_private_multibase(load_json(EDDSA_RDFC / "keyPair.json")["privateKeyMultibase"])
    canonical_doc = canonicalize(without_proof(signed))
    canonical_config = canonicalize(config)
    assert canonical_doc == read_text(ED_SIG / "canonDocEdSig.txt")
    assert canonical_config == read_text(ED_SIG / "proofCanonEdSig.txt")
    assert sha256_hex(canonical_doc) == read_text(ED_SIG / "docHashEdSig.txt")
    assert sha256_hex(canonical_config) == read_text(ED_SIG / "proofHashEdSig.txt")
    combined = cryptosuite.hashing(canonical_doc, canonical_config)
    assert combined.hex() == read_text(ED_SIG / "combinedHashEdSig.txt")
    assert key.sign(combined).hex() == read_text(ED_SIG / "sigHexEdSig.txt")
    assert signed["proof"]["proofValue"] == read_text(ED_SIG / "sigBTC58EdSig.txt")
    # The proof config is the proof without proofValue, with the document's @context.
    assert config == {**{k: v for k, v in signed["proof"].items() if k != "proofValue"}, "@context": signed["@context"]}


def test_w3c_ed25519signature2020_vector_verifies() -> None:
    signed = load_json(ED_SIG / "signedEdSig.json")
    [result] = verify_proofs(signed)
    assert result.verified and result.supported
    tampered = {**signed, "name": signed["name"] + "!"}
    [bad] = verify_proofs(tampered)
    assert not bad.verified and bad.error is not None and bad.error.code == "signature_mismatch"


PROOF_SET_CHAIN = W3C_EDDSA / "proof-set-chain"


def _multikey_pairs() -> dict[str, Ed25519Key]:
    """publicKeyMultibase -> key, from multiKeyPairs.json."""
    pairs = load_json(PROOF_SET_CHAIN / "multiKeyPairs.json")
    keys = {}
    for pair in pairs.values():
        key = key_from_private_multibase(pair["privateKeyMultibase"])
        assert key.multibase == pair["publicKeyMultibase"]
        keys[key.multibase] = key
    return keys


@pytest.mark.parametrize("name", ["signedProofSet1.json", "signedProofSet2.json",
                                  "signedProofChain1.json", "signedProofChain2.json"])
def test_w3c_proof_set_and_chain_vectors_verify(name: str) -> None:
    document = load_json(PROOF_SET_CHAIN / name)
    proofs = document["proof"] if isinstance(document["proof"], list) else [document["proof"]]
    results = verify_proofs(document)
    assert len(results) == len(proofs)
    assert all(r.verified for r in results), [r.error for r in results]
    keys = _multikey_pairs()
    for proof, result in zip(proofs, results, strict=True):
        multibase = proof["verificationMethod"].split("#")[1]
        assert result.key is not None and result.key.public_key == keys[multibase].public_bytes
    assert verify_credential(document, now=NOW).check("proof").ok


def test_w3c_proof_set_and_chain_proofs_are_reproduced() -> None:
    keys = _multikey_pairs()
    unsigned = load_json(PROOF_SET_CHAIN / "unsigned.json")
    final_chain = load_json(PROOF_SET_CHAIN / "signedProofChain2.json")["proof"]
    final_set = load_json(PROOF_SET_CHAIN / "signedProofSet2.json")["proof"]

    def key_for(config: dict[str, Any]) -> Ed25519Key:
        return keys[config["verificationMethod"].split("#")[1]]

    for n in (1, 2):
        config = load_json(PROOF_SET_CHAIN / f"proofSetConfig{n}.json")
        proof = cryptosuite.create_proof(unsigned, config, key_for(config).sign)
        assert proof == load_json(PROOF_SET_CHAIN / f"proofSetConfigSigned{n}.json") == final_set[n - 1]

    for n in (1, 2):
        config = load_json(PROOF_SET_CHAIN / f"proofChainConfig{n}.json")
        temp_doc = load_json(PROOF_SET_CHAIN / f"proofChainTempDoc{n}.json")
        # The document a chained proof signs: the verifier builds the same one (VC-DI 4.5),
        # except that one previous proof is written as an object where the vector has a list
        # of one: the same RDF (proof is an @graph container), so the same canonical form.
        built = _with_previous_proofs(unsigned, config, final_chain)
        previous = built["proof"] if isinstance(built["proof"], list) else [built["proof"]]
        assert {**built, "proof": previous} == temp_doc
        assert canonicalize(built) == canonicalize(temp_doc)
        proof = cryptosuite.create_proof(temp_doc, config, key_for(config).sign)
        assert proof == load_json(PROOF_SET_CHAIN / f"proofChainConfigSigned{n}.json") == final_chain[n + 1]


def test_proof_chain_with_missing_previous_proof_fails() -> None:
    document = load_json(PROOF_SET_CHAIN / "signedProofChain1.json")
    document["proof"] = document["proof"][1:]  # drop a proof the chained proof names
    results = verify_proofs(document)
    assert results[0].verified
    assert not results[1].verified and results[1].error.code == "proof_chain_broken"
    report = verify_credential(document, now=NOW)
    assert "proof" in failed_checks(report) and "proof_chain_broken" in problem_codes(report)


def test_proof_chain_covers_the_previous_proofs() -> None:
    document = load_json(PROOF_SET_CHAIN / "signedProofChain1.json")
    # Swap the order of the two set proofs: each still verifies alone, the chain does not
    # care about order in the document, so all three still verify ...
    document["proof"] = [document["proof"][1], document["proof"][0], document["proof"][2]]
    assert all(r.verified for r in verify_proofs(document))
    # ... but replacing a previous proof's value breaks that proof and the chained proof.
    document["proof"][0] = {**document["proof"][0], "created": "2023-02-24T23:36:39Z"}
    results = verify_proofs(document)
    assert [r.verified for r in results] == [False, True, False]


# --- 1EdTech OB 3.0 implementation guide vector ------------------------------------------------

OB_GUIDE = "ob3-impl-guide-eddsa-rdfc-2022"


@pytest.fixture(scope="module")
def ob_guide() -> dict[str, Any]:
    return {
        "unsigned": load_json(DERIVED / f"{OB_GUIDE}-unsigned.json"),
        "options": load_json(DERIVED / f"{OB_GUIDE}-proof-options.json"),
        "signed": load_json(DERIVED / f"{OB_GUIDE}-signed.json"),
        "values": load_json(DERIVED / "ob3-impl-guide-keypair-and-intermediates.json"),
    }


def test_ob_impl_guide_canonical_document(ob_guide: dict[str, Any]) -> None:
    assert canonicalize(ob_guide["unsigned"]) == read_text(OB_IMPL_VECTORS / "document-canon.txt")


def test_ob_impl_guide_canonical_proof(ob_guide: dict[str, Any]) -> None:
    canonical = cryptosuite.proof_configuration(ob_guide["options"], ob_guide["unsigned"]["@context"])
    assert canonical == read_text(OB_IMPL_VECTORS / "proof-canon.txt")


def test_ob_impl_guide_intermediates(ob_guide: dict[str, Any]) -> None:
    values = ob_guide["values"]
    transformed = cryptosuite.transformation(ob_guide["unsigned"])
    canonical_config = cryptosuite.proof_configuration(ob_guide["options"], ob_guide["unsigned"]["@context"])
    assert sha256_hex(transformed) == values["documentHashHex"]
    assert sha256_hex(canonical_config) == values["proofHashHex"]
    combined = cryptosuite.hashing(transformed, canonical_config)
    assert combined.hex() == values["dataToSignHex"]
    private = bytes.fromhex(values["privateKeyHex"])
    key = key_from_seed(private[:32])
    assert key.public_bytes.hex() == values["publicKeyHex"] == private[32:].hex()
    assert encode_public_key(key.public_bytes) == values["publicKeyMultibase"]
    assert values["verificationMethod"] == values["controller"] + "#" + values["publicKeyMultibase"]
    signature = key.sign(combined)
    assert signature.hex() == values["signatureHex"]
    assert multibase_encode(signature) == values["proofValue"] == ob_guide["signed"]["proof"]["proofValue"]


def test_ob_impl_guide_signed_credential_verifies(ob_guide: dict[str, Any]) -> None:
    signed, values = ob_guide["signed"], ob_guide["values"]
    assert signed == {**ob_guide["unsigned"], "proof": {**ob_guide["options"], "proofValue": values["proofValue"]}}
    [result] = verify_proofs(signed)
    assert result.verified
    assert result.key.public_key.hex() == values["publicKeyHex"]
    key = key_from_seed(bytes.fromhex(values["privateKeyHex"])[:32])
    assert cryptosuite.create_proof(ob_guide["unsigned"], ob_guide["options"], key.sign) == signed["proof"]
    report = verify_credential(signed, now=NOW)
    assert report.verified, report.to_json()


# --- did:key test vector --------------------------------------------------------------------

def _did_key_ed25519_entries() -> list[Any]:
    entries = []
    for did, entry in load_json(DID_KEY_VECTOR).items():
        for method in entry["didDocument"]["verificationMethod"]:
            if method["type"] == "Ed25519VerificationKey2018":
                raw = b58decode(method["publicKeyBase58"])
            elif method["type"] == "JsonWebKey2020" and method["publicKeyJwk"]["crv"] == "Ed25519":
                x = method["publicKeyJwk"]["x"]
                raw = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
            else:
                continue
            entries.append(pytest.param(did, method["id"], raw, bytes.fromhex(entry["seed"]),
                                        id=method["type"] + ":" + did[-8:]))
    return entries


DID_KEY_ENTRIES = _did_key_ed25519_entries()


def test_did_key_vector_has_every_ed25519_entry() -> None:
    assert len(DID_KEY_ENTRIES) == len(load_json(DID_KEY_VECTOR)) == 5


@pytest.mark.parametrize(("did", "method_id", "raw", "seed"), DID_KEY_ENTRIES)
def test_did_key_vector_round_trip(did: str, method_id: str, raw: bytes, seed: bytes) -> None:
    fragment = method_id.split("#", 1)[1]
    assert len(raw) == 32
    assert did == "did:key:" + fragment == did_key(fragment)
    assert method_id == did_key_verification_method(fragment)
    assert decode_public_key(fragment) == raw
    assert encode_public_key(raw) == fragment
    assert key_from_seed(seed).public_bytes == raw
    resolved = resolve_verification_method(method_id)
    assert resolved.public_key == raw and resolved.controller == did and resolved.confirmed


def test_did_key_vector_x25519_keys_are_not_signing_keys() -> None:
    for did, entry in load_json(DID_KEY_VECTOR).items():
        agreement = entry["keyAgreementKeyPair"]["id"].split("#", 1)[1]
        assert agreement.startswith("z6LS")
        with pytest.raises(KeyFormatError):
            decode_public_key(agreement)
        with pytest.raises(KeyResolutionError):  # a did:key fragment naming another key
            resolve_verification_method(f"{did}#{agreement}")
        with pytest.raises(KeyResolutionError):  # an X25519 did:key
            resolve_verification_method(f"did:key:{agreement}#{agreement}")


# --- 1EdTech validator inputs: per-proof results --------------------------------------------

SIGNATURES: dict[str, Any] = EXPECTED["signatures"]
OUT_OF_SCOPE = {"key-not-derivable-offline", "unsupported-by-this-check"}


def _signature_params() -> list[Any]:
    params = []
    for rel, entry in sorted(SIGNATURES.items()):
        if not (VECTORS / rel).exists():
            continue  # duplicates of eddsa-rdfc-2022/* and eddsa-jcs-2022 (not copied)
        results = {p["result"] for p in entry["proofs"]}
        marks = []
        if results <= OUT_OF_SCOPE:
            reason = "; ".join(sorted(p.get("reason") or f"{p['result']}: {p.get('cryptosuite') or p['type']}"
                                      for p in entry["proofs"]))
            marks.append(pytest.mark.skip(reason=f"no offline verdict in expected-results ({reason})"))
        params.append(pytest.param(rel, marks=marks, id=rel.removeprefix(OB30_REL + "/")))
    return params


def test_signature_parameters_cover_every_validator_input() -> None:
    covered = {p.values[0] for p in _signature_params()}
    listed = {rel for rel in SIGNATURES if rel.startswith(OB30_REL)}
    assert listed <= covered
    assert len(listed) == 37


@pytest.mark.parametrize("rel", _signature_params())
def test_per_proof_results_match_expected_results(rel: str) -> None:
    document = load_json(rel)
    expected = SIGNATURES[rel]["proofs"]
    results = verify_proofs(document)
    assert len(results) == len(expected)
    for want, got in zip(expected, results, strict=True):
        assert got.proof.get("type") == want["type"]
        if want["result"] == "valid":
            assert got.supported and got.verified, got.error
            # The hashes the independent check recorded are the ones we sign over.
            config = {k: v for k, v in got.proof.items() if k != "proofValue"}
            config["@context"] = document["@context"]
            assert sha256_hex(canonicalize(without_proof(document))) == want["documentHash"]
            assert sha256_hex(canonicalize(config)) == want["proofConfigHash"]
        elif want["result"] == "invalid":
            assert got.supported and not got.verified
            assert got.error is not None
        else:
            assert want["result"] == "unsupported-by-this-check"
            assert not got.supported and not got.verified


def test_out_of_scope_validator_inputs_are_not_verified() -> None:
    """The skipped inputs above still get a clear (negative) verdict from verify_credential."""
    derived = verify_credential(load_json(OB30 / "sd/derivedcredential.json"), now=NOW)
    assert not derived.verified and "proof_unsupported" in problem_codes(derived)
    complete_v1 = verify_credential(load_json(OB30 / "complete_v1.json"), now=NOW)
    assert not complete_v1.verified and "key_unresolved" in problem_codes(complete_v1)
    # ... and it resolves once the issuer's key document is supplied (there is none to supply
    # for #key-1 in the vectors, so an empty document gives the "not listed" outcome).
    listed = verify_credential(load_json(OB30 / "complete_v1.json"), now=NOW, documents=lambda _: {})
    assert "key_not_in_document" in problem_codes(listed)


# --- 1EdTech validator inputs: overall verdicts -----------------------------------------------

VERIFIED = {
    # file: (expected proof status, expected schema status)
    "simple.json": ("passed", "passed"),
    "simple-did-key-method.json": ("passed", "passed"),
    "simple-did-web-method.json": ("passed", "passed"),
    "simple-context-alias.json": ("passed", "passed"),
    "simple-context-version.json": ("passed", "passed"),
    "complete.json": ("passed", "passed"),
    "endorsement-valid.json": ("passed", "passed"),
    "simple_v1.json": ("passed", "skipped"),         # VC 1.1 form: the OB schema is for VC 2.0
    "simple-eddsa-2022.json": ("passed", "skipped"),
    "simple-multiple-proofs.json": ("warning", "passed"),  # one proof of an unknown type, not checked
}


@pytest.mark.parametrize("name", sorted(VERIFIED))
def test_validator_positive_inputs_are_verified(name: str) -> None:
    report = verify_credential(load_json(OB30 / name), now=NOW)
    assert report.verified, report.to_json()
    found = statuses(report)
    assert (found["proof"], found["schema"]) == VERIFIED[name]
    assert found["parse"] == found["context"] == found["validity"] == "passed"
    # Every key here is read from the verification method id (or a did:key that is not the
    # issuer's identifier): nothing confirms it is the issuer's, so the issuer check warns.
    assert found["issuer"] == "warning"
    assert report.problems == ()


# file -> {failed check id: problem codes expected}; checks not named must not fail, except
# schema (several of these files are also schema-invalid on purpose) and issuer (it fails
# whenever there is no valid signature).
NOT_VERIFIED: dict[str, dict[str, set[str]]] = {
    "simple-err-context.json": {"context": {"context_invalid"}, "proof": {"undefined_term"}},
    "simple-err-credential-subject-achievement-result-description-type.json": {"proof": {"undefined_term"}},
    "simple-err-credential-subject-identifier-type.json": {"proof": {"undefined_term"}},
    "simple-err-credential-subject-profile-type.json": {"proof": {"undefined_term"}},
    "simple-err-credential-subject-result-type.json": {"proof": {"undefined_term"}},
    "simple-err-credential-subject-type.json": {"proof": {"undefined_term"}},
    "simple-err-evidence-type.json": {"proof": {"undefined_term"}},
    "simple-err-expired.json": {"validity": {"expired"}},
    "simple-err-issued.json": {"validity": {"not_yet_valid"}},
    "simple-err-issuer.json": {"issuer": {"issuer_missing"}},
    "simple-err-issuer-otheridentifier-type.json": {"proof": {"undefined_term"}},
    "simple-err-issuer-parentorg-type.json": {"proof": {"undefined_term"}},
    "simple-err-issuer-type.json": {"proof": {"undefined_term"}},
    "simple-err-proof-method.json": {"proof": {"key_unresolved"}},
    "simple-err-proof-method-no-scheme.json": {"proof": {"key_unresolved"}},
    "simple-err-proof-method-unknown-did-method.json": {"proof": {"key_unresolved"}},
    "simple-err-proof-method-unknown-scheme.json": {"proof": {"key_unresolved"}},
    "simple-err-proof-value.json": {"proof": {"signature_mismatch"}},
    "simple-err-type.json": {"proof": {"undefined_term"}},
    "simple-noproof.json": {"proof": {"proof_missing"}},
}


def test_every_negative_validator_input_is_listed() -> None:
    on_disk = {p.name for p in OB30.glob("simple-err-*.json")} | {"simple-noproof.json"}
    assert on_disk == set(NOT_VERIFIED)


@pytest.mark.parametrize("name", sorted(NOT_VERIFIED))
def test_validator_negative_inputs_are_not_verified(name: str) -> None:
    document = load_json(OB30 / name)
    report = verify_credential(document, now=NOW)
    assert not report.verified
    expected = NOT_VERIFIED[name]
    failed = failed_checks(report)
    assert set(expected) <= failed, report.to_json()
    assert failed - set(expected) <= {"schema", "issuer"}, report.to_json()
    for codes in expected.values():
        assert codes <= problem_codes(report), report.to_json()
    if "proof" not in expected:
        # Validly signed on purpose: the failure is the rule being tested, not the signature.
        assert report.check("proof").ok
        assert all(r.verified for r in verify_proofs(document))


# --- OB 3.0 JSON Schema ----------------------------------------------------------------------

SCHEMA_RESULTS: dict[str, Any] = EXPECTED["schemaValidation"]
# Files whose only schema error in expected-results is "proof: ... is not of type 'array'":
# VC 2.0 allows a single proof object, and schema_problems wraps it into a list.
SINGLE_PROOF_ONLY = {
    f"{OB30_REL}/bit-string-list/credential-status-revoked-blank-nodes.json",
    f"{OB30_REL}/bit-string-list/credential-status-revoked.json",
    f"{OB30_REL}/simple-did-web-method.json",
    f"{OB30_REL}/simple-err-proof-method.json",
    "derived/ob3-impl-guide-eddsa-rdfc-2022-signed.json",
}


def _only_proof_error(entry: dict[str, Any]) -> bool:
    return bool(entry["errors"]) and all(error.startswith("proof: ") for error in entry["errors"])


def _schema_error_paths(entry: dict[str, Any]) -> set[str]:
    paths = set()
    for error in entry["errors"]:
        path = error.split(": ", 1)[0]
        paths.add("/" if path == "<root>" else "/" + path)
    return paths - {"/proof"}


def _error_path(error: Any) -> tuple[Any, ...]:
    """Instance path of a schema error (jsonschema-rs: instance_path; jsonschema: absolute_path)."""
    path = getattr(error, "instance_path", None)
    if path is None:
        path = error.absolute_path
    return tuple(path)


def test_single_proof_only_files_are_the_expected_ones() -> None:
    assert {rel for rel, entry in SCHEMA_RESULTS.items() if _only_proof_error(entry)} == SINGLE_PROOF_ONLY


@pytest.mark.parametrize("rel", sorted(SCHEMA_RESULTS), ids=lambda rel: rel.removeprefix(OB30_REL + "/"))
def test_schema_results_match_expected_results(rel: str) -> None:
    document = load_json(rel)
    entry = SCHEMA_RESULTS[rel]
    problems = schema_problems(document)
    if rel in SINGLE_PROOF_ONLY:
        assert problems == [], [p.detail for p in problems]
        # The published schema build alone rejects only the single proof object.
        assert isinstance(document["proof"], dict)
        raw = list(validator(schema_for(document)).iter_errors(document))
        assert raw and {_error_path(error)[:1] for error in raw} == {("proof",)}
        return
    assert (problems == []) == entry["valid"], [p.detail for p in problems]
    # Every (non-proof) error path recorded by the independent check is reported by us too
    # (expected-results keeps at most five errors per file).
    assert _schema_error_paths(entry) <= {p.path for p in problems}
