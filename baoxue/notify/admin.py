"""Notifications in the Django admin, read-mostly: channels are added and removed with
`baoxue notify add-channel` / `remove-channel` (audited without their address and secret, which
are the robots' credentials); here a channel can be renamed, switched off or set to the morning
digest. Deliveries are read-only (retry them on /notify/)."""

from django import forms
from django.contrib import admin

from baoxue.audit.admin_base import AuditedModelAdmin
from baoxue.notify.models import Channel, Message
from baoxue.notify.services import mask_url, parse_audiences


class ChannelForm(forms.ModelForm):
    class Meta:
        model = Channel
        fields = ["label", "audience", "digest", "active"]
        help_texts = {"audience": "逗号分隔：head_teacher, office, registrar, township, county；留空为全部"}

    def clean_audience(self):
        return ",".join(parse_audiences(self.cleaned_data.get("audience", "")))


@admin.register(Channel)
class ChannelAdmin(AuditedModelAdmin):
    form = ChannelForm
    list_display = ["__str__", "kind", "county", "school", "township", "audience", "digest", "active"]
    list_filter = ["kind", "active", "digest", "county"]
    # The address and the secret never appear in a form, so never in the admin's audit rows.
    fields = ["label", "kind", "host", "county", "school", "township", "school_class", "audience", "digest", "active"]
    readonly_fields = ["kind", "host", "county", "school", "township", "school_class"]

    @admin.display(description="地址")
    def host(self, obj):
        return mask_url(obj.url)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Message)
class MessageAdmin(AuditedModelAdmin):
    list_display = ["created_at", "title", "channel", "state", "attempts", "next_try_at", "sent_at", "last_error"]
    list_filter = ["state", "audience"]
    search_fields = ["key", "title"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
