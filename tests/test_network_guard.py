"""Tests stay on this machine: the guard's rule (a pure function), the guard letting loopback through,
and no test or benchmark naming an address off the machine as a target."""

from __future__ import annotations

import ast
import ipaddress
import re
import socket
from pathlib import Path

import pytest

from network_guard import OffMachineConnection, permitted

ROOT = Path(__file__).resolve().parent.parent
# Where a test may write an address off the machine: in a pure test of an address rule, which connects nowhere.
PURE_RULE_TESTS = re.compile(r"^test_the_address_rule")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F.]{0,15}(?![\w:])")


def test_the_address_rule_of_the_guard() -> None:
    for address in (("127.0.0.1", 80), ("127.9.8.7", 1), ("::1", 443, 0, 0), ("::ffff:127.0.0.1", 8, 0, 0),
                    ("localhost", 80)):
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        assert permitted(family, address), address
    for address in (("10.0.0.1", 80), ("169.254.169.254", 80), ("192.168.1.1", 443), ("93.184.216.34", 443),
                    ("0.0.0.0", 80), ("example.org", 443)):
        assert not permitted(socket.AF_INET, address), address
    for address in (("fe80::1", 80, 0, 0), ("2606:2800:220:1::1", 443, 0, 0), ("::ffff:10.0.0.1", 80, 0, 0)):
        assert not permitted(socket.AF_INET6, address), address
    assert permitted(socket.AF_UNIX, "/run/postgresql/.s.PGSQL.5432")


def test_loopback_connections_pass_and_a_refused_name_stops_before_any_lookup(_network_guard: list[str]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
        with socket.socket() as client:
            assert client.connect_ex(server.getsockname()) == 0
    with socket.socket() as client, pytest.raises(OffMachineConnection):
        client.connect(("unresolvable.invalid", 80))  # a name other than localhost: refused, never looked up
    assert _network_guard == ["connect(('unresolvable.invalid', 80))"]
    _network_guard.clear()  # the attempt this test made on purpose


def _literals(path: Path) -> list[tuple[str, str]]:
    """(function, address) for every non-loopback IP address literal in the file's strings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, str]] = []

    def visit(node: ast.AST, function: str) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = node.name
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            for text in _IPV4.findall(node.value) + _IPV6.findall(node.value):
                try:
                    ip = ipaddress.ip_address(text)
                except ValueError:
                    continue
                mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
                if not (mapped or ip).is_loopback:
                    found.append((function, text))
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(tree, "(module)")
    return found


def test_no_test_or_benchmark_names_an_address_off_this_machine() -> None:
    files = [p for p in sorted((ROOT / "tests").rglob("*.py")) + sorted((ROOT / "bench").rglob("*.py"))
             if "vectors" not in p.relative_to(ROOT).parts]  # vectors: others' published files, read as data
    offenders = {str(p.relative_to(ROOT)): hits for p in files
                 if (hits := [h for h in _literals(p) if not PURE_RULE_TESTS.match(h[0])])}
    assert offenders == {}
