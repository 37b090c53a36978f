"""ASGI middleware in front of Django: request bodies over the limit are refused unread.

Django's ASGI handler spools a whole body to a temporary file before any view
or middleware sees it, and DRF's JSON parser reads the stream without the
DATA_UPLOAD_MAX_MEMORY_SIZE check that ``request.body`` applies; so the limit
is enforced here, before reading: a declared Content-Length over it, or a
chunked body that grows past it, gets 413 with a JSON body.
"""

import json
from typing import Any

from shop.core.errors import CoreErrorCode

Scope = dict[str, Any]
Message = dict[str, Any]

TOO_LARGE = "Request body too large: at most {limit} bytes."


class BodySizeLimit:
    def __init__(self, app: Any, limit: int | None) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or self.limit is None:
            await self.app(scope, receive, send)
            return
        limit = self.limit
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await self.refuse(send)
            return
        received, exceeded, started = 0, False, False

        async def counted_receive() -> Message:
            nonlocal received, exceeded
            message: Message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    return {"type": "http.disconnect"}  # Django stops reading and answers nothing
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counted_receive, tracked_send)
        if exceeded and not started:
            await self.refuse(send)

    async def refuse(self, send: Any) -> None:
        body = {"detail": TOO_LARGE.format(limit=self.limit), "code": CoreErrorCode.TOO_LARGE}
        await send_json(send, 413, body, [(b"connection", b"close")])


async def send_json(send: Any, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]]) -> None:
    """An answer made outside Django: ``body`` as JSON, with ``headers`` besides its own."""
    content = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(content)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": content})
