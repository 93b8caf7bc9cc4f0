from django.urls import path

from baoxue.attendance import views

urlpatterns: list = []
