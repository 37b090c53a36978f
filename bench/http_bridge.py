"""The shop with its HTTP bridged by a2wsgi, for ``bench/servers.py`` to compare (issue 24).

    python bench/servers.py --serve bench.http_bridge:application   # manage.py serve, this app

The shop runs Django's WSGI handler on its own pool of threads (``shop.core.asgi_http``).
Here the same overload rules (the bounded queue, the probes' lane, shedding, dropping a
request whose client left) wrap ``a2wsgi.WSGIMiddleware(app, workers=WEB_THREADS)``
instead: a2wsgi runs the handler on its pool and relays the answer to the event loop
message by message (start, each chunk, the end), each a wait of the thread on the loop,
where the shop's bridge hands the buffered answer over once. docs/benchmarks.md has the
figures of both.
"""

import asyncio
import threading
from collections.abc import Callable, Iterable
from typing import Any

from a2wsgi import WSGIMiddleware
from django.conf import settings

from config import asgi as shop
from shop.core.asgi import BodySizeLimit
from shop.core.asgi_http import Admission, watch_disconnect
from shop.core.metrics import HTTP_SHED

Scope = dict[str, Any]
Message = dict[str, Any]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

GONE = "tickshop.client_gone"  # in the scope a2wsgi hands on as environ["asgi.scope"]


def unless_gone(app: WSGIApp) -> WSGIApp:
    """``app``, not run for a request whose client left while it waited for a thread."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["asgi.scope"][GONE].is_set():
            HTTP_SHED.labels("client_gone").inc()
            return []
        return app(environ, start_response)

    return wsgi


class A2wsgiHttp:
    """``shop.core.asgi_http.SyncHttp``'s rules around a2wsgi's ``WSGIMiddleware``."""

    def __init__(self, wsgi_app: WSGIApp, threads: int, queue: int) -> None:
        app = unless_gone(wsgi_app)
        self.pool = WSGIMiddleware(app, workers=threads)  # type: ignore[arg-type]
        self.probes = WSGIMiddleware(app, workers=1)  # type: ignore[arg-type]
        self.admission = Admission(threads + queue)

    async def __call__(
        self, scope: Scope, receive: Callable[[], Any], send: Callable[[Message], Any]
    ) -> None:
        probe = await self.admission.enter(scope, send)
        if probe is None:
            return
        try:
            await self.run(scope, receive, send, self.probes if probe else self.pool)
        finally:
            self.admission.leave(probe)

    async def run(
        self, scope: Scope, receive: Callable[[], Any], send: Callable[[Message], Any], bridge: WSGIMiddleware
    ) -> None:
        # The body is read here, so that the client's disconnect can be watched while the
        # request waits (a2wsgi would read it from the thread, through the same receive).
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        request = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        gone = threading.Event()

        async def replay() -> Message:
            return request

        async def send_unless_gone(message: Message) -> None:
            if not gone.is_set():
                await send(message)

        watcher = asyncio.ensure_future(watch_disconnect(receive, gone))
        try:
            await bridge({**scope, GONE: gone}, replay, send_unless_gone)  # type: ignore[arg-type]
        finally:
            watcher.cancel()


http = BodySizeLimit(
    A2wsgiHttp(shop.django_app, settings.WEB_THREADS, settings.WEB_QUEUE),
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
)


async def application(scope: Scope, receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await http(scope, receive, send)
    else:
        await shop.application(scope, receive, send)
