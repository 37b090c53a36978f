"""The codes of the catalog's errors: the ``code`` of an error answer, stable for clients."""

from enum import StrEnum


class CatalogErrorCode(StrEnum):
    SALE_BOUNDS = "sale_bounds"
    SALE_WINDOW = "sale_window"
    GOODS_IN_OTHER_SALE = "goods_in_other_sale"
    SALE_NOT_RUNNING = "sale_not_running"
    PRICE_NOT_POSITIVE = "price_not_positive"
    TOO_MANY_PRICES = "too_many_prices"
    BULK_SIZE = "bulk_size"
    INVALID_ROWS = "invalid_rows"
    INSUFFICIENT_STOCK = "insufficient_stock"
    STOCK_BELOW_ZERO = "stock_below_zero"
    STOCK_NOT_TRACKED = "stock_not_tracked"
    SALE_STRATEGY = "sale_strategy"
