"""What the blind generator draws from: Hunan children born 2010-2020, from published statistics (see README.md).

Every table here was written for this generator from the sources named in README.md; the shares are rounded
readings of those publications, not exact figures. Nothing here is taken from the detector or its other generators.
"""

from __future__ import annotations

# Surnames in Hunan, share of the population in per cent (rounded; the province ranks 刘 李 陈 王 张 周 唐 彭 罗 ...
# differently from the national 王 李 张 刘 陈 order). The rest of the mass goes to TAIL_SURNAMES evenly.
HUNAN_SURNAMES: dict[str, float] = {
    "刘": 6.9, "李": 6.3, "陈": 5.3, "王": 4.6, "张": 4.0, "周": 3.2, "唐": 2.9, "彭": 2.7, "罗": 2.6, "谭": 2.4,
    "黄": 2.4, "杨": 2.4, "邓": 2.2, "胡": 2.1, "曾": 2.0, "谢": 1.9, "廖": 1.6, "龙": 1.4, "肖": 1.4, "吴": 1.4,
    "蒋": 1.3, "赵": 1.2, "易": 1.1, "何": 1.1, "朱": 1.1, "向": 1.0, "贺": 1.0, "邹": 1.0, "戴": 0.9, "文": 0.9,
    "姚": 0.8, "石": 0.8, "钟": 0.8, "袁": 0.8, "伍": 0.7, "田": 0.7, "段": 0.7, "郭": 0.7, "雷": 0.6, "汤": 0.6,
    "熊": 0.6, "许": 0.6, "梁": 0.6, "颜": 0.5, "宋": 0.5, "孙": 0.5, "毛": 0.5, "尹": 0.5, "夏": 0.5, "粟": 0.4,
    "符": 0.4, "舒": 0.4, "聂": 0.4, "欧阳": 0.3, "旷": 0.3, "匡": 0.3, "左": 0.3, "覃": 0.3, "江": 0.3, "黎": 0.3,
}  # fmt: skip
TAIL_SURNAMES = "蔡萧徐马韩冯董余叶程傅苏卢丁魏薛阎阳陶秦侯邵孟龚万钱严韦卿凌谌禹滕佘皮"

