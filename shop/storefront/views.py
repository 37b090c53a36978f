"""The storefront (SPEC §8): server-rendered pages that a little JavaScript keeps live."""

import json
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from shop.catalog.selectors import BOARD_SORTS, goods_board, goods_shown_get
from shop.core.errors import ShopError
from shop.currency.selectors import base_currency_code, currency_list, quote_get
from shop.domain.money import Quote

PAGE_SIZE = 50  # goods per board page (SPEC §8)
SEARCH_MAX = 100  # characters of a search that count
GOODS_ID_MAX = 2**63 - 1
# The goods page's choices of a standing order's lifetime (seconds, words), up to the most the
# shop allows (STANDING_ORDER_MAX_DAYS, SPEC §15); 24 hours unless the shopper chooses.
STANDING_ORDER_EXPIRIES = [
    (3600, "1 hour"),
    (6 * 3600, "6 hours"),
    (24 * 3600, "24 hours"),
    (3 * 86400, "3 days"),
]
STANDING_ORDER_DEFAULT_SECONDS = 24 * 3600


def standing_order_expiries() -> list[tuple[int, str]]:
    days = settings.STANDING_ORDER_MAX_DAYS
    shorter = [(seconds, words) for seconds, words in STANDING_ORDER_EXPIRIES if seconds < days * 86400]
    return [*shorter, (days * 86400, "1 day" if days == 1 else f"{days} days")]


def _quote(code: str | None) -> Quote:
    """The currency asked for in ``?currency=``, or the base when it is unknown or has no rate."""
    try:
        return quote_get(code=code)
    except ShopError:
        return quote_get(code=None)


def _currencies() -> list[dict[str, Any]]:
    return [
        {"code": c.code, "name": c.name, "decimals": c.decimals, "rate": str(rate)}
        for c in currency_list(active_only=True).order_by("code")
        if (rate := getattr(c, "rate", None)) is not None  # annotated; none yet: not offered
    ]


def _config(**extra: Any) -> dict[str, Any]:
    return {"baseCurrency": base_currency_code(), "feedPath": "/ws/price_updates/", **extra}


def stock_note(available: int | None) -> dict[str, Any]:
    """What a goods' row says of its stock (SPEC §13): "Sold out" at 0 (its button disabled),
    "Only N left" up to LOW_STOCK_AT, nothing otherwise or when untracked. static/storefront/stock.js
    says the same when the feed brings a new level."""
    if available is None:
        state, text = "", ""
    elif available <= 0:
        state, text = "out", "Sold out"
    elif available <= settings.LOW_STOCK_AT:
        state, text = "low", f"Only {available} left"
    else:
        state, text = "in", ""
    return {"available": "" if available is None else available, "state": state, "text": text}


def _page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """Render a page; its configuration travels in a data attribute, not in a <script>
    (the Content-Security-Policy allows no inline script)."""
    config_json = json.dumps(context["config"], cls=DjangoJSONEncoder, separators=(",", ":"))
    return render(request, template, {**context, "config_json": config_json}, status=status)


def _board_url(**params: Any) -> str:
    """The board's address for these parameters, leaving out the defaults."""
    kept = {key: value for key, value in params.items() if value and not (key == "page" and value == 1)}
    return f"/?{urlencode(kept)}" if kept else "/"


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    quote = _quote(request.GET.get("currency"))
    currencies = _currencies()
    search = request.GET.get("search", "").strip()[:SEARCH_MAX]
    sort = request.GET.get("sort", "")
    sort = sort if sort in BOARD_SORTS else "name"
    # A page past the end (or not a number) shows the nearest page: a shared link keeps working.
    page = Paginator(goods_board(search=search, sort=sort), PAGE_SIZE).get_page(request.GET.get("page"))
    goods = [
        {
            "id": g.id,
            "name": g.name,
            "description": g.description,
            "price": quote.show(g.price),
            "stock": stock_note(g.available),
        }
        for g in page.object_list
    ]
    currency = "" if quote.is_base else quote.currency
    links = {"search": search, "sort": "" if sort == "name" else sort, "currency": currency}
    context = {
        "quote": quote,
        "currencies": currencies,
        "goods": goods,
        "page": page,
        "search": search,
        "sort": sort,
        "sorts": BOARD_SORTS,
        "next_url": _board_url(**links, page=page.next_page_number()) if page.has_next() else None,
        "previous_url": _board_url(**links, page=page.previous_page_number())
        if page.has_previous()
        else None,
        "config": _config(
            currency=quote.currency,
            currencies=currencies,
            tickSeconds=settings.PRICE_TICK_SECONDS,
            goods=[g["id"] for g in goods],
            lowStockAt=settings.LOW_STOCK_AT,
            # The shopper may cancel a placed order this long after placing it; the page times the
            # Cancel button by the server's clock (serverNow), not the browser's.
            orderCancelSeconds=settings.ORDER_CANCEL_SECONDS,
            serverNow=timezone.now(),
        ),
    }
    return _page(request, "storefront/index.html", context)


@require_safe
def goods_detail(request: HttpRequest, goods_id: str) -> HttpResponse:
    number = int(goods_id)
    goods = goods_shown_get(goods_id=number) if number <= GOODS_ID_MAX else None
    if goods is None:
        return not_found(request)
    quote = _quote(request.GET.get("currency"))
    currencies = _currencies()
    context = {
        "quote": quote,
        "currencies": currencies,
        "goods": goods,
        "price": quote.show(goods.price),
        "stock": stock_note(goods.available),
        "expiries": standing_order_expiries(),
        "default_expiry": STANDING_ORDER_DEFAULT_SECONDS,
        "config": _config(
            lowStockAt=settings.LOW_STOCK_AT,
            currency=quote.currency,
            currencies=currencies,
            tickSeconds=settings.PRICE_TICK_SECONDS,
            goods=[goods.id],
            goodsId=goods.id,
            goodsName=goods.name,
            # A standing order's expiry is counted from the server's clock (serverNow), not the browser's.
            serverNow=timezone.now(),
        ),
    }
    return _page(request, "storefront/goods.html", context)


@require_safe
def watch(request: HttpRequest) -> HttpResponse:
    """The shopper's price alerts and standing orders (SPEC §15): the page's script lists them."""
    return _page(request, "storefront/watch.html", {"config": _config()})


def not_found(request: HttpRequest) -> HttpResponse:
    """The shop's own 404 page, for addresses of the storefront."""
    return _page(request, "storefront/404.html", {"config": _config()}, status=404)


def _link_page(request: HttpRequest, template: str, uid: str | None, token: str | None) -> HttpResponse:
    """The page an e-mailed link opens, its uid and token handed to its script (which then takes
    them out of the address bar); without them, where the script leaves the address bar.

    Its address names a token that opens the account until used: no request of the page (its
    style, scripts and icon load before its script runs), nor any link followed from it, may
    carry that address as its Referer, to this site's logs or anyone else's."""
    link = {"uid": uid, "token": token} if uid and token else {}
    response = _page(request, template, {"config": _config(**link)})
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_safe
def activate(request: HttpRequest, uid: str | None = None, token: str | None = None) -> HttpResponse:
    return _link_page(request, "storefront/activate.html", uid, token)


@require_safe
def password_reset(request: HttpRequest, uid: str | None = None, token: str | None = None) -> HttpResponse:
    return _link_page(request, "storefront/password_reset.html", uid, token)
