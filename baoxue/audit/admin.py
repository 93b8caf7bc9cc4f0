from django.contrib import admin

from baoxue.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the trail is never edited or deleted, not even by a system administrator."""

    list_display = ["at", "actor_name", "action", "object_type", "object_repr", "note"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_repr", "note", "actor__username", "actor_label"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
