"""Generated badge images: a self-contained SVG and a Pillow-drawn PNG of the same design.

The design, in a 512x512 space: a hexagon in the pathway colour with a lighter accent ring, a
category mark on an accent disc, the title (wrapped to at most three lines, at least 40 units
high so it stays legible at 128 px) and a ribbon with the pathway name. Output is deterministic.
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
from xml.sax.saxutils import escape, quoteattr

from PIL import Image, ImageColor, ImageDraw, ImageFont

from ._glyphs import GLYPHS, Prim, arc
from .model import BadgeClass

VIEWBOX = 512
FONT_FAMILY = "DejaVu Sans, Arial, Helvetica, sans-serif"
PATHWAY_COLOURS = {
    "team": {"fill": "#1D3F8F", "accent": "#8DB6F2", "text": "#FFFFFF", "name": "deep blue"},
    "teacher-leader": {"fill": "#5A2270", "accent": "#D6A8EA", "text": "#FFFFFF", "name": "deep plum"},
}
OUTER_R, RING_R, RING_W, TEXT_MARGIN = 252, 236, 8, 12
MARK_X, MARK_Y, MARK_R, MARK_SCALE = 256, 136, 68, 1.0  # glyphs are drawn in a 100-unit box
TITLE_TOP, TITLE_BOTTOM = 220, 392  # three 40-unit lines stay where the hexagon is widest
TITLE_SIZES = tuple(range(60, 38, -2))  # largest first; 40 is the legibility floor at 128 px
LINE_HEIGHT, MAX_LINES = 1.1, 3
RIBBON = ((40, 402), (472, 402), (454, 425), (472, 448), (40, 448), (58, 425))
LABEL_Y, LABEL_SIZE = 433, 24
# Advance widths (em) of DejaVu Sans Bold, the widest font of the stack, in groups (rounded up);
# other ASCII counts 0.74 and other characters 1.1 (accented letters count as their base letter).
_WIDTHS = {**dict.fromkeys(" '.,:;ijlIJ|/\\", 0.40), **dict.fromkeys("!()[]ftr-_`\"*", 0.53),
           **dict.fromkeys("cszLvxy", 0.66), **dict.fromkeys("aekoEFT", 0.69),
           **dict.fromkeys("ABDGHKNOQRUVX&#+<=>^~", 0.88), **dict.fromkeys("mwMW%@", 1.11), "…": 1.0}
_SMALL_WORDS = {"and", "of", "the", "into", "for", "to", "in", "a", "an", "with"}


def _clean(text: str) -> str:
    """Text with runs of whitespace collapsed and other control characters removed."""
    return " ".join("".join(c for c in text if unicodedata.category(c)[0] != "C" or c.isspace()).split())


def _initials(category: str) -> str:
    """Up to two initials of the category's significant words, or '?'."""
    words = re.findall(r"[^\W\d_]+", category)
    return "".join(w[0].upper() for w in [w for w in words if w.lower() not in _SMALL_WORDS] or words)[:2] or "?"


def _glyph(category: str) -> tuple[str, list[Prim]]:
    """The category's mark: its name and primitives (fallback: a ring with initials)."""
    key = " ".join(_clean(category).casefold().split())
    if key in GLYPHS:
        return GLYPHS[key]
    initials = _initials(category)
    return f"circle with the initials {initials}", [("ring", "ink", 0, 0, 40, 7), ("text", "ink", initials, 0, 0, 34)]


def _em(char: str) -> float:
    """Estimated advance width of a character, in em."""
    base = unicodedata.normalize("NFD", char)[:1] or " "
    return _WIDTHS.get(base, 0.74 if base.isascii() else 1.1)


def _width(text: str, size: float) -> float:
    """Estimated width of text at a font size (conservative for the whole font stack)."""
    return size * sum(_em(c) for c in text)


def _half_width(y: float) -> float:
    """Half the width available for text at height y inside the accent ring."""
    inner = RING_R - RING_W / 2
    return min(inner * math.sqrt(3) / 2, (inner - abs(y - VIEWBOX / 2)) * math.sqrt(3)) - TEXT_MARGIN


