"""Validation against the official Open Badges 3.0 JSON Schemas (shipped copies, 2019-09).

jsonschema-rs does the work (about 200x faster than pure-Python jsonschema, which
dominated verification time); a test checks both libraries agree on every vector.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema_rs

from .report import Problem

SCHEMAS_DIR = Path(__file__).parent / "schemas"
ACHIEVEMENT_CREDENTIAL = "achievementcredential.json"
ENDORSEMENT_CREDENTIAL = "endorsementcredential.json"
# The id credentials name in credentialSchema (the purl-hosted copy of the same model).
ACHIEVEMENT_CREDENTIAL_SCHEMA_ID = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
)


@lru_cache(maxsize=None)
def validator(name: str) -> jsonschema_rs.Draft201909Validator:
    """A compiled validator for one shipped schema file."""
    with open(SCHEMAS_DIR / name, encoding="utf-8") as fh:
        schema = json.load(fh)
    return jsonschema_rs.Draft201909Validator(schema, validate_formats=True)


def schema_for(document: dict[str, Any]) -> str:
    """Which OB 3.0 schema applies, by the credential's type."""
    types = document.get("type")
    types = types if isinstance(types, list) else [types]
    return ENDORSEMENT_CREDENTIAL if "EndorsementCredential" in types else ACHIEVEMENT_CREDENTIAL


def schema_problems(document: dict[str, Any], name: str | None = None) -> list[Problem]:
    """Every schema violation as a Problem with its JSON path; empty when valid."""
    candidate = document
    if isinstance(document.get("proof"), dict):
        # VC 2.0 allows a single proof object; the published schema build only accepts arrays.
        candidate = {**document, "proof": [document["proof"]]}
    checker = validator(name or schema_for(document))
    if checker.is_valid(candidate):
        return []
    errors = sorted(checker.iter_errors(candidate), key=lambda e: [str(p) for p in e.instance_path])
    return [
        Problem(
            code="schema_invalid",
            title="Does not match the Open Badges 3.0 schema",
            detail=f"{_path(error.instance_path)}: {_short(error.message)}",
            path=_path(error.instance_path),
        )
        for error in errors
    ]


def _path(parts: Any) -> str:
    return "/" + "/".join(str(p) for p in parts) if parts else "/"


def _short(message: str, limit: int = 300) -> str:
    return message if len(message) <= limit else message[:limit] + "…"
