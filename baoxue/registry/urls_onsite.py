from django.urls import path

from baoxue.registry.views import onsite as views

urlpatterns: list = [
    path("", views.check_list, name="onsite_list"),
    path("<int:pk>/", views.check_detail, name="onsite_detail"),
    path("<int:pk>/close/", views.check_close, name="onsite_close"),
    path("<int:pk>/classes/<int:class_pk>/", views.class_confirm, name="onsite_class"),
]
