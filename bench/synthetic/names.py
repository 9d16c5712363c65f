"""Synthetic Chinese names: surnames by national frequency, common given-name characters, minority names."""

from __future__ import annotations

import itertools
import random

# Surname and share of the population in per-mille, rounded from the 2020 census ranking; a few
# rarer ones on purpose: 单 and 曾 (surname readings), compound surnames.
_SURNAMES = (
    "王71 李70 张67 刘51 陈46 杨32 黄25 赵22 吴20 周20 徐15 孙14 马13 朱13 胡12 郭12 何10 林10 高10 "
    "罗10 郑9 梁8 谢7 宋7 唐7 许7 韩7 冯6 邓6 曹6 彭5 曾5 肖5 田5 董5 袁5 潘5 于5 蒋5 蔡5 余5 杜5 "
    "叶4 程4 苏4 魏4 吕4 丁4 任4 沈4 姚4 卢4 姜4 崔3 钟3 谭3 陆3 汪3 范3 金3 石3 廖3 贾3 夏3 韦3 "
    "付3 方3 白3 邹3 孟3 熊3 秦3 邱2 江2 尹2 薛2 段2 雷2 侯2 龙2 史2 陶2 黎2 贺2 顾2 毛2 郝2 龚2 "
    "邵2 万2 钱2 严2 覃2 武2 戴2 莫2 孔1 向1 汤1 单1 欧阳1 司马1 诸葛1 上官1"
)
_PAIRS = [
    (item.rstrip("0123456789"), int(item.lstrip("".join(c for c in item if not c.isdigit()))))
    for item in _SURNAMES.split()
]
SURNAMES: tuple[str, ...] = tuple(name for name, _ in _PAIRS)
SURNAME_WEIGHTS: tuple[int, ...] = tuple(weight for _, weight in _PAIRS)
_CUMULATIVE = tuple(itertools.accumulate(SURNAME_WEIGHTS))

# Given-name characters parents commonly choose, by the gender they are mostly given to.
MALE_CHARS = "伟强磊军勇杰涛斌浩宇轩博鹏辉超明俊飞鑫豪睿航晨阳凯文志建华国平东成龙峰宏毅健彬泽铭瑞哲翔帆炜森昊天"
FEMALE_CHARS = "芳娜敏静丽艳娟霞婷雪欣怡萱琳颖晶慧佳倩玲蕾蓉璐瑶雨梦涵悦诗琪妍菲月秀兰燕洁薇菁婉曦"
SHARED_CHARS = "子梓一嘉思可心安乐逸若舒依晓小紫君新海春秋云星"

# Minority names written in parts joined by a middle dot (Uyghur names in Chinese characters).
_MINORITY_FEMALE = ("阿依古丽", "古丽娜扎", "热依拉", "迪丽娜尔", "帕提古丽", "米热古丽")
_MINORITY_MALE = ("艾力", "买买提", "阿不都", "艾尔肯", "努尔", "卡德尔")
_MINORITY_FAMILY = ("吐尔逊", "买买提", "艾买提", "热合曼", "阿不力孜", "依明", "卡米力", "伊力哈木")

# A wider pool of common characters, so a homophone or near-homophone replacement is a character a
# pinyin input method would really offer, not a rare one.
EXTRA_CHARS = (
    "薇维玮炜威微为唯惟卫魏尉蔚慰娣蒂迪笛涤帝第敬境镜竞净径井景警京经惊精菁晶睛婧靖璟亭廷庭停霆挺"
    "丽立力利莉历励例荔俐栗粒李里理礼莉黎离璃梨漓骊鹂翊艺易亦毅义益谊逸奕弈怡宜仪颐贻夷遗彝芸云耘"
    "允运韵蕴昀筠军君均钧俊峻骏竣浚珺郡隽娟鹃绢捐涓瑶遥谣摇姚尧窑耀曜钥悦月越跃岳阅粤乐玥钺婷庭"
    "雪学穴削薛靴萱宣轩喧玄旋璇炫绚铉渲欣新心馨辛芯昕鑫信星兴行形型邢杏幸姓性晨辰臣陈尘沉忱琛郴"
    "宸承诚成城程呈澄橙丞乘盛晟胜圣生升声笙甥绳省昇浩豪好号昊皓灏颢郝毫嚎涛滔韬桃陶淘逃萄鹏朋彭"
    "蓬棚篷膨澎芃凯楷锴恺铠慨开剀铭明名鸣茗冥敏民珉旻闽泯皿悯闵慧惠辉晖徽挥卉绘汇会慈瓷词辞磁雌"
    "思斯丝司私嘶撕飒萨洒撒三森桑丧嗓琳林淋霖临邻麟鳞玲灵铃龄伶凌菱羚零领岭令宁凝柠拧泞佞南楠男"
    "难囡兰蓝岚澜篮栏阑澜览揽懒烂娜那纳拿哪呐钠捺拉啦喇腊蜡辣华花化画桦骅哗滑话发法珐伐乏阀罚筏"
    "芳方房防坊仿访纺放芬纷分汾氛焚粉奋份忿峰锋风丰枫封蜂疯烽冯逢缝凤奉俸红宏弘鸿洪虹泓竑轰哄"
    "子紫梓姿资滋孜咨自字恣志智致稚挚治质知之支芝枝织汁直植执值职止旨纸指至置制泽择则责泽增曾赠"
    "正政证征整郑睁蒸争铮筝峥臻珍真振震镇阵针贞甄斟诊枕疹怎参灿残蚕惨璨餐辰春纯淳醇唇蠢椿莼存村"
)


def surname(rng: random.Random) -> str:
    return rng.choices(SURNAMES, cum_weights=_CUMULATIVE)[0]


def given_name(rng: random.Random, *, male: bool) -> str:
    """One or two characters (a third of children have a one-character given name)."""
    pool = (MALE_CHARS if male else FEMALE_CHARS) + SHARED_CHARS
    length = 1 if rng.random() < 0.3 else 2
    return "".join(rng.choice(pool) for _ in range(length))


def minority_name(rng: random.Random, *, male: bool) -> str:
    first = rng.choice(_MINORITY_MALE if male else _MINORITY_FEMALE)
    return first + "·" + rng.choice([part for part in _MINORITY_FAMILY if part != first])


def full_name(rng: random.Random, *, male: bool, minority_rate: float = 0.01) -> str:
    if rng.random() < minority_rate:
        return minority_name(rng, male=male)
    return surname(rng) + given_name(rng, male=male)
