from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from shop.catalog.api import GoodsViewSet, PriceViewSet, RecentPricesView, SaleViewSet
from shop.core.views import SchemaView, healthz
from shop.currency.api import CurrencyViewSet
from shop.orders.api import OrderViewSet
from shop.pricewatch.api import AlertViewSet, StandingOrderViewSet
from shop.webhooks.api import WebhookEndpointViewSet

router = DefaultRouter()
router.register("currency", CurrencyViewSet, basename="currency")
router.register("goods", GoodsViewSet, basename="goods")
router.register("prices", PriceViewSet, basename="price")
router.register("sales", SaleViewSet, basename="sale")
router.register("orders", OrderViewSet, basename="order")
router.register("alerts", AlertViewSet, basename="alert")
router.register("standing-orders", StandingOrderViewSet, basename="standing-order")
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")

urlpatterns = [
    path("api/schema/", SchemaView.as_view(), name="schema"),  # generated once per process
    # The docs pages load their scripts from the shop (drf-spectacular-sidecar), none inline (CSP).
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api_docs/swagger_ui.html"),
        name="swagger-ui",
    ),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="schema", template_name="api_docs/redoc.html"),
        name="redoc",
    ),
    # Before the router: its price detail route would take "recent" for an id.
    path("api/prices/recent/", RecentPricesView.as_view(), name="price-recent"),
    path("api/", include(router.urls)),
    path("api/", include("shop.orders.urls")),
    path("api-auth/", include("rest_framework.urls")),
    path("auth/", include("shop.accounts.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    # Browsers ask every site for /favicon.ico (the admin and the browsable API name none).
    path("favicon.ico", RedirectView.as_view(url=static("storefront/favicon.svg"), permanent=True)),
    path("", include("shop.storefront.urls")),
]

handler400 = "shop.core.views.json_bad_request"
handler404 = "shop.core.views.json_not_found"
handler500 = "shop.core.views.json_server_error"
