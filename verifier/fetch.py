"""Fetching issuer documents (hosted credentials, DID and key documents, status lists) safely.

The rules (docs/verifier.md): https only; at most `max_bytes`, within `timeout` seconds in all;
redirects only to the same host, never https to http, at most `max_redirects`; no proxies from
the environment; and never to a loopback, private, link-local or otherwise non-public address
unless the configuration names the host in `allowed_hosts` (tests and development). The address
is checked after resolving and the connection is made to that very address (no second lookup
for DNS rebinding to exploit); TLS still verifies the certificate for the host name (SNI).
JSON documents are cached for `ttl_seconds` in a bounded cache.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from .errors import VerifierError
from .report import Problem

MIB = 1024 * 1024
USER_AGENT = "microcred-verifier/1 (+https://github.com/microcred)"
CACHE_ENTRIES = 512

# (host, port) -> (address, port) pairs to try; the default is the system resolver (same port).
# Tests inject a map that sends example hosts to a local (loopback) server.
Resolver = Callable[[str, int], "list[tuple[str, int]]"]
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class FetchPolicy:
    """What may be fetched. The defaults are the production rules; allowed_hosts is for tests/dev."""

    allowed_hosts: frozenset[str] = frozenset()  # "host" or "host:port": may be non-public, may use http
    timeout: float = 5.0  # seconds for the whole request, redirects included
    max_bytes: int = 2 * MIB
    ttl_seconds: int = 300
    max_redirects: int = 3
    # A PEM file of certificate authorities trusted besides the system's (an agency's own CA).
    ca_file: str | None = None

    def allows(self, host: str, port: int) -> bool:
        host = host.lower().rstrip(".")
        return host in self.allowed_hosts or f"{host}:{port}" in self.allowed_hosts


class FetchError(VerifierError):
    """A document could not be fetched, or policy forbade fetching it; `code` says which."""

    code = "fetch_failed"
    title = "A document could not be fetched"

    def __init__(self, message: str, *, code: str | None = None, url: str | None = None) -> None:
        super().__init__(message, code=code)
        self.url = url

    @property
    def problem(self) -> Problem:
        return Problem(self.code, self.title, self.message, self.url)


@dataclass
class _Entry:
    value: Any
    expires: float


@dataclass
class _Response:
    url: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def _system_resolver(host: str, port: int) -> list[tuple[str, int]]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys((str(info[4][0]), port) for info in infos))


def is_public_address(address: str | IpAddress) -> bool:
    """True for a globally routable unicast address (IPv4-mapped IPv6 judged as IPv4). Pure: no lookup."""
    ip = address if not isinstance(address, str) else ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_unspecified or ip.is_reserved)


def may_connect(address: str | IpAddress, host: str, port: int, policy: FetchPolicy) -> bool:
    """The address rule: a host the policy allows may be at any address; any other only at a public one."""
    return policy.allows(host, port) or is_public_address(address)


def _tls_context(ca_file: str | None) -> ssl.SSLContext:
    """The system's trusted authorities, plus the policy's own when it names a file."""
    context = ssl.create_default_context()
    if ca_file:
        try:
            context.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"The certificate authorities file {ca_file} cannot be read: {exc}") from None
    return context


class Fetcher:
    """Fetches under a FetchPolicy; thread-safe; JSON results cached for the policy's ttl."""

    def __init__(self, policy: FetchPolicy = FetchPolicy(), *, clock: Callable[[], float] = time.monotonic,
                 resolver: Resolver | None = None, ssl_context: ssl.SSLContext | None = None) -> None:
        self.policy = policy
        self._clock = clock
        self._resolve = resolver or _system_resolver
        self._ssl = ssl_context or _tls_context(policy.ca_file)
        self._cache: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    # --- public API -------------------------------------------------------------------

    def get(self, url: str, accept: str = "application/json") -> bytes:
        """The body of a 200 response, following allowed redirects; raises FetchError."""
        return self._get(url, accept).body

    def get_json(self, url: str, accept: str = "application/ld+json, application/json") -> Any:
        """Parsed JSON at `url` (cached for the ttl); raises FetchError (code fetch_not_json, ...)."""
        cached = self._cached(url)
        if cached is not None:
            return cached.value
        body = self.get(url, accept)
        try:
            value = json.loads(body.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise FetchError(f"{url} did not return a JSON document.", code="fetch_not_json", url=url) from None
        self._store(url, value)
        return value

    def documents(self, controller: str) -> dict[str, Any] | None:
        """DocumentSource: the DID document of a did:web, or the document at an https URL.

        None for identifiers that need no fetching (did:key) or that no rule resolves;
        raises FetchError when a document should exist but cannot be fetched.
        """
        url = did_web_url(controller) if controller.startswith("did:web:") else (
            controller if controller.startswith(("https://", "http://")) else None)
        if url is None:
            return None
        document = self.get_json(url)
        if not isinstance(document, dict):
            raise FetchError(f"The document at {url} is not a JSON object.", code="fetch_not_json", url=url)
        if controller.startswith("did:web:") and document.get("id") != controller:
            raise FetchError(f"The DID document at {url} is for {document.get('id')!r}, not {controller}.",
                             code="did_document_mismatch", url=url)
        return document

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    # --- cache ------------------------------------------------------------------------

    def _cached(self, url: str) -> _Entry | None:
        with self._lock:
            entry = self._cache.get(url)
            if entry is None:
                return None
            if entry.expires <= self._clock():
                del self._cache[url]
                return None
            self._cache.move_to_end(url)
            return entry

    def _store(self, url: str, value: Any) -> None:
        with self._lock:
            self._cache[url] = _Entry(value, self._clock() + self.policy.ttl_seconds)
            self._cache.move_to_end(url)
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.popitem(last=False)

    # --- requests ---------------------------------------------------------------------

    def _get(self, url: str, accept: str) -> _Response:
        deadline = self._clock() + self.policy.timeout
        seen: set[str] = set()
        current = url
        first_host = None
        for _hop in range(self.policy.max_redirects + 1):
            if current in seen:
                raise FetchError(f"{url} redirects in a loop.", code="fetch_redirect_loop", url=url)
            seen.add(current)
            scheme, host, port, target = self._check_url(current)
            if first_host is None:
                first_host = host
            elif host != first_host:
                raise FetchError(f"{url} redirects to another host ({host}); that is not followed.",
                                 code="fetch_redirect_refused", url=url)
            response = self._request(scheme, host, port, target, accept, deadline, current)
            if response.status in (301, 302, 303, 307, 308):
                location = response.headers.get("location")
                if not location:
                    raise FetchError(f"{current} answered a redirect without a location.",
                                     code="fetch_http_error", url=url)
                following = urljoin(current, location)
                if scheme == "https" and not following.startswith("https:"):
                    raise FetchError(f"{current} redirects from https to {following}; that is not followed.",
                                     code="fetch_redirect_refused", url=url)
                current = following
                continue
            if response.status != 200:
                raise FetchError(f"{current} answered HTTP {response.status}.", code="fetch_http_error", url=url)
            return response
        raise FetchError(f"{url} redirects more than {self.policy.max_redirects} times.",
                         code="fetch_redirect_loop", url=url)

    def _check_url(self, url: str) -> tuple[str, str, int, str]:
        """(scheme, host, port, request target); raises fetch_not_https / fetch_bad_url."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise FetchError(f"{url!r} is not a valid URL.", code="fetch_bad_url", url=url) from None
        scheme, host = parts.scheme.lower(), (parts.hostname or "").rstrip(".")
        if scheme not in ("https", "http") or not host or parts.username or parts.password:
            raise FetchError(f"{url!r} is not an https URL this verifier may fetch.", code="fetch_bad_url", url=url)
        port = port or (443 if scheme == "https" else 80)
        if scheme == "http" and not self.policy.allows(host, port):
            raise FetchError(f"{url} is not https; documents are fetched over https only.",
                             code="fetch_not_https", url=url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return scheme, host, port, target

    def _address(self, host: str, port: int, url: str) -> tuple[str, int]:
        """Where to connect: resolved once, a public address unless the host is allowed."""
        try:
            ipaddress.ip_address(host)
            candidates = [(host, port)]
        except ValueError:
            try:
                candidates = self._resolve(host, port)
            except (OSError, UnicodeError):
                raise FetchError(f"The host {host} could not be found.", code="fetch_dns_failed", url=url) from None
        if not candidates:
            raise FetchError(f"The host {host} could not be found.", code="fetch_dns_failed", url=url)
        public = [c for c in candidates if may_connect(c[0], host, port, self.policy)]
        if not public:
            raise FetchError(f"{host} is a local or private network address ({candidates[0][0]}); "
                             "the verifier does not fetch from there.", code="fetch_forbidden_address", url=url)
        return public[0]

    def _request(self, scheme: str, host: str, port: int, target: str, accept: str, deadline: float,
                 url: str) -> _Response:
        address = self._address(host, port, url)
        remaining = deadline - self._clock()
        if remaining <= 0:
            raise _timeout(url, self.policy.timeout)
        connection = _pinned_connection(scheme, host, port, address, remaining, self._ssl)
        try:
            connection.request("GET", target, headers={
                "Host": host if port in (80, 443) else f"{host}:{port}", "Accept": accept,
                "Accept-Encoding": "identity", "User-Agent": USER_AGENT})
            response = connection.getresponse()
            headers = {k.lower(): v for k, v in response.getheaders()}
            if response.status in (301, 302, 303, 307, 308) or response.status != 200:
                return _Response(url, response.status, headers)
            return _Response(url, 200, headers, self._read_body(response, headers, deadline, url))
        except FetchError:
            raise
        except TimeoutError:
            raise _timeout(url, self.policy.timeout) from None
        except ssl.SSLError as exc:
            raise FetchError(f"The secure connection to {host} failed ({exc.reason or exc}).",
                             code="fetch_tls_failed", url=url) from None
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(f"{url} could not be fetched ({type(exc).__name__}).",
                             code="fetch_connection_failed", url=url) from None
        finally:
            connection.close()

    def _read_body(self, response: http.client.HTTPResponse, headers: dict[str, str], deadline: float,
                   url: str) -> bytes:
        limit = self.policy.max_bytes
        if headers.get("content-encoding", "identity").lower() not in ("identity", ""):
            raise FetchError(f"{url} sent a compressed body that was not asked for.",
                             code="fetch_http_error", url=url)
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            raise _too_large(url, limit)
        chunks, size = [], 0
        while True:
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise _timeout(url, self.policy.timeout)
            if response.fp is not None and hasattr(response.fp, "raw"):
                response.fp.raw._sock.settimeout(remaining)  # type: ignore[union-attr]
            chunk = response.read1(65536)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > limit:
                raise _too_large(url, limit)
            chunks.append(chunk)


def _timeout(url: str, seconds: float) -> FetchError:
    return FetchError(f"{url} did not answer within {seconds:g} seconds.", code="fetch_timeout", url=url)


def _too_large(url: str, limit: int) -> FetchError:
    return FetchError(f"{url} is larger than {limit:,} bytes; no credential document is that large.",
                      code="fetch_too_large", url=url)


def _pinned_connection(scheme: str, host: str, port: int, address: tuple[str, int], timeout: float,
                       context: ssl.SSLContext) -> http.client.HTTPConnection:
    """A connection to `address` that still speaks to `host` (Host header, SNI, certificate)."""
    if scheme == "https":
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(host, port, timeout=timeout,
                                                                             context=context)
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)

    def connect_pinned(_address, timeout=timeout, source_address=None):
        return socket.create_connection(address, timeout, source_address)

    connection._create_connection = connect_pinned  # type: ignore[attr-defined]
    return connection


def did_web_url(did: str) -> str:
    """did:web:host[%3Aport][:path...] -> https://host[:port]/path/did.json or /.well-known/did.json."""
    parts = did[len("did:web:"):].split(":")
    if not parts or not parts[0] or any(not p for p in parts):
        raise FetchError(f"{did} is not a valid did:web identifier.", code="did_web_invalid")
    host = unquote(parts[0])
    if "/" in host or "@" in host:
        raise FetchError(f"{did} is not a valid did:web identifier.", code="did_web_invalid")
    path = "/".join(unquote(p) for p in parts[1:])
    return f"https://{host}/{path}/did.json" if path else f"https://{host}/.well-known/did.json"
