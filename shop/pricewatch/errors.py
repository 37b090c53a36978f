"""The stable ``code`` of every error the pricewatch app raises."""

import enum


class WatchErrorCode(enum.StrEnum):
    ALERTS_LIMIT = "alerts_limit"
    STANDING_ORDERS_LIMIT = "standing_orders_limit"
    PRICE_DECIMALS = "price_decimals"
    EXPIRES_AT = "expires_at"
    INVALID_TRANSITION = "invalid_transition"
