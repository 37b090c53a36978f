"""ASGI entry point: HTTP (Django) and the WebSocket feed on one port (SPEC §2).

HTTP goes to Django's request handling run synchronously on a pool of threads
(``shop.core.asgi_http``: every view is synchronous, and so it costs one
thread hop a request instead of several); the feed is Channels on the event loop.

In embedded mode the in-process ticker (and the webhooks' sweep) run as tasks of
the server's event loop, started and stopped through the ASGI lifespan
protocol (``shop.ops.lifespan``).
"""

import os
from typing import Any

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_app = get_wsgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from shop.core.asgi import BodySizeLimit  # noqa: E402
from shop.core.asgi_http import SyncHttp  # noqa: E402
from shop.ops.lifespan import lifespan  # noqa: E402
from shop.realtime.routing import feed_application, websocket_urlpatterns  # noqa: E402

router = ProtocolTypeRouter(
    {
        "http": BodySizeLimit(
            SyncHttp(django_app, settings.WEB_THREADS, settings.WEB_QUEUE),
            settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
        ),
        "websocket": feed_application(URLRouter(websocket_urlpatterns)),
    }
)


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await lifespan(scope, receive, send)
        return
    await router(scope, receive, send)