# Given names of children by birth-year period: the names the Ministry of Public Security's annual name reports
# list among the most given to newborns that year (boys, girls), most given first. A share of every cohort gets a
# listed name; the rest compose a name from the period's popular characters (FIRST_CHARS x SECOND_CHARS).
PERIODS: tuple[tuple[int, int], ...] = ((2010, 2013), (2014, 2016), (2017, 2020))
TOP_NAMES: dict[tuple[int, int], dict[str, tuple[str, ...]]] = {
    (2010, 2013): {
        "male": ("子轩", "浩然", "子涵", "宇轩", "浩宇", "俊杰", "梓轩", "宇航", "子豪", "皓轩", "博文", "思远",
                 "一鸣", "雨泽", "明轩", "文博", "天佑", "嘉豪"),
        "female": ("子涵", "欣怡", "梓涵", "诗涵", "可馨", "雨涵", "思涵", "梓萱", "雨欣", "紫涵", "佳怡", "欣妍",
                   "雨萱", "静怡", "梦瑶", "佳琪", "雅琪", "诗琪"),
    },
    (2014, 2016): {
        "male": ("浩宇", "浩然", "宇轩", "子墨", "宇航", "梓轩", "子轩", "皓轩", "宇泽", "俊熙", "梓睿", "一诺",
                 "沐宸", "子睿", "睿泽", "博文", "梓豪", "铭轩"),
        "female": ("梓涵", "一诺", "欣怡", "诗涵", "依诺", "梓萱", "雨桐", "子涵", "可馨", "语桐", "欣妍", "紫萱",
                   "思彤", "梓晴", "雨涵", "诗琪", "梦琪", "若汐"),
    },
    (2017, 2020): {
        "male": ("奕辰", "宇轩", "浩宇", "亦辰", "宇辰", "子墨", "宇航", "浩然", "梓豪", "亦宸", "沐宸", "一诺",
                 "梓睿", "宇泽", "俊熙", "睿泽", "奕宸", "梓轩"),
        "female": ("一诺", "依诺", "欣怡", "梓涵", "语桐", "欣妍", "可欣", "语汐", "雨桐", "梦瑶", "若汐", "诗涵",
                   "梓萱", "芷若", "语嫣", "沐晴", "安然", "思语"),
    },
}  # fmt: skip
# Characters for composed two-character names, per period and sex: (first characters, second characters).
FIRST_CHARS: dict[tuple[int, int], dict[str, str]] = {
    (2010, 2013): {"male": "子浩宇俊梓皓文博明天嘉志思雨家俊鑫佳晨凯", "female": "子欣梓诗雨思紫佳雅梦可语若晓静怡欣"},
    (2014, 2016): {"male": "浩宇子梓皓俊一睿沐铭宇博嘉奕明天家锦承", "female": "梓一诗雨语依欣紫思可若梦佳子心艺"},
    (2017, 2020): {"male": "奕宇亦浩子梓沐一睿俊铭锦承景君嘉宸泽", "female": "一语依欣梓若沐可芷诗雨安思子紫清"},
}
SECOND_CHARS: dict[tuple[int, int], dict[str, str]] = {
    (2010, 2013): {"male": "轩然杰宇豪航涛博文鑫凯翔辉涵明泽鹏", "female": "涵怡琪萱欣瑶婷妍雯琳颖悦彤馨蕾"},
    (2014, 2016): {"male": "轩宇泽睿航熙墨豪辰博恒霖铭晨杰凡", "female": "涵萱彤桐诺琪妍晴怡欣瑶汐悦冉菲"},
    (2017, 2020): {"male": "辰宸轩泽睿航熙墨骁恒霖川尧晨安然", "female": "诺桐汐妍涵萱彤晴冉宁瑶悦歆然玥"},
}
# Characters common in children's names across the decade, beyond the fashionable ones: the long tail of names.
GENERAL_CHARS = {
    "male": "文武志国建明华伟强军平磊涛斌辉鹏飞超杰宏俊峰凯翔博文思远立新家兴天佑家乐梓晨俊宇鸿嘉锐致安康永福宁"
    "正海洋江山林松柏旭东升阳光荣诚信勇毅坤",
    "female": "玉秀兰丽娟艳芳燕静婷雪梅萍丹霞琴云莉红娜晶洁佳慧敏雅琳颖倩瑶琪楠蕾璐露菲薇娅婉婕妮诗晓梦心怡"
    "乐语思雨月星彩舒蓉珊",
}
# One-character given names: their share falls over the decade (the reports note the long decline of single names).
ONE_CHAR_SHARE = {(2010, 2013): 0.10, (2014, 2016): 0.07, (2017, 2020): 0.05}
ONE_CHAR_NAMES = {"male": "浩轩宇杰睿博晨航鑫涛凯俊豪磊阳", "female": "涵萱欣琪怡妍彤琳悦瑶婷雯颖洁静"}
TOP_NAME_SHARE = 0.08  # of two-character names, the share that is a listed top name
PERIOD_CHAR_SHARE = 0.45  # composed from the period's fashionable characters; the rest from GENERAL_CHARS

# Adults (guardians, born about 1975-1995): common given names of that generation.
ADULT_GIVEN = {
    "male": ("伟", "勇", "军", "磊", "涛", "斌", "强", "杰", "鹏", "波", "辉", "刚", "建华", "建军", "志强",
             "海波", "永强", "俊", "浩", "小兵", "国庆", "建平", "文华", "志勇", "红军", "卫东", "德华", "湘平",
             "湘军", "立新"),
    "female": ("芳", "丽", "艳", "娟", "敏", "静", "燕", "玲", "霞", "婷", "红", "慧", "丹", "琴", "英", "梅", "小红",
               "丽娟", "秀英", "晓燕", "桂英", "春兰", "湘兰", "小芳", "海燕", "丽华", "美玲", "金凤", "雪梅", "玉兰"),
}  # fmt: skip
GRANDPARENT_GIVEN = {
    "male": ("建国", "国华", "德明", "正华", "长生", "福生", "金生", "桂生", "光明", "振华", "志明", "满元"),
    "female": ("秀英", "桂兰", "玉兰", "桂英", "秀兰", "冬梅", "菊香", "翠兰", "凤英", "淑华", "满秀", "银秀"),
}

