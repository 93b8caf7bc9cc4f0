from django.urls import path

from baoxue.registry.views import changes as views

urlpatterns: list = [
    path("", views.change_list, name="registry_changes"),
    path("export.xlsx", views.change_export, name="registry_changes_xlsx"),
    path("new/", views.change_new, name="registry_change_new"),
    path("<int:pk>/", views.change_detail, name="registry_change_detail"),
    path("<int:pk>/done/<str:system>/", views.change_done, name="registry_change_done"),
    path("<int:pk>/cancel/", views.change_cancel, name="registry_change_cancel"),
    path("<int:pk>/files/<str:kind>/", views.change_file, name="registry_change_file"),
    path("review/", views.review_page, name="registry_review"),
    path("review/<int:pk>/sign/", views.review_sign, name="registry_review_sign"),
    path("review/<int:pk>.xlsx", views.review_export, name="registry_review_xlsx"),
]
