"""deploy/nginx.conf's access log, nginx run for real: the tokens of e-mailed links stay out of it."""

import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from shop.tests.proxy import nginx

REFERER = "https://shop.example.com/password-reset/MTI/c2y-secret9token?next=/"


class Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def backend() -> Iterator[str]:
    """A web process stand-in that answers 200 to everything."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow  # a real nginx (make test installs it: scripts/nginx.sh)
def test_the_access_log_keeps_no_token_of_a_link(tmp_path: Path) -> None:
    # given: nginx with deploy/nginx.conf in front of a backend
    paths = {
        "/activate/MTI/c2y-secret1token": "/activate/MTI/[redacted]",
        "/password-reset/MTI/c2y-secret2token/": "/password-reset/MTI/[redacted]",
        "/activate/MTI/c2y-secret3token?x=1": "/activate/MTI/[redacted]",
        "/%61ctivate/MTI/c2y-secret4token": "/activate/MTI/[redacted]",  # what the shop decodes
        "/password-reset/c2y-secret5token": "/password-reset/[redacted]",
        "/api/goods/?limit=1": "/api/goods/?limit=1",  # any other path is logged whole
    }
    directory = tmp_path / "nginx"
    with backend() as address, nginx([address], directory) as base:
        # when: the links are opened, each with a Referer that carries a token too
        for path in paths:
            request = urllib.request.Request(f"{base}{path}", headers={"Referer": REFERER})  # noqa: S310
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - local nginx
                assert response.status == 200
        request = urllib.request.Request(f"{base}/", headers={"Referer": "not a URL c2y-secret6token"})  # noqa: S310
        urllib.request.urlopen(request, timeout=30).close()  # noqa: S310
    # then: the deployment's log has every request, without a token
    log = (directory / "redacted.log").read_text()
    lines = log.splitlines()
    assert len(lines) == len(paths) + 1, log
    assert "secret" not in log, log
    for line, logged in zip(lines, paths.values(), strict=False):
        assert f'"GET {logged} HTTP/1.1" 200 ' in line, line
        assert '"https://shop.example.com"' in line, line  # only the origin of the Referer
    assert '"[redacted]"' in lines[-1]
