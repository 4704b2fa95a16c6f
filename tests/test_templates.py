"""The templates hold no inline script, style or event handler, so the pages work under a
Content-Security-Policy without 'unsafe-inline' (issuer/views/headers.py); what they need is in /static."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parent.parent / "issuer" / "templates"
STATIC = TEMPLATES.parent / "static"
INLINE = {
    "an inline <script>": re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "a <style> element": re.compile(r"<style\b", re.IGNORECASE),
    "a style= attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "an on...= event handler": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "a javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


def _templates() -> list[Path]:
    return sorted(TEMPLATES.rglob("*.html"))


def test_there_are_templates_to_scan() -> None:
    assert len(_templates()) > 40


@pytest.mark.parametrize("template", _templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_no_inline_script_style_or_handler(template: Path) -> None:
    text = template.read_text(encoding="utf-8")
    found = {what: pattern.findall(text) for what, pattern in INLINE.items() if pattern.search(text)}
    assert found == {}


def test_the_scan_sees_what_it_forbids() -> None:
    sample = '<p style="x"><button onclick="go()">Go</button></p><script>go()</script><style>p{}</style>'
    assert all(pattern.search(sample) for pattern in INLINE.values() if pattern.pattern != "javascript:")
    assert not INLINE["an inline <script>"].search('<script src="/static/print.js" defer></script>')


@pytest.mark.parametrize("template", _templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_every_static_file_a_template_names_exists(template: Path) -> None:
    names = re.findall(r"url_for\('static', filename='([^']+)'\)", template.read_text(encoding="utf-8"))
    assert [n for n in names if not (STATIC / n).is_file()] == []
