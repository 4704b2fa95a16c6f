"""A closed-world JSON-LD document loader: pinned context files shipped in the package, nothing else.

No URL is ever fetched over the network. The files are byte-for-byte copies of the
official contexts; `contexts.json` records each file's SHA-256 and a test checks them.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import DocumentLoaderError

CONTEXTS_DIR = Path(__file__).parent / "contexts"

VC_V1 = "https://www.w3.org/2018/credentials/v1"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"


@lru_cache(maxsize=1)
def _index() -> dict[str, Any]:
    with open(CONTEXTS_DIR / "contexts.json", encoding="utf-8") as fh:
        return json.load(fh)


def pinned_urls() -> frozenset[str]:
    """Every context URL the loader will serve."""
    return frozenset(_index()["contexts"])


def context_path(url: str) -> Path:
    """Local file of a pinned context URL; raises DocumentLoaderError for any other URL."""
    files = _index()["contexts"]
    if url not in files:
        raise DocumentLoaderError(
            f"The JSON-LD context {url!r} is not one this verifier knows. Only pinned "
            "copies of the official contexts are used; nothing is fetched from the network."
        )
    return CONTEXTS_DIR / files[url]


def expected_sha256(url: str) -> str:
    """The SHA-256 recorded for a pinned context."""
    return _index()["sha256"][url]


@lru_cache(maxsize=None)
def load_context(url: str) -> Any:
    """Parsed JSON of a pinned context (one shared object per URL: never mutate it)."""
    data = context_path(url).read_bytes()
    if hashlib.sha256(data).hexdigest() != expected_sha256(url):
        raise DocumentLoaderError(f"The pinned copy of {url} does not match its recorded SHA-256.")
    return json.loads(data)


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """pyld document loader: serves pinned contexts; refuses everything else."""
    # 'tag': 'static' lets pyld keep the resolved context across operations.
    return {"contextUrl": None, "documentUrl": url, "document": load_context(url), "tag": "static"}
