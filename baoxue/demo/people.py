"""The demo's people and places: names, phone numbers, valid ID numbers and villages, all from one
seeded generator, so that the county builder (`county`) and the registry files (`registry`) draw
from the same pool without importing each other."""

from __future__ import annotations

import random
from datetime import date, timedelta

from baoxue.lib.idcard import make_resident_id
from baoxue.org.models import Sex

# The demo county's 行政区划代码 (also the region of its ID numbers).
COUNTY_CODE = "410999"

VILLAGES: dict[str, tuple[str, ...]] = {
    "城关镇": ("东关社区", "西关社区", "南关社区", "北街社区", "新华社区", "文明社区", "城东村", "孙庄村", "王庄村", "前李村"),
    "留固镇": ("留固村", "李庄村", "张营村", "东胡村", "前屯村", "后屯村", "刘庄村", "马寨村", "西王村", "大安村"),
    "白道口镇": ("白道口村", "西小庄村", "东庄村", "老店村", "杨庄村", "高营村", "赵庄村", "郭寨村", "后店村"),
}

# Common surnames, weighted by their approximate share in Henan (per mille); 单, 曾 and 翟
# exercise the pinyin surname readings, 欧阳 and 司马 the compound surnames.
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 75), ("李", 70), ("张", 68), ("刘", 55), ("陈", 40), ("杨", 32), ("赵", 26), ("郭", 22),
    ("黄", 18), ("周", 20), ("吴", 16), ("徐", 15), ("孙", 18), ("胡", 15), ("朱", 14), ("高", 16),
    ("林", 8), ("何", 9), ("马", 16), ("罗", 7), ("郑", 11), ("宋", 12), ("梁", 8), ("谢", 6),
    ("韩", 10), ("唐", 5), ("冯", 9), ("于", 7), ("董", 8), ("程", 8), ("曹", 9), ("袁", 6),
    ("邓", 5), ("许", 10), ("魏", 8), ("田", 7), ("任", 7), ("范", 6), ("贾", 7), ("丁", 6),
    ("吕", 6), ("苏", 5), ("卢", 5), ("蒋", 4), ("蔡", 5), ("薛", 5), ("常", 6), ("崔", 6),
    ("白", 6), ("史", 5), ("牛", 5), ("岳", 4), ("翟", 4), ("单", 3), ("曾", 3), ("乔", 4),
    ("孟", 5), ("侯", 5), ("秦", 4), ("武", 5), ("段", 4), ("尹", 3), ("司", 3),
    ("欧阳", 1.2), ("司马", 1.2),
)
_SURNAME_NAMES = [s for s, _ in SURNAMES]
_SURNAME_WEIGHTS = [w for _, w in SURNAMES]

