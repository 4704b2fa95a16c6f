"""The fetcher's network rules: https only, public addresses only (unless a host is allowed
explicitly), size and time limits, redirects only within a host, a bounded cache; a refused
request never leaves (the local site records every hit).

Nothing here ever hands the fetcher an address off this machine: the address rule is tested as a
pure function (`may_connect`, `is_public_address`: no socket, no resolver), and the fetcher's
refusals with loopback addresses and resolvers the tests inject. conftest.py fails any test that
connects elsewhere."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time

import pytest

from verifier.fetch import Fetcher, FetchError, FetchPolicy, did_web_url, is_public_address, may_connect

from verifier_support import LocalSite

DOC = {"id": "https://example.org/doc.json", "hello": "world"}


def _code(call) -> str:
    with pytest.raises(FetchError) as excinfo:
        call()
    assert excinfo.value.message and excinfo.value.problem.code == excinfo.value.code
    return excinfo.value.code


def test_an_allowed_host_is_fetched_over_https_with_its_certificate_checked() -> None:
    with LocalSite({("example.org", "/doc.json"): DOC}) as site:
        assert site.fetcher().get_json("https://example.org/doc.json") == DOC
        assert site.hits == [("https", "example.org", "/doc.json")]


def test_the_certificate_must_name_the_host() -> None:
    with LocalSite({("example.org", "/doc.json"): DOC}, hosts=("example.org",)) as site:
        other = Fetcher(FetchPolicy(allowed_hosts=frozenset({"example.net"})),
                        resolver=lambda host, port: [("127.0.0.1", site.https_port)], ssl_context=site.ssl_context())
        assert _code(lambda: other.get("https://example.net/doc.json")) == "fetch_tls_failed"


@pytest.mark.parametrize("url", ["https://example.org/doc.json", "http://example.org/doc.json"])
def test_without_the_allowlist_a_local_address_is_refused_and_nothing_is_sent(url: str) -> None:
    with LocalSite({("example.org", "/doc.json"): DOC}) as site:
        code = _code(lambda: site.fetcher(allowed=False).get_json(url))
        assert code == ("fetch_forbidden_address" if url.startswith("https") else "fetch_not_https")
        assert site.hits == []


def _no_lookup(host: str, port: int) -> list[tuple[str, int]]:
    raise AssertionError(f"the fetcher looked up {host}, which it should have refused first")


# --- the address rule, as a pure function (the only place non-loopback addresses appear) -------------


def test_the_address_rule_refuses_every_non_public_network() -> None:
    policy = FetchPolicy()
    for address in ("127.0.0.1", "10.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.1.1",
                    "169.254.169.254", "100.64.0.1", "::1", "fe80::1", "fc00::1", "::ffff:10.0.0.1",
                    "::ffff:127.0.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255"):
        assert not is_public_address(address), address
        assert not is_public_address(ipaddress.ip_address(address)), address
        assert not may_connect(address, "some.example", 443, policy), address


def test_the_address_rule_allows_public_addresses_and_allowed_hosts_anywhere() -> None:
    assert is_public_address("93.184.216.34") and is_public_address("2606:2800:220:1::1")
    assert may_connect("93.184.216.34", "some.example", 443, FetchPolicy())
    allowed = FetchPolicy(allowed_hosts=frozenset({"dev.example", "other.example:8443"}))
    assert may_connect("10.0.0.1", "dev.example", 443, allowed) and may_connect("::1", "DEV.example.", 8000, allowed)
    assert may_connect("192.168.1.1", "other.example", 8443, allowed)
    assert not may_connect("192.168.1.1", "other.example", 443, allowed)  # that host only on that port


# --- the fetcher's refusals: loopback addresses and injected resolvers only -----------------------------


def test_loopback_ip_literals_are_refused_and_nothing_is_sent() -> None:
    with LocalSite({("example.org", "/doc.json"): DOC}) as site:
        fetcher = Fetcher(resolver=_no_lookup)
        port = site.https_port
        for url in (f"https://127.0.0.1:{port}/doc.json", f"https://127.0.0.2:{port}/doc.json",
                    f"https://[::1]:{port}/doc.json", f"https://[::ffff:127.0.0.1]:{port}/doc.json"):
            assert _code(lambda url=url: fetcher.get(url)) == "fetch_forbidden_address", url
        assert site.hits == []


def test_a_name_that_resolves_to_loopback_is_refused_unless_allowed() -> None:
    with LocalSite({("example.org", "/doc.json"): DOC}) as site:
        refused = Fetcher(resolver=lambda host, port: [("127.0.0.1", site.https_port), ("::1", site.https_port)],
                          ssl_context=site.ssl_context())
        assert _code(lambda: refused.get("https://example.org/doc.json")) == "fetch_forbidden_address"
        assert site.hits == []
        assert site.fetcher().get_json("https://example.org/doc.json") == DOC  # the same site, allowed


def test_the_address_is_resolved_once_and_the_checked_address_is_the_one_connected() -> None:
    """DNS rebinding: a second lookup would answer otherwise; there is none."""
    with LocalSite({("example.org", "/doc.json"): DOC}) as site:
        calls = []

        def rebinding(host: str, port: int) -> list[tuple[str, int]]:
            calls.append(host)
            return [("127.0.0.1", site.https_port)] if len(calls) == 1 else [("127.0.0.2", site.https_port)]

        refused = Fetcher(resolver=rebinding)
        assert _code(lambda: refused.get("https://example.org/doc.json")) == "fetch_forbidden_address"
        assert calls == ["example.org"] and site.hits == []

        calls.clear()
        allowed = Fetcher(FetchPolicy(allowed_hosts=frozenset({"example.org"})), resolver=rebinding,
                          ssl_context=site.ssl_context())
        assert allowed.get_json("https://example.org/doc.json") == DOC
        assert calls == ["example.org"] and site.hits == [("https", "example.org", "/doc.json")]


@pytest.mark.parametrize("url", ["ftp://example.org/x", "file:///etc/passwd", "https://user:pw@example.org/x",
                                 "https:///x", "https://example.org:99999/x", "did:web:example.org"])
def test_urls_that_are_not_https_documents_are_refused(url: str) -> None:
    assert _code(lambda: Fetcher(resolver=_no_lookup).get(url)) in ("fetch_bad_url", "fetch_not_https")


def _slow(seconds: float):
    def route(handler) -> None:
        time.sleep(seconds)
        handler.send_response(200)
        handler.send_header("Content-Length", "2")
        handler.end_headers()
        handler.wfile.write(b"{}")
    return route


def _trickle(handler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Length", "100")
    handler.end_headers()
    for _ in range(100):
        handler.wfile.write(b" ")
        handler.wfile.flush()
        time.sleep(0.02)


def test_a_slow_server_times_out() -> None:
    with LocalSite({("example.org", "/slow"): _slow(1.5), ("example.org", "/trickle"): _trickle}) as site:
        fetcher = site.fetcher(timeout=0.5)
        started = time.monotonic()
        assert _code(lambda: fetcher.get("https://example.org/slow")) == "fetch_timeout"
        # each byte arrives in time, but the whole document does not: the limit is for the whole request
        assert _code(lambda: fetcher.get("https://example.org/trickle")) == "fetch_timeout"
        assert time.monotonic() - started < 2.5


def _big(handler, *, declared: bool) -> None:
    handler.send_response(200)
    if declared:
        handler.send_header("Content-Length", str(10 * 1024 * 1024))
        handler.end_headers()
        return
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    chunk = b"x" * 65536
    try:
        for _ in range(64):
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        handler.wfile.write(b"0\r\n\r\n")
    except OSError:
        pass


def test_a_document_over_the_size_limit_is_refused() -> None:
    routes = {("example.org", "/declared"): lambda h: _big(h, declared=True),
              ("example.org", "/chunked"): lambda h: _big(h, declared=False)}
    with LocalSite(routes) as site:
        fetcher = site.fetcher(max_bytes=100_000)
        assert _code(lambda: fetcher.get("https://example.org/declared")) == "fetch_too_large"
        assert _code(lambda: fetcher.get("https://example.org/chunked")) == "fetch_too_large"


def _redirect(location: str):
    def route(handler) -> None:
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
    return route


def test_redirects_within_the_host_are_followed_others_refused() -> None:
    routes = {("example.org", "/moved"): _redirect("/doc.json"), ("example.org", "/doc.json"): DOC,
              ("example.org", "/a"): _redirect("/b"), ("example.org", "/b"): _redirect("https://example.org/a"),
              ("example.org", "/away"): _redirect("https://other.example/doc.json"),
              ("example.org", "/down"): _redirect("http://example.org/doc.json"),
              ("other.example", "/doc.json"): DOC}
    with LocalSite(routes) as site:
        fetcher = site.fetcher()
        assert fetcher.get_json("https://example.org/moved") == DOC
        assert _code(lambda: fetcher.get("https://example.org/a")) == "fetch_redirect_loop"
        assert _code(lambda: fetcher.get("https://example.org/away")) == "fetch_redirect_refused"
        assert _code(lambda: fetcher.get("https://example.org/down")) == "fetch_redirect_refused"
        assert ("https", "other.example", "/doc.json") not in site.hits


def test_too_many_redirects() -> None:
    routes = {("example.org", f"/r{i}"): _redirect(f"/r{i + 1}") for i in range(10)}
    with LocalSite(routes) as site:
        assert _code(lambda: site.fetcher(max_redirects=3).get("https://example.org/r0")) == "fetch_redirect_loop"
        assert len(site.hits) == 4


def test_errors_and_non_json_are_named() -> None:
    with LocalSite({("example.org", "/page"): b"<html>hello</html>"}) as site:
        fetcher = site.fetcher()
        assert _code(lambda: fetcher.get_json("https://example.org/page")) == "fetch_not_json"
        assert _code(lambda: fetcher.get_json("https://example.org/missing")) == "fetch_http_error"
        assert _code(lambda: Fetcher(resolver=lambda h, p: []).get("https://nowhere.example/")) == "fetch_dns_failed"


def test_json_is_cached_for_the_ttl_and_the_cache_is_per_url() -> None:
    now = [0.0]
    with LocalSite({("example.org", "/doc.json"): DOC}) as site:
        fetcher = site.fetcher(ttl_seconds=60, clock=lambda: now[0])
        for _ in range(3):
            assert fetcher.get_json("https://example.org/doc.json") == DOC
        assert len(site.hits) == 1
        now[0] = 61.0
        fetcher.get_json("https://example.org/doc.json")
        assert len(site.hits) == 2


def test_did_web_urls() -> None:
    assert did_web_url("did:web:example.org") == "https://example.org/.well-known/did.json"
    assert did_web_url("did:web:example.org%3A8443:users:alice") == "https://example.org:8443/users/alice/did.json"
    with pytest.raises(FetchError):
        did_web_url("did:web:")


def test_documents_resolves_did_web_and_checks_the_id() -> None:
    did = {"id": "did:web:example.org", "verificationMethod": []}
    with LocalSite({("example.org", "/.well-known/did.json"): did,
                    ("example.org", "/u/did.json"): did}) as site:
        fetcher = site.fetcher()
        assert fetcher.documents("did:web:example.org") == did
        assert fetcher.documents("did:key:z6Mk") is None
        assert _code(lambda: fetcher.documents("did:web:example.org:u")) == "did_document_mismatch"


def test_proxies_from_the_environment_are_not_used(monkeypatch) -> None:
    """A proxy on this machine that counts who connects to it: nobody does."""
    with socket.create_server(("127.0.0.1", 0)) as proxy:
        proxy.settimeout(0.2)
        reached: list[object] = []

        def count() -> None:
            with contextlib.suppress(OSError):  # the timeout: nobody came
                reached.append(proxy.accept()[0].close())

        address = f"http://127.0.0.1:{proxy.getsockname()[1]}"
        for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY"):
            monkeypatch.setenv(name, address)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        with LocalSite({("example.org", "/doc.json"): DOC}) as site:
            assert site.fetcher().get_json("https://example.org/doc.json") == DOC
        waiter = threading.Thread(target=count)
        waiter.start()
        waiter.join()
        assert reached == []
