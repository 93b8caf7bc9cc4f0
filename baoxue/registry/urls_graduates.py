from django.urls import path

from baoxue.registry.views import graduates as views

urlpatterns: list = [
    path("", views.graduate_list, name="graduate_list"),
    path("export.xlsx", views.graduate_export, name="graduate_export"),
    path("upload/<str:token>/", views.graduate_preview, name="graduate_preview"),
    path("upload/<str:token>/problems.xlsx", views.graduate_problems, name="graduate_problems"),
    path("upload/<str:token>/confirm/", views.graduate_confirm, name="graduate_confirm"),
    path("upload/<str:token>/cancel/", views.graduate_cancel, name="graduate_cancel"),
    path("<int:pk>/", views.graduate_detail, name="graduate_detail"),
    path("<int:pk>/proof/", views.graduate_proof, name="graduate_proof"),
    path("<int:pk>/reveal/", views.graduate_reveal_id, name="graduate_reveal_id"),
]