def _max_lines(size: int) -> int:
    """How many lines of this size fit between TITLE_TOP and TITLE_BOTTOM."""
    return min(MAX_LINES, 1 + int((TITLE_BOTTOM - TITLE_TOP - 0.97 * size) // (LINE_HEIGHT * size)))


def _slots(size: int, count: int) -> list[tuple[float, float]]:
    """(baseline, available width) of each line, the block centred between TITLE_TOP and TITLE_BOTTOM."""
    first = TITLE_TOP + (TITLE_BOTTOM - TITLE_TOP - 0.97 * size - (count - 1) * LINE_HEIGHT * size) / 2 + 0.75 * size
    baselines = [round(first + i * LINE_HEIGHT * size, 2) for i in range(count)]
    return [(y, 2 * min(_half_width(y - 0.75 * size), _half_width(y + 0.22 * size))) for y in baselines]


def _wrap(words: list[str], size: int, widths: list[float], hyphens: bool) -> tuple[list[str], bool]:
    """Greedy wrap to the line widths (the last repeats), optionally after hyphens; and whether a word was broken."""
    lines: list[str] = []
    broken, split = False, re.compile(r"(?<=-)(?=[^-])" if hyphens else r"(?!)")
    for part, sep in ((p, "" if i else " ") for word in words for i, p in enumerate(split.split(word))):
        if lines and _width(lines[-1] + sep + part, size) <= widths[min(len(lines), len(widths)) - 1]:
            lines[-1] += sep + part
            continue
        lines.append("")
        for char in part:
            if lines[-1] and _width(lines[-1] + char, size) > widths[min(len(lines), len(widths)) - 1]:
                lines.append("")
                broken = True
            lines[-1] += char
    return lines, broken


def _fit(words: list[str], size: int, hyphens: bool, breaks: bool) -> list[str] | None:
    """Lines that fit their slots at this size, with the fewest lines; None if there are none."""
    for count in range(1, _max_lines(size) + 1):
        lines, broken = _wrap(words, size, [width for _, width in _slots(size, count)], hyphens)
        if (breaks or not broken) and len(lines) <= _max_lines(size) and all(
                _width(line, size) <= width for line, (_, width) in zip(lines, _slots(size, len(lines)), strict=True)):
            return lines
    return None


def _ellipsize(text: str, size: int, width: float) -> str:
    """Text shortened from the end, with an ellipsis, to fit the width."""
    text = text.rstrip(" ,;:-")
    while text and _width(text + "…", size) > width:
        text = text[:-1].rstrip(" ,;:-")
    return text + "…"


def _display_title(badge: BadgeClass) -> str:
    """The title without a leading 'Category: ' (the category mark shows it)."""
    title, prefix = _clean(badge.title), _clean(badge.category).casefold() + ":"
    rest = title[len(prefix):].strip() if title.casefold().startswith(prefix) else ""
    return rest or title


def _title_layout(badge: BadgeClass) -> tuple[int, list[str]]:
    """(font size, lines) of the displayed title: the largest size fitting three lines, else broken words, else '…'."""
    words, smallest = _display_title(badge).split(), TITLE_SIZES[-1]
    attempts = [(size, False, False) for size in TITLE_SIZES] + [(size, True, False) for size in TITLE_SIZES]
    for size, hyphens, breaks in attempts + [(smallest, True, True)]:
        if (lines := _fit(words, size, hyphens, breaks)) is not None:
            return size, lines
    widths = [width for _, width in _slots(smallest, MAX_LINES)]
    lines = _wrap(words, smallest, widths, True)[0]
    if len(lines) > MAX_LINES:
        lines = lines[:MAX_LINES - 1] + [_ellipsize(lines[MAX_LINES - 1], smallest, widths[-1])]
    return smallest, lines


def _hexagon(radius: float) -> tuple:
    """A pointy-topped hexagon centred in the view box."""
    return arc(VIEWBOX / 2, VIEWBOX / 2, radius, radius, -90, 210, 5)


def alt_text(badge: BadgeClass) -> str:
    """The image's text alternative."""
    return f"{_clean(badge.title)} — {badge.pathway_name} pathway micro-credential badge"


def _n(value: float) -> str:
    """A number for SVG, without needless decimals."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _points(points: tuple) -> str:
    """Points for an SVG points attribute."""
    return " ".join(f"{_n(x)},{_n(y)}" for x, y in points)


def _text(text: str) -> str:
    """Text escaped for XML content."""
    return escape(text, {'"': "&quot;", "'": "&apos;"})


def _svg_prim(prim: Prim, colours: dict[str, str]) -> str:
    """One glyph primitive as an SVG element."""
    kind, paint, *args = prim
    fill = quoteattr(colours["fill"] if paint == "ink" else colours["accent"])
    if kind == "circle":
        return f'<circle cx="{_n(args[0])}" cy="{_n(args[1])}" r="{_n(args[2])}" fill={fill}/>'
    if kind == "ellipse":
        return f'<ellipse cx="{_n(args[0])}" cy="{_n(args[1])}" rx="{_n(args[2])}" ry="{_n(args[3])}" fill={fill}/>'
    if kind == "poly":
        return f'<polygon points="{_points(args[0])}" fill={fill}/>'
    if kind == "ring":
        return (f'<circle cx="{_n(args[0])}" cy="{_n(args[1])}" r="{_n(args[2])}" fill="none" '
                f'stroke={fill} stroke-width="{_n(args[3])}"/>')
    if kind == "line":
        return (f'<polyline points="{_points(args[1])}" fill="none" stroke={fill} stroke-width="{_n(args[0])}" '
                'stroke-linecap="round" stroke-linejoin="round"/>')
    text, x, y, size = args
    return (f'<text x="{_n(x)}" y="{_n(y + 0.36 * size)}" font-size="{_n(size)}" font-weight="bold" '
            f'text-anchor="middle" fill={fill}>{_text(text)}</text>')


def category_mark(category: str, pathway: str = "team") -> str:
    """The category mark (accent disc and glyph) as an SVG fragment for the 512 view box."""
    colours = PATHWAY_COLOURS[pathway]
    body = "".join(_svg_prim(prim, colours) for prim in _glyph(category)[1])
    return (f'<g class="category-mark" transform="translate({MARK_X} {MARK_Y})">'
            f'<circle r="{MARK_R}" fill="{colours["accent"]}"/><g transform="scale({MARK_SCALE})">{body}</g></g>')


def _description(badge: BadgeClass) -> str:
    """What the image shows, for the SVG <desc>."""
    return (f"A {PATHWAY_COLOURS[badge.pathway]['name']} hexagonal badge showing a {_glyph(badge.category)[0]} "
            f"for the {_clean(badge.category)} category, the title “{_display_title(badge)}” and a ribbon "
            f"reading “{badge.pathway_name.upper()}”.")


def badge_svg(badge: BadgeClass) -> str:
    """The generated badge as a self-contained, accessible SVG document."""
    colours, (size, lines) = PATHWAY_COLOURS[badge.pathway], _title_layout(badge)
    ident = re.sub(r"[^A-Za-z0-9_-]", "-", badge.slug)
    title_id, desc_id = f"badge-{ident}-title", f"badge-{ident}-desc"
    text_lines = "".join(f'<text x="256" y="{_n(y)}">{_text(line)}</text>'
                         for (y, _), line in zip(_slots(size, len(lines)), lines, strict=True))
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {VIEWBOX} {VIEWBOX}" width="{VIEWBOX}" '
        f'height="{VIEWBOX}" role="img" aria-labelledby="{title_id}" aria-describedby="{desc_id}" '
        f'font-family={quoteattr(FONT_FAMILY)}>',
        f'<title id="{title_id}">{_text(alt_text(badge))}</title>',
        f'<desc id="{desc_id}">{_text(_description(badge))}</desc>',
        f'<polygon points="{_points(_hexagon(OUTER_R))}" fill="{colours["fill"]}"/>',
        f'<polygon points="{_points(_hexagon(RING_R))}" fill="none" stroke="{colours["accent"]}" '
        f'stroke-width="{RING_W}" stroke-linejoin="round"/>',
        category_mark(badge.category, badge.pathway),
        '<g font-weight="bold" text-anchor="middle">',
        f'<g font-size="{size}" fill="{colours["text"]}">{text_lines}</g>',
        f'<polygon points="{_points(RIBBON)}" fill="{colours["accent"]}"/>',
        f'<text x="256" y="{LABEL_Y}" font-size="{LABEL_SIZE}" fill="{colours["fill"]}">'
        f'{_text(badge.pathway_name.upper())}</text>',
        "</g>", "</svg>", ""])


class _Canvas:
    """Draws in view-box units (optionally moved and scaled, by `origin`) onto a Pillow image."""

    def __init__(self, pixels: int, colours: dict[str, str]) -> None:
        self.image = Image.new("RGBA", (pixels, pixels), (0, 0, 0, 0))
        self.draw, self.scale, self.origin = ImageDraw.Draw(self.image), pixels / VIEWBOX, (0.0, 0.0, 1.0)
        self.rgb = {key: ImageColor.getrgb(value) for key, value in colours.items() if value.startswith("#")}

    def pts(self, points: tuple) -> list[tuple[float, float]]:
        ox, oy, k = self.origin
        return [((ox + k * x) * self.scale, (oy + k * y) * self.scale) for x, y in points]

    def px(self, length: float) -> float:
        return length * self.origin[2] * self.scale

    def disc(self, x: float, y: float, rx: float, ry: float, colour: str, width: float = 0) -> None:
        """A filled ellipse, or its outline `width` wide inside the box when width is given."""
        (left, top), (right, bottom) = self.pts(((x - rx, y - ry), (x + rx, y + ry)))
        if width:
            self.draw.ellipse([left, top, right, bottom], outline=self.rgb[colour], width=max(1, round(self.px(width))))
        else:
            self.draw.ellipse([left, top, right, bottom], fill=self.rgb[colour])

    def line(self, points: tuple, colour: str, width: float) -> None:
        """A polyline with round joins and caps."""
        self.draw.line(self.pts(points), fill=self.rgb[colour], width=max(1, round(self.px(width))), joint="curve")
        for x, y in (points[0], points[-1]):
            self.disc(x, y, width / 2, width / 2, colour)

    def text(self, x: float, y: float, text: str, size: float, colour: str) -> None:
        """Bold-looking text centred on x with its baseline at y."""
        font = ImageFont.load_default(size=max(1.0, self.px(size)))
        self.draw.text(self.pts(((x, y),))[0], text, font=font, fill=self.rgb[colour], anchor="ms",
                       stroke_width=round(self.px(size) * 0.025), stroke_fill=self.rgb[colour])


def _png_prim(canvas: _Canvas, prim: Prim) -> None:
    """Draw one glyph primitive."""
    kind, paint, *args = prim
    colour = "fill" if paint == "ink" else "accent"
    if kind in ("circle", "ellipse"):
        canvas.disc(args[0], args[1], args[2], args[-1], colour)
    elif kind == "ring":
        x, y, radius, width = args
        canvas.disc(x, y, radius + width / 2, radius + width / 2, colour, width)
    elif kind == "poly":
        canvas.draw.polygon(canvas.pts(args[0]), fill=canvas.rgb[colour])
    elif kind == "line":
        canvas.line(args[1], colour, args[0])
    else:
        canvas.text(args[1], args[2] + 0.36 * args[3], args[0], args[3], colour)


def badge_png(badge: BadgeClass, size: int = 512) -> bytes:
    """The generated badge as an RGBA PNG, `size` pixels square (64 to 1024)."""
    if isinstance(size, bool) or not isinstance(size, int) or not 64 <= size <= 1024:
        raise ValueError(f"badge image size must be an integer from 64 to 1024, not {size!r}")
    supersample = max(1, min(4, 2048 // size))
    canvas = _Canvas(size * supersample, PATHWAY_COLOURS[badge.pathway])
    canvas.draw.polygon(canvas.pts(_hexagon(OUTER_R)), fill=canvas.rgb["fill"])
    canvas.line(_hexagon(RING_R) + _hexagon(RING_R)[:2], "accent", RING_W)
    canvas.disc(MARK_X, MARK_Y, MARK_R, MARK_R, "accent")
    canvas.origin = (MARK_X, MARK_Y, MARK_SCALE)
    for prim in _glyph(badge.category)[1]:
        _png_prim(canvas, prim)
    canvas.origin = (0.0, 0.0, 1.0)
    font_size, lines = _title_layout(badge)
    for (y, _), line in zip(_slots(font_size, len(lines)), lines, strict=True):
        canvas.text(256, y, line, font_size, "text")
    canvas.draw.polygon(canvas.pts(RIBBON), fill=canvas.rgb["accent"])
    canvas.text(256, LABEL_Y, badge.pathway_name.upper(), LABEL_SIZE, "fill")
    image = canvas.image.resize((size, size), Image.Resampling.LANCZOS) if supersample > 1 else canvas.image
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
