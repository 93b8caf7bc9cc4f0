from django.urls import path

from baoxue.registry.views import graduates as views

urlpatterns: list = []
