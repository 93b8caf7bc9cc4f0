from django.urls import path

from baoxue.registry.views import changes as views

urlpatterns: list = []
