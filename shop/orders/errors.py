"""The stable ``code`` of every error the orders app raises: the wire values clients match on."""

import enum


class OrderErrorCode(enum.StrEnum):
    NO_ITEMS = "no_items"
    TOO_MANY_LINES = "too_many_lines"
    QUANTITY_RANGE = "quantity_range"
    GOODS_UNAVAILABLE = "goods_unavailable"
    ORDER_SUM_TOO_HIGH = "order_sum_too_high"
    CART_EMPTY = "cart_empty"
    INVALID_IDEMPOTENCY_KEY = "invalid_idempotency_key"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    INVALID_TRANSITION = "invalid_transition"
    CANCEL_WINDOW_PASSED = "cancel_window_passed"
    PAYMENT_METHOD = "payment_method"
    PAYMENT_REFERENCE = "payment_reference"
