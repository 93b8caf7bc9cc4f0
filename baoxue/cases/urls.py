from django.urls import path

from baoxue.cases import views

urlpatterns: list = []
