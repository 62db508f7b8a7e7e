from django.urls import path

from accounts.recovery_views import AccountRecoveryViewSet
from accounts.views import AuthViewSet, UserViewSet

urlpatterns = [
    path("users/", UserViewSet.as_view({"post": "create"}), name="user-signup"),
    path("login", AuthViewSet.as_view({"post": "login"}), name="login"),
    path("login/refresh", AuthViewSet.as_view({"post": "refresh"}), name="login-refresh"),
    path("logout", AuthViewSet.as_view({"post": "logout"}), name="logout"),
    # Before users/<id:user_id>; the id converter only matches digits anyway.
    path("users/me", UserViewSet.as_view({"get": "me", "patch": "update_me"}), name="user-me"),
    path("users/<id:user_id>", UserViewSet.as_view({"get": "retrieve"}), name="user-detail"),
    path(
        "password-reset",
        AccountRecoveryViewSet.as_view({"post": "password_reset"}),
        name="password-reset",
    ),
    path(
        "password-reset/confirm",
        AccountRecoveryViewSet.as_view({"post": "password_reset_confirm"}),
        name="password-reset-confirm",
    ),
    path(
        "users/me/email/confirm",
        AccountRecoveryViewSet.as_view({"post": "email_confirm"}),
        name="user-me-email-confirm",
    ),
]
