"""Django admin, for system administrators only: schools, terms, classes, accounts and roles.

Day-to-day work happens in the app's own pages, which go through the selectors and services
and write audit rows; the admin is the operator's tool for setting the organisation up.
"""

from django.contrib import admin

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
class CountyAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]


@admin.register(Township)
class TownshipAdmin(admin.ModelAdmin):
    list_display = ["name", "county"]
    list_filter = ["county"]


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "stage", "township", "county"]
    list_filter = ["county", "stage", "township"]
    search_fields = ["code", "name"]


@admin.register(Term)
class TermAdmin(admin.ModelAdmin):
    list_display = ["school", "name", "start", "end"]
    list_filter = ["name"]


@admin.register(Grade)
class GradeAdmin(admin.ModelAdmin):
    list_display = ["school", "name", "order"]
    list_filter = ["school"]


@admin.register(SchoolClass)
class SchoolClassAdmin(admin.ModelAdmin):
    list_display = ["__str__", "school", "head_teacher"]
    list_filter = ["school"]
    list_select_related = ["grade", "school", "head_teacher"]
    raw_id_fields = ["head_teacher"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "county", "township", "school"]
    list_filter = ["role", "county"]
    search_fields = ["user__username", "user__first_name"]
    raw_id_fields = ["user"]


class LeadershipMemberInline(admin.TabularInline):
    model = LeadershipMember
    extra = 0
    raw_id_fields = ["user"]


@admin.register(LeadershipGroup)
class LeadershipGroupAdmin(admin.ModelAdmin):
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


class FamilyMemberInline(ReadOnlyMixin, admin.TabularInline):
    model = FamilyMember
    extra = 0
    exclude = ["school"]


@admin.register(Student)
class StudentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["name", "sex", "school", "school_class", "registry_no", "status"]
    list_filter = ["status", "school"]
    search_fields = ["name", "registry_no", "name_initials"]
    list_select_related = ["school", "school_class__grade"]
    inlines = [FamilyMemberInline]


@admin.register(KeyGroupMembership)
class KeyGroupMembershipAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["student", "group", "subtype", "started_on", "ended_on"]
    list_filter = ["group", "school"]


@admin.register(Mentorship)
class MentorshipAdmin(admin.ModelAdmin):
    list_display = ["mentor", "student", "school", "started_on", "ended_on"]
    raw_id_fields = ["mentor", "student"]


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ["uploaded_at", "school", "filename", "uploaded_by", "state"]
    list_filter = ["state", "school"]
    readonly_fields = [f.name for f in ImportBatch._meta.fields]

    def has_add_permission(self, request):
        return False