# Births in China by year (millions, National Bureau of Statistics): the cohort weights.
BIRTHS_MILLIONS = {2010: 15.9, 2011: 16.0, 2012: 16.4, 2013: 16.4, 2014: 16.9, 2015: 16.6, 2016: 17.9,
                   2017: 17.2, 2018: 15.2, 2019: 14.7, 2020: 12.0}  # fmt: skip

# Hunan prefectures (population in millions, 2020 census, rounded) and counties whose codes held through 2010-2020.
HUNAN_CITIES: dict[str, tuple[float, tuple[str, ...]]] = {
    "4301": (10.0, ("430102", "430103", "430104", "430105", "430111", "430121", "430181")),
    "4302": (3.9, ("430202", "430203", "430211", "430281")),
    "4303": (2.7, ("430302", "430304", "430321", "430381", "430382")),
    "4304": (6.6, ("430405", "430406", "430421", "430422", "430423", "430424", "430426", "430481", "430482")),
    "4305": (6.6, ("430502", "430503", "430522", "430523", "430581")),
    "4306": (5.1, ("430602", "430603", "430621", "430623", "430626", "430681", "430682")),
    "4307": (5.3, ("430702", "430703", "430721", "430722", "430723", "430725", "430781")),
    "4308": (1.5, ("430802", "430811", "430821", "430822")),
    "4309": (3.9, ("430902", "430903", "430921", "430922", "430981")),
    "4310": (4.7, ("431002", "431003", "431021", "431022", "431081")),
    "4311": (5.3, ("431102", "431103", "431121", "431122")),
    "4312": (4.6, ("431202", "431221", "431222", "431281")),
    "4313": (3.8, ("431302", "431321", "431322", "431381", "431382")),
    "4331": (2.5, ("433101", "433122", "433123", "433124", "433125", "433126", "433127", "433130")),
}
# Children of other provinces' minorities living in Hunan (migrant families): their birthplace counties.
UYGHUR_COUNTIES = ("653101", "653121", "653122", "654002", "650102", "650103")
TIBETAN_COUNTIES = ("540102", "540121")
YI_COUNTIES = ("513431", "513432", "513401")

# Transliterated names (Chinese characters for Uyghur, Tibetan, Yi names). A Uyghur child's second part is the
# father's given name, so siblings share it.
UYGHUR_GIVEN = {
    "male": ("艾力", "买买提", "阿卜杜拉", "努尔", "艾合买提", "伊力哈木", "麦麦提", "吐尔逊", "阿迪力", "热合曼"),
    "female": ("阿依古丽", "古丽娜尔", "迪丽努尔", "帕提古丽", "努尔古丽", "再依努尔", "米热古丽", "阿依努尔"),
}
UYGHUR_FATHERS = ("买买提", "吐尔逊", "艾合买提", "阿不都拉", "热合曼", "依明", "卡德尔", "司马义", "玉素甫", "阿力木")
TIBETAN_PARTS = {
    "male": ("扎西", "顿珠", "次仁", "达瓦", "尼玛", "格桑", "平措", "旺堆", "多吉", "索朗"),
    "female": ("卓玛", "拉姆", "央金", "次仁", "德吉", "白玛", "格桑", "曲珍", "梅朵", "措姆"),
}
YI_CLANS = ("吉克", "阿苏", "沙马", "阿牛", "曲比", "马海", "吉伍", "俄底", "海来", "阿约")
YI_GIVEN = {
    "male": ("阿木", "木呷", "拉且", "伍呷", "尔古", "日火"),
    "female": ("阿依", "阿呷", "依莫", "日莫", "金花", "拉姆"),
}
# How a separator inside a transliterated name gets typed: the standard middle dot and its look-alikes.
SEPARATORS = ("·", "•", "・", "．", ".", "-", "－", " ", "　", "。", "‧", "･")

