"""Fixtures for enrichment tests: sample bodies, a respx-backed client, local test servers.

Local servers bind 127.0.0.1 only, on a free port, and stop themselves: every streaming
handler gives up after ``MAX_HANDLER_SECONDS`` or as soon as the client hangs up, and the
server is shut down when the test ends.
"""

from __future__ import annotations

import datetime
import http.server
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx

from enrichment import resilience
from enrichment.http import AddressPolicy, Client
from socialcrm.netpolicy import system_resolve

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "enrichment"
MAX_HANDLER_SECONDS = 10.0


def sample(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


class FakeDns:
    """TXT/SRV answers from a dict, so no test asks a real DNS server."""

    def __init__(self, txt: dict[str, list[str]] | None = None) -> None:
        self.txt_records = txt or {}
        self.queries: list[str] = []

    def txt(self, name: str) -> list[str]:
        self.queries.append(name)
        return self.txt_records.get(name, [])

    def srv(self, name: str) -> list[tuple[str, int]]:
        return []


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    """Each test starts with no rate-limit buckets or hold-offs (in Redis when REDIS_URL is set).

    Reset before the test only: tests that forbid network connections are still patched after it.
    """
    resilience.reset_limits()
    yield


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    """A respx router that fails the test on any request it has no route for."""
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
        yield mock


@pytest.fixture
def fake_dns() -> FakeDns:
    return FakeDns()


@pytest.fixture
def client(router: respx.MockRouter, fake_dns: FakeDns) -> Iterator[Client]:
    """The real client with HTTP mocked at the transport by respx."""
    with Client(transport=httpx.MockTransport(router.handler), dns=fake_dns) as c:
        yield c


@dataclass
class LocalServer:
    """A threaded HTTP(S) server on 127.0.0.1 that records the requests it got."""

    port: int
    scheme: str
    cert_file: Path | None = None
    requests: list[dict[str, str]] = field(default_factory=list)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"


def _handler(server: LocalServer, stop: threading.Event) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            server.requests.append({"path": parts.path, "host": self.headers.get("Host", "")})
            route = getattr(self, f"route_{parts.path.strip('/') or 'index'}", None)
            if route is None:
                self._send(404, b"not here")
            else:
                route(query)

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def route_ok(self, query: dict[str, str]) -> None:
            self._send(200, b"hello", {"Content-Type": "text/plain"})

        def route_redirect(self, query: dict[str, str]) -> None:
            self._send(302, b"", {"Location": query["to"]})

        def _stream(self, chunk: bytes, pause: float, headers: dict[str, str] | None = None) -> None:
            self.send_response(200)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            deadline = time.monotonic() + MAX_HANDLER_SECONDS
            try:
                while not stop.is_set() and time.monotonic() < deadline:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                    if pause:
                        time.sleep(pause)
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
                return  # the client gave up, as it should

        def route_endless(self, query: dict[str, str]) -> None:
            self._stream(b"x" * 16384, 0)

        def route_drip(self, query: dict[str, str]) -> None:
            self._stream(b"x", 0.05)

        def route_huge(self, query: dict[str, str]) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(50 * 1024 * 1024))
            self.end_headers()
            self.wfile.write(b"x" * 1024)

        def route_stall(self, query: dict[str, str]) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "10")
            self.end_headers()
            self.wfile.flush()
            stop.wait(MAX_HANDLER_SECONDS)

    return Handler


def _certificate(tmp_path: Path, hostname: str) -> tuple[Path, Path]:
    """A self-signed certificate for ``hostname`` (key file, certificate file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = tmp_path / "key.pem", tmp_path / "cert.pem"
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


@pytest.fixture
def local_server(tmp_path: Path) -> Iterator[Callable[..., LocalServer]]:
    """Start local servers: ``local_server()`` for HTTP, ``local_server(tls_host="a.test")`` for HTTPS."""
    started: list[tuple[http.server.ThreadingHTTPServer, threading.Thread, threading.Event]] = []

    def start(tls_host: str = "") -> LocalServer:
        stop = threading.Event()
        info = LocalServer(port=0, scheme="https" if tls_host else "http")
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(info, stop))
        httpd.daemon_threads = True
        info.port = httpd.server_address[1]
        if tls_host:
            key_file, cert_file = _certificate(tmp_path, tls_host)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert_file, key_file)
            httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
            info.cert_file = cert_file
        thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        started.append((httpd, thread, stop))
        return info

    yield start
    for httpd, thread, stop in started:
        stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def resolver_with(names: dict[str, list[str]]) -> Callable[[str, int], list[str]]:
    """A resolver that answers ``names`` itself and everything else like the system does."""

    def resolve(host: str, port: int) -> list[str]:
        if host in names:
            return names[host]
        return system_resolve(host, port)

    return resolve


def trusted_policy(server: LocalServer, names: dict[str, list[str]] | None = None) -> AddressPolicy:
    """The production policy, except that this one local server may be reached."""
    return AddressPolicy(resolver=resolver_with(names or {}), trusted=frozenset({("127.0.0.1", server.port)}))