BOY_NAMES = (
    "浩然", "子轩", "宇航", "俊杰", "梓豪", "志强", "文博", "一鸣", "家乐", "明轩", "天佑", "博文", "思远",
    "浩宇", "晨阳", "鹏飞", "旭东", "振宇", "泽宇", "宇轩", "皓轩", "子墨", "雨泽", "铭泽", "锦程", "昊天",
    "宏伟", "俊熙", "立诚", "承泽", "梓睿", "家豪", "嘉豪", "文轩", "晓东", "子豪", "一凡", "宇辰", "亦辰",
    "梓航", "浩轩", "奕辰", "宇哲", "明杰", "嘉诚", "瑞阳", "天宇", "佳豪", "志豪", "俊豪", "子健", "泽阳",
    "思源", "乐天", "建业", "世豪", "光耀", "少杰", "永康", "国栋", "新宇", "晨曦", "凯文", "书豪", "润泽",
    "子阳", "致远", "明哲", "伟", "磊", "鑫", "涛", "强", "杰", "超", "帅", "博", "凯", "阳", "龙", "斌",
)
GIRL_NAMES = (
    "欣怡", "梓涵", "诗涵", "雨桐", "可馨", "紫涵", "思雨", "一诺", "佳怡", "梦瑶", "雅琪", "静怡", "子萱",
    "雨萱", "晓雪", "欣妍", "艺涵", "语桐", "若曦", "婉清", "佳琪", "梦琪", "心怡", "嘉怡", "紫萱", "思涵",
    "诗琪", "雨欣", "梓萱", "欣然", "佳慧", "晓彤", "梦洁", "雅婷", "雨晴", "慧敏", "可欣", "安琪", "诗雨",
    "欣悦", "思琪", "晨曦", "乐怡", "沐阳", "俊怡", "一冉", "美琪", "玉洁", "春晓", "书瑶", "梦涵", "晓琳",
    "子怡", "文静", "亚楠", "丽娜", "甜甜", "佳佳", "盼盼", "悦", "婷", "娜", "敏", "静", "丹", "颖", "雪",
    "琳", "萌", "璐", "瑶", "洁", "倩", "妍",
)
# Parents (born 1975-1992) and grandparents carry the names of their generations.
MAN_NAMES = (
    "建军", "志强", "海涛", "红伟", "卫国", "建伟", "国强", "永强", "建华", "保国", "东升", "俊峰", "晓峰",
    "朝阳", "新民", "振华", "利军", "红军", "军伟", "长青", "德明", "明亮", "海军", "学军", "伟", "军", "勇",
    "磊", "涛", "刚", "强", "斌", "鹏", "辉", "锋", "亮", "峰", "华", "杰", "波",
)
WOMAN_NAMES = (
    "丽娜", "红霞", "春燕", "海霞", "晓丽", "秀丽", "丽娟", "艳红", "玉霞", "翠萍", "红梅", "美玲", "素芳",
    "彩霞", "冬梅", "雪梅", "小娟", "慧芳", "海燕", "晓燕", "亚楠", "利娟", "丽", "娟", "敏", "静", "艳",
    "霞", "芳", "燕", "萍", "玲", "红", "莉",
)
OLD_MAN_NAMES = ("德福", "长江", "金山", "春生", "守义", "建国", "国华", "长海", "德胜", "老三", "文清", "保山",
                 "福来", "振兴", "全义", "秋生")
OLD_WOMAN_NAMES = ("秀兰", "桂英", "玉梅", "凤芝", "淑珍", "翠花", "桂兰", "玉兰", "凤英", "秀英", "素梅", "秀芝",
                   "桂芳", "玉珍")

PHONE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
                  "156", "157", "158", "159", "166", "173", "175", "176", "177", "180", "182", "183", "185",
                  "186", "187", "188", "189", "191", "198", "199")


def day_between(rng: random.Random, first: date, last: date) -> date:
    if last <= first:
        return first
    return first + timedelta(days=rng.randrange((last - first).days + 1))


class People:
    """Names, phone numbers and ID numbers, all from the one seeded generator."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used_ids: set[tuple[date, int]] = set()
        self.staff_names: set[str] = set()

    def surname(self, *, other_than: str = "") -> str:
        while True:
            name = self.rng.choices(_SURNAME_NAMES, weights=_SURNAME_WEIGHTS)[0]
            if name != other_than:
                return name

    def child_name(self, surname: str, sex: str) -> str:
        return surname + self.rng.choice(BOY_NAMES if sex == Sex.MALE else GIRL_NAMES)

    def adult_name(self, surname: str, sex: str, *, old: bool = False) -> str:
        if old:
            pool = OLD_MAN_NAMES if sex == Sex.MALE else OLD_WOMAN_NAMES
        else:
            pool = MAN_NAMES if sex == Sex.MALE else WOMAN_NAMES
        return surname + self.rng.choice(pool)

    def staff_name(self) -> str:
        """A teacher's name, unique among the demo's staff."""
        while True:
            sex = Sex.MALE if self.rng.random() < 0.45 else Sex.FEMALE
            name = self.adult_name(self.surname(), sex)
            if name not in self.staff_names:
                self.staff_names.add(name)
                return name

    def phone(self) -> str:
        return self.rng.choice(PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def resident_id(self, birth: date, sex: str) -> str:
        """A valid ID number of region 410999, never the same twice."""
        while True:
            seq = self.rng.randrange(100)
            if (birth, seq) not in self.used_ids:
                self.used_ids.add((birth, seq))
                return make_resident_id(COUNTY_CODE, birth, seq, sex)

    def birth_in_year(self, year: int) -> date:
        return day_between(self.rng, date(year, 1, 1), date(year, 12, 31))
