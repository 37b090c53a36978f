from django.urls import path, re_path

from shop.storefront import views

# The e-mail links are SITE_URL + /activate/{uid}/{token} and /password-reset/{uid}/{token}
# (SPEC §5), without a trailing slash; one is accepted too.
LINK_PARTS = r"(?P<uid>[\w-]+)/(?P<token>[\w-]+)/?$"

urlpatterns = [
    path("", views.index, name="storefront"),
    re_path(rf"^activate/{LINK_PARTS}", views.activate, name="storefront-activate"),
    re_path(rf"^password-reset/{LINK_PARTS}", views.password_reset, name="storefront-password-reset"),
]
