"""A real HTTP receiver on a free loopback port: records every POST, answers as scripted."""

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from shop.tests.live import wait_until

TRICKLE_FOR = 60.0


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)  # when its body had come

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    # Status codes to answer, in order; 200 once they are used up.
    script: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # When set, every request is held unanswered until ``release`` is set (a stuck endpoint).
    hold: bool = False
    release: threading.Event = field(default_factory=threading.Event)
    # When set, the answer starts at once and then trickles, one byte every ``trickle`` seconds
    # (each well within a socket timeout), never ending until ``release`` or the sender hangs up.
    trickle: float | None = None

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            bodies = [r.json for r in self.received]
        return [b for b in bodies if kind is None or b["type"] == kind]

    def wait_for(self, count: int, kind: str | None = None, timeout: float = 60) -> list[dict[str, Any]]:
        wait_until(lambda: len(self.events(kind)) >= count, timeout=timeout)
        return self.events(kind)


@contextmanager
def receiver() -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    state = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hooks")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with state.lock:
                state.received.append(Received(self.path, dict(self.headers.items()), body))
                status = state.script.pop(0) if state.script else 200
            if state.trickle is not None:
                self._trickle(state.trickle)
                return
            if state.hold:
                state.release.wait(60)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _trickle(self, every: float) -> None:
            self.close_connection = True
            try:
                self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Trickle: ")
                self.wfile.flush()
                # At most TRICKLE_FOR seconds: a sender without a deadline fails its test, not hangs it.
                for _ in range(int(TRICKLE_FOR / every)):
                    if state.release.wait(every):
                        break
                    self.wfile.write(b"a")
                    self.wfile.flush()
            except OSError:
                pass  # the sender hung up

        def log_message(self, *args: Any) -> None:
            pass

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
