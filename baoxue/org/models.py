"""Organisation and people: counties, townships, schools, terms, classes, staff roles,
students, their families and their key-group memberships.

Big tables (students, families, key groups) carry `county` and `school` keys so that a
province-sized deployment can partition them by county.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone


class County(models.Model):
    """区县, identified by its 6-digit 行政区划代码."""

    code = models.CharField("行政区划代码", max_length=6, unique=True)
    name = models.CharField("名称", max_length=50)

    class Meta:
        verbose_name = verbose_name_plural = "区县"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=r"^[0-9]{6}$"), name="county_code_6_digits"),
        ]

    def __str__(self) -> str:
        return self.name


class Township(models.Model):
    """乡镇/街道. Reports about dropouts go to the township of the student's residence."""

    county = models.ForeignKey(County, verbose_name="区县", on_delete=models.PROTECT, related_name="townships")
    name = models.CharField("名称", max_length=50)

    class Meta:
        verbose_name = verbose_name_plural = "乡镇/街道"
        ordering = ["county_id", "name"]
        constraints = [models.UniqueConstraint(fields=["county", "name"], name="township_unique_name")]

    def __str__(self) -> str:
        return self.name


class Stage(models.TextChoices):
    PRIMARY = "primary", "小学"
    JUNIOR = "junior", "初中"
    NINE_YEAR = "nine_year", "九年一贯制"


class School(models.Model):
    """A school, identified by its 10-digit 学校标识码."""

    code = models.CharField("学校标识码", max_length=10, unique=True)
    name = models.CharField("学校名称", max_length=100)
    county = models.ForeignKey(County, verbose_name="区县", on_delete=models.PROTECT, related_name="schools")
    township = models.ForeignKey(Township, verbose_name="所在乡镇", on_delete=models.PROTECT, related_name="schools")
    stage = models.CharField("学段", max_length=20, choices=Stage.choices, default=Stage.JUNIOR)

    class Meta:
        verbose_name = verbose_name_plural = "学校"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=r"^[0-9]{10}$"), name="school_code_10_digits"),
        ]

    def __str__(self) -> str:
        return self.name


class Term(models.Model):
    """学期 of a school, named like 2025-2026-1 (school year, then 1 = autumn, 2 = spring)."""

    school = models.ForeignKey(School, verbose_name="学校", on_delete=models.CASCADE, related_name="terms")
    name = models.CharField("学期", max_length=20)
    start = models.DateField("开学日期")
    end = models.DateField("结束日期")

    class Meta:
        verbose_name = verbose_name_plural = "学期"
        ordering = ["school_id", "start"]
        constraints = [
            models.UniqueConstraint(fields=["school", "name"], name="term_unique_name"),
            models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="term_end_after_start"),
            models.CheckConstraint(condition=Q(name__regex=r"^[0-9]{4}-[0-9]{4}-[12]$"), name="term_name_format"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def school_year(self) -> str:
        return self.name[:9]


class Grade(models.Model):
    """年级 as the registry names it (七年级, 2023级 …)."""

    school = models.ForeignKey(School, verbose_name="学校", on_delete=models.CASCADE, related_name="grades")
    name = models.CharField("年级", max_length=20)
    order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "年级"
        ordering = ["school_id", "order", "name"]
        constraints = [models.UniqueConstraint(fields=["school", "name"], name="grade_unique_name")]

    def __str__(self) -> str:
        return self.name


class SchoolClass(models.Model):
    """班级 with its head teacher (班主任)."""

    school = models.ForeignKey(School, verbose_name="学校", on_delete=models.CASCADE, related_name="classes")
    grade = models.ForeignKey(Grade, verbose_name="年级", on_delete=models.PROTECT, related_name="classes")
    name = models.CharField("班级", max_length=30)
    head_teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="班主任", null=True, blank=True,
        on_delete=models.SET_NULL, related_name="head_of_classes",
    )

    class Meta:
        verbose_name = verbose_name_plural = "班级"
        ordering = ["school_id", "grade__order", "grade__name", "name"]
        constraints = [models.UniqueConstraint(fields=["grade", "name"], name="class_unique_name")]

    def __str__(self) -> str:
        return f"{self.grade.name}{self.name}"


