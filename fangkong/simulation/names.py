"""Word lists for the synthetic city: surnames, given-name characters, place-name syllables.

Every name the simulation prints is assembled from these lists, so no real person or real
place is described. Surname weights follow the rough frequency in Guangdong, where the city's
codes place it; they only need to look plausible.
"""

from __future__ import annotations

import random

# (surname, relative weight)
SURNAMES: tuple[tuple[str, int], ...] = (
    ("陈", 120), ("李", 80), ("黄", 75), ("梁", 60), ("林", 55), ("张", 50), ("罗", 40),
    ("刘", 40), ("杨", 30), ("吴", 30), ("何", 30), ("叶", 25), ("钟", 25), ("周", 25),
    ("郑", 22), ("邓", 22), ("谢", 20), ("冯", 20), ("朱", 18), ("许", 18), ("曾", 18),
    ("庞", 16), ("莫", 15), ("蔡", 15), ("苏", 14), ("潘", 14), ("彭", 12), ("卢", 12),
    ("邹", 10), ("温", 10), ("赖", 10), ("丘", 9), ("柯", 8), ("谭", 12), ("麦", 8),
    ("关", 8), ("王", 35), ("赵", 10), ("孙", 8), ("徐", 10), ("胡", 10), ("高", 9),
    ("郭", 10), ("马", 9), ("欧阳", 3), ("司徒", 2), ("上官", 1), ("余", 12), ("宋", 8),
    ("邱", 10), ("方", 8), ("江", 8), ("戴", 6), ("严", 5), ("廖", 10), ("袁", 6),
    ("文", 6), ("龙", 5), ("车", 4), ("劳", 4), ("揭", 3), ("祝", 3), ("招", 3),
)  # fmt: skip

MALE_GIVEN = (
    "伟", "强", "军", "杰", "磊", "涛", "斌", "浩", "宇", "鹏", "俊", "健", "明", "华", "辉",
    "志", "勇", "峰", "波", "文", "彬", "海", "东", "锋", "超", "龙", "建", "国", "家", "荣",
    "振", "博", "轩", "睿", "泽", "晨", "子", "梓", "航", "昊", "智", "宏", "永", "坤", "耀",
    "德", "成", "兴", "良", "庆", "祥", "金", "铭", "嘉", "维", "展", "添", "培", "炳", "灿",
)  # fmt: skip

FEMALE_GIVEN = (
    "芳", "娟", "敏", "静", "丽", "艳", "秀", "霞", "玲", "燕", "婷", "雪", "慧", "颖", "琳",
    "欣", "怡", "佳", "倩", "莹", "洁", "萍", "红", "梅", "兰", "凤", "英", "华", "玉", "珍",
    "诗", "雨", "梓", "涵", "可", "馨", "悦", "晴", "思", "妍", "彤", "嘉", "紫", "琪", "瑶",
    "翠", "桂", "妹", "群", "爱", "美", "宝", "少", "月", "小", "晓", "楚", "碧", "惠", "淑",
)  # fmt: skip

# Syllables for place names; combined in pairs they give names no real place needs to have.
PLACE_SYLLABLES = (
    "金", "银", "宝", "丰", "安", "康", "宁", "和", "平", "顺", "福", "禄", "寿", "新", "兴",
    "鉴", "江", "河", "湖", "海", "山", "石", "林", "岭", "岗", "坡", "塘", "湾", "洲", "沙",
    "东", "西", "南", "北", "中", "上", "下", "前", "后", "高", "长", "大", "小", "龙", "凤",
    "桃", "李", "荔", "榕", "梅", "竹", "松", "茶", "禾", "稻", "桥", "潭", "泉", "溪", "田",
    "合", "水", "云", "霞", "光", "明", "华", "盛", "昌", "泰", "宏", "远", "望", "德", "仁",
)  # fmt: skip

VENUE_WORDS = {
    "mall": ("广场", "购物中心", "百货", "商城"),
    "market": ("农贸市场", "肉菜市场", "综合市场", "批发市场"),
    "restaurant": ("酒家", "饭店", "大排档", "茶楼", "粉店", "餐厅", "烧鹅店", "食府"),
    "park": ("公园", "广场公园", "湿地公园", "森林公园"),
    "scenic_spot": ("风景区", "旅游区", "古村落", "生态园"),
    "cinema": ("影城", "电影院", "国际影城"),
    "ktv": ("KTV", "量贩式KTV", "歌城"),
    "internet_cafe": ("网吧", "网咖", "电竞馆"),
    "elderly_care": ("敬老院", "养老院", "颐养中心"),
    "welfare_home": ("社会福利院", "儿童福利院"),
    "hospital": ("人民医院", "中医院", "妇幼保健院", "第二人民医院"),
    "detention": ("看守所", "拘留所"),
    "religious_site": ("寺", "庙", "天主堂", "基督教堂", "清真寺", "观"),
    "pharmacy": ("大药房", "药店", "医药连锁店", "健民药房"),
    "clinic": ("门诊部", "诊所", "社区卫生服务站"),
    "village_clinic": ("卫生站",),
    "fever_clinic": ("发热门诊",),
    "sampling_site": ("核酸采样点", "便民采样点"),
    "quarantine_facility": ("酒店", "宾馆", "健康驿站"),
}


def weighted_table(pairs: tuple[tuple[str, int], ...]) -> tuple[list[str], list[int]]:
    """Values and cumulative weights, for `random.choices(..., cum_weights=...)`."""
    values, cum, total = [], [], 0
    for value, weight in pairs:
        total += weight
        values.append(value)
        cum.append(total)
    return values, cum


_SURNAME_VALUES, _SURNAME_CUM = weighted_table(SURNAMES)


def surname(rng: random.Random) -> str:
    return rng.choices(_SURNAME_VALUES, cum_weights=_SURNAME_CUM)[0]


def given_name(rng: random.Random, sex: str) -> str:
    pool = MALE_GIVEN if sex == "M" else FEMALE_GIVEN
    if rng.random() < 0.25:
        return rng.choice(pool)
    return rng.choice(pool) + rng.choice(pool)


def person_name(rng: random.Random, sex: str, family: str | None = None) -> str:
    return (family or surname(rng)) + given_name(rng, sex)


def place_stem(rng: random.Random) -> str:
    """A two-character place-name stem such as 金岭 or 榕湾."""
    first = rng.choice(PLACE_SYLLABLES)
    second = rng.choice(PLACE_SYLLABLES)
    while second == first:
        second = rng.choice(PLACE_SYLLABLES)
    return first + second


class StemPool:
    """Hands out distinct stems, so that siblings in the tree never share a name."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._used: set[str] = set()

    def take(self) -> str:
        for _ in range(50):
            stem = place_stem(self._rng)
            if stem not in self._used:
                self._used.add(stem)
                return stem
        # Past ~5,000 siblings the pairs run out; a third syllable keeps names distinct.
        stem = place_stem(self._rng) + self._rng.choice(PLACE_SYLLABLES)
        self._used.add(stem)
        return stem


FOREIGN_SURNAMES = ("SMITH", "NGUYEN", "KIM", "TANAKA", "SILVA", "MULLER", "KHAN", "PEREZ")
FOREIGN_GIVEN = ("JOHN", "ANNA", "MINH", "YUKI", "MARIA", "DAVID", "SARA", "ALI", "LUCAS")


def foreign_name(rng: random.Random) -> str:
    return f"{rng.choice(FOREIGN_SURNAMES)} {rng.choice(FOREIGN_GIVEN)}"
