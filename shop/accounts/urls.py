from django.urls import include, path
from rest_framework.routers import DefaultRouter

from shop.accounts.api import UserViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("users", UserViewSet, basename="user")

urlpatterns = [
    path("", include(router.urls)),
    path("", include("djoser.urls.jwt")),
]
