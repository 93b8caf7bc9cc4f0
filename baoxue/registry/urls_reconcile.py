from django.urls import path

from baoxue.registry.views import reconcile as views

urlpatterns: list = []
