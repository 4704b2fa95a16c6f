"""Sign then verify N typical OpenBadgeCredentials in one process; print throughput and medians.

    python bench/sign_verify.py [--n N] [--json]

"Typical": one badge class from the shipped catalogue, distinct recipients, the issuer's
did:key, the same build the issuer uses (schema check excluded from signing, as the
issuer does it once before signing; verification is the full verify_credential).
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from badge_classes import load_catalog, to_achievement
from issuer.credentials.issuance import hashed_identifier
from verifier import add_proof, verify_credential
from verifier.document_loader import OB_V3, VC_V2
from verifier.multikey import did_key, did_key_verification_method, encode_public_key


def typical_credentials(n: int, issuer_did: str) -> list[dict]:
    catalog = load_catalog()
    badge = catalog.badge_classes["questioning-higher-order"]
    pdp = catalog.policy.value_on(badge.slug, badge.pathway, date(2026, 9, 1))
    profile = {"id": issuer_did, "type": ["Profile"], "name": "Department of Education",
               "url": "https://education.example.gov", "email": "mc@education.example.gov"}
    achievement = to_achievement(badge, base_url="https://badges.example.gov", pdp=pdp, creator=profile)
    return [
        {
            "@context": [VC_V2, OB_V3],
            "id": f"urn:uuid:{secrets.token_hex(16)}",
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "name": f"{badge.title}: Teacher {i}",
            "issuer": profile,
            "validFrom": "2026-09-01T12:00:00Z",
            "credentialSubject": {
                "type": ["AchievementSubject"],
                "name": f"Teacher {i}",
                "identifier": [hashed_identifier(f"teacher{i}@district.example.org", secrets.token_hex(16))],
                "achievement": achievement,
                "creditsEarned": pdp.value,
            },
        }
        for i in range(n)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    key = Ed25519PrivateKey.generate()
    multikey = encode_public_key(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
    issuer = did_key(multikey)
    method = did_key_verification_method(multikey)
    created = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
    documents = typical_credentials(args.n, issuer)

    sign_times, signed = [], []
    start = time.perf_counter()
    for doc in documents:
        t0 = time.perf_counter()
        signed.append(add_proof(doc, verification_method=method, sign=key.sign, created=created))
        sign_times.append(time.perf_counter() - t0)
    sign_total = time.perf_counter() - start

    verify_times = []
    start = time.perf_counter()
    for doc in signed:
        t0 = time.perf_counter()
        report = verify_credential(doc)
        verify_times.append(time.perf_counter() - t0)
        if not report.verified:
            raise SystemExit(f"benchmark credential did not verify: {report.to_json()}")
    verify_total = time.perf_counter() - start

    result = {
        "sign_per_s": round(args.n / sign_total, 1),
        "verify_per_s": round(args.n / verify_total, 1),
        "sign_ms_median": round(statistics.median(sign_times) * 1000, 3),
        "verify_ms_median": round(statistics.median(verify_times) * 1000, 3),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{args.n} credentials, one process")
        print(f"sign:   {result['sign_per_s']:8.1f} /s   median {result['sign_ms_median']:.3f} ms")
        print(f"verify: {result['verify_per_s']:8.1f} /s   median {result['verify_ms_median']:.3f} ms")


if __name__ == "__main__":
    main()
