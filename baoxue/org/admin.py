"""Django admin, for system administrators only: schools, terms, classes, accounts and roles.

Day-to-day work happens in the app's own pages, which go through the selectors and services
and write audit rows; the admin is the operator's tool for setting the organisation up. Its
changes are audited too (every ModelAdmin is an AuditedModelAdmin, accounts and groups
included), and it shows ID numbers, 全国学籍号 and phones masked like every list; students are
found by name, initials or a complete number, never by a part of one.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group

from baoxue.audit.admin_base import AuditedAdminMixin, AuditedModelAdmin
from baoxue.lib.idcard import mask_id, mask_phone, mask_registry_no
from baoxue.org.models import (
    County,
    FamilyMember,
    Grade,
    ImportBatch,
    KeyGroupMembership,
    LeadershipGroup,
    LeadershipMember,
    Membership,
    Mentorship,
    School,
    SchoolClass,
    Student,
    Term,
    Township,
)

# Staff flags are not roles here: only superusers (system administrators) open the admin.
admin.site.has_permission = lambda request: request.user.is_active and request.user.is_superuser
admin.site.site_header = admin.site.site_title = "保学 系统管理"
admin.site.index_title = "系统管理"


@admin.register(County)
class CountyAdmin(AuditedModelAdmin):
    list_display = ["code", "name"]


@admin.register(Township)
class TownshipAdmin(AuditedModelAdmin):
    list_display = ["name", "county"]
    list_filter = ["county"]


@admin.register(School)
class SchoolAdmin(AuditedModelAdmin):
    list_display = ["code", "name", "stage", "township", "county"]
    list_filter = ["county", "stage", "township"]
    search_fields = ["code", "name"]


@admin.register(Term)
class TermAdmin(AuditedModelAdmin):
    list_display = ["school", "name", "start", "end"]
    list_filter = ["name"]


@admin.register(Grade)
class GradeAdmin(AuditedModelAdmin):
    list_display = ["school", "name", "order"]
    list_filter = ["school"]


@admin.register(SchoolClass)
class SchoolClassAdmin(AuditedModelAdmin):
    list_display = ["__str__", "school", "head_teacher"]
    list_filter = ["school"]
    list_select_related = ["grade", "school", "head_teacher"]
    raw_id_fields = ["head_teacher"]


@admin.register(Membership)
class MembershipAdmin(AuditedModelAdmin):
    list_display = ["user", "role", "county", "township", "school"]
    list_filter = ["role", "county"]
    search_fields = ["user__username", "user__first_name"]
    raw_id_fields = ["user"]


class LeadershipMemberInline(admin.TabularInline):
    model = LeadershipMember
    extra = 0
    raw_id_fields = ["user"]


@admin.register(LeadershipGroup)
class LeadershipGroupAdmin(AuditedModelAdmin):
    list_display = ["school", "term", "office_location", "office_director"]
    inlines = [LeadershipMemberInline]


class ReadOnlyMixin:
    """Records with service functions are changed in the app, where each change is checked and
    audited; the admin only shows them (an admin edit would skip both)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.display(description="身份证件号")
def masked_id_number(obj):
    return mask_id(obj.id_number)


@admin.display(description="全国学籍号")
def masked_registry_no(obj):
    return mask_registry_no(obj.registry_no)


@admin.display(description="联系电话")
def masked_phone(obj):
    return mask_phone(obj.phone)


class FamilyMemberInline(ReadOnlyMixin, admin.TabularInline):
    model = FamilyMember
    extra = 0
    exclude = ["school", "id_number", "phone"]
    readonly_fields = [masked_id_number, masked_phone]


@admin.register(Student)
class StudentAdmin(ReadOnlyMixin, AuditedModelAdmin):
    """Numbers masked in the list and on the page (a full number is revealed, audited, on the
    student's page in the app); search by a complete number only, never by its last digits."""

    list_display = ["name", "sex", "school", "school_class", masked_registry_no, "status"]
    list_filter = ["status", "school"]
    search_fields = ["name", "name_initials", "=registry_no", "=id_number"]
    list_select_related = ["school", "school_class__grade"]
    exclude = ["id_number", "registry_no", "phone"]
    readonly_fields = [masked_id_number, masked_registry_no, masked_phone]
    inlines = [FamilyMemberInline]


@admin.register(KeyGroupMembership)
class KeyGroupMembershipAdmin(ReadOnlyMixin, AuditedModelAdmin):
    list_display = ["student", "group", "subtype", "started_on", "ended_on"]
    list_filter = ["group", "school"]


@admin.register(Mentorship)
class MentorshipAdmin(AuditedModelAdmin):
    list_display = ["mentor", "student", "school", "started_on", "ended_on"]
    raw_id_fields = ["mentor", "student"]


@admin.register(ImportBatch)
class ImportBatchAdmin(AuditedModelAdmin):
    list_display = ["uploaded_at", "school", "filename", "uploaded_by", "state"]
    list_filter = ["state", "school"]
    readonly_fields = [f.name for f in ImportBatch._meta.fields]

    def has_add_permission(self, request):
        return False


# Accounts and groups: Django's own admins, audited like the rest (a new account, a changed
# permission, a password set by the administrator: the fact, never the value).
User = get_user_model()


class AuditedUserAdmin(AuditedAdminMixin, UserAdmin):
    pass


class AuditedGroupAdmin(AuditedAdminMixin, GroupAdmin):
    pass


for _model, _admin in ((User, AuditedUserAdmin), (Group, AuditedGroupAdmin)):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, _admin)
