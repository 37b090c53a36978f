"""ASGI entry point: HTTP (Django) and the WebSocket feed on one port (SPEC §2).

In embedded mode the in-process ticker runs as a task of the server's event
loop, started and stopped through the ASGI lifespan protocol.
"""

import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from shop.catalog.ticker import lifespan  # noqa: E402
from shop.core.asgi import BodySizeLimit  # noqa: E402
from shop.realtime.limits import SlowReaderGuard  # noqa: E402, F401 - the ``serve`` command's WebSocket protocol
from shop.realtime.routing import feed_application, websocket_urlpatterns  # noqa: E402
from shop.webhooks.sweeper import run_sweeper  # noqa: E402

router = ProtocolTypeRouter(
    {
        "http": BodySizeLimit(django_asgi_app, settings.DATA_UPLOAD_MAX_MEMORY_SIZE),
        "websocket": feed_application(URLRouter(websocket_urlpatterns)),
    }
)


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        # Embedded mode sends webhooks from threads of this process; its sweep runs here too.
        background = [run_sweeper] if settings.WEBHOOK_DELIVERY == "thread" else []
        await lifespan(scope, receive, send, background=background)
        return
    await router(scope, receive, send)
