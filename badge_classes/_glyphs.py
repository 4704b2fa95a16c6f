"""The category marks of generated badge images, as drawing primitives shared by the SVG and the PNG.

Each mark is drawn in a 100x100 box centred on (0, 0), y down. A primitive is a tuple
(kind, paint, *arguments), paint being "ink" (the pathway colour) or "disc" (the accent colour):
("circle", paint, cx, cy, r), ("ellipse", paint, cx, cy, rx, ry), ("poly", paint, points),
("ring", paint, cx, cy, r, stroke width), ("line", paint, stroke width, points: round caps and joins),
("text", paint, text, cx, cy, font size: centred on the point).
"""

from __future__ import annotations

import math

Prim = tuple


def arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, steps: int) -> tuple:
    """Points along an elliptical arc, angles in degrees (y down)."""
    angles = (math.radians(a0 + (a1 - a0) * i / steps) for i in range(steps + 1))
    return tuple((round(cx + rx * math.cos(a), 2), round(cy + ry * math.sin(a), 2)) for a in angles)


def _star(r_out: float, r_in: float, dy: float) -> tuple:
    """A five-pointed star's points."""
    return tuple((round(r * math.cos(a), 2), round(dy + r * math.sin(a), 2)) for i in range(10)
                 for r, a in [((r_out, r_in)[i % 2], math.radians(-90 + 36 * i))])


def _heart(cx: float, cy: float, k: float) -> tuple:
    """A heart curve's points."""
    ts = (2 * math.pi * i / 32 for i in range(32))
    return tuple((round(cx + k * 16 * math.sin(t) ** 3, 2), round(cy - k * (13 * math.cos(t) - 5 * math.cos(2 * t)
                  - 2 * math.cos(3 * t) - math.cos(4 * t)), 2)) for t in ts)


def _person(x: float, head_y: float, head_r: float, base: float, rx: float, ry: float, paint: str = "ink") -> list:
    """A head and half-ellipse shoulders."""
    return [("circle", paint, x, head_y, head_r), ("poly", paint, arc(x, base, rx, ry, 180, 360, 12))]


_BOOK_LINES = [("line", "disc", 3, ((sx * 34, y), (sx * 12, y + 4))) for sx in (-1, 1) for y in (-12, 0, 12)]
GLYPHS: dict[str, tuple[str, list[Prim]]] = {
    "questioning": ("question mark", [("line", "ink", 12, arc(0, -16, 20, 20, 180, 400, 10) + ((0, 8), (0, 16))),
                                      ("circle", "ink", 0, 34, 7.5)]),
    "thinking": ("lightbulb", [("circle", "ink", 0, -12, 27), ("poly", "ink", ((-15, 6), (15, 6), (11, 26), (-11, 26))),
                               ("line", "ink", 6, ((-11, 32), (11, 32))), ("line", "ink", 6, ((-7, 40), (7, 40))),
                               ("line", "disc", 4, ((-9, -8), (-4, -2), (0, -8), (4, -2), (9, -8)))]),
    "problem solving": ("puzzle piece", [("poly", "ink", ((-26, -26), (26, -26), (26, 26), (-26, 26))),
                                         ("circle", "ink", 0, -28, 11), ("circle", "ink", 28, 0, 11),
                                         ("circle", "disc", -26, 0, 10), ("circle", "disc", 0, 26, 10)]),
    "academic feedback": ("speech bubble", [("ellipse", "ink", 0, -8, 42, 30),
                                            ("poly", "ink", ((-22, 12), (-34, 40), (2, 20)))]
                          + [("circle", "disc", x, -8, 6) for x in (-18, 0, 18)]),
    "grouping students": ("group of three people", _person(-30, -10, 9, 30, 15, 24) + _person(30, -10, 9, 30, 15, 24)
                          + _person(0, -16, 14, 36, 24, 36, "disc") + _person(0, -16, 11, 34, 20, 32)),
    "standards and objectives": ("target", [("circle", p, 0, 0, r) for p, r in
                                            [("ink", 42), ("disc", 33), ("ink", 24), ("disc", 15), ("ink", 7)]]),
    "motivating students": ("star", [("poly", "ink", _star(44, 19, 3))]),
    "managing student behavior": ("shield with a check mark", [
        ("poly", "ink", ((0, -42), (36, -30), (34, 4), (0, 42), (-34, 4), (-36, -30))),
        ("line", "disc", 9, ((-16, 0), (-4, 13), (18, -14)))]),
    "peer coaching": ("two people", _person(-22, -14, 11, 34, 18, 28) + _person(22, -14, 11, 34, 18, 28)),
    "professional learning": ("open book", [("poly", "ink", ((-42, -24), (-4, -16), (-4, 32), (-42, 24))),
                                            ("poly", "ink", ((42, -24), (4, -16), (4, 32), (42, 24)))] + _BOOK_LINES),
    "data-driven teams": ("bar chart", [("poly", "ink", ((x0, top), (x0 + 18, top), (x0 + 18, 34), (x0, 34)))
                                        for x0, top in [(-38, 8), (-9, -12), (20, -32)]]
                          + [("line", "ink", 5, ((-44, 40), (44, 40)))]),
    "collaborative culture": ("three linked rings", [("ring", "ink", x, y, 20, 6)
                                                     for x, y in [(0, -14), (-14, 10), (14, 10)]]),
    "research into practice": ("magnifying glass", [("ring", "ink", -8, -8, 24, 9),
                                                    ("line", "ink", 12, ((10, 10), (32, 32)))]),
    "family and community partnership": ("house with a heart", [
        ("poly", "ink", ((0, -40), (42, -4), (32, -4), (32, 38), (-32, 38), (-32, -4), (-42, -4))),
        ("poly", "disc", _heart(0, 12, 1.2))]),
}
