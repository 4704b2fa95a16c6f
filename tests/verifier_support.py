"""Helpers shared by the verifier's conformance and negative tests (tests/test_verifier_*.py).

Everything reads the byte-for-byte copies in tests/vectors/ (see tests/vectors/README.md);
nothing here touches the network or files outside tests/.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from verifier import VerificationReport, add_proof
from verifier.fetch import Fetcher, FetchPolicy
from verifier.multikey import did_key, did_key_verification_method, encode_public_key, multibase_decode

VECTORS = Path(__file__).parent / "vectors"
OB30_REL = "1edtech-digital-credentials-public-validator/inspector-vc/src/test/resources/ob30"
OB30 = VECTORS / OB30_REL
W3C_EDDSA = VECTORS / "w3c-vc-di-eddsa" / "TestVectors"
EDDSA_RDFC = VECTORS / "eddsa-rdfc-2022"
DERIVED = VECTORS / "derived"
OB_IMPL_VECTORS = VECTORS / "1edtech-openbadges-specification/ob_v3p0/impl/test-vectors/obv3p0"
DID_KEY_VECTOR = VECTORS / "w3c-did-method-key/test-vectors/ed25519-x25519.json"

# A fixed clock for every verdict (the vectors are dated 2010-2050).
NOW = datetime(2026, 1, 1, tzinfo=UTC)
SIGNED_AT = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)

ED25519_PRIVATE_PREFIX = b"\x80\x26"  # multicodec ed25519-priv, as in W3C keyPair.json


def load_json(path: Path | str) -> Any:
    """Parsed JSON of a file under tests/vectors (a relative path is taken from there)."""
    return json.loads(_path(path).read_bytes())


def read_text(path: Path | str) -> str:
    """Exact text of a vector file (no newline stripping: the vectors are compared byte for byte)."""
    return _path(path).read_bytes().decode("utf-8")


def _path(path: Path | str) -> Path:
    path = Path(path)
    return path if path.is_absolute() else VECTORS / path


def expected_results() -> dict[str, Any]:
    """derived/expected-results.json (independent pyld + cryptography results for the vectors)."""
    return load_json("derived/expected-results.json")


def without_proof(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "proof"}


@dataclass(frozen=True)
class Ed25519Key:
    """A test signing key and its did:key names."""

    private: Ed25519PrivateKey

    @property
    def public_bytes(self) -> bytes:
        return self.private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def multibase(self) -> str:
        return encode_public_key(self.public_bytes)

    @property
    def did(self) -> str:
        return did_key(self.multibase)

    @property
    def verification_method(self) -> str:
        return did_key_verification_method(self.multibase)

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)


def new_key() -> Ed25519Key:
    return Ed25519Key(Ed25519PrivateKey.generate())


def key_from_seed(seed: bytes) -> Ed25519Key:
    return Ed25519Key(Ed25519PrivateKey.from_private_bytes(seed))


def key_from_private_multibase(private_multibase: str) -> Ed25519Key:
    """W3C vector keys: privateKeyMultibase = z + base58btc(0x80 0x26 || 32-byte seed)."""
    raw = multibase_decode(private_multibase)
    assert raw[:2] == ED25519_PRIVATE_PREFIX and len(raw) == 34, "not an ed25519-priv multikey"
    return key_from_seed(raw[2:])


def unsigned_simple(issuer: Ed25519Key, **overrides: Any) -> dict[str, Any]:
    """The 1EdTech validator's simple.json without its proof, issued by `issuer`'s did:key.

    validFrom is in the past, and the subject carries a hashed email identifier (with a
    boolean) and a number, so every JSON value kind is present.
    """
    document = without_proof(load_json(OB30 / "simple.json"))
    document["issuer"]["id"] = issuer.did
    document["validFrom"] = "2020-01-01T00:00:00Z"
    document["credentialSubject"]["identifier"] = [hashed_email_identity("teacher@example.org", "s3a1t")]
    document["credentialSubject"]["creditsEarned"] = 3
    document.update(overrides)
    return document


def hashed_email_identity(email: str, salt: str) -> dict[str, Any]:
    return {
        "type": "IdentityObject",
        "identityType": "emailAddress",
        "hashed": True,
        "identityHash": "sha256$" + hashlib.sha256((email + salt).encode()).hexdigest(),
        "salt": salt,
    }


def sign(document: dict[str, Any], key: Ed25519Key, *, verification_method: str | None = None,
         **kwargs: Any) -> dict[str, Any]:
    """add_proof with `key`, naming `verification_method` (default: the key's own did:key)."""
    return add_proof(
        document,
        verification_method=verification_method or key.verification_method,
        sign=key.sign,
        created=kwargs.pop("created", SIGNED_AT),
        **kwargs,
    )


def controller_document(controller: str, *methods: tuple[str, str]) -> dict[str, Any]:
    """A hand-built controller document for `controller` listing each (method id, Ed25519
    publicKeyMultibase) as a Multikey under assertionMethod: what an issuer would publish."""
    return {"id": controller,
            "verificationMethod": [{"id": vm, "type": "Multikey", "controller": controller, "publicKeyMultibase": key}
                                   for vm, key in methods],
            "assertionMethod": [vm for vm, _ in methods]}


def fragment_key_document(document: dict[str, Any]) -> dict[str, Any]:
    """The issuer document a vector would need: its issuer listing the key its proofs name in the
    verificationMethod fragment (https://issuer#z6Mk...)."""
    issuer = document["issuer"]["id"] if isinstance(document["issuer"], dict) else document["issuer"]
    proofs = document["proof"] if isinstance(document["proof"], list) else [document["proof"]]
    methods = [p["verificationMethod"] for p in proofs if isinstance(p.get("verificationMethod"), str)]
    return controller_document(issuer, *[(vm, vm.split("#", 1)[1]) for vm in methods])


# --- paths into JSON documents ----------------------------------------------------------

Path_ = tuple[Any, ...]


def leaf_paths(node: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    """Every path to a scalar (string, number, boolean, null)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaf_paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from leaf_paths(value, (*prefix, index))
    else:
        yield prefix


def member_paths(node: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    """Every path to an object member or array element (each can be removed)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from member_paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*prefix, index)
            yield from member_paths(value, (*prefix, index))


def get_at(node: Any, path: Path_) -> Any:
    for part in path:
        node = node[part]
    return node


def set_at(document: Any, path: Path_, value: Any) -> Any:
    """A deep copy of `document` with the value at `path` replaced."""
    result = copy.deepcopy(document)
    get_at(result, path[:-1])[path[-1]] = value
    return result


def delete_at(document: Any, path: Path_) -> Any:
    """A deep copy of `document` without the member or element at `path`."""
    result = copy.deepcopy(document)
    del get_at(result, path[:-1])[path[-1]]
    return result


def changed_scalar(value: Any) -> Any:
    """A different value of the same kind: strings get a character, numbers +1, booleans flip."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    raise TypeError(f"no change defined for {value!r}")


def path_id(path: Path_) -> str:
    return "/".join(str(part) for part in path) or "/"


# --- reports ---------------------------------------------------------------------------

def statuses(report: VerificationReport) -> dict[str, str]:
    """check id -> status value."""
    return {check.id: check.status.value for check in report.checks}


def problem_codes(report: VerificationReport) -> set[str]:
    return {problem.code for problem in report.problems}


def failed_checks(report: VerificationReport) -> set[str]:
    return {check.id for check in report.checks if not check.ok}


def json_ld_documents() -> list[Path]:
    """Every JSON file under tests/vectors whose top level is an object with an @context."""
    found = []
    for path in sorted(VECTORS.rglob("*")):
        if not path.is_file() or path.suffix not in (".json", ".jsonld", ".1ob", ""):
            continue
        try:
            data = json.loads(path.read_bytes())
        except (UnicodeDecodeError, ValueError):
            continue
        if isinstance(data, dict) and "@context" in data:
            found.append(path)
    return found


# --- a local web site standing in for issuers' https hosts ------------------------------

class LocalSite:
    """Plain HTTP and HTTPS servers on 127.0.0.1 serving `routes` for made-up host names.

    routes: {(host, path): body bytes | dict (JSON) | callable(handler) -> None}. Every request
    is recorded in `hits` as (scheme, host, path). `fetcher()` makes a Fetcher that resolves the
    site's hosts to these servers (allowed explicitly) and trusts the site's own certificate.
    Use as a context manager.
    """

    def __init__(self, routes: dict[tuple[str, str], Any] | None = None, hosts: tuple[str, ...] = ("example.org",)):
        self.routes: dict[tuple[str, str], Any] = dict(routes or {})
        self.hosts = tuple(dict.fromkeys((*hosts, *(h for h, _ in self.routes))))
        self.hits: list[tuple[str, str, str]] = []
        self._servers: list[Any] = []

    def __enter__(self) -> Self:
        import ssl
        import tempfile
        import threading
        from http.server import ThreadingHTTPServer

        cert_pem, key_pem = _self_signed(self.hosts)
        self.ca_pem = cert_pem.decode()
        with tempfile.TemporaryDirectory() as tmp:
            cert_file, key_file = Path(tmp, "cert.pem"), Path(tmp, "key.pem")
            cert_file.write_bytes(cert_pem)
            key_file.write_bytes(key_pem)
            server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            server_context.load_cert_chain(cert_file, key_file)
        for scheme in ("http", "https"):
            server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self, scheme))
            server.daemon_threads = True
            if scheme == "https":
                server.socket = server_context.wrap_socket(server.socket, server_side=True)
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
            self._servers.append(server)
        self.http_port = self._servers[0].server_address[1]
        self.https_port = self._servers[1].server_address[1]
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()

    def resolver(self, host: str, port: int) -> list[tuple[str, int]]:
        if host not in self.hosts:
            raise OSError("unknown host")
        return [("127.0.0.1", self.https_port if port == 443 else self.http_port)]

    def ssl_context(self) -> Any:
        import ssl
        return ssl.create_default_context(cadata=self.ca_pem)

    def fetcher(self, *, allowed: bool = True, clock: Any = time.monotonic, **policy: Any) -> Fetcher:
        """A Fetcher that reaches this site; `allowed=False` keeps the production rules (refused)."""
        hosts = frozenset(self.hosts) if allowed else frozenset()
        return Fetcher(FetchPolicy(allowed_hosts=hosts, **policy), resolver=self.resolver,
                       ssl_context=self.ssl_context(), clock=clock)


def _handler_class(site: LocalSite, scheme: str) -> type:
    from http.server import BaseHTTPRequestHandler

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            host = (self.headers.get("Host") or "").split(":")[0]
            site.hits.append((scheme, host, self.path))
            route = site.routes.get((host, self.path))
            if route is None:
                self.send_error(404)
                return
            if callable(route):
                route(self)
                return
            body = json.dumps(route).encode() if isinstance(route, (dict, list)) else route
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


def _self_signed(hosts: tuple[str, ...]) -> tuple[bytes, bytes]:
    """A certificate for `hosts` (and its key), PEM."""
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem
