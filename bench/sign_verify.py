"""Sign and verify typical OpenBadgeCredentials: microcred beside plain pyld (and, when the interop
packages are installed, Digital Bazaar's reference stack), on the same documents, on one core.

    python bench/sign_verify.py [--n N] [--peer-n M] [--rounds R] [--cpu C] [--no-node] [--json]

"Typical": the credential an assessor's approval makes (bench/fixtures/typical-credential.json:
the full Achievement with its rubric, evidence, results, a status entry; about 16 KB), made
distinct per document (id, recipient, salted identifier, status index, proof `created`), issued
by a did:key made here. microcred sign is add_proof (the issuer's schema check runs before it,
once); microcred verify is the whole verify_credential (schema, proof, issuer, dates). Plain
pyld is what other Python issuers run: jsonld.normalize (to_rdf + URDNA2015) of the document and
of the proof configuration with the same pinned contexts, SHA-256, Ed25519. Each figure is the
median of the rounds; the load average is printed because other processes share the cores.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat  # noqa: E402
from pyld import jsonld  # noqa: E402

from verifier import add_proof, cryptosuite, verify_credential, verify_proofs  # noqa: E402
from verifier.canonical_nquads import canonical_nquads  # noqa: E402
from verifier.canonicalization import _SMALL, _options, canonicalize_proof_configuration, canonicalize_traced  # noqa: E402
from verifier.document_loader import document_loader  # noqa: E402
from verifier.expansion import SafeProcessor  # noqa: E402
from verifier.multikey import did_key, did_key_verification_method, encode_public_key, multibase_encode  # noqa: E402

FIXTURE = ROOT / "bench" / "fixtures" / "typical-credential.json"
INTEROP = ROOT / "tests" / "interop"
NODE_SCRIPT = ROOT / "bench" / "node_sign_verify.mjs"
CREATED = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


def typical_credentials(n: int, issuer_did: str) -> list[dict]:
    """n distinct copies of the fixture, issued by issuer_did."""
    base = json.loads(FIXTURE.read_text(encoding="utf-8"))
    docs = []
    for i in range(n):
        doc = copy.deepcopy(base)
        doc["id"] = f"urn:uuid:{uuid.uuid4()}"
        doc["issuer"]["id"] = issuer_did
        subject = doc["credentialSubject"]
        subject["achievement"]["creator"]["id"] = issuer_did
        subject["name"] = f"Teacher {i}"
        doc["name"] = f"{doc['name'].split(':')[0]}: Teacher {i}"
        salt = secrets.token_hex(16)
        identity = subject["identifier"][0]
        identity["salt"] = salt
        identity["identityHash"] = "sha256$" + hashlib.sha256(f"teacher{i}@district.example.org{salt}".encode()).hexdigest()
        status = doc["credentialStatus"]
        index = str(secrets.randbelow(131072))
        status["id"], status["statusListIndex"] = f"{status['statusListCredential']}#{index}", index
        docs.append(doc)
    return docs


class Issuer:
    """A did:key and its Ed25519 key."""

    def __init__(self) -> None:
        self.key = Ed25519PrivateKey.generate()
        self.public = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        multikey = encode_public_key(self.public)
        self.did, self.method = did_key(multikey), did_key_verification_method(multikey)

    def options(self, i: int) -> dict[str, Any]:
        created = (CREATED + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")  # one proof config each
        return {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": created,
                "verificationMethod": self.method, "proofPurpose": "assertionMethod"}


def timed(items: list, operation: Callable[[int, Any], Any]) -> tuple[list, tuple[float, float, list[float]]]:
    """(results, (wall seconds, CPU seconds of this thread, per-item wall seconds)). On a shared
    machine the CPU time leaves out the time other processes held the core."""
    results, times = [], []
    start, cpu = time.perf_counter(), time.thread_time()
    for i, item in enumerate(items):
        t0 = time.perf_counter()
        results.append(operation(i, item))
        times.append(time.perf_counter() - t0)
    return results, (time.perf_counter() - start, time.thread_time() - cpu, times)


def microcred_round(docs: list[dict], issuer: Issuer) -> dict[str, float]:
    def sign(i: int, doc: dict) -> dict:
        return add_proof(doc, verification_method=issuer.method, sign=issuer.key.sign, created=CREATED + timedelta(seconds=i))

    def verify(_: int, doc: dict) -> None:
        report = verify_credential(doc)
        if not report.verified:
            raise SystemExit(f"benchmark credential did not verify: {report.to_json()}")

    signed, signing = timed(docs, sign)
    _SMALL.clear()  # verify as a verifier would: the proof configurations are new to it
    _, verifying = timed(signed, verify)
    return figures(len(docs), signing, verifying)


def pyld_round(docs: list[dict], issuer: Issuer) -> dict[str, float]:
    """Plain pyld as other Python issuers use it (no safe mode, no memo), same contexts and key."""
    options = {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": document_loader}

    def hash_data(doc: dict, proof: dict) -> bytes:
        config = {k: v for k, v in proof.items() if k != "proofValue"} | {"@context": doc["@context"]}
        unsecured = {k: v for k, v in doc.items() if k != "proof"}
        return cryptosuite.hashing(jsonld.normalize(unsecured, options), jsonld.normalize(config, options))

    def sign(i: int, doc: dict) -> dict:
        proof = issuer.options(i)
        proof["proofValue"] = multibase_encode(issuer.key.sign(hash_data(doc, proof)))
        return doc | {"proof": proof}

    def verify(_: int, doc: dict) -> None:
        from verifier.multikey import multibase_decode

        signature = multibase_decode(doc["proof"]["proofValue"])
        issuer.key.public_key().verify(signature, hash_data(doc, doc["proof"]))

    signed, signing = timed(docs, sign)
    _, verifying = timed(signed, verify)
    return figures(len(docs), signing, verifying)


def figures(n: int, signing: tuple, verifying: tuple) -> dict:
    figures = {}
    for op, (wall, cpu, times) in (("sign", signing), ("verify", verifying)):
        figures |= {f"{op}_per_s": n / wall, f"{op}_ms_median": statistics.median(times) * 1000,
                    f"{op}_per_cpu_s": n / cpu}
    return figures


def steps(docs: list[dict], issuer: Issuer) -> dict[str, float]:
    """Median milliseconds of each step of one signature and one verification (microcred); every
    document is canonicalized once by the steps and, signed, verified once."""
    timings: dict[str, list[float]] = {}

    def clock(name: str, operation: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        result = operation()
        timings.setdefault(name, []).append(time.perf_counter() - t0)
        return result

    half = len(docs) // 2
    for i, doc in enumerate(docs[:half]):
        processor = SafeProcessor(safe=True, memo=True, native=True)
        expanded = clock("expansion (pyld, safe mode, memo)", lambda: processor.expand(doc, _options(safe=True)))
        nquads = clock("to canonical N-Quads (Oxigraph)", lambda: canonical_nquads(expanded, processor.hits))
        config = issuer.options(i) | {"@context": doc["@context"]}
        config_nquads = clock("proof configuration (template)", lambda: canonicalize_proof_configuration(config))
        data = clock("hashing (SHA-256 x2)", lambda: cryptosuite.hashing(nquads, config_nquads))
        signature = clock("signing (Ed25519)", lambda: issuer.key.sign(data))
        clock("verifying (Ed25519)", lambda: cryptosuite.proof_verification(data, signature, issuer.public))
    signed = [add_proof(doc, verification_method=issuer.method, sign=issuer.key.sign, created=CREATED + timedelta(seconds=i))
              for i, doc in enumerate(docs[half:])]
    _SMALL.clear()
    for i, doc in enumerate(signed):
        if i % 2:
            clock("verify_proofs (the proof check)", lambda: verify_proofs(doc))
        else:
            clock("verify_credential (all checks)", lambda: verify_credential(doc))
    return {name: statistics.median(values) * 1000 for name, values in timings.items()}


def node_round(docs: list[dict]) -> dict[str, float] | str:
    """Digital Bazaar's reference stack on the same documents, or why it did not run."""
    if not (INTEROP / "node_modules" / "@digitalbazaar" / "vc").is_dir():
        return "not installed (npm ci --prefix tests/interop)"
    contexts_dir = ROOT / "verifier" / "contexts"
    index = json.loads((contexts_dir / "contexts.json").read_text(encoding="utf-8"))["contexts"]
    contexts = {url: json.loads((contexts_dir / name).read_text(encoding="utf-8")) for url, name in index.items()}
    # --eval from tests/interop: its imports resolve against the pinned packages there.
    result = subprocess.run(["node", "--input-type=module", "--eval", NODE_SCRIPT.read_text(encoding="utf-8")],
                            input=json.dumps({"contexts": contexts, "credentials": docs}), cwd=INTEROP,
                            capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise SystemExit(f"the Node reference stack failed: {result.stderr.strip()[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def pin(cpu: int) -> str:
    if cpu < 0 or not hasattr(os, "sched_setaffinity"):
        return "not pinned"
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu}"


def median_of(rounds: list[dict]) -> dict[str, float]:
    return {key: round(statistics.median(r[key] for r in rounds), 3) for key in rounds[0]}


def run(args: argparse.Namespace) -> dict[str, Any]:
    placement = pin(args.cpu)
    load_before = os.getloadavg()
    issuer = Issuer()
    peer_n = min(args.peer_n, args.n)
    microcred_round(typical_credentials(min(20, args.n), issuer.did), issuer)  # warm-up: contexts, memo
    ours, plain = [], []
    for _ in range(args.rounds):  # new documents each round: none is canonicalized twice but to verify it
        docs = typical_credentials(args.n, issuer.did)
        peer_docs = docs[:peer_n]
        ours.append(microcred_round(docs, issuer))
        plain.append(pyld_round(peer_docs, issuer))
    result: dict[str, Any] = median_of(ours)
    result["pyld"] = median_of(plain)
    result["ratio"] = {op: round(result[f"{op}_per_s"] / result["pyld"][f"{op}_per_s"], 1) for op in ("sign", "verify")}
    result["steps_ms"] = {k: round(v, 4) for k, v in steps(typical_credentials(min(400, 2 * args.n), issuer.did), issuer).items()}
    routed = [why for why in (canonicalize_traced(d)[1] for d in docs) if why is not None]
    result["oxigraph_documents"] = f"{len(docs) - len(routed)}/{len(docs)}"
    result["node"] = "skipped (--no-node)" if args.no_node else node_round(peer_docs)
    result["machine"] = {"cpu": placement, "load_before": [round(x, 2) for x in load_before],
                         "load_after": [round(x, 2) for x in os.getloadavg()], "rounds": args.rounds,
                         "documents": args.n, "peer_documents": len(peer_docs),
                         "bytes": len(json.dumps(docs[0], separators=(",", ":")))}
    return result


def show(result: dict[str, Any]) -> None:
    m = result["machine"]
    print(f"{m['documents']} typical credentials ({m['bytes']:,} bytes of JSON each; {m['peer_documents']} for the peers), "
          f"{m['rounds']} rounds, {m['cpu']}, load {m['load_before']} -> {m['load_after']}")
    print(f"{'':24s}{'sign/s':>9s}{'(per CPU s)':>12s}{'median ms':>10s}{'verify/s':>10s}{'(per CPU s)':>12s}{'median ms':>10s}")
    rows = [("microcred", result), ("plain pyld", result["pyld"])]
    if isinstance(result["node"], dict):
        rows.append(("Digital Bazaar (Node)", result["node"]))
    for name, r in rows:
        print(f"{name:24s}{r['sign_per_s']:9.1f}{r['sign_per_cpu_s']:12.1f}{r['sign_ms_median']:10.3f}"
              f"{r['verify_per_s']:10.1f}{r['verify_per_cpu_s']:12.1f}{r['verify_ms_median']:10.3f}")
    if not isinstance(result["node"], dict):
        print(f"{'Digital Bazaar (Node)':24s}{result['node']}")
    print(f"microcred / plain pyld: sign x{result['ratio']['sign']}, verify x{result['ratio']['verify']}; "
          f"canonical N-Quads by Oxigraph for {result['oxigraph_documents']} documents")
    print("steps (median ms):")
    for name, ms in result["steps_ms"].items():
        print(f"  {name:40s}{ms:8.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="documents for microcred")
    parser.add_argument("--peer-n", type=int, default=100, help="documents for plain pyld and Node (slower)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cpu", type=int, default=0, help="CPU to pin to (-1: do not pin)")
    parser.add_argument("--no-node", action="store_true", help="skip the Node reference stack")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args)
    if args.json:
        print(json.dumps(result))
    else:
        show(result)


if __name__ == "__main__":
    main()
