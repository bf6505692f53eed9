"""A fake Gravatar + GitHub + personal-website server on loopback, with a fixed latency per request.

Used by the Celery integration test and the enrichment benchmark (tests/bench/bench_enrichment.py):
point ``ENRICHMENT_GRAVATAR_URL`` at ``base + "/gravatar"``, ``ENRICHMENT_GITHUB_API_URL`` at
``base + "/github"``, give contacts the website ``base + "/site/<login>"`` and the handle
``github:<login>``, and allow private addresses (``ENRICHMENT_ALLOW_PRIVATE_ADDRESSES``).
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FakeProviders:
    base: str
    requests: list[str] = field(default_factory=list)

    def site(self, login: str) -> str:
        return f"{self.base}/site/{login}"


def _handler(server: FakeProviders, latency: float) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            server.requests.append(self.path)
            time.sleep(latency)
            parts = [p for p in self.path.split("?", 1)[0].split("/") if p]
            if parts[:2] == ["gravatar", "profiles"] and len(parts) == 3:
                sha = parts[2]
                profile = {"profile_url": f"https://gravatar.com/{sha[:10]}", "display_name": f"Person {sha[:6]}"}
                self._send(200, json.dumps(profile).encode(), "application/json")
            elif parts[:2] == ["github", "users"] and len(parts) == 3:
                login = parts[2]
                user = {
                    "login": login,
                    "type": "User",
                    "html_url": f"https://github.com/{login}",
                    "name": login.title(),
                    "blog": server.site(login),
                    "location": "Lisbon",
                }
                self._send(200, json.dumps(user).encode(), "application/json")
            elif parts[:1] == ["site"] and len(parts) == 2:
                login = parts[1]
                page = (
                    f"<!doctype html><html><head><title>{login}</title>"
                    f'<link rel="me" href="https://github.com/{login}"></head>'
                    f'<body><div class="h-card"><a class="u-url p-name" href="{server.site(login)}">{login}</a>'
                    f'<p class="p-job-title">Engineer</p></div></body></html>'
                )
                self._send(200, page.encode(), "text/html; charset=utf-8")
            else:
                self._send(404, b"{}", "application/json")

    return Handler


@contextmanager
def fake_providers(latency: float = 0.1) -> Iterator[FakeProviders]:
    """Serve the fake providers on 127.0.0.1 (a free port) until the block ends."""
    info = FakeProviders(base="")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(info, latency))
    httpd.daemon_threads = True
    info.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield info
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
