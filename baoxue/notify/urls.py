from django.urls import path

from baoxue.notify import views

urlpatterns = [
    path("", views.index, name="notify_index"),
    path("messages/<int:pk>/retry/", views.retry, name="notify_retry"),
    path("channels/<int:pk>/toggle/", views.channel_toggle, name="notify_channel_toggle"),
]