# Sound-alike characters (same syllable, any tone): what a pinyin input method offers beside the intended one.
HOMOPHONES: tuple[str, ...] = (
    "宇雨语羽禹玉煜钰昱", "晨辰宸臣琛", "轩萱宣璇煊暄", "涵晗函寒翰", "欣馨鑫心新昕歆芯", "怡宜仪依一亦奕艺毅逸",
    "婷亭庭廷霆", "琳林霖麟淋", "浩昊皓豪灏", "杰洁婕捷", "静婧靖晶景菁", "梓子紫姿孜", "睿瑞锐蕊", "泽择则",
    "博波柏伯铂", "俊骏峻君军钧", "佳嘉家加珈", "诗施实仕世", "雅亚娅", "琪淇棋奇琦齐祺启", "瑶遥姚尧耀",
    "彤桐童同瞳", "妍研颜言岩嫣彦艳燕", "晴清青情卿", "航杭行", "铭明名鸣茗", "凯楷恺铠锴", "翔祥想湘香",
    "悦月越玥岳跃", "思斯丝司", "墨默陌莫", "然冉", "凡帆繁", "梦萌蒙孟", "汐熙曦希茜溪夕", "安岸桉", "鹏朋彭蓬",
    "伟玮威薇维巍炜", "涛韬滔桃", "慧辉惠晖卉蕙", "飞菲非霏", "云芸韵昀允", "志智芝之知致", "可柯珂科",
    "杨阳洋扬", "张章", "王汪", "刘柳", "李黎", "周舟", "胡湖", "罗骆", "谭覃", "黄皇", "肖萧晓", "曾增",
    "唐汤", "蒋姜江", "何贺", "向项", "龙隆", "钟仲", "朱祝", "许徐", "袁元", "戴代", "文温", "石史时", "颜严",
    "伍吴武", "诺喏", "宁凝", "尧瑶", "川传", "恒衡", "骁潇萧", "霖林", "熙希", "雯文", "蕾磊", "菲飞",
)  # fmt: skip
# Visual look-alikes that do NOT sound alike: a misread handwritten form.
LOOKALIKES: dict[str, str] = {
    "晴": "睛", "怡": "恰", "天": "夭", "玉": "王", "明": "朋", "思": "恩", "瑞": "端", "浩": "诰", "宇": "字",
    "子": "孑", "未": "末", "土": "士", "雨": "两", "博": "傅", "彬": "杉", "晨": "晟", "佳": "住", "嘉": "喜",
    "航": "舫", "昊": "吴", "涛": "祷", "悦": "说", "锦": "绵", "馨": "磬", "可": "司", "乐": "东", "晗": "哈",
    "语": "误", "鑫": "森", "泽": "译", "萱": "宜", "轩": "杆", "涵": "滔", "辰": "唇", "宸": "寝",
    "诺": "塔", "彤": "肜", "桐": "柯", "睿": "容", "墨": "黑", "汐": "沙",
    "欣": "炊", "豪": "毫", "杰": "述", "冉": "再", "沐": "沭", "铭": "络",
    "亦": "赤", "若": "苦", "依": "伏", "梓": "样", "雯": "零", "颖": "频", "逸": "免",
}  # fmt: skip
# Traditional forms and variant characters (异体字) as they turn up in household registers and typed records.
TRADITIONAL: dict[str, str] = {
    "刘": "劉", "陈": "陳", "张": "張", "黄": "黃", "罗": "羅", "谭": "譚", "邓": "鄧", "杨": "楊", "龙": "龍",
    "谢": "謝", "赵": "趙", "钟": "鍾", "贺": "賀", "邹": "鄒", "汤": "湯", "许": "許", "颜": "顏", "孙": "孫",
    "聂": "聶", "吴": "吳", "蒋": "蔣", "叶": "葉", "卢": "盧", "苏": "蘇", "钱": "錢", "轩": "軒", "涛": "濤",
    "杰": "傑", "泽": "澤", "铭": "銘", "诗": "詩", "语": "語", "瑶": "瑤", "晓": "曉", "凯": "凱", "颖": "穎",
    "诺": "諾", "锦": "錦", "乐": "樂", "伟": "偉", "军": "軍", "华": "華", "丽": "麗", "红": "紅", "静": "靜",
    "艳": "艷", "梦": "夢", "宁": "寧", "鸿": "鴻", "鹏": "鵬", "云": "雲", "东": "東", "阳": "陽", "骁": "驍",
    "萧": "蕭", "韩": "韓", "冯": "馮", "龚": "龔", "万": "萬", "骏": "駿", "聪": "聰", "宝": "寶",
    "峰": "峯", "群": "羣", "启": "啓", "哲": "喆", "俊": "儁", "妍": "姸", "秀": "琇", "岩": "巖", "凡": "凢",
    "彦": "彥", "熙": "煕", "晋": "晉", "为": "爲", "册": "冊", "朵": "朶",
}  # fmt: skip
