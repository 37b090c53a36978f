"""The storefront (SPEC §8): server-rendered pages that a little JavaScript keeps live."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from shop.catalog.selectors import goods_list
from shop.core.errors import ShopError
from shop.currency.selectors import base_currency_code, currency_list, quote_get
from shop.domain.money import Quote


def _quote(code: str | None) -> Quote:
    """The currency asked for in ``?currency=``, or the base when it is unknown or has no rate."""
    try:
        return quote_get(code=code)
    except ShopError:
        return quote_get(code=None)


def _config(**extra: Any) -> dict[str, Any]:
    return {"baseCurrency": base_currency_code(), "feedPath": "/ws/price_updates/", **extra}


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    quote = _quote(request.GET.get("currency"))
    currencies = [
        {"code": c.code, "name": c.name, "decimals": c.decimals, "rate": str(rate)}
        for c in currency_list(active_only=True).order_by("code")
        if (rate := getattr(c, "rate", None)) is not None  # annotated; none yet: not offered
    ]
    goods = [
        {"id": g.id, "name": g.name, "description": g.description, "price": quote.show(g.price)}
        for g in goods_list().order_by("id")
    ]
    context = {
        "quote": quote,
        "currencies": currencies,
        "goods": goods,
        "config": _config(
            currency=quote.currency, currencies=currencies, tickSeconds=settings.PRICE_TICK_SECONDS
        ),
    }
    return render(request, "storefront/index.html", context)


@require_safe
def activate(request: HttpRequest, uid: str, token: str) -> HttpResponse:
    return render(request, "storefront/activate.html", {"config": _config(uid=uid, token=token)})


@require_safe
def password_reset(request: HttpRequest, uid: str, token: str) -> HttpResponse:
    return render(request, "storefront/password_reset.html", {"config": _config(uid=uid, token=token)})
