"""Tests stay on this machine: the rule for where a test may connect, and the guard that enforces it.

conftest.py installs `guard` around every test: socket.socket.connect / connect_ex and
socket.create_connection refuse any address that is not loopback (IPv4 127/8, IPv6 ::1 and
IPv4-mapped 127/8) and the test fails, even if the code under test swallows the error. Unix sockets and
other local families pass. `permitted` is the rule as a pure function (tests/test_network_guard.py).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest


class OffMachineConnection(AssertionError):
    """A test tried to connect to an address off this machine (not an OSError, so nobody swallows it)."""


def permitted(family: int, address: Any) -> bool:
    """True when a connection to `address` (a socket address of `family`) stays on this machine."""
    if family not in (socket.AF_INET, socket.AF_INET6):
        return True  # AF_UNIX paths, netlink and the like never leave the machine
    host = address[0] if isinstance(address, tuple) else address
    try:
        ip = ipaddress.ip_address(str(host).split("%", 1)[0])
    except ValueError:
        return str(host).lower() == "localhost"  # a name: connect() resolves it, and only this one is known local
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def _literal_host(host: Any) -> bool:
    try:
        ipaddress.ip_address(str(host).split("%", 1)[0])
    except ValueError:
        return False
    return True


@contextmanager
def guard() -> Iterator[list[str]]:
    """Refuse off-machine connections while inside; yields the list of attempts (empty when all is well)."""
    attempts: list[str] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_create_connection = socket.create_connection

    def refuse(what: str, address: Any) -> None:
        attempts.append(f"{what}({address!r})")
        raise OffMachineConnection(f"a test tried to connect off this machine: {what}({address!r})")

    def connect(self: socket.socket, address: Any) -> None:
        if not permitted(self.family, address):
            refuse("connect", address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if not permitted(self.family, address):
            refuse("connect_ex", address)
        return real_connect_ex(self, address)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        host = address[0]
        family = socket.AF_INET6 if ":" in str(host) else socket.AF_INET
        if _literal_host(host) and not permitted(family, address):
            refuse("create_connection", address)
        return real_create_connection(address, *args, **kwargs)  # names: connect() checks what they resolve to

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", connect)
        mp.setattr(socket.socket, "connect_ex", connect_ex)
        mp.setattr(socket, "create_connection", create_connection)
        yield attempts
