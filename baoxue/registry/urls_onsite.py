from django.urls import path

from baoxue.registry.views import onsite as views

urlpatterns: list = []
