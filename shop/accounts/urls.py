from django.contrib import admin
from django.contrib.auth.views import LoginView as FormLoginView
from django.urls import include, path
from rest_framework.routers import DefaultRouter

from shop.accounts.api import LoginView, LogoutView, UserViewSet
from shop.accounts.throttles import throttled_login

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("users", UserViewSet, basename="user")

urlpatterns = [
    path("", include(router.urls)),
    path("jwt/create/", LoginView.as_view(), name="jwt-create"),  # before Djoser's own
    path("jwt/blacklist/", LogoutView.as_view(), name="jwt-blacklist"),
    path("", include("djoser.urls.jwt")),
]

# The two password logins outside /auth/, behind the same limits as /auth/jwt/create/: the admin's and
# the browsable API's. config.urls lists these before admin.site.urls and rest_framework.urls, so they
# answer the paths those would.
form_login_urlpatterns = [
    path("admin/login/", throttled_login(admin.site.login), name="admin-login"),
    path(
        "api-auth/login/",
        throttled_login(FormLoginView.as_view(template_name="rest_framework/login.html")),
        name="api-auth-login",
    ),
]
