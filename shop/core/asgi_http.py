"""Django's HTTP handling under the ASGI server, the synchronous way.

Every view of the shop is synchronous (DRF), and so is most of its
middleware. Django's ASGI handler runs such a stack by hopping between the
event loop and threads: one hop per synchronous middleware hook and one for
the view, in a thread started for each request. This adapter instead runs
Django's WSGI handler (the whole middleware chain and the view) in one call on
a fixed pool of ``WEB_THREADS`` threads per process, and hands the answer
back to the event loop, which keeps serving the WebSocket feed. The request
body is read before the call (``BodySizeLimit`` in front caps it); the answer
is buffered, which suits JSON and the small static files the shop serves.

Overload is shed, not queued without end: at most ``WEB_QUEUE`` requests wait
for a thread (past that, 503 ``busy`` with Retry-After at once, before the body
is read), a request whose client disconnected while it waited is dropped
unrun, and the probes (``/healthz``, ``/metrics``) have a thread of their own,
so a load balancer's health check never waits behind a burst.

Why not a2wsgi's ``WSGIMiddleware`` (issue 24): these rules wrap it cleanly
(``bench/http_bridge.py``), but it relays each answer to the event loop message by
message, the thread waiting on the loop each time, and it served fewer requests a
second than this bridge in every paired run of ``bench/servers.py``
(docs/benchmarks.md, "Serving HTTP").
"""

import asyncio
import sys
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from tempfile import SpooledTemporaryFile
from typing import Any

from shop.core.asgi import send_json
from shop.core.errors import CoreErrorCode
from shop.core.metrics import HTTP_SHED

Scope = dict[str, Any]
Message = dict[str, Any]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Answer = tuple[int, list[tuple[bytes, bytes]], list[bytes]]

SPOOL_BYTES = 64 * 1024  # bodies above this wait in a temporary file
PROBE_PATHS = frozenset(("/healthz", "/metrics"))
BUSY = "The shop is busy; try again in a moment."


class Admission:
    """At most ``capacity`` requests running or waiting; the probes' paths always pass. Only the
    event loop's thread counts, so no lock."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.admitted = 0

    async def enter(self, scope: Scope, send: Callable[[Message], Any]) -> bool | None:
        """Whether the request is a probe, once admitted; None when it was answered 503 busy."""
        probe = scope["path"] in PROBE_PATHS
        if not probe and self.admitted >= self.capacity:
            HTTP_SHED.labels("busy").inc()
            await send_json(send, 503, {"detail": BUSY, "code": CoreErrorCode.BUSY}, [(b"retry-after", b"1")])
            return None
        self.admitted += not probe
        return probe

    def leave(self, probe: bool) -> None:
        self.admitted -= not probe


class SyncHttp:
    def __init__(self, wsgi_app: WSGIApp, threads: int, queue: int) -> None:
        self.wsgi_app = wsgi_app
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="http")
        self.probes = ThreadPoolExecutor(max_workers=1, thread_name_prefix="http-probe")
        self.admission = Admission(threads + queue)

    async def __call__(
        self, scope: Scope, receive: Callable[[], Any], send: Callable[[Message], Any]
    ) -> None:
        probe = await self.admission.enter(scope, send)
        if probe is None:
            return
        try:
            answer = await self.run(scope, receive, self.probes if probe else self.executor)
        finally:
            self.admission.leave(probe)
        if answer is None:
            return
        status, headers, chunks = answer
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"".join(chunks)})

    async def run(
        self, scope: Scope, receive: Callable[[], Any], executor: ThreadPoolExecutor
    ) -> Answer | None:
        """Read the body, then answer on a thread of ``executor``; None when the client left first."""
        with SpooledTemporaryFile(max_size=SPOOL_BYTES) as body:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return None  # the client went away before it finished asking
                body.write(message.get("body", b""))
                if not message.get("more_body"):
                    break
            body.seek(0)
            gone = threading.Event()
            watcher = asyncio.ensure_future(watch_disconnect(receive, gone))
            try:
                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(executor, self.answer, scope, body, gone)
            finally:
                watcher.cancel()

    def answer(self, scope: Scope, body: Any, gone: threading.Event | None = None) -> Answer | None:
        """Run the WSGI application on one request, in a thread of the pool (unless its client
        left while it waited for the thread)."""
        if gone is not None and gone.is_set():
            HTTP_SHED.labels("client_gone").inc()
            return None
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            started[:] = [status, headers]

        result = self.wsgi_app(environ_of(scope, body), start_response)
        try:
            chunks = list(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()  # Django's request_finished: the database connection goes back to the pool
        status, headers = started
        return (
            int(status.split(" ", 1)[0]),
            [(name.lower().encode("latin1"), value.encode("latin1")) for name, value in headers],
            chunks,
        )


async def watch_disconnect(receive: Callable[[], Any], gone: threading.Event) -> None:
    """Set ``gone`` when the client disconnects (the body is read: what comes next is that)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            gone.set()
            return


def environ_of(scope: Scope, body: Any) -> dict[str, Any]:
    """The WSGI environ of an ASGI HTTP scope (PEP 3333; headers as ``HTTP_*``, joined by commas)."""
    root = scope.get("root_path", "")
    path = scope["path"]
    if root and path.startswith(root):
        path = path[len(root) :]
    server = scope.get("server") or ("localhost", 80)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": root.encode("utf8").decode("latin1"),
        "PATH_INFO": path.encode("utf8").decode("latin1"),
        "QUERY_STRING": scope["query_string"].decode("latin1"),
        "SERVER_PROTOCOL": f"HTTP/{scope['http_version']}",
        "SERVER_NAME": server[0],
        "SERVER_PORT": str(server[1] or 0),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body if body is not None else BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if scope.get("client"):
        environ["REMOTE_ADDR"] = scope["client"][0]
    headers: dict[str, list[str]] = defaultdict(list)
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin1").upper().replace("-", "_")
        if name not in ("CONTENT_LENGTH", "CONTENT_TYPE"):
            name = "HTTP_" + name
        headers[name].append(raw_value.decode("latin1"))
    environ.update((name, ",".join(values)) for name, values in headers.items())
    return environ