class Role(models.TextChoices):
    ADMIN = "admin", "系统管理员"
    COUNTY = "county", "县教体局"
    TOWNSHIP = "township", "乡镇政府"
    LEADER = "leader", "学校领导（组长/副组长）"
    OFFICE = "office", "控辍保学办公室（政教处）"
    REGISTRAR = "registrar", "学籍管理员"
    HEAD_TEACHER = "head_teacher", "班主任"
    MENTOR = "mentor", "帮扶教师"


# A tuple, not a set: its order is written into the migration of the constraint below.
SCHOOL_ROLES = (Role.LEADER, Role.OFFICE, Role.REGISTRAR, Role.MENTOR, Role.HEAD_TEACHER)


class Membership(models.Model):
    """A staff account's role, scoped to a county, a township or a school.

    A head teacher's classes come from `SchoolClass.head_teacher`, a mentor's students from
    `Mentorship`: the membership says what the person is, those rows say whom they see.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="账号", on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField("角色", max_length=20, choices=Role.choices)
    county = models.ForeignKey(County, verbose_name="区县", null=True, blank=True, on_delete=models.CASCADE)
    township = models.ForeignKey(Township, verbose_name="乡镇", null=True, blank=True, on_delete=models.CASCADE)
    school = models.ForeignKey(School, verbose_name="学校", null=True, blank=True, on_delete=models.CASCADE)

    class Meta:
        verbose_name = verbose_name_plural = "角色"
        constraints = [
            # Coalesce: a NULL scope would otherwise never collide with another NULL.
            models.UniqueConstraint(
                "user", "role", Coalesce("county", 0), Coalesce("township", 0), Coalesce("school", 0),
                name="membership_unique",
            ),
            models.CheckConstraint(
                name="membership_scope_matches_role",
                condition=(
                    Q(role="admin", county__isnull=True, township__isnull=True, school__isnull=True)
                    | Q(role="county", county__isnull=False, township__isnull=True, school__isnull=True)
                    | Q(role="township", county__isnull=False, township__isnull=False, school__isnull=True)
                    | Q(role__in=[r.value for r in SCHOOL_ROLES], county__isnull=False,
                        township__isnull=True, school__isnull=False)
                ),
            ),
        ]

    def __str__(self) -> str:
        where = self.school or self.township or self.county or "全系统"
        return f"{self.get_role_display()} · {where}"


class LeadershipGroup(models.Model):
    """控辍保学工作领导小组 of a school for one term (plan: 办公室设在政教处)."""

    school = models.ForeignKey(School, verbose_name="学校", on_delete=models.CASCADE, related_name="leadership_groups")
    term = models.ForeignKey(Term, verbose_name="学期", on_delete=models.CASCADE, related_name="leadership_groups")
    office_location = models.CharField("办公室设在", max_length=50, default="政教处")
    office_director = models.CharField("办公室主任", max_length=50, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "控辍保学工作领导小组"
        constraints = [models.UniqueConstraint(fields=["school", "term"], name="leadership_group_per_term")]

    def __str__(self) -> str:
        return f"{self.school} {self.term} 控辍保学工作领导小组"


class LeadershipPosition(models.TextChoices):
    LEADER = "leader", "组长"
    DEPUTY = "deputy", "副组长"
    MEMBER = "member", "成员"


class LeadershipMember(models.Model):
    group = models.ForeignKey(LeadershipGroup, on_delete=models.CASCADE, related_name="members")
    position = models.CharField("职务", max_length=10, choices=LeadershipPosition.choices)
    name = models.CharField("姓名", max_length=50)
    title = models.CharField("本职", max_length=50, blank=True, help_text="例如：校长、副校长、政教处主任")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = "领导小组成员"
        ordering = ["group_id", "position", "id"]

    def __str__(self) -> str:
        return f"{self.get_position_display()} {self.name}"


class Sex(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


class IdType(models.TextChoices):
    RESIDENT = "resident", "居民身份证"
    HK_MACAO = "hk_macao", "港澳居民来往内地通行证"
    TAIWAN = "taiwan", "台湾居民来往大陆通行证"
    PASSPORT = "passport", "护照"
    OTHER = "other", "其他"


class RegistryStatus(models.TextChoices):
    """学籍状态."""

    IN_SCHOOL = "in_school", "在校"
    SUSPENDED = "suspended", "休学"
    TRANSFERRED_OUT = "transferred_out", "转出"
    DROPPED_OUT = "dropped_out", "辍学"
    DEFERRED = "deferred", "延缓入学"
    GRADUATED = "graduated", "毕业"
    DECEASED = "deceased", "死亡"
    OTHER_LEFT = "other_left", "其他离校"


class Student(models.Model):
    county = models.ForeignKey(County, verbose_name="区县", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey(School, verbose_name="学校", on_delete=models.PROTECT, related_name="students")
    school_class = models.ForeignKey(
        SchoolClass, verbose_name="班级", null=True, blank=True, on_delete=models.PROTECT, related_name="students",
    )
    name = models.CharField("姓名", max_length=50)
    name_initials = models.CharField("拼音首字母", max_length=50, blank=True, db_index=True)
    former_name = models.CharField("曾用名", max_length=50, blank=True)
    sex = models.CharField("性别", max_length=1, choices=Sex.choices)
    birth_date = models.DateField("出生日期", null=True, blank=True)
    ethnicity = models.CharField("民族", max_length=20, blank=True)
    id_type = models.CharField("身份证件类型", max_length=20, choices=IdType.choices, default=IdType.RESIDENT)
    id_number = models.CharField("身份证件号", max_length=30, blank=True)
    registry_no = models.CharField("全国学籍号", max_length=30, blank=True)
    aux_registry_no = models.CharField("学籍辅号", max_length=30, blank=True)
    enrolled_on = models.DateField("入学年月", null=True, blank=True)
    status = models.CharField("学籍状态", max_length=20, choices=RegistryStatus.choices, default=RegistryStatus.IN_SCHOOL)
    status_since = models.DateField("学籍状态日期", null=True, blank=True)
    hukou_address = models.CharField("户口所在地", max_length=200, blank=True)
    address = models.CharField("现住址", max_length=200, blank=True)
    residence_township = models.ForeignKey(
        Township, verbose_name="现住址所在乡镇", null=True, blank=True, on_delete=models.PROTECT, related_name="residents",
    )
    residence_village = models.CharField("现住址村（社区）", max_length=50, blank=True)
    phone = models.CharField("联系电话", max_length=30, blank=True)
    boarding = models.BooleanField("住校", default=False)
    distance_km = models.DecimalField("上下学距离（公里）", max_digits=5, decimal_places=1, null=True, blank=True)
    commute = models.CharField("上下学方式", max_length=30, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "学生"
        ordering = ["school_id", "school_class_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["registry_no"], condition=~Q(registry_no=""), name="student_registry_no_unique"),
            models.UniqueConstraint(fields=["id_type", "id_number"], condition=~Q(id_number=""), name="student_id_number_unique"),
            models.CheckConstraint(condition=~Q(name=""), name="student_name_not_empty"),
        ]
        indexes = [
            models.Index(fields=["school", "status"]),
            models.Index(fields=["county", "residence_township"]),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def class_label(self) -> str:
        return str(self.school_class) if self.school_class_id else "未分班"


class FamilyMember(models.Model):
    """家庭成员; `is_guardian` marks the 监护人."""

    student = models.ForeignKey(Student, verbose_name="学生", on_delete=models.CASCADE, related_name="family")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    name = models.CharField("姓名", max_length=50)
    relation = models.CharField("关系", max_length=20)
    phone = models.CharField("联系电话", max_length=30, blank=True)
    is_guardian = models.BooleanField("是否监护人", default=False)
    works_away = models.BooleanField("外出务工", default=False)
    works_away_place = models.CharField("务工地点", max_length=100, blank=True)
    id_type = models.CharField("身份证件类型", max_length=20, choices=IdType.choices, default=IdType.RESIDENT)
    id_number = models.CharField("身份证件号", max_length=30, blank=True)
    address = models.CharField("现住址", max_length=200, blank=True)
    employer = models.CharField("工作单位", max_length=100, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "家庭成员"
        ordering = ["student_id", "-is_guardian", "id"]

    def __str__(self) -> str:
        return f"{self.name}（{self.relation}）"


class KeyGroup(models.TextChoices):
    """重点群体 (plan §4, and the national rules' additions)."""

    MIGRANT = "migrant", "随迁子女"
    LEFT_BEHIND = "left_behind", "留守儿童"
    POOR = "poor", "家庭经济困难"
    DISABLED = "disabled", "残疾"
    UNSUPPORTED = "unsupported", "事实无人抚养"
    ORPHAN = "orphan", "孤儿"
    LEARNING = "learning", "学习困难"
    DISTRESSED = "distressed", "困境儿童"
    JUSTICE = "justice", "涉案未成年人"


# Subtypes a membership may carry, per group; empty list = none.
KEY_GROUP_SUBTYPES: dict[str, list[str]] = {
    KeyGroup.LEFT_BEHIND: ["单亲留守", "双亲留守"],
    KeyGroup.POOR: ["脱贫户", "监测户", "低保", "特困"],
    KeyGroup.DISABLED: ["视力残疾", "听力残疾", "言语残疾", "肢体残疾", "智力残疾", "精神残疾", "多重残疾"],
}


class DisabilityPlacement(models.TextChoices):
    MAINSTREAM = "mainstream", "随班就读"
    SPECIAL_SCHOOL = "special_school", "特校就读"
    HOME_TEACHING = "home_teaching", "送教上门"


class KeyGroupMembership(models.Model):
    """A period during which a student belongs to a key group. History is kept: a membership
    ends (ended_on) rather than being deleted."""

    student = models.ForeignKey(Student, verbose_name="学生", on_delete=models.CASCADE, related_name="key_groups")
    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    group = models.CharField("重点群体", max_length=20, choices=KeyGroup.choices)
    subtype = models.CharField("类别", max_length=20, blank=True)
    disability_level = models.CharField("残疾等级", max_length=10, blank=True)
    placement = models.CharField("安置方式", max_length=20, choices=DisabilityPlacement.choices, blank=True)
    started_on = models.DateField("开始日期")
    ended_on = models.DateField("结束日期", null=True, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "重点群体"
        ordering = ["student_id", "group", "-started_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="key_group_end_after_start",
            ),
            # One open membership per group at a time.
            models.UniqueConstraint(fields=["student", "group"], condition=Q(ended_on__isnull=True), name="key_group_one_open"),
        ]
        indexes = [models.Index(fields=["school", "group"])]

    def __str__(self) -> str:
        label = self.get_group_display()
        return f"{label}（{self.subtype}）" if self.subtype else label

    @property
    def is_current(self) -> bool:
        return self.ended_on is None or self.ended_on > timezone.localdate()


class Mentorship(models.Model):
    """一对一教育关爱帮扶: a mentor and the student they care for."""

    mentor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="帮扶教师", on_delete=models.PROTECT, related_name="mentorships")
    student = models.ForeignKey(Student, verbose_name="学生", on_delete=models.CASCADE, related_name="mentorships")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    started_on = models.DateField("开始日期")
    ended_on = models.DateField("结束日期", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "帮扶关系"
        constraints = [
            models.UniqueConstraint(fields=["mentor", "student"], condition=Q(ended_on__isnull=True), name="mentorship_one_open"),
        ]

    def __str__(self) -> str:
        return f"{self.mentor} → {self.student}"


class ImportBatch(models.Model):
    """An uploaded student file between preview and confirmation (upload → preview → confirm)."""

    class State(models.TextChoices):
        PREVIEWED = "previewed", "待确认"
        COMMITTED = "committed", "已导入"
        CANCELLED = "cancelled", "已取消"

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    filename = models.CharField(max_length=200)
    stored_path = models.CharField(max_length=300)
    state = models.CharField(max_length=20, choices=State.choices, default=State.PREVIEWED)
    summary = models.JSONField(default=dict)

    class Meta:
        verbose_name = verbose_name_plural = "导入批次"


class PasswordChangeRequired(models.Model):
    """An account whose password someone else chose (import-staff, the admin site): at its next
    sign-in it is sent to the password change page until it sets a password of its own."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name="账号", on_delete=models.CASCADE,
                                related_name="password_change_required")
    since = models.DateTimeField("设置时间", auto_now_add=True)
    reason = models.CharField("原因", max_length=100, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "待修改初始密码"

    def __str__(self) -> str:
        return f"{self.user} {self.reason}"
