"""The codes of the feed's ``error`` events (WebSocket, not HTTP): stable for clients."""

from enum import StrEnum


class FeedErrorCode(StrEnum):
    """In the WebSocket feed's error events, never in an HTTP answer."""

    BAD_GOODS = "bad_goods"
    TOO_MANY_GOODS = "too_many_goods"
    TOO_MANY_CONNECTIONS = "too_many_connections"
    MESSAGE_TOO_BIG = "message_too_big"
    AUTH_FAILED = "auth_failed"
