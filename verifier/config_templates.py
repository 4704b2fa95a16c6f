"""Canonical proof configurations from templates: every proof of one issuer key has the same
configuration but for `created` and `verificationMethod`, whose canonical N-Quads only copy
those two values. One canonicalization per shape (the full pipeline, twice, with sentinels)
makes a template; later configurations of that shape are the template with their values in.

A template is made only when it is proven for the shape: both sentinel pairs (the lowest and
the highest characters allowed) appear exactly once each, everything else is equal, and the
output names one blank node (so no label or line order depends on the values). Values are put
in only when they are from the sentinels' alphabet: `created` an xsd:dateTime, the method an
IRI with the sentinel's scheme (the only part of an IRI that JSON-LD expansion looks at) and
no character N-Quads would escape. Anything else is canonicalized in full.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import Any

from .errors import VerifierError
from .expansion import ISSUER_DEPENDENT
from .expansion_memo import json_key

_CREATED = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)")
_METHOD = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):(//)?[A-Za-z0-9._~:/?#@!$&'()*+,;=%-]+")
_SENTINELS = (("0000-00-00T00:00:00Z", "!"), ("9999-99-99T99:99:99Z", "~zzzz"))  # lowest, highest
_CREATED_MARK, _METHOD_MARK = "\x00created\x00", "\x00method\x00"
_SIZE = 64


class ConfigTemplates:
    """Bounded map (shape of the configuration, method scheme) -> template, or None if unproven."""

    def __init__(self, canonicalize: Any) -> None:
        self._canonicalize = canonicalize
        self._templates: OrderedDict[Any, str | None] = OrderedDict()
        self._lock = threading.Lock()

    def canonical(self, config: dict[str, Any]) -> str | None:
        """The canonical N-Quads of `config` from a template, or None (canonicalize it in full)."""
        created, method = config.get("created"), config.get("verificationMethod")
        if type(created) is not str or type(method) is not str or not _CREATED.fullmatch(created):
            return None
        form = _METHOD.fullmatch(method)
        if form is None or method.startswith(ISSUER_DEPENDENT):
            return None  # safe mode refuses an issuer-dependent identifier: the full path says so
        prefix = f"{form.group(1)}:{form.group(2) or ''}"  # what expansion looks at: scheme, and "//"
        shape = json_key({**config, "created": None, "verificationMethod": prefix})
        if shape is None:
            return None
        with self._lock:
            known = shape in self._templates
            template = self._templates.get(shape)
        if not known:
            template = self._make(config, prefix)
            with self._lock:
                self._templates[shape] = template
                if len(self._templates) > _SIZE:
                    self._templates.popitem(last=False)
        if template is None:
            return None
        return template.replace(_CREATED_MARK, created).replace(_METHOD_MARK, method)

    def _make(self, config: dict[str, Any], prefix: str) -> str | None:
        templates = set()
        for created, tail in _SENTINELS:
            method = prefix + tail
            try:
                text = self._canonicalize({**config, "created": created, "verificationMethod": method})
            except VerifierError:
                return None  # canonicalized in full, the configuration gets its own error
            if text.count(created) != 1 or text.count(f"<{method}>") != 1 or not _one_blank_node(text):
                return None
            templates.add(text.replace(created, _CREATED_MARK).replace(f"<{method}>", f"<{_METHOD_MARK}>"))
        return templates.pop() if len(templates) == 1 else None


def _one_blank_node(text: str) -> bool:
    return set(re.findall(r"_:c14n\d+", text)) <= {"_:c14n0"}
