from django.urls import path

from baoxue.registry import views

urlpatterns: list = []
