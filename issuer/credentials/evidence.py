"""What an earned credential says about the work behind it (OB 3.0 Evidence and Result).

Evidence stays private: each file appears only as its name, genre and SHA-256 digest (as an
`ni:` URI, RFC 6920, and as `digestSRI`), and written answers only as a digest and a word
count, so anyone holding the files later can check them against the credential, and nobody
can read them from it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from badge_classes import BadgeClass, achievement_id

GENRES = {"overview": "Overview questions", "artifacts": "Artifact of practice", "reflection": "Reflection"}


def ni_uri(sha256_hex: str) -> str:
    """RFC 6920 named-information URI of a SHA-256 digest."""
    raw = bytes.fromhex(sha256_hex)
    return "ni:///sha-256;" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def digest_sri(sha256_hex: str) -> str:
    return "sha256-" + base64.b64encode(bytes.fromhex(sha256_hex)).decode("ascii")


def evidence_entries(badge: BadgeClass, content: dict[str, Any]) -> list[dict[str, Any]]:
    """Evidence for an attempt's snapshot (`content` as stored on the Attempt)."""
    entries: list[dict[str, Any]] = []
    for part in badge.parts:
        saved = content.get("answers", {}).get(part.id, {})
        answers = [a for a in saved.get("answers", []) if a.strip()]
        if answers:
            text = json.dumps(answers, ensure_ascii=False)
            digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
            words = sum(len(a.split()) for a in answers)
            entries.append({
                "id": ni_uri(digest), "type": ["Evidence"], "name": part.title, "genre": GENRES[part.kind],
                "description": f"{len(answers)} written answer(s), {words} words. The text is kept by the issuer; "
                               f"SHA-256 of the answers (JSON list): {digest}.",
                "digestSRI": digest_sri(digest),
            })
        for f in content.get("files", []):
            if f["part_id"] != part.id:
                continue
            artifact = part.artifacts[f["artifact_index"]]
            entries.append({
                "id": ni_uri(f["sha256"]), "type": ["Evidence"], "name": f"{artifact.name}: {f['filename']}",
                "genre": artifact.name,
                "description": f"{f['media_type']}, {f['size']} bytes, kept private by the issuer; "
                               f"SHA-256: {f['sha256']}.",
                "digestSRI": digest_sri(f["sha256"]),
            })
    return entries


def results(badge: BadgeClass, levels: dict[str, str], *, base_url: str) -> list[dict[str, Any]]:
    """One Result per criterion (its achieved rubric level) and the overall result, pointing at the
    ResultDescriptions of the embedded Achievement."""
    achievement = achievement_id(base_url, badge.slug, badge.version)
    out = []
    for crit in badge.criteria:
        rank = [name for name, _ in crit.levels].index(levels[crit.id]) + 1
        out.append({"type": ["Result"], "resultDescription": f"{achievement}#criterion-{crit.id}",
                    "achievedLevel": f"{achievement}#criterion-{crit.id}-level-{rank}"})
    out.append({"type": ["Result"], "resultDescription": f"{achievement}#result", "value": "Earned"})
    return out
