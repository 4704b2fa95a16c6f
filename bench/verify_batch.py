"""Verify a large batch (the `microcred verify-batch` code path) on every core; print the rates and peak memory.

    python bench/verify_batch.py [--sizes 2000,10000] [--sample 500] [--jobs N] [--json]

Credentials come from several issuers (did:key Ed25519 keys) and several badge classes of the
shipped catalogue, each with its embedded Achievement (as the issuer builds them), five per
educator. They are signed in parallel into a zip with a CSV per batch size. Each measurement runs
in a fresh process, so its peak RSS (its own, and the largest worker's) is that run's alone:
the single-process rate on `--sample` rows (--jobs 1), then each batch size on every core.
Floor: single-process rate x cores x 0.8.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import multiprocessing
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from badge_classes import load_catalog, to_achievement
from verifier import add_proof
from verifier.document_loader import OB_V3, VC_V2
from verifier.multikey import did_key, did_key_verification_method, encode_public_key

ISSUERS = 4
CLASSES = ("questioning-higher-order", "thinking-analytical", "problem-solving-creating-designing",
           "leader-peer-coaching-cycle", "grouping-flexible-roles", "objectives-success-criteria")
PER_EDUCATOR = 5
EARNED = datetime(2024, 9, 1, 12, 0, tzinfo=UTC)


def _key(seed: bytes) -> tuple[Ed25519PrivateKey, str, str]:
    key = Ed25519PrivateKey.from_private_bytes(seed)
    multikey = encode_public_key(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
    return key, did_key(multikey), did_key_verification_method(multikey)


_signing: dict = {}


def _init_signer(seeds: list[bytes]) -> None:
    catalog = load_catalog()
    _signing["keys"] = [_key(s) for s in seeds]
    _signing["achievements"] = {}
    pdp = catalog.policy.value_on("", "", date(2024, 9, 1))
    for i, (_, did, _) in enumerate(_signing["keys"]):
        profile = {"id": did, "type": ["Profile"], "name": f"Issuer {i}"}
        for slug in CLASSES:
            badge = catalog.badge_classes[slug]
            _signing["achievements"][(i, slug)] = (to_achievement(
                badge, base_url=f"https://issuer{i}.example", pdp=pdp, creator=profile), profile, pdp.value)


def _sign(n: int) -> tuple[str, bytes]:
    educator, position = divmod(n, PER_EDUCATOR)
    issuer = (educator + position) % ISSUERS
    slug = CLASSES[(educator + position) % len(CLASSES)]
    key, _did, method = _signing["keys"][issuer]
    achievement, profile, credits = _signing["achievements"][(issuer, slug)]
    email, salt = f"educator{educator}@schools.example", secrets.token_hex(8)
    document = {
        "@context": [VC_V2, OB_V3], "id": f"urn:uuid:{secrets.token_hex(16)}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"], "name": achievement["name"],
        "issuer": profile, "validFrom": EARNED.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "credentialSubject": {
            "type": ["AchievementSubject"], "name": f"Educator {educator}",
            "identifier": [{"type": "IdentityObject", "identityType": "emailAddress", "hashed": True, "salt": salt,
                            "identityHash": "sha256$" + hashlib.sha256((email + salt).encode()).hexdigest()}],
            "achievement": achievement, "creditsEarned": credits,
        },
    }
    signed = add_proof(document, verification_method=method, sign=key.sign, created=EARNED)
    return f"c{n:06d}.json", json.dumps(signed).encode()


def generate(folder: Path, total: int, sizes: list[int], sample: int, jobs: int) -> list[str]:
    """The zip of `total` signed credentials, one CSV per size; returns the issuers' DIDs."""
    seeds = [secrets.token_bytes(32) for _ in range(ISSUERS)]
    with zipfile.ZipFile(folder / "files.zip", "w", zipfile.ZIP_DEFLATED) as archive, \
            multiprocessing.get_context("fork").Pool(jobs, _init_signer, (seeds,)) as pool:
        for name, data in pool.imap(_sign, range(total), chunksize=32):
            archive.writestr(name, data)
    for size in sorted(set(sizes + [sample])):
        with open(folder / f"batch-{size}.csv", "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["name", "email", "license_number", "license_type", "license_valid_from",
                             "license_valid_until", "credential"])
            for n in range(size):
                educator = n // PER_EDUCATOR
                writer.writerow([f"Educator {educator}", f"educator{educator}@schools.example", f"TN-{educator:06d}",
                                 "professional", "2021-07-01", "2027-06-30", f"c{n:06d}.json"])
    return [_key(s)[1] for s in seeds]


