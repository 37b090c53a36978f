"""The codes of the webhooks' errors: the ``code`` of an error answer, stable for clients."""

from enum import StrEnum


class WebhookErrorCode(StrEnum):
    EVENTS_REQUIRED = "webhook_events_required"
    EVENT_UNKNOWN = "webhook_event_unknown"
    URL_INVALID = "webhook_url_invalid"
    URL_NOT_HTTPS = "webhook_url_not_https"
    URL_UNRESOLVED = "webhook_url_unresolved"
    URL_NOT_PUBLIC = "webhook_url_not_public"
