"""A live microcred with a did:web issuer over TLS on 127.0.0.1, and the peers' verifiers run against it.

microcred is driven only as its users drive it: `issuer.create_app`, the `microcred` CLI and HTTP.
The peers are Node processes (verify-reference.mjs, verify-dcc.mjs) kept open for a whole module,
one credential per stdin line, one JSON result per stdout line. They trust the test's own
certificate authority through NODE_EXTRA_CA_CERTS, and lib/loopback.mjs closes their network to
the server under test.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import queue
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from flask import Flask

from app_support import clean_environment, initialised_app, module_config

INTEROP_DIR = Path(__file__).parent
PEERS = {"digitalbazaar": INTEROP_DIR / "verify-reference.mjs", "dcc": INTEROP_DIR / "verify-dcc.mjs"}
REQUIRE_ENV = "MICROCRED_REQUIRE_INTEROP"
# Read once at import: the suite's fixtures scrub MICROCRED_* variables from each test's environment.
REQUIRED = bool(os.environ.get(REQUIRE_ENV))
SLUG = "questioning-higher-order"
RESULT_TIMEOUT = 60  # seconds for one verification (they take well under one)


def node_or_skip() -> str:
    """The `node` executable once the pinned packages are installed; else skip (locally) or fail (CI)."""
    node = shutil.which("node")
    if node is None:
        problem = "Node.js is not installed (the interop tests run the peers' npm verifiers)"
    elif not (INTEROP_DIR / "node_modules" / "@digitalcredentials" / "verifier-core").is_dir():
        problem = "the peers' npm packages are not installed: run `npm ci --prefix tests/interop`"
    else:
        return node
    if REQUIRED:
        pytest.fail(f"{problem} ({REQUIRE_ENV} is set: CI requires the interop tests)")
    pytest.skip(problem)


class TestAuthority:
    """A throw-away certificate authority and the server certificate it signs for 127.0.0.1."""

    def __init__(self, directory: Path) -> None:
        now = dt.datetime.now(dt.UTC)
        self._key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "microcred interop test CA")])
        self.certificate = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .sign(self._key, hashes.SHA256()))
        self.ca_file = directory / "test-ca.pem"
        self.ca_file.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))
        self._directory = directory

    def server_context(self) -> ssl.SSLContext:
        """TLS for a server at 127.0.0.1: a leaf certificate (IP address SAN) signed by this authority."""
        now = dt.datetime.now(dt.UTC)
        key = ec.generate_private_key(ec.SECP256R1())
        leaf = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(self.certificate.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(self._key, hashes.SHA256()))
        cert_file, key_file = self._directory / "server.pem", self._directory / "server-key.pem"
        cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        return context


class LiveIssuer:
    """microcred serving https://127.0.0.1:PORT (issuer did:web:127.0.0.1%3APORT), driven through its CLI."""

    def __init__(self, app: Flask, base_url: str, ca_file: Path, workdir: Path) -> None:
        self.app, self.base_url, self.ca_file = app, base_url, ca_file
        self._workdir, self._issued = workdir, 0

    def cli(self, *args: str) -> str:
        """Run `microcred ARGS...`; its output (fails the test on a non-zero exit)."""
        result = self.app.test_cli_runner().invoke(args=list(args))
        assert result.exit_code == 0, (args, result.output, result.exception)
        return result.output

    def issue(self, name: str, email: str, slug: str = SLUG) -> dict[str, Any]:
        """`microcred issue`: the signed credential, as written by the CLI."""
        self._issued += 1
        out = self._workdir / f"credential-{self._issued}.json"
        self.cli("issue", "--achievement", slug, "--recipient-email", email, "--recipient-name", name,
                 "--out", str(out))
        return json.loads(out.read_text(encoding="utf-8"))

    def change_status(self, verb: str, credential: dict[str, Any], reason: str) -> str:
        """`microcred revoke|suspend|reinstate ID --reason ...`."""
        return self.cli(verb, credential["id"], "--reason", reason)


@contextmanager
def live_issuer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveIssuer]:
    """An initialised microcred with a did:web issuer, served over TLS on 127.0.0.1 by threads.

    The port is bound first (the base URL, hence the DID, names it); requests go to the app made
    for that URL. Its own fetches may reach this host only, trusting the test authority.
    """
    from werkzeug.serving import make_server

    workdir = tmp_path_factory.mktemp("interop-tls")
    authority = TestAuthority(workdir)
    holder: dict[str, Flask] = {}
    server = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start),
                         threaded=True, ssl_context=authority.server_context())
    host = f"127.0.0.1:{server.server_port}"
    with clean_environment():
        app = initialised_app(module_config(tmp_path_factory, "interop", base_url=f"https://{host}",
                                            fetch_allowed_hosts=host, fetch_ca_file=str(authority.ca_file)))
    holder["app"] = app
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield LiveIssuer(app, f"https://{host}", authority.ca_file, workdir)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
        app.extensions["microcred"].database.dispose()


class Peer:
    """One peer verifier's Node process, verifying credentials one line at a time."""

    def __init__(self, node: str, name: str, origin: str, ca_file: Path, log_file: Path) -> None:
        env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/"),
               "NODE_EXTRA_CA_CERTS": str(ca_file), "MICROCRED_INTEROP_ORIGIN": origin}
        self.name, self._log_file = name, log_file
        self._stderr = open(log_file, "w", encoding="utf-8")  # noqa: SIM115 (closed in close())
        self._process = subprocess.Popen([node, str(PEERS[name]), "--lines"], cwd=INTEROP_DIR, env=env,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
                                         text=True, encoding="utf-8")
        self._lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._lines.put(line)
        self._lines.put("")  # end of output: the process exited

    def verify(self, credential: dict[str, Any], *, refusals_expected: bool = False) -> dict[str, Any]:
        """The peer's result for one credential; fails the test if the peer dies or hangs, or (unless
        `refusals_expected`) if it tried to reach anything but the server under test."""
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps(credential) + "\n")
        self._process.stdin.flush()
        try:
            line = self._lines.get(timeout=RESULT_TIMEOUT)
        except queue.Empty:
            pytest.fail(f"{self.name} gave no result in {RESULT_TIMEOUT}s; its log: {self.log()}")
        if not line:
            pytest.fail(f"{self.name} exited ({self._process.wait()}); its log: {self.log()}")
        result = json.loads(line)
        beyond = result["refused"]
        assert refusals_expected or beyond == [], f"{self.name} tried to reach beyond the server under test: {result}"
        return result

    def log(self) -> str:
        self._stderr.flush()
        return self._log_file.read_text(encoding="utf-8")[-4000:]

    def close(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._reader.join(10)
        assert self._process.stdout is not None
        self._process.stdout.close()
        self._stderr.close()


@contextmanager
def peers(node: str, issuer: LiveIssuer, log_dir: Path) -> Iterator[dict[str, Peer]]:
    """Both peers, started once, against `issuer`."""
    started: dict[str, Peer] = {}
    try:
        for name in PEERS:
            started[name] = Peer(node, name, issuer.base_url, issuer.ca_file, log_dir / f"{name}.log")
        yield started
    finally:
        for peer in started.values():
            peer.close()
