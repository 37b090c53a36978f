from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import django_filters
from django.conf import settings
from django.db.models import QuerySet
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils import timezone
from drf_orjson_renderer.renderers import ORJSONRenderer
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shop.catalog import selectors
from shop.catalog.errors import CatalogErrorCode
from shop.catalog.goods_store import GoodsVersion
from shop.catalog.models import STRATEGY_CHOICES, Goods, Price, Sale
from shop.catalog.services import goods as goods_services
from shop.catalog.services import sales as sale_services
from shop.catalog.services import stock as stock_services
from shop.catalog.services.goods import MAX_BULK_GOODS
from shop.catalog.services.prices import price_create_manual, prices_of_batch
from shop.catalog.services.stock import MAX_STOCK
from shop.core.cache import json_response, query_keep
from shop.core.errors import ErrorSerializer, ValidationError
from shop.core.fields import BASE_DECIMALS, MoneyField
from shop.core.filters import DATETIME_OUT_OF_RANGE, UtcIsoDateTimeFilter
from shop.core.ids import MAX_ID, IdFilter, IdRelatedField, parse_id, parse_int
from shop.core.pagination import LimitOffsetPagination, NewestFirstCursorPagination
from shop.core.throttling import client_ip, throttle_hit
from shop.currency.selectors import quote_get
from shop.domain.candles import INTERVALS
from shop.domain.money import Quote, format_amount
from shop.domain.price_strategies import MAX_STEP_PERCENT, MAX_TARGET_UNITS, MAX_WINDOW_SECONDS

CURRENCY_PARAMETER = OpenApiParameter(
    "currency",
    OpenApiTypes.STR,
    description="Show prices in this currency (ISO 4217 code); default: the base currency.",
)
MAX_CANDLES = 5000
BULK_SIZE = f"A list of goods holds 1 to {MAX_BULK_GOODS} of them."
BULK_INVALID = "Some goods are invalid (rows by index); nothing was created."
DATETIME = serializers.DateTimeField()
NULLABLE_DECIMAL = {"type": "string", "format": "decimal", "nullable": True, "example": "12.30"}


def amount_field(**kwargs: Any) -> serializers.DecimalField:
    """Input of a base-currency amount: > 0, at most 2 decimals (SPEC §4)."""
    return serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"), **kwargs)


# --- Prices -------------------------------------------------------------------


class PriceSerializer(serializers.ModelSerializer[Price]):
    amount = MoneyField()
    currency = serializers.SerializerMethodField()

    class Meta:
        model = Price
        fields = ("id", "goods", "amount", "currency", "created_at", "source", "sale")
        read_only_fields = fields

    def get_currency(self, obj: Price) -> str:
        return str(settings.BASE_CURRENCY)


class PriceCreateSerializer(serializers.Serializer[Any]):
    goods = IdRelatedField(queryset=Goods.objects.all())
    amount = amount_field()


class PriceFilter(django_filters.FilterSet):
    goods = IdFilter(field_name="goods_id")
    since = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = Price
        fields = ("goods", "since", "until")


def renders_json(request: Request) -> bool:
    """JSON, not the browsable API's HTML: the answers the representation cache keeps."""
    return isinstance(request.accepted_renderer, ORJSONRenderer)


# The query parameters a page of history reads (shop.core.cache.query_keep drops the others).
PRICE_LIST_PARAMETERS = {
    *PriceFilter.base_filters,
    NewestFirstCursorPagination.cursor_query_param,
    NewestFirstCursorPagination.page_size_query_param,
    "format",
}


class PriceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet[Price],
):
    """Price history, newest first (cursor pagination). Staff POST a manual price."""

    queryset = Price.objects.none()  # for the schema; requests use get_queryset
    serializer_class = PriceSerializer
    pagination_class = NewestFirstCursorPagination
    filterset_class = PriceFilter
    filter_backends = (django_filters.rest_framework.DjangoFilterBackend,)

    def get_queryset(self) -> QuerySet[Price]:
        return selectors.price_list(include_inactive_goods=bool(self.request.user.is_staff))

    def list(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """A page of history, rendered once per set of rows (prices never change once written).

        The first page of one goods' history (``?goods=<id>`` alone, the hot one) is known by
        its goods row's version without reading it: history is append-only, and every price
        written becomes its goods' current price (an UPDATE of the goods row), so the page
        changes only when that version does, or when retention drops its oldest price.
        """
        if not renders_json(request):
            return super().list(request, *args, **kwargs)
        query_keep(request, PRICE_LIST_PARAMETERS)
        paginator = self.paginator
        assert isinstance(paginator, NewestFirstCursorPagination)  # noqa: S101 - set above
        staff = bool(request.user.is_staff)
        goods = parse_id(request.query_params["goods"]) if set(request.query_params) == {"goods"} else None
        # Goods hidden from the caller take the general path, as goods that do not exist: their
        # (empty) page and its ETag must not follow their current price.
        first_page = selectors.goods_price_version(goods_id=goods, include_inactive=staff) if goods else None
        page = None if first_page else self._page(paginator)
        # prices never change (the database refuses it): their ids are their versions
        version = (*first_page, staff) if first_page else (
            [price.id for price in page or ()], paginator.has_next, paginator.has_previous
        )  # fmt: skip

        def render() -> tuple[bytes, datetime | None]:
            rows = self._page(paginator) if page is None else page
            answer = paginator.get_paginated_response(PriceSerializer(rows, many=True).data)
            # the history retention drops old prices without any version changing
            kept_until = selectors.price_kept_until(rows[-1].created_at) if rows else None
            return request.accepted_renderer.render(answer.data), kept_until

        return json_response(request, serializer=PriceSerializer, version=version, render=render)

    def _page(self, paginator: NewestFirstCursorPagination) -> Sequence[Price]:
        page = paginator.paginate_queryset(self.filter_queryset(self.get_queryset()), self.request, view=self)
        assert page is not None  # noqa: S101 - a cursor paginator always pages
        return page

    @extend_schema(request=PriceCreateSerializer, responses={201: PriceSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = PriceCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        price = price_create_manual(goods=data.validated_data["goods"], amount=data.validated_data["amount"])
        return Response(PriceSerializer(price).data, status=status.HTTP_201_CREATED)


# --- Recent prices of several goods (the board's sparklines) ------------------------

RECENT_GOODS_INVALID = (
    f"goods: 1 to {selectors.RECENT_GOODS_MAX} goods ids (whole numbers from 1 to {MAX_ID}), "
    "separated by commas."
)
RECENT_LIMIT_INVALID = f"limit: a whole number from 1 to {selectors.RECENT_LIMIT_MAX}."
RECENT_LIMIT_DEFAULT = 20


@extend_schema_field({"type": "string", "pattern": r"^[0-9]{1,19}(,[0-9]{1,19}){0,99}$", "example": "1,2,3"})
class GoodsIdListField(serializers.Field):
    """``1,2,3``: goods ids (shop.core.ids rules), at most RECENT_GOODS_MAX, repeats counted once."""

    default_error_messages = {"invalid": RECENT_GOODS_INVALID}

    def to_internal_value(self, data: Any) -> list[int]:
        # Counted before anything is parsed: a long list costs nothing to refuse.
        if not isinstance(data, str) or data.count(",") >= selectors.RECENT_GOODS_MAX:
            self.fail("invalid")
        parts = data.split(",")
        ids = [number for part in parts if (number := parse_id(part)) is not None]
        if len(ids) != len(parts):
            self.fail("invalid")
        return list(dict.fromkeys(ids))

    def to_representation(self, value: list[int]) -> str:
        return ",".join(map(str, value))


@extend_schema_field(
    {"type": "integer", "minimum": 1, "maximum": selectors.RECENT_LIMIT_MAX, "default": RECENT_LIMIT_DEFAULT}
)
class RecentLimitField(serializers.Field):
    default_error_messages = {"invalid": RECENT_LIMIT_INVALID}

    def to_internal_value(self, data: Any) -> int:
        number = parse_int(data, maximum=selectors.RECENT_LIMIT_MAX)
        if number is None:
            self.fail("invalid")
        return number  # fail() raised when None

    def to_representation(self, value: int) -> int:
        return value


class RecentPricesQuerySerializer(serializers.Serializer[Any]):
    goods = GoodsIdListField(
        help_text=f"Goods ids separated by commas, at most {selectors.RECENT_GOODS_MAX}."
    )
    limit = RecentLimitField(
        required=False,
        default=RECENT_LIMIT_DEFAULT,
        help_text=f"Prices per goods, newest first; 1 to {selectors.RECENT_LIMIT_MAX}.",
    )


class RecentPriceSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    amount = MoneyField()
    created_at = serializers.DateTimeField()


class RecentGoodsPricesSerializer(serializers.Serializer[Any]):
    goods = serializers.IntegerField()
    prices = RecentPriceSerializer(many=True)


class RecentPricesSerializer(serializers.Serializer[Any]):
    currency = serializers.CharField(help_text="The base currency: every amount is in it.")
    limit = serializers.IntegerField()
    results = RecentGoodsPricesSerializer(many=True)


class RecentPricesView(APIView):
    """The newest prices of up to 100 goods at once (a board page's sparklines: one request)."""

    @extend_schema(
        operation_id="prices_recent",
        parameters=[RecentPricesQuerySerializer],
        responses={200: RecentPricesSerializer},
        description="The newest ``limit`` prices of each goods asked for, newest first, in the base "
        "currency; goods in the order asked, each once. Goods that are unknown, hidden (inactive, "
        "for shoppers) or without a price are left out. One query whatever the history's length.",
    )
    def get(self, request: Request) -> Response:
        query = RecentPricesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        limit = query.validated_data["limit"]
        rows = selectors.price_recent_of_goods(
            goods_ids=query.validated_data["goods"],
            limit=limit,
            include_inactive_goods=bool(request.user.is_staff),
        )
        results: list[dict[str, Any]] = []
        for goods, pid, amount, created_at in rows:
            if not results or results[-1]["goods"] != goods:
                results.append({"goods": goods, "prices": []})
            results[-1]["prices"].append({"id": pid, "amount": amount, "created_at": created_at})
        body = {"currency": str(settings.BASE_CURRENCY), "limit": limit, "results": results}
        return Response(RecentPricesSerializer(body).data)


class CandleQuerySerializer(serializers.Serializer[Any]):
    interval = serializers.ChoiceField(choices=list(INTERVALS), default="1m")
    since = serializers.DateTimeField(
        required=False, help_text="Inclusive; default: until minus 24 hours (1m, 1h) or 7 days (1d)."
    )
    until = serializers.DateTimeField(required=False, help_text="Inclusive; default: now.")

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        seconds = INTERVALS[data["interval"]]
        data["until"] = data.get("until") or timezone.now()
        default_span = timedelta(days=7) if seconds == INTERVALS["1d"] else timedelta(days=1)
        try:
            data["since"] = data.get("since") or data["until"] - default_span
        except OverflowError:  # until=0001-01-05T00:00Z: a day before it is before year 1
            raise serializers.ValidationError({"since": DATETIME_OUT_OF_RANGE}) from None
        if data["since"] > data["until"]:
            raise serializers.ValidationError({"since": "since must not be after until."})
        if (data["until"] - data["since"]).total_seconds() / seconds > MAX_CANDLES:
            raise serializers.ValidationError(
                {
                    "interval": f"At most {MAX_CANDLES} candles per request; narrow since/until or widen the interval."
                }
            )
        return data


class CandleSerializer(serializers.Serializer[Any]):
    start = serializers.DateTimeField()
    open = serializers.CharField()
    high = serializers.CharField()
    low = serializers.CharField()
    close = serializers.CharField()


class CandlesSerializer(serializers.Serializer[Any]):
    goods = serializers.IntegerField()
    interval = serializers.CharField()
    currency = serializers.CharField()
    candles = CandleSerializer(many=True)


# --- Goods --------------------------------------------------------------------


class GoodsSerializer(serializers.ModelSerializer[Goods]):
    price = serializers.SerializerMethodField()
    currency = serializers.SerializerMethodField()
    sale = serializers.SerializerMethodField()
    stock = serializers.IntegerField(
        min_value=0,
        max_value=MAX_STOCK,
        allow_null=True,
        required=False,
        help_text="Units in stock; null: not tracked (sells any quantity). Staff set it; orders take it.",
    )
    available = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="Units that can be ordered now: stock less the units held by cart reservations; "
        "null when not tracked.",
    )

    class Meta:
        model = Goods
        fields = (
            "id", "name", "description", "is_active", "price", "price_updated_at", "currency", "sale",
            "stock", "available",
        )  # fmt: skip
        read_only_fields = ("price_updated_at",)

    @property
    def quote(self) -> Quote:
        return self.context["quote"]

    @extend_schema_field(NULLABLE_DECIMAL)
    def get_price(self, obj: Goods) -> str | None:
        return self.quote.show(obj.price)

    def get_currency(self, obj: Goods) -> str:
        return self.quote.currency

    def get_sale(self, obj: Goods) -> int | None:
        """The running sale that reprices this goods, if any."""
        return getattr(obj, "running_sale_id", None)


class StockAddSerializer(serializers.Serializer[Any]):
    add = serializers.IntegerField(
        min_value=-MAX_STOCK, max_value=MAX_STOCK, help_text="Units to add (negative: to take away)."
    )


class GoodsDetailSerializer(GoodsSerializer):
    prices = serializers.SerializerMethodField()
    prices_url = serializers.SerializerMethodField()

    class Meta(GoodsSerializer.Meta):
        fields = (*GoodsSerializer.Meta.fields, "prices", "prices_url")

    @extend_schema_field(PriceSerializer(many=True))
    def get_prices(self, obj: Goods) -> list[dict[str, Any]]:
        """The newest 50 prices, in the base currency: PriceSerializer's shape, built
        from plain rows (the hot path of the goods detail, SPEC §9)."""
        base = str(settings.BASE_CURRENCY)
        return [
            {
                "id": pid,
                "goods": obj.id,
                "amount": format_amount(amount, BASE_DECIMALS),
                "currency": base,
                "created_at": DATETIME.to_representation(created_at),
                "source": source,
                "sale": sale,
            }
            for pid, amount, created_at, source, sale in selectors.price_recent_rows(goods_id=obj.id)
        ]

    def get_prices_url(self, obj: Goods) -> str:
        url = f"{reverse('price-list')}?goods={obj.id}"
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


def goods_version(goods: Goods) -> GoodsVersion:
    """What a goods' representation is made of, besides the currency and the serializer: its row
    and its running sale (which, and that row), by the versions the database keeps of each row
    (migration catalog 0008), so a column rendered later is covered without being named here.
    Its newest prices change with the goods row: each becomes its current price."""
    return (goods.id, goods.version, goods.running_sale_id, goods.running_sale_version)  # type: ignore[attr-defined]


# A list request with only these parameters pages goods in id order, unfiltered (selectors.goods_page).
PLAIN_LIST_PARAMETERS = {"currency", "limit", "offset", "format"}


class GoodsPagination(LimitOffsetPagination):
    """Pages of goods. A plain page (no filter, search or ordering: the common one) is read by
    one plain statement, its count kept per version of the set of goods (selectors.goods_page),
    and its versions alone by another (``paginate_versions``); any other goes through the
    filtered queryset."""

    def _plain(self, request: Request) -> bool:
        """Whether this is a plain page; when it is, its limit and offset are read (a 400 when bad)."""
        if not set(request.query_params) <= PLAIN_LIST_PARAMETERS:
            return False
        self.request, self.limit, self.offset = request, self.get_limit(request), self.get_offset(request)
        return True

    def _counted(self, count: int, limit: int) -> None:
        self.count = count
        self.display_page_controls = self.template is not None and count > limit  # browsable API

    def paginate_versions(self, request: Request) -> list[GoodsVersion] | None:
        """The goods_version of each goods of a plain page, read without its rows, its count set:
        what the page's representation is keyed on. None for any other page."""
        if not self._plain(request) or self.limit is None:  # as the base class: no limit, no pages
            return None
        versions, count = selectors.goods_page_versions(
            limit=self.limit, offset=self.offset, include_inactive=bool(request.user.is_staff)
        )
        self._counted(count, self.limit)
        return versions

    def paginate_queryset(
        self, queryset: QuerySet[Goods], request: Request, view: Any = None
    ) -> list[Goods] | None:
        if not self._plain(request):
            return super().paginate_queryset(queryset, request, view)
        if self.limit is None:  # as the base class: no limit, no pages
            return None
        page, count = selectors.goods_page(
            limit=self.limit, offset=self.offset, include_inactive=bool(request.user.is_staff)
        )
        self._counted(count, self.limit)
        return page


class GoodsFilter(django_filters.FilterSet):
    sale = IdFilter(method="filter_sale", label="Goods of this sale (id)")

    class Meta:
        model = Goods
        fields = ("sale", "is_active")

    def filter_sale(self, queryset: QuerySet[Goods], name: str, value: int) -> QuerySet[Goods]:
        return queryset.filter(selectors.goods_in_sale_q(value))


# The query parameters a page of goods and a goods detail read (shop.core.cache.query_keep drops
# the others): the pagination's, the filters', search and ordering (DRF's SearchFilter and
# OrderingFilter, the default filter backends).
GOODS_LIST_PARAMETERS = PLAIN_LIST_PARAMETERS | {*GoodsFilter.base_filters, "search", "ordering"}
GOODS_DETAIL_PARAMETERS = {"currency", "format"}


TOO_MANY_HEAVY_READS = "Too many history reads from your address; try again later."


@extend_schema_view(
    list=extend_schema(parameters=[CURRENCY_PARAMETER]),
    retrieve=extend_schema(parameters=[CURRENCY_PARAMETER]),
)
class GoodsViewSet(viewsets.ModelViewSet[Goods]):
    """Goods with their current price; shoppers see active goods, staff all of them."""

    filterset_class = GoodsFilter
    pagination_class = GoodsPagination
    search_fields = ("name", "description")
    ordering_fields = ("id", "name", "price", "price_updated_at", "created_at")
    ordering = ("id",)

    def get_queryset(self) -> QuerySet[Goods]:
        return selectors.goods_list(include_inactive=bool(self.request.user.is_staff))

    def get_serializer_class(self) -> type[GoodsSerializer]:
        return GoodsSerializer if self.action == "list" else GoodsDetailSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        context["quote"] = quote_get(code=self.request.query_params.get("currency"))
        return context

    def list(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """A page of goods, rendered once per version of its rows (``shop.core.cache``).

        A plain page is keyed on its rows' versions as one statement reads them, without a model
        per row: most requests are answered from the cache, and read the rows only when it misses.
        Those rows are then read after the key, and a write may commit in between: the body shows
        rows newer than its key, never older, and is served but not kept.
        """
        if not renders_json(request):
            return super().list(request, *args, **kwargs)
        query_keep(request, GOODS_LIST_PARAMETERS)
        paginator = self.paginator
        assert isinstance(paginator, GoodsPagination)  # noqa: S101 - set above

        def read_page() -> list[Goods]:
            rows = paginator.paginate_queryset(self.filter_queryset(self.get_queryset()), request, view=self)
            assert rows is not None  # noqa: S101 - a limit always applies
            return rows

        versions = paginator.paginate_versions(request)
        page = None if versions is not None else read_page()
        key = (versions if page is None else [goods_version(goods) for goods in page], paginator.count)
        context = self.get_serializer_context()

        def render() -> tuple[bytes, datetime | None]:
            rows = read_page() if page is None else page
            answer = paginator.get_paginated_response(GoodsSerializer(rows, many=True, context=context).data)
            as_keyed = ([goods_version(goods) for goods in rows], paginator.count) == key
            return request.accepted_renderer.render(answer.data), None if as_keyed else timezone.now()

        return json_response(
            request, serializer=GoodsSerializer, version=(*key, context["quote"]), render=render
        )

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """The goods detail, rendered once per version of what it shows (``shop.core.cache``).

        Its version is the goods row's as read now (a tick moves it on), its running sale's,
        and the currency and rate: the read after a tick commits sees a new version.
        """
        if renders_json(request):
            query_keep(request, GOODS_DETAIL_PARAMETERS)
        goods = selectors.goods_detail_get(goods_id=int(kwargs["pk"]), include_inactive=request.user.is_staff)
        if goods is None:
            raise NotFound
        self.check_object_permissions(request, goods)
        context = self.get_serializer_context()
        if not renders_json(request):
            return Response(GoodsDetailSerializer(goods, context=context).data)

        def render() -> tuple[bytes, datetime | None]:
            data = GoodsDetailSerializer(goods, context=context).data
            oldest = data["prices"][-1]["created_at"] if data["prices"] else None
            # the history retention drops old prices without any version changing
            kept_until = selectors.price_kept_until(datetime.fromisoformat(oldest)) if oldest else None
            return request.accepted_renderer.render(data), kept_until

        version = (goods_version(goods), context["quote"])
        return json_response(request, serializer=GoodsDetailSerializer, version=version, render=render)

    @extend_schema(
        request=PolymorphicProxySerializer(
            component_name="GoodsCreate",
            serializers=[GoodsSerializer, GoodsSerializer(many=True)],
            resource_type_field_name=None,
            many=False,
        ),
        responses={
            201: PolymorphicProxySerializer(
                component_name="GoodsCreated",
                serializers=[GoodsDetailSerializer, GoodsSerializer(many=True)],
                resource_type_field_name=None,
                many=False,
            )
        },
        description=f"One goods, or a list of up to {MAX_BULK_GOODS} created all or nothing "
        "(answered in the order sent, ids included; a 400 names the bad rows by index).",
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not isinstance(request.data, list):
            return super().create(request, *args, **kwargs)
        if not 1 <= len(request.data) <= MAX_BULK_GOODS:
            raise ValidationError(BULK_SIZE, code=CatalogErrorCode.BULK_SIZE)
        context = self.get_serializer_context()  # the currency quote: read once for both directions
        rows = GoodsSerializer(data=request.data, many=True, context=context)
        if not rows.is_valid():
            # DRF gives the errors of a list as {index: field errors}, the valid rows left out
            raise ValidationError(BULK_INVALID, code=CatalogErrorCode.INVALID_ROWS, rows=rows.errors)
        created = goods_services.goods_create_many(goods=rows.validated_data)
        data = GoodsSerializer(created, many=True, context=context).data
        return Response(data, status=status.HTTP_201_CREATED)

    def perform_create(self, serializer: GoodsSerializer) -> None:
        goods = goods_services.goods_create(**serializer.validated_data)
        serializer.instance = selectors.goods_list(include_inactive=True).get(pk=goods.pk)

    def perform_update(self, serializer: GoodsSerializer) -> None:
        goods = goods_services.goods_update(goods=serializer.instance, data=serializer.validated_data)
        serializer.instance = selectors.goods_list(include_inactive=True).get(pk=goods.pk)

    def perform_destroy(self, instance: Goods) -> None:
        goods_services.goods_delete(goods=instance)

    @extend_schema(
        parameters=[CandleQuerySerializer, CURRENCY_PARAMETER],
        responses={200: CandlesSerializer},
        description="Open, high, low and close per interval: from raw prices where they still "
        "exist, from the one-minute candles that retention keeps for older history.",
    )
    @action(detail=True, methods=["get"], filter_backends=(), pagination_class=None)
    def candles(self, request: Request, pk: str) -> Response:
        throttle_hit(
            scope="heavy_read:ip",
            ident=client_ip(request),
            setting="THROTTLE_HEAVY_READS_PER_IP",
            message=TOO_MANY_HEAVY_READS,
        )
        goods = self.get_object()
        query = CandleQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        interval, quote = query.validated_data["interval"], self.get_serializer_context()["quote"]
        rows = selectors.price_candles(
            goods_id=goods.id,
            seconds=INTERVALS[interval],
            since=query.validated_data["since"],
            until=query.validated_data["until"],
        )
        body = {
            "goods": goods.id,
            "interval": interval,
            "currency": quote.currency,
            "candles": [
                {"start": c.start, **{f: quote.show(getattr(c, f)) for f in ("open", "high", "low", "close")}}
                for c in rows
            ],
        }
        return Response(CandlesSerializer(body).data)

    @extend_schema(
        request=StockAddSerializer,
        responses={
            200: GoodsDetailSerializer,
            400: ErrorSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
        },
        description="Staff: move the stock by ``add`` units (a delivery; negative for a correction). "
        "409 stock_below_zero when it would go below 0, stock_not_tracked when it is not tracked; "
        "nothing is changed then.",
    )
    @action(detail=True, methods=["post"], filter_backends=(), pagination_class=None)
    def stock(self, request: Request, pk: str) -> Response:
        goods = self.get_object()
        data = StockAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        stock_services.goods_stock_add(goods=goods, add=data.validated_data["add"])
        fresh = selectors.goods_list(include_inactive=True).get(pk=goods.pk)
        return Response(GoodsDetailSerializer(fresh, context=self.get_serializer_context()).data)


# --- Sales --------------------------------------------------------------------


class SaleSerializer(serializers.ModelSerializer[Sale]):
    min_price = amount_field()
    max_price = amount_field()
    goods = IdRelatedField(many=True, queryset=Goods.objects.all(), required=False)
    is_running = serializers.BooleanField(read_only=True)
    strategy = serializers.ChoiceField(
        choices=STRATEGY_CHOICES,
        required=False,
        help_text="How ticks move prices (SPEC §14): uniform draws, a bounded random walk, or demand.",
    )
    step_percent = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=MAX_STEP_PERCENT,
        required=False,
        help_text="walk: the most a tick moves a price, in percent; demand: the move at full pressure.",
    )
    window_seconds = serializers.IntegerField(
        min_value=1,
        max_value=MAX_WINDOW_SECONDS,
        required=False,
        help_text="demand: the units ordered in this many seconds before a tick are its demand.",
    )
    target_units = serializers.IntegerField(
        min_value=0,
        max_value=MAX_TARGET_UNITS,
        required=False,
        help_text="demand: the units per window at which a price holds; more raise it, fewer lower it.",
    )

    class Meta:
        model = Sale
        fields = (
            "id", "name", "min_price", "max_price", "goods", "is_active", "starts_at", "ends_at", "is_running",
            "strategy", "step_percent", "window_seconds", "target_units",
        )  # fmt: skip


class SaleViewSet(viewsets.ModelViewSet[Sale]):
    """Sales: price bounds, goods and a window. Running sales are repriced every tick."""

    serializer_class = SaleSerializer
    # Regenerating a sale's prices is managing the sale: who may change it (its bounds and window,
    # which the ticks follow) may force its next prices (shop.core.permissions).
    write_permissions = {"generate_prices": ("catalog.change_sale",)}
    ordering_fields = ("id", "name", "starts_at", "ends_at")
    search_fields = ("name",)

    def get_queryset(self) -> QuerySet[Sale]:
        return selectors.sale_list(include_inactive_goods=bool(self.request.user.is_staff))

    def perform_create(self, serializer: SaleSerializer) -> None:
        serializer.instance = sale_services.sale_create(**serializer.validated_data)

    def perform_update(self, serializer: SaleSerializer) -> None:
        serializer.instance = sale_services.sale_update(
            sale=serializer.instance, data=serializer.validated_data
        )

    def perform_destroy(self, instance: Sale) -> None:
        sale_services.sale_delete(sale=instance)

    @extend_schema(
        request=None,
        responses={
            200: PriceSerializer(many=True),
            409: ErrorSerializer,
            429: OpenApiResponse(ErrorSerializer, description="Too soon; see the Retry-After header."),
            503: ErrorSerializer,
        },
        description=(
            "Generate a new price for every active goods of this running sale at once. "
            "At most one generation per sale in any 5 seconds: later calls get 429 "
            "with Retry-After and generate nothing."
        ),
    )
    @action(
        detail=True, methods=["put"], url_path="generate-prices", filter_backends=(), pagination_class=None
    )
    def generate_prices(self, request: Request, pk: str) -> Response:
        batch = sale_services.sale_generate_prices(sale=self.get_object())
        return Response(PriceSerializer(prices_of_batch(batch), many=True).data)
