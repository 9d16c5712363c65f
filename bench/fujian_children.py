"""An independent labelled generator of Fujian schoolchildren's status records, for measuring the duplicate check on
data it was not tuned on (issue 16). It shares no code with `bench.synthetic` and imports nothing from the
services: records are plain dicts, ID numbers are built here (GB 11643, ISO 7064 MOD 11-2).

Built from published figures, approximately (rounded; see docs/dedupe-policy.md for the sources named):
- surnames: Fujian's ranking, led by 陈 (about 12%), 林 (about 9%) and 黄 (about 6%), then 张 吴 李 王 郑 ...;
- given names: the Ministry of Public Security's annual name reports (全国姓名报告 2018-2020) and press rankings of
  earlier years: 子轩 子涵 梓涵 欣怡 浩宇 宇轩 for births around 2010-2015, 一诺 沐宸 梓萱 for 2016-2018, 沐宸 若汐
  浩宇 一诺 依诺 for 2019-2020, with a long tail of two-character names from popular characters and ~8% one-character;
- families: one, two (mostly after the 2016 two-child policy) or three children, 2 to 6 years apart; twins at 1.5% of
  births; siblings often share a generation character (思涵 / 思远), cousins (fathers who are brothers) sometimes;
- minorities: She (畲族, surnames 蓝 雷 钟, Han-style names) about 1%; children with names in parts (阿依古丽·买买提,
  Uyghur and other migrants' children) 1% - several times their real share, so that the separator kind has enough
  children to be measured on - typed with whatever separator the clerk's keyboard gave;
- no ID number: about 3% of children (unregistered births before the 2015-2016 hukou reform, migrants' children);
- namesakes: same name, gender and birth date in the same city, at the rate a province of ~5.5 million schoolchildren
  produces for this name distribution (computed below, not assumed).

Duplicates (the same child enrolled a second time, the second record without the ID number unless it is a second ID):
one error each - homophone, typo_char (an input-method neighbour or look-alike), date_typo (one digit),
separator (minority names), traditional (script or variant form), second_id (a corrected number, birth-date digits or
one digit different) - and two errors at once. Hard negatives: twins, namesakes, siblings, cousins.
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

# --- published-statistics tables -----------------------------------------------------------------------------------

# Fujian surnames, per mille (rounded from published provincial rankings; the tail is lumped into the listed ones).
FUJIAN_SURNAMES = (
    "陈118 林90 黄62 张45 吴36 李35 王32 郑31 刘23 杨19 许16 蔡15 谢14 洪13 游10 叶10 邱9 罗9 周9 苏8 "
    "庄8 江8 曾8 何8 詹7 卢7 胡6 赖6 徐6 傅5 朱5 魏5 肖5 潘5 余5 郭5 方4 高4 柯4 沈4 颜4 戴4 施4 钟4 "
    "蓝3 雷3 邓3 廖3 丁3 严3 翁3 温3 姚3 连3 卓3 范3 姜3 程3 宋3 彭3 龚2 池2 阮2 欧阳1 司马1"
)
SHE_SURNAMES = ("蓝", "雷", "钟")

# Popular full given names by birth-year band (boys, girls), most popular first (name reports / press rankings).
POPULAR = {
    (2010, 2015): (
        "子轩 浩宇 浩然 宇轩 梓豪 俊杰 子豪 宇航 皓轩 梓轩 博文 子涵 俊熙 文博 宇泽 浩轩 天佑 铭轩 明轩 思远",
        "子涵 欣怡 梓涵 诗涵 梓萱 雨涵 可馨 紫涵 思涵 佳怡 语嫣 欣妍 雨欣 梦琪 诗琪 雨桐 佳琪 思琪 若曦 欣悦",
    ),
    (2016, 2018): (
        "浩宇 沐宸 浩然 宇轩 子墨 奕辰 宇泽 梓睿 一鸣 俊熙 皓轩 梓豪 宇辰 子轩 浩轩 铭泽 博文 睿泽 一诺 梓轩",
        "梓涵 一诺 欣怡 子涵 梓萱 可馨 诗涵 依诺 雨桐 语桐 紫涵 欣妍 梦瑶 芷若 思彤 悦溪 若汐 艺涵 梓琪 安琪",
    ),
    (2019, 2020): (
        "沐宸 浩宇 沐辰 茗泽 奕辰 宇泽 浩然 奕泽 宇轩 沐阳 梓睿 一鸣 子墨 宇辰 俊熙 睿泽 皓轩 铭泽 梓豪 锦程",
        "若汐 一诺 艺涵 依诺 梓涵 苡沫 雨桐 欣怡 语桐 语汐 梓萱 沐妍 可馨 安然 芷若 思琪 诗涵 悦宁 梦瑶 汐玥",
    ),
}
# Characters parents pick for the long tail (by the gender they mostly go to; 'both' for either).
BOY_CHARS = "宇浩轩泽睿辰俊杰博文涛鑫锦程昊晨铭航豪翔凯毅峻楷瑞诚哲彬鹏志伟健康明阳烨晟麟骏逸霖恒嘉"
GIRL_CHARS = "涵怡欣萱琪雨桐诗悦瑶妍婷琳颖馨雅晴曦月菲蕾璐茜莹薇娜佳倩梦洁芸蓉岚婧嫣楠"
BOTH_CHARS = "子梓一思可心安若依紫语艺沐奕天佳诺晓清文家乐亦书钰"
UYGHUR_GIVEN = {
    "f": ("阿依古丽", "古丽娜尔", "热依拉", "迪丽拜尔", "米娜瓦尔"),
    "m": ("艾克拜尔", "买买提", "阿不都", "艾尔肯", "努尔兰"),
}
UYGHUR_FAMILY = ("吐尔逊", "买买提", "热合曼", "阿不力孜", "依明", "卡德尔")
HUI_SURNAMES = ("马", "哈", "穆")

# Counties (household register) by city, with the city's share of Fujian's schoolchildren (approximate).
CITIES = {
    "福州": (0.20, "350102 350104 350111 350121 350122 350181"),
    "厦门": (0.13, "350203 350205 350206 350211 350212 350213"),
    "莆田": (0.08, "350302 350303 350304 350322"),
    "三明": (0.05, "350425 350430 350481"),
    "泉州": (0.22, "350502 350503 350521 350524 350581 350582 350583"),
    "漳州": (0.13, "350602 350603 350623 350681"),
    "南平": (0.05, "350702 350781 350782"),
    "龙岩": (0.06, "350802 350821 350825"),
    "宁德": (0.08, "350902 350922 350981 350982"),
}

# Look-alike and input-method neighbours a clerk really types for a character (not the matcher's table: chosen from
# handwriting-confusion lists and a pinyin keyboard's candidate row).
TYPO_NEIGHBOURS = {
    "轩": "宣", "涵": "含", "怡": "恰", "萱": "宣", "浩": "皓", "宇": "字", "泽": "择", "睿": "瑞", "辰": "晨",
    "晨": "辰", "俊": "骏", "杰": "洁", "博": "搏", "文": "纹", "琪": "棋", "桐": "同", "诗": "师", "悦": "阅",
    "瑶": "摇", "妍": "研", "婷": "亭", "琳": "林", "颖": "颍", "馨": "罄", "雅": "鸦", "晴": "睛", "曦": "溪",
    "菲": "斐", "佳": "住", "梦": "孟", "洁": "浩", "芸": "云", "子": "了", "梓": "锌", "思": "恩", "可": "河",
    "心": "必", "安": "按", "若": "苦", "依": "衣", "紫": "柴", "语": "浯", "艺": "乙", "沐": "林", "奕": "弈",
    "天": "夭", "诺": "偌", "晓": "哓", "鑫": "森", "锦": "棉", "程": "呈", "昊": "吴", "铭": "名",
    "航": "杭", "豪": "毫", "翔": "详", "凯": "恺", "毅": "殴", "瑞": "端", "哲": "浙", "彬": "杉", "鹏": "朋",
    "伟": "玮", "明": "朋", "阳": "杨", "逸": "免", "霖": "林", "嘉": "喜", "欣": "新", "雨": "语", "一": "壹",
    "涛": "寿", "然": "燃", "墨": "默", "鸣": "呜", "茗": "铭", "汐": "夕", "玥": "钥", "沫": "沬", "宁": "宇",
}  # fmt: skip
# Same toneless reading (the pinyin keyboard offers both).
HOMOPHONES = {
    "轩": "萱", "萱": "轩", "涵": "含", "怡": "宜", "宇": "雨", "雨": "语", "浩": "昊", "泽": "择", "睿": "瑞",
    "辰": "晨", "晨": "辰", "俊": "骏", "杰": "洁", "博": "搏", "文": "雯", "琪": "琦", "桐": "彤", "诗": "思",
    "悦": "越", "瑶": "遥", "妍": "研", "婷": "庭", "琳": "林", "颖": "影", "馨": "欣", "欣": "馨", "佳": "嘉",
    "梦": "孟", "子": "紫", "紫": "子", "梓": "子", "思": "斯", "可": "珂", "心": "欣", "安": "桉", "若": "偌",
    "依": "伊", "语": "雨", "艺": "怡", "沐": "慕", "奕": "亦", "天": "添", "诺": "懦", "晓": "小", "鑫": "欣",
    "锦": "瑾", "程": "成", "昊": "浩", "铭": "明", "航": "杭", "豪": "浩", "翔": "祥", "凯": "楷", "毅": "亦",
    "哲": "喆", "彬": "斌", "鹏": "朋", "伟": "炜", "明": "鸣", "阳": "扬", "逸": "亦", "霖": "林", "嘉": "佳",
    "涛": "滔", "然": "冉", "墨": "默", "鸣": "明", "茗": "铭", "汐": "夕", "玥": "月", "沫": "莫", "宁": "凝",
    "一": "依", "宸": "辰", "楠": "南", "岚": "兰", "菲": "非", "晴": "情", "曦": "希", "月": "悦",
}  # fmt: skip
# Traditional and variant forms a household-register scan or a Hong Kong / Taiwan keyboard gives.
TRADITIONAL = {
    "陈": "陳", "林": "林", "黄": "黃", "张": "張", "吴": "吳", "郑": "鄭", "刘": "劉", "杨": "楊", "许": "許",
    "谢": "謝", "叶": "葉", "罗": "羅", "苏": "蘇", "庄": "莊", "卢": "盧", "赖": "賴", "魏": "魏", "钟": "鍾",
    "轩": "軒", "涵": "涵", "欣": "欣", "萱": "萱", "浩": "浩", "宇": "宇", "泽": "澤", "睿": "睿", "俊": "俊",
    "杰": "傑", "博": "博", "文": "文", "琪": "琪", "桐": "桐", "诗": "詩", "悦": "悅", "瑶": "瑤", "颖": "穎",
    "馨": "馨", "梦": "夢", "语": "語", "艺": "藝", "诺": "諾", "晓": "曉", "锦": "錦", "铭": "銘", "航": "航",
    "凯": "凱", "鹏": "鵬", "伟": "偉", "阳": "陽", "嘉": "嘉", "涛": "濤", "鸣": "鳴", "峰": "峯", "群": "羣",
    "启": "啓", "雅": "雅", "岚": "嵐", "婧": "婧", "蓝": "藍", "雷": "雷", "龚": "龔", "颜": "顏", "严": "嚴",
}  # fmt: skip
SEPARATORS = ("·", "•", "・", "。", ".", "-", " ", "－", "‧", "∙", "．")

# --- the generator --------------------------------------------------------------------------------------------------

DUPLICATE_KINDS = ("homophone", "typo_char", "date_typo", "separator", "traditional", "second_id")
TWO_ERROR_KINDS = ("homophone+date_typo", "typo_char+date_typo", "traditional+date_typo", "homophone+typo_char")
HARD_NEGATIVE_KINDS = ("twins", "namesakes", "siblings", "cousins")
SCHOOLCHILDREN_IN_FUJIAN = 5_500_000  # primary and secondary, about (provincial statistical bulletin, rounded)


@dataclass
class Labelled:
    records: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[tuple[str, str, str]] = field(default_factory=list)  # (first, second, kind)
    hard_negatives: list[tuple[str, str, str]] = field(default_factory=list)  # (a, b, kind)
    notes: dict[str, Any] = field(default_factory=dict)


def _weighted(text: str) -> tuple[list[str], list[int]]:
    items = [(item.rstrip("0123456789"), int(item[len(item.rstrip("0123456789")) :])) for item in text.split()]
    return [name for name, _ in items], list(itertools.accumulate(weight for _, weight in items))


def check_character(first17: str) -> str:
    """ISO 7064 MOD 11-2 over the first 17 digits (GB 11643)."""
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    total = sum(int(d) * w for d, w in zip(first17, weights, strict=True))
    return "10X98765432"[total % 11]


def id_number(county: str, born: date, sequence: int) -> str:
    first17 = f"{county}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


class FujianChildren:
    def __init__(self, seed: int, *, first_year: int = 2010, last_year: int = 2020) -> None:
        self.rng = random.Random(seed)
        self.first_year, self.last_year = first_year, last_year
        self.surnames, self.surname_cum = _weighted(FUJIAN_SURNAMES)
        self.cities = list(CITIES)
        self.city_cum = list(itertools.accumulate(share for share, _ in CITIES.values()))
        self.count = 0
        self.sequences: set[str] = set()

    # -- people ---------------------------------------------------------------------------------------------------
    def _pick(self, items: list[str], cumulative: list[int] | list[float]) -> str:
        return items[bisect.bisect_right(cumulative, self.rng.random() * cumulative[-1])]

    def county(self, city: str | None = None) -> str:
        city = city or self._pick(self.cities, self.city_cum)
        return self.rng.choice(CITIES[city][1].split())

    def surname(self) -> str:
        return self._pick(self.surnames, self.surname_cum)

    def given(self, male: bool, year: int, *, share: str | None = None) -> str:
        """A given name: a popular one (Zipf) for 5% of children, else composed from popular characters."""
        rng = self.rng
        band = next(v for (a, b), v in POPULAR.items() if a <= year <= b)
        if share is None and rng.random() < 0.05:
            # The top names of a year are each given to a fraction of a percent of the children born (the name
            # reports: the first boy's name of 2019 went to about 0.1% of them): 5% share the top 20, by 1/rank.
            names = band[0 if male else 1].split()
            return rng.choices(names, weights=[1 / (r + 1) for r in range(len(names))])[0]
        pool = (BOY_CHARS if male else GIRL_CHARS) + BOTH_CHARS
        if share is None and rng.random() < 0.08:
            return rng.choice(pool)
        first = share or rng.choice(pool)
        second = rng.choice(pool)
        while second == first:
            second = rng.choice(pool)
        return first + second if share is None or rng.random() < 0.5 else second + first

    def adult_name(self, surname: str | None = None, male: bool = True) -> str:
        rng = self.rng
        pool = "建国志明伟华秀英丽娟春梅金水清泉文辉国平德荣美玲淑芬丽珍宝龙天福永红雪芳海燕"
        return (surname or self.surname()) + "".join(rng.choice(pool) for _ in range(rng.choice((1, 2, 2, 2))))

    def birth_date(self, year: int | None = None) -> date:
        year = year or self.rng.randint(self.first_year, self.last_year)
        return date(year, 1, 1) + timedelta(days=self.rng.randrange(365))

    def student_id(self) -> str:
        self.count += 1
        return f"f{self.count:07d}"

    def new_id(self, county: str, born: date, male: bool) -> str:
        while True:
            sequence = self.rng.randrange(0, 500) * 2 + (1 if male else 0)
            number = id_number(county, born, sequence)
            if number not in self.sequences:
                self.sequences.add(number)
                return number

    def guardians_typed(self, father: str, mother: str) -> list[str]:
        """What the clerk typed into 监护人姓名: both parents, one of them, or nothing."""
        roll = self.rng.random()
        if roll < 0.55:
            return [father, mother]
        if roll < 0.75:
            return [father]
        if roll < 0.88:
            return [mother]
        return []

    def child(self, family: dict[str, Any], born: date, male: bool, name: str) -> dict[str, Any]:
        has_id = self.rng.random() >= 0.03
        return {
            "student_id": self.student_id(),
            "name": name,
            "id_number": self.new_id(family["county"], born, male) if has_id else None,
            "birth_date": born,
            "gender": "male" if male else "female",
            "region_code": family["county"],
            "school_code": f"{family['county']}{self.rng.randrange(1, 40):04d}",
            "guardians": self.guardians_typed(family["father"], family["mother"]),
            "_family": family["id"],
            "_parents": (family["father"], family["mother"]),
        }

    def family(self, fid: int, *, surname: str | None = None, county: str | None = None) -> dict[str, Any]:
        rng = self.rng
        minority = rng.random()
        if surname is None and minority < 0.01:
            return {"id": fid, "kind": "uyghur", "county": county or self.county(), "surname": "",
                    "father": rng.choice(UYGHUR_GIVEN["m"]) + "·" + rng.choice(UYGHUR_FAMILY),
                    "mother": rng.choice(UYGHUR_GIVEN["f"]) + "·" + rng.choice(UYGHUR_FAMILY),
                    "family_name": rng.choice(UYGHUR_FAMILY)}  # fmt: skip
        if surname is None and minority < 0.02:
            surname = rng.choice(SHE_SURNAMES)
        surname = surname or self.surname()
        return {"id": fid, "kind": "han", "county": county or self.county(), "surname": surname,
                "father": self.adult_name(surname), "mother": self.adult_name(None, male=False)}  # fmt: skip

    def name_in(self, family: dict[str, Any], male: bool, year: int, share: str | None = None) -> str:
        if family["kind"] == "uyghur":
            return self.rng.choice(UYGHUR_GIVEN["m" if male else "f"]) + "·" + family["family_name"]
        return family["surname"] + self.given(male, year, share=share)


def _namesake_rate(gen: FujianChildren, samples: int = 200_000) -> float:
    """Of the children of one birth date, gender and city, how many pairs share the full name: Σp² x C(n, 2) / n,
    estimated from the generator's own name distribution. n = Fujian's schoolchildren per day, gender and city."""
    counts: dict[str, int] = {}
    probe = FujianChildren(seed=7)
    for _ in range(samples):
        male = probe.rng.random() < 0.5
        name = probe.surname() + probe.given(male, probe.rng.randint(2010, 2020))
        counts[name] = counts.get(name, 0) + 1
    sum_p2 = sum((c / samples) ** 2 for c in counts.values())
    per_day_gender = SCHOOLCHILDREN_IN_FUJIAN / (11 * 365) / 2
    per_city = per_day_gender / len(CITIES)
    # The expected number of namesakes a child has in its city (born the same day, same gender): (n - 1) Σp².
    return (per_city - 1) * sum_p2 * 2  # x2: gender is not drawn in the sum; names are largely gendered


def generate(n_records: int, *, seed: int, duplicate_share: float = 0.05) -> Labelled:
    gen = FujianChildren(seed)
    rng = gen.rng
    out = Labelled()
    fid = 0
    n_duplicates = round(n_records * duplicate_share)
    n_namesake_rate = _namesake_rate(gen)
    out.notes["namesakes_per_child_same_city_day"] = round(n_namesake_rate, 5)
    families: list[dict[str, Any]] = []
    children: list[dict[str, Any]] = []
    target_children = n_records - n_duplicates
    while len(children) < target_children:
        fid += 1
        cousins_of = families[-1] if families and families[-1]["kind"] == "han" and rng.random() < 0.12 else None
        family = gen.family(fid, surname=cousins_of["surname"] if cousins_of else None,
                            county=cousins_of["county"] if cousins_of else None)  # fmt: skip
        family["cousins_of"] = cousins_of["id"] if cousins_of else None
        families.append(family)
        n_children = 1 if rng.random() < 0.52 else 2 if rng.random() < 0.86 else 3
        year = rng.randint(gen.first_year, gen.last_year)
        generation = rng.choice(BOTH_CHARS + BOY_CHARS[:10]) if rng.random() < 0.4 else None
        if cousins_of is not None and rng.random() < 0.5:
            generation = cousins_of.get("generation") or generation
            year = min(gen.last_year, max(gen.first_year, cousins_of["year"] + rng.randint(-2, 2)))
        family["generation"], family["year"] = generation, year
        kids: list[dict[str, Any]] = []
        for _ in range(n_children):
            if year > gen.last_year:
                break
            born = gen.birth_date(year)
            twins = rng.random() < 0.015
            for _ in range(2 if twins else 1):
                male = rng.random() < 0.52
                name = gen.name_in(family, male, year, share=generation)
                while any(k["name"] == name for k in kids):
                    name = gen.name_in(family, male, year, share=generation)
                kid = gen.child(family, born, male, name)
                kid["_twin"] = twins
                kids.append(kid)
            year += rng.randint(2, 6)
        children.extend(kids)
        for a, b in itertools.combinations(kids, 2):
            kind = "twins" if a["birth_date"] == b["birth_date"] else "siblings"
            out.hard_negatives.append((a["student_id"], b["student_id"], kind))
    by_family: dict[int, list[dict[str, Any]]] = {}
    for c in children:
        by_family.setdefault(c["_family"], []).append(c)
    for family in families:
        if family.get("cousins_of"):
            for a in by_family.get(family["cousins_of"], []):
                for b in by_family.get(family["id"], []):
                    if abs((a["birth_date"] - b["birth_date"]).days) < 3 * 365:
                        out.hard_negatives.append((a["student_id"], b["student_id"], "cousins"))
    # Namesakes: another family's child with the same name, gender and birth date in the same city.
    namesakes = []
    for c in children:
        if rng.random() < n_namesake_rate and c["_family"] and "·" not in c["name"]:
            fid += 1
            city = next(k for k, (_, counties) in CITIES.items() if c["region_code"] in counties.split())
            family = gen.family(fid, surname=c["name"][0], county=gen.county(city))
            male = c["gender"] == "male"
            other = gen.child(family, c["birth_date"], male, c["name"])
            other["_twin"] = False
            namesakes.append(other)
            out.hard_negatives.append((c["student_id"], other["student_id"], "namesakes"))
    children.extend(namesakes)
    # Duplicates: a second record of a child, each kind in turn; the second record has no ID number (else the exact
    # rule would decide), except a second ID number.
    kinds = DUPLICATE_KINDS + TWO_ERROR_KINDS
    pool = [c for c in children if c["id_number"]]
    rng.shuffle(pool)
    in_parts = [c for c in pool if "·" in c["name"]]
    used: set[str] = set()
    duplicates = []
    for made in range(n_duplicates):
        kind = kinds[made % len(kinds)]
        candidates = in_parts if kind == "separator" else pool
        for _ in range(400):  # some children cannot carry a kind (no homophone in the table): try another
            if not candidates:
                break
            c = candidates[rng.randrange(len(candidates))]
            if c["student_id"] in used:
                continue
            second = _second_record(gen, c, kind)
            if second is not None:
                used.add(c["student_id"])
                duplicates.append(second)
                out.duplicates.append((c["student_id"], second["student_id"], kind))
                break
    records = children + duplicates
    rng.shuffle(records)
    # The first of each pair is created first (the records are replayed as creations in this order).
    position = {r["student_id"]: i for i, r in enumerate(records)}
    for first, second, _ in out.duplicates:
        if position[first] > position[second]:
            i, j = position[first], position[second]
            records[i], records[j] = records[j], records[i]
            position[first], position[second] = j, i
    out.records = records
    out.notes |= {"records": len(records), "duplicate_pairs": len(out.duplicates),
                  "hard_negative_pairs": len(out.hard_negatives),
                  "without_id": sum(1 for r in records if not r["id_number"])}  # fmt: skip
    return out


def _homophone(name: str, rng: random.Random, skip_surname: bool = True) -> str | None:
    positions = [i for i, ch in enumerate(name) if ch in HOMOPHONES and (i > 0 or not skip_surname)]
    if not positions:
        return None
    i = rng.choice(positions)
    return name[:i] + HOMOPHONES[name[i]] + name[i + 1 :]


def _typo(name: str, rng: random.Random) -> str | None:
    positions = [i for i, ch in enumerate(name) if ch in TYPO_NEIGHBOURS and i > 0 and ch != "·"]
    if not positions:
        return None
    i = rng.choice(positions)
    return name[:i] + TYPO_NEIGHBOURS[name[i]] + name[i + 1 :]


def _traditional(name: str) -> str | None:
    converted = "".join(TRADITIONAL.get(ch, ch) for ch in name)
    return converted if converted != name else None


def _date_typo(born: date, rng: random.Random) -> date | None:
    digits = f"{born:%Y%m%d}"
    for _ in range(20):
        i = rng.choice((3, 5, 6, 7))  # last year digit, month's second, day's digits
        new = digits[:i] + str(rng.randrange(10)) + digits[i + 1 :]
        try:
            typed = date(int(new[:4]), int(new[4:6]), int(new[6:]))
        except ValueError:
            continue
        if typed != born and 2008 <= typed.year <= 2021:
            return typed
    return None


def _second_record(gen: FujianChildren, c: dict[str, Any], kind: str) -> dict[str, Any] | None:
    rng = gen.rng
    name, born, number = c["name"], c["birth_date"], None
    for part in kind.split("+"):
        if part == "homophone":
            name = _homophone(name, rng)
        elif part == "typo_char":
            name = _typo(name, rng)
        elif part == "traditional":
            name = _traditional(name)
        elif part == "separator":
            name = name.replace("·", rng.choice(SEPARATORS[1:])) if "·" in name else None
        elif part == "date_typo":
            born = _date_typo(born, rng)
        elif part == "second_id":
            if rng.random() < 0.6:  # a birth-date registration error corrected with a new number
                born = _date_typo(born, rng) or born + timedelta(days=rng.randint(20, 300))
                number = id_number(c["id_number"][:6], born, int(c["id_number"][14:17]))
            else:  # one digit of the sequence re-keyed when the number was issued again
                body = c["id_number"][:16] + str((int(c["id_number"][16]) + 2) % 10)
                number = body + check_character(body)
        if name is None or born is None:
            return None
    if kind == "separator" and "·" not in c["name"]:
        return None
    # The second school's clerk types the guardians anew from what the family gives this time (both parents, one of
    # them - perhaps the other one - or nobody) for 30% of the records; the rest copy the same papers.
    guardians = gen.guardians_typed(*c["_parents"]) if rng.random() < 0.30 else list(c["guardians"])
    return {
        **c,
        "student_id": gen.student_id(),
        "name": name,
        "birth_date": born,
        "id_number": number,
        "school_code": f"{c['region_code']}{rng.randrange(1, 40):04d}",
        "guardians": guardians,
    }
