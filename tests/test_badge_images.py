"""Generated badge images: accessible, self-contained, deterministic SVG and PNG renditions."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest
from PIL import Image

from badge_classes.catalog import load_catalog
from badge_classes.images import PATHWAY_COLOURS, alt_text, badge_png, badge_svg, category_mark
from badge_classes.model import BadgeClass

SVG = "{http://www.w3.org/2000/svg}"
TEAM_CATEGORIES = ["Questioning", "Thinking", "Problem Solving", "Academic Feedback", "Grouping Students",
                   "Standards and Objectives", "Motivating Students", "Managing Student Behavior"]
LEADER_CATEGORIES = ["Peer Coaching", "Professional Learning", "Data-Driven Teams", "Collaborative Culture",
                     "Research into Practice", "Family and Community Partnership"]
LONG_TITLE = ("Questioning: " + "Designing Sequences of Higher-Order Questions that Deepen Reasoning "
              "Across Every Unit of the Year")[:100]


@pytest.fixture(scope="module")
def badge() -> BadgeClass:
    return load_catalog().badge_classes["questioning-higher-order"]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def title_lines(root: ET.Element) -> tuple[float, list[str]]:
    """The font size and the lines of the wrapped title (the text group that sets a font size)."""
    group = next(g for g in root.iter(f"{SVG}g") if "font-size" in g.attrib)
    return float(group.get("font-size")), [t.text or "" for t in group.iter(f"{SVG}text")]


def mark(root: ET.Element) -> ET.Element:
    return next(g for g in root.iter(f"{SVG}g") if g.get("class") == "category-mark")


def png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


# --- SVG ---------------------------------------------------------------------------------------------


def test_svg_is_an_accessible_512_image(badge: BadgeClass) -> None:
    root = parse(badge_svg(badge))
    assert root.tag == f"{SVG}svg" and root.get("viewBox") == "0 0 512 512"
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    assert title is not None and root.get("aria-labelledby") == title.get("id")
    assert title.text == alt_text(badge) == (
        "Questioning: Higher-Order Questions — TEAM-aligned pathway micro-credential badge")
    desc = root.find(f"{SVG}desc")
    assert desc is not None and root.get("aria-describedby") == desc.get("id")
    assert "question mark" in desc.text and "Higher-Order Questions" in desc.text
    assert "sans-serif" in root.get("font-family")


def test_title_shows_without_the_category_prefix_at_a_legible_size(badge: BadgeClass) -> None:
    size, lines = title_lines(parse(badge_svg(badge)))
    assert size >= 40 and 1 <= len(lines) <= 3
    assert " ".join(lines) == "Higher-Order Questions"
    other = replace(badge, title="Asking Better Questions")  # not of the form "Category: ..."
    assert " ".join(title_lines(parse(badge_svg(other)))[1]) == "Asking Better Questions"


def test_text_is_escaped(badge: BadgeClass) -> None:
    tricky = replace(badge, title='Questioning: Q&A <Ask> "Why?" \'Now\'')
    svg = badge_svg(tricky)
    root = parse(svg)
    assert "&amp;" in svg and "&lt;Ask&gt;" in svg and "<Ask>" not in svg and "&quot;Why?&quot;" in svg
    assert root.find(f"{SVG}title").text == alt_text(tricky)
    assert alt_text(tricky).startswith('Questioning: Q&A <Ask> "Why?" \'Now\' — ')
    assert " ".join(title_lines(root)[1]) == 'Q&A <Ask> "Why?" \'Now\''
    odd_category = parse(badge_svg(replace(badge, category="Arts & <Crafts>", title="Arts & <Crafts>: A&B")))
    assert " ".join(title_lines(odd_category)[1]) == "A&B"
    assert "Arts & <Crafts> category" in odd_category.find(f"{SVG}desc").text


def test_control_characters_and_non_ascii_still_give_well_formed_xml(badge: BadgeClass) -> None:
    odd = replace(badge, title="Questioning: Résumé\tof\x07 Über-Fragen \x00 — 質問", category="Éducation\x1b")
    root = parse(badge_svg(odd))
    assert root.find(f"{SVG}title").text == "Questioning: Résumé of Über-Fragen — 質問 — TEAM-aligned " \
                                             "pathway micro-credential badge"
    assert png(badge_png(odd, 128)).size == (128, 128)


def test_svg_is_self_contained(badge: BadgeClass) -> None:
    for variant in (badge, replace(badge, pathway="teacher-leader", category="Unknown Things")):
        svg = badge_svg(variant)
        root = parse(svg)
        tags = {element.tag.removeprefix(SVG) for element in root.iter()}
        assert not tags & {"script", "image", "foreignObject", "style", "use", "a", "link"}
        assert not [name for element in root.iter() for name in element.attrib if name.endswith("href")]
        assert not [name for element in root.iter() for name in element.attrib if name.startswith("on")]
        assert "url(" not in svg and "@import" not in svg and "javascript:" not in svg.lower()
        assert svg.count("http") == 1  # only the SVG namespace


def test_pathway_colour_differs_between_pathways(badge: BadgeClass) -> None:
    fills = {}
    for pathway in ("team", "teacher-leader"):
        root = parse(badge_svg(replace(badge, pathway=pathway)))
        fills[pathway] = root.find(f"{SVG}polygon").get("fill")
        assert fills[pathway] == PATHWAY_COLOURS[pathway]["fill"]
        assert PATHWAY_COLOURS[pathway]["accent"] in ET.tostring(root, encoding="unicode")
    assert fills["team"] != fills["teacher-leader"]
    assert alt_text(replace(badge, pathway="teacher-leader")).endswith(
        "— Teacher-leader pathway micro-credential badge")


def test_each_category_has_its_own_mark(badge: BadgeClass) -> None:
    marks = {category: category_mark(category) for category in TEAM_CATEGORIES + LEADER_CATEGORIES}
    assert len(set(marks.values())) == len(marks)
    assert all("<text" not in m for m in marks.values())  # real glyphs, not the initials fallback
    for fragment in marks.values():
        ET.fromstring(f'<svg xmlns="http://www.w3.org/2000/svg">{fragment}</svg>')
    in_badge = {ET.tostring(mark(parse(badge_svg(replace(badge, category=c)))), encoding="unicode")
                for c in ("Questioning", "Thinking", "Problem Solving")}
    assert len(in_badge) == 3
    assert category_mark(" questioning ") == category_mark("Questioning")


@pytest.mark.parametrize(("category", "initials"), [
    ("Classroom Environment", "CE"), ("Arts & <Crafts>", "AC"), ("Literacy", "L"), ("", "?"),
    ("Planning for Instruction", "PI"),
])
def test_unknown_category_falls_back_to_initials(badge: BadgeClass, category: str, initials: str) -> None:
    root = parse(badge_svg(replace(badge, category=category, title="Something New")))
    texts = [t.text for t in mark(root).iter(f"{SVG}text")]
    assert texts == [initials]
    assert mark(root).find(f"{SVG}circle") is not None


def test_long_titles_are_wrapped_and_ellipsised(badge: BadgeClass) -> None:
    assert len(LONG_TITLE) == 100
    long = replace(badge, title=LONG_TITLE)
    size, lines = title_lines(parse(badge_svg(long)))
    assert size >= 40 and len(lines) == 3 and lines[-1].endswith("…")
    assert all(lines) and all(len(line) <= 20 for line in lines)
    one_word = replace(badge, title="Questioning: " + "Supercalifragilistic" * 5)
    size, lines = title_lines(parse(badge_svg(one_word)))
    assert size >= 40 and len(lines) == 3 and lines[-1].endswith("…") and lines[0].startswith("Supercal")
    for variant in (long, one_word):
        assert png(badge_png(variant, 256)).size == (256, 256)


def test_short_titles_get_a_bigger_font(badge: BadgeClass) -> None:
    short = title_lines(parse(badge_svg(replace(badge, title="Questioning: Why?"))))
    long = title_lines(parse(badge_svg(replace(badge, title=LONG_TITLE))))
    assert short == (60.0, ["Why?"]) and long[0] < short[0]


def test_svg_is_deterministic(badge: BadgeClass) -> None:
    assert badge_svg(badge) == badge_svg(replace(badge))
    assert badge_svg(badge) != badge_svg(replace(badge, title="Questioning: Something Else"))


# --- PNG ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [64, 128, 200, 512, 1024])
def test_png_is_rgba_of_the_requested_size(badge: BadgeClass, size: int) -> None:
    image = png(badge_png(badge, size))
    assert image.format == "PNG" and image.mode == "RGBA" and image.size == (size, size)
    assert image.getpixel((0, 0))[3] == 0 and image.getpixel((size - 1, size - 1))[3] == 0
    assert image.getpixel((size // 2, size // 2))[3] == 255


def test_png_default_size_is_512(badge: BadgeClass) -> None:
    assert png(badge_png(badge)).size == (512, 512)


def in_pathway_family(pixel: tuple[int, int, int, int], pathway: str) -> bool:
    r, g, b, a = pixel
    if pathway == "team":
        return a == 255 and b > r + 60 and b > g + 40  # deep blue
    return a == 255 and r > g + 30 and b > g + 30  # deep purple / plum


@pytest.mark.parametrize("pathway", ["team", "teacher-leader"])
@pytest.mark.parametrize("category", ["Questioning", "Peer Coaching", "Unheard Of"])
def test_png_centre_is_in_the_pathway_colour_family(badge: BadgeClass, pathway: str, category: str) -> None:
    for size in (64, 256):
        image = png(badge_png(replace(badge, pathway=pathway, category=category, title="Questioning: Wait Time"), size))
        assert in_pathway_family(image.getpixel((size // 2, size // 2)), pathway)
        assert image.getpixel((1, 1)) == (0, 0, 0, 0)
        # Three-line titles cover the centre; the band between the mark and the title stays plain.
        image = png(badge_png(replace(badge, pathway=pathway, category=category, title=LONG_TITLE), size))
        assert in_pathway_family(image.getpixel((size // 2, size * 211 // 512)), pathway)


def test_png_pathways_and_categories_differ(badge: BadgeClass) -> None:
    base = badge_png(badge, 128)
    assert badge_png(replace(badge, pathway="teacher-leader"), 128) != base
    assert badge_png(replace(badge, category="Thinking"), 128) != base


@pytest.mark.parametrize("size", [0, 63, 1025, -512, 4096, 512.0, True, "512"])
def test_png_size_out_of_range_raises(badge: BadgeClass, size: object) -> None:
    with pytest.raises(ValueError):
        badge_png(badge, size)  # type: ignore[arg-type]


def test_png_is_deterministic_and_has_no_metadata(badge: BadgeClass) -> None:
    first = badge_png(badge, 128)
    assert badge_png(replace(badge), 128) == first
    assert b"tIME" not in first and b"tEXt" not in first and b"iTXt" not in first and b"zTXt" not in first
    assert png(first).info.keys() <= {"dpi", "gamma", "transparency"}
