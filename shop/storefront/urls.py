from django.urls import path, re_path

from shop.storefront import views

# The e-mail links are SITE_URL + /activate/{uid}/{token} and /password-reset/{uid}/{token}
# (SPEC §5), without a trailing slash; one is accepted too.
LINK_PARTS = r"(?P<uid>[\w-]+)/(?P<token>[\w-]+)/?$"

urlpatterns = [
    path("", views.index, name="storefront"),
    # Up to 19 digits: larger ids cannot exist, and the view answers them with the 404 page.
    re_path(r"^goods/(?P<goods_id>[0-9]{1,19})/$", views.goods_detail, name="storefront-goods"),
    re_path(r"^goods/", views.not_found),
    path("watch/", views.watch, name="storefront-watch"),
    re_path(rf"^activate/{LINK_PARTS}", views.activate, name="storefront-activate"),
    re_path(rf"^password-reset/{LINK_PARTS}", views.password_reset, name="storefront-password-reset"),
    # Where the pages' scripts leave the address bar once they have read the token.
    path("activate/", views.activate),
    path("password-reset/", views.password_reset),
]
