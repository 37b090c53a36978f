from typing import Any
from urllib.parse import ParseResult

from channels.security.websocket import OriginValidator
from django.conf import settings
from django.urls import path

from shop.realtime.consumers import PriceFeedConsumer

websocket_urlpatterns = [path("ws/price_updates/", PriceFeedConsumer.as_asgi())]


class BrowserOriginValidator(OriginValidator):
    """Browsers must come from an allowed host; programs that send no Origin may connect.

    A missing Origin header cannot be a cross-site browser request, and the feed
    is public data (SPEC §7: open to anonymous clients).
    """

    def valid_origin(self, parsed_origin: ParseResult | None) -> bool:
        return parsed_origin is None or bool(self.validate_origin(parsed_origin))


def feed_application(inner: Any) -> BrowserOriginValidator:
    return BrowserOriginValidator(inner, list(settings.ALLOWED_HOSTS))
