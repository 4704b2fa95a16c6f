"""Baked badge images: the 1EdTech conformance images, round trips, re-baking, hostile files, the CLI."""

from __future__ import annotations

import io
import json
import struct
import zlib
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image

from verifier import verify_credential
from verifier.baking import BakingError, bake_png, bake_svg, unbake_png, unbake_svg
from verifier.inputs import read_presented

VECTORS = Path(__file__).parent / "vectors" / "1edtech-digital-credentials-public-validator" / "inspector-vc" / \
    "src" / "test" / "resources"
OB30 = VECTORS / "ob30"


def _png(size: int = 64) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (size, size), (30, 60, 140, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


def _chunk_keywords(data: bytes) -> list[bytes]:
    out, pos = [], 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"iTXt":
            out.append(data[pos + 8:pos + 8 + length].partition(b"\x00")[0])
        pos += 12 + length
    return out


@pytest.mark.parametrize("name", ["simple-json.png", "simple-json.svg"])
def test_the_1edtech_baked_images_give_the_same_credential_as_the_json(name: str) -> None:
    data = (OB30 / name).read_bytes()
    document = read_presented(data)
    assert document["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    report = verify_credential(document)
    assert report.check("proof").ok, report.check("proof").message


@pytest.mark.parametrize("name", ["simple-jwt.png", "simple-jwt.svg"])
def test_a_jwt_in_an_image_is_read_as_its_compact_jws(name: str) -> None:
    # (verified in test_verifier_jwt; before VC-JWT support this was refused as "jwt_unsupported")
    token = read_presented((OB30 / name).read_bytes())
    assert isinstance(token, str) and token.count(".") == 2 and token.startswith("ey")


def test_an_open_badges_2_image_is_read() -> None:
    text = unbake_png((VECTORS / "ob20" / "simple-badge.png").read_bytes())
    assert json.loads(text)["type"] == "Assertion"


def test_png_round_trip_rebake_replaces_and_the_image_stays_an_image() -> None:
    first = bake_png(_png(), json.dumps({"id": "urn:uuid:first"}))
    again = bake_png(first, json.dumps({"id": "urn:uuid:second"}))
    assert _chunk_keywords(again) == [b"openbadgecredential"]  # exactly one, uncompressed
    assert json.loads(unbake_png(again))["id"] == "urn:uuid:second"
    with Image.open(io.BytesIO(again)) as img:
        img.load()
        assert img.size == (64, 64)


def test_svg_round_trip_and_rebake() -> None:
    svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><title>Badge</title></svg>'
    baked = bake_svg(bake_svg(svg, '{"id": "urn:uuid:a"}'), '{"id": "urn:uuid:b"}')
    assert baked.count("<openbadges:credential>") == 1
    assert 'xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"' in baked
    assert json.loads(unbake_svg(baked.encode()))["id"] == "urn:uuid:b"


@pytest.mark.parametrize("mangle, message", [
    (lambda d: d[:-20], "truncated"),
    (lambda d: d[:40] + bytes([d[40] ^ 0xFF]) + d[41:], "checksum"),
    (lambda d: b"GIF89a" + d[6:], "not a PNG"),
])
def test_damaged_pngs_are_refused_with_a_reason(mangle, message: str) -> None:
    baked = bake_png(_png(), '{"id": "urn:uuid:x"}')
    with pytest.raises(BakingError, match=message):
        unbake_png(mangle(baked))


def test_a_png_without_a_credential_says_so() -> None:
    with pytest.raises(BakingError, match="no badge credential"):
        unbake_png(_png())


def test_a_compressed_itxt_bomb_is_refused() -> None:
    payload = zlib.compress(b"{" + b" " * (20 * 1024 * 1024) + b"}", 9)
    body = b"openbadgecredential\x00\x01\x00\x00\x00" + payload
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body + struct.pack(">I", zlib.crc32(b"iTXt" + body))
    png = _png()
    bomb = png[:33] + chunk + png[33:]
    with pytest.raises(BakingError, match="larger than 2 MB"):
        unbake_png(bomb)


def test_svg_entities_are_never_expanded() -> None:
    hostile = b"""<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">
<openbadges:credential>&x;</openbadges:credential></svg>"""
    with pytest.raises(BakingError, match="cannot be read safely"):
        unbake_svg(hostile)


def test_bake_unbake_and_verify_our_own_credential_with_the_cli(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    credential = tmp_path / "credential.json"
    result = runner.invoke(args=["issue", "--achievement", "questioning-higher-order", "--recipient-email",
                                 "t@example.org", "--recipient-name", "Jo Teacher", "--out", str(credential)])
    assert result.exit_code == 0, result.output
    image = tmp_path / "badge.png"
    image.write_bytes(_png(256))
    baked = tmp_path / "baked.png"
    assert runner.invoke(args=["bake", str(credential), "--image", str(image), "--out", str(baked)]).exit_code == 0
    unbaked = runner.invoke(args=["unbake", str(baked)])
    assert unbaked.exit_code == 0
    assert unbaked.stdout.strip() == credential.read_text().strip()  # byte for byte, as signed
    verified = runner.invoke(args=["verify", str(baked)])
    assert verified.exit_code == 0, verified.output
    assert "VERIFIED" in verified.output

    svg = tmp_path / "badge.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><rect width="8" height="8"/></svg>')
    baked_svg = tmp_path / "baked.svg"
    assert runner.invoke(args=["bake", str(credential), "--image", str(svg), "--out", str(baked_svg)]).exit_code == 0
    assert runner.invoke(args=["verify", str(baked_svg)]).exit_code == 0
    bad = runner.invoke(args=["unbake", str(image)])
    assert bad.exit_code == 1 and "no badge credential" in bad.output


def test_two_credentials_in_one_image_are_refused() -> None:
    one = bake_png(_png(), '{"id": "urn:uuid:a"}')
    body = b"openbadgecredential\x00\x00\x00\x00\x00" + b'{"id": "urn:uuid:b"}'
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body + struct.pack(">I", zlib.crc32(b"iTXt" + body))
    two = one[:33] + chunk + one[33:]
    with pytest.raises(BakingError, match="two badge credentials"):
        unbake_png(two)
    svg = bake_svg('<svg xmlns="http://www.w3.org/2000/svg"></svg>', '{"id": "urn:uuid:a"}')
    doubled = svg.replace("</svg>", '<openbadges:credential><![CDATA[{"id": "urn:uuid:b"}]]></openbadges:credential></svg>')
    with pytest.raises(BakingError, match="two badge credentials"):
        unbake_svg(doubled.encode())
