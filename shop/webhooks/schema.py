"""OpenAPI: what a webhook delivery carries, as components integrators can generate types from.

OpenAPI 3.0 (the version the schema is in) has no place for outgoing calls, so the
event bodies are documented as components (``WebhookEvent`` and one ``data``
shape per type, most of them the API's own) and the ``webhooks`` tag says how
deliveries are sent and signed.
"""

from typing import Any

from shop.core.events import EventType

DELIVERIES = """Staff register endpoints here; the shop then POSTs each event it wants to its URL, \
after the change is committed, at least once.

* Body: `{"id", "type", "created_at", "data"}` (schema `WebhookEvent`; `data` per type: \
`order.created`, `order.paid` and `order.completed` an `Order`, `order.cancelled` a \
`WebhookOrderCancelled` (the order and its `reason`: shopper, staff or expired), `prices.batch` a `WebhookPricesBatch` (the feed's batch: same `seq`, \
`at` and prices, in the base currency), `sale.started` / `sale.ended` a `Sale` (`{id, deleted}` \
for a deleted one), `rate.changed` a `WebhookRate`, `price.alert` a `WebhookPriceAlert`: the shopper's alert that a \
committed price fired).
* `Tickshop-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the secret>`; \
`Tickshop-Event-Id` repeats `id` (de-duplicate on it: delivery is at least once).
* A complete 2xx answer within 10 s (`WEBHOOK_ATTEMPT_SECONDS`, wall-clock, however the answer \
trickles) delivers; anything else is retried with exponential backoff (about 5 s, then 3x each \
time) for 24 hours, then the delivery is marked failed. After an attempt the endpoint does not \
answer at all, nothing is sent to it before that delivery's retry (`retry_at`).
* An endpoint whose every attempt fails for 24 hours (`WEBHOOK_DISABLE_AFTER_SECONDS`) is switched \
off: `is_active` false, `disabled_reason` says why; switching it on clears that.
* `prices.batch` deliveries to one endpoint keep `seq` order. At most 100 wait per endpoint \
(`WEBHOOK_MAX_PENDING_BATCHES`): past that the oldest are `dropped`, never sent, so a gap in `seq` \
means batches were missed; read the current prices again (`/api/goods/`, the feed's snapshot).
* URLs must be https and resolve to public addresses."""


FORBIDDEN = {
    "description": "Staff only.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def document_webhook_events(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["WebhookPrice"] = {
        "type": "object",
        "properties": {
            "goods": {"type": "integer"},
            "price": {"type": "string", "format": "decimal", "example": "12.30"},
            "at": {"type": "string", "format": "date-time"},
        },
        "required": ["goods", "price", "at"],
    }
    schemas["WebhookPricesBatch"] = {
        "type": "object",
        "description": "The feed's batch (SPEC §7) in the base currency.",
        "properties": {
            "seq": {"type": "integer", "description": "The feed's batch number."},
            "at": {"type": "string", "format": "date-time"},
            "currency": {"type": "string", "example": "USD"},
            "prices": {"type": "array", "items": _ref("WebhookPrice")},
        },
        "required": ["seq", "at", "currency", "prices"],
    }
    schemas["WebhookRate"] = {
        "allOf": [
            _ref("ExchangeRate"),
            {
                "type": "object",
                "properties": {"base": {"type": "string", "example": "USD"}},
                "required": ["base"],
            },
        ]
    }
    schemas["WebhookOrderCancelled"] = {
        "allOf": [
            _ref("Order"),
            {
                "type": "object",
                "properties": {"reason": {"type": "string", "enum": ["shopper", "staff", "expired"]}},
                "required": ["reason"],
            },
        ]
    }
    money = {"type": "string", "format": "decimal", "example": "79.51"}
    schemas["WebhookPriceAlert"] = {
        "type": "object",
        "description": "An alert that fired (SPEC §15): the feed's alert message, and whose alert it is.",
        "properties": {
            "alert": {"type": "integer"},
            "user": {"type": "integer"},
            "goods": {"type": "integer"},
            "currency": {"type": "string", "example": "EUR"},
            "direction": {"type": "string", "enum": ["below", "above"]},
            "price": money,
            "value": {**money, "description": "The price that fired it, in the alert's currency."},
            "price_id": {"type": "integer"},
            "triggered_at": {"type": "string", "format": "date-time"},
        },
        "required": [
            "alert",
            "user",
            "goods",
            "currency",
            "direction",
            "price",
            "value",
            "price_id",
            "triggered_at",
        ],
    }
    schemas["WebhookEvent"] = {
        "type": "object",
        "description": "The body of every webhook delivery; see the `webhooks` tag.",
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "type": {"type": "string", "enum": [kind.value for kind in EventType]},
            "created_at": {"type": "string", "format": "date-time"},
            "data": {
                "oneOf": [
                    _ref("Order"),
                    _ref("WebhookOrderCancelled"),
                    _ref("WebhookPricesBatch"),
                    _ref("Sale"),
                    _ref("WebhookRate"),
                    _ref("WebhookPriceAlert"),
                ],
            },
        },
        "required": ["id", "type", "created_at", "data"],
    }
    # Staff only, reads included: shoppers get 403 there too (the common hook documents
    # 403 on writes only).
    for path, operations in result.get("paths", {}).items():
        if path.startswith("/api/webhooks/"):
            for operation in operations.values():
                if isinstance(operation, dict) and "responses" in operation:
                    operation["responses"].setdefault("403", FORBIDDEN)
    tags = result.setdefault("tags", [])
    tags.append({"name": "webhooks", "description": DELIVERIES})
    return result
