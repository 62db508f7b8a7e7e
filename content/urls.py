from django.urls import path, register_converter  # noqa: F401

urlpatterns: list = []
