from django.urls import include, path
from rest_framework.routers import DefaultRouter

from shop.accounts.api import LoginView, UserViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("users", UserViewSet, basename="user")

urlpatterns = [
    path("", include(router.urls)),
    path("jwt/create/", LoginView.as_view(), name="jwt-create"),  # before Djoser's own
    path("", include("djoser.urls.jwt")),
]
