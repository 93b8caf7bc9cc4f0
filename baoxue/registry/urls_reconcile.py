from django.urls import path

from baoxue.registry.views import reconcile as views

urlpatterns: list = [
    path("", views.home, name="reconcile_home"),
    path("upload/", views.upload, name="reconcile_upload"),
    path("upload/<str:token>/", views.preview, name="reconcile_preview"),
    path("upload/<str:token>/confirm/", views.confirm, name="reconcile_confirm"),
    path("upload/<str:token>/cancel/", views.cancel, name="reconcile_cancel"),
    path("uploads/<int:pk>/summary.xlsx", views.summary, name="reconcile_summary"),
    path("items/<int:pk>/close/", views.item_close, name="reconcile_item_close"),
    path("items/<int:pk>/assign/", views.item_assign, name="reconcile_item_assign"),
]
