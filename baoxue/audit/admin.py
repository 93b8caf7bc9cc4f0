from django.contrib import admin

from baoxue.audit.models import AuditEntry
from baoxue.lib.idcard import mask_id, mask_phone, mask_registry_no

# Shown masked here as on the audit page (baoxue.org.audit_log): the trail keeps what the
# services wrote, the admin is a list like any other.
_MASKS = {"id_number": mask_id, "registry_no": mask_registry_no, "phone": mask_phone}


def masked_changes(changes) -> dict:
    out = {}
    for name, pair in (changes or {}).items():
        mask = _MASKS.get(name)
        if mask and isinstance(pair, list):
            pair = [mask(v) if isinstance(v, str) else v for v in pair]
        elif mask and isinstance(pair, str):
            pair = mask(pair)
        out[name] = pair
    return out


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the trail is never edited or deleted, not even by a system administrator."""

    list_display = ["at", "actor_name", "action", "object_type", "object_repr", "note"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_repr", "note", "actor__username", "actor_label"]
    date_hierarchy = "at"
    exclude = ["changes"]
    readonly_fields = ["changes_shown"]

    @admin.display(description="变更（旧值 → 新值）")
    def changes_shown(self, obj):
        return masked_changes(obj.changes)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