def run_one(csv_path: str, files: str, jobs: int, issuers: list[str]) -> dict:
    """One batch through issuer.licensure.batch.run_batch (the CLI's code path); figures of this process."""
    from issuer.licensure.batch import BatchContext, run_batch
    from issuer.licensure.verification import OwnData, PdpRule
    from verifier.renewal import RenewalPolicy, TrustedIssuer

    catalog = load_catalog()
    context = BatchContext(own=OwnData(), fetch=None,
                           registry=tuple(TrustedIssuer(i, f"Issuer {n}", date(2017, 7, 1)) for n, i in enumerate(issuers)),
                           policy=RenewalPolicy(pdp_value=PdpRule(catalog.policy, frozenset(), "", {})), files=files)
    out = Path(csv_path).with_suffix(f".out-{jobs}.csv")
    result = run_batch(csv_path, out, out.with_suffix(".renewal.csv"), context, jobs=jobs)
    with open(out, newline="") as fh:
        counted = sum(1 for row in csv.DictReader(fh) if row["counted"] == "yes")
    return {"rows": result.rows, "seconds": result.seconds, "per_s": result.rows / result.seconds,
            "verified": result.verified, "counted": counted,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "peak_worker_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def _measure(folder: Path, size: int, jobs: int, issuers: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, "--run", str(folder / f"batch-{size}.csv"),
                          str(folder / "files.zip"), str(jobs), json.dumps(issuers)],
                         capture_output=True, text=True, check=True)
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    if figures["verified"] != size:
        raise SystemExit(f"only {figures['verified']} of {size} credentials verified")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,10000", help="batch sizes, comma-separated")
    parser.add_argument("--sample", type=int, default=500, help="rows for the single-process rate")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--run", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        csv_path, files, jobs, issuers = args.run
        print(json.dumps(run_one(csv_path, files, int(jobs), json.loads(issuers))))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="microcred-bench-") as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        issuers = generate(folder, max(sizes + [args.sample]), sizes, args.sample, args.jobs)
        generated = time.perf_counter() - start
        single = _measure(folder, args.sample, 1, issuers)
        batches = {size: _measure(folder, size, args.jobs, issuers) for size in sizes}
    floor = single["per_s"] * args.jobs * 0.8
    result = {
        "cores": args.jobs, "issuers": ISSUERS, "badge_classes": len(CLASSES), "generate_s": round(generated, 1),
        "single_process_per_s": round(single["per_s"], 1), "floor_per_s": round(floor, 1),
        "batches": {str(size): {"per_s": round(b["per_s"], 1), "ratio_to_floor": round(b["per_s"] / floor, 2),
                                "peak_rss_mb": round(b["peak_rss_mb"], 1),
                                "peak_worker_rss_mb": round(b["peak_worker_rss_mb"], 1), "counted": b["counted"]}
                    for size, b in batches.items()},
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"{ISSUERS} issuers x {len(CLASSES)} badge classes; signed {max(sizes)} credentials in {generated:.1f} s")
    print(f"single process ({args.sample} rows): {single['per_s']:8.1f} credentials/s")
    print(f"floor ({args.jobs} cores x single x 0.8): {floor:8.1f} credentials/s")
    for size, b in result["batches"].items():
        print(f"batch {int(size):>6,} on {args.jobs} cores: {b['per_s']:8.1f}/s ({b['ratio_to_floor']:.2f} x floor); "
              f"peak RSS parent {b['peak_rss_mb']:.0f} MB, largest worker {b['peak_worker_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
