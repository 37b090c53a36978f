from django.urls import include, path
from rest_framework.routers import DefaultRouter
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView, TokenVerifyView

from shop.accounts.api import LogoutView, UserViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("users", UserViewSet, basename="user")

# Every route anchored (``path``): Djoser's own JWT routes are ``re_path(r"^jwt/create/?")`` with no
# end, so ``jwt/create`` and ``jwt/createX`` reached the login too. The login limits sit in the
# authentication backend (shop.accounts.backends), so they hold whichever route reaches a login.
urlpatterns = [
    path("", include(router.urls)),
    path("jwt/create/", TokenObtainPairView.as_view(), name="jwt-create"),
    path("jwt/refresh/", TokenRefreshView.as_view(), name="jwt-refresh"),
    path("jwt/verify/", TokenVerifyView.as_view(), name="jwt-verify"),
    path("jwt/blacklist/", LogoutView.as_view(), name="jwt-blacklist"),
]
