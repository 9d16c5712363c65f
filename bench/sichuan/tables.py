"""What the Sichuan set is drawn from: written for this set alone from general knowledge of Sichuan and of Chinese
naming (rounded shares, no source table copied), from issue 16's text only, without reading the duplicate check or
the other generators (bench.fujian_children, bench.blind, the tuned generator).

Every table is a plain string or tuple so that a reader can check it by eye.
"""

from __future__ import annotations

# Surnames in Sichuan with rough shares (per mille of children): the national top names, with the Sichuan leaning
# to 李 王 张 刘 陈 杨 and the Sichuan-typical 蒲 税 母 敬 苟 冉 幸 代 in the tail.
SURNAMES = (
    "李80 王78 张70 刘68 陈60 杨50 黄33 周30 罗28 吴25 何25 赵22 邓22 徐20 胡20 谢18 唐18 曾17 冯16 蒋15 "
    "杜15 郭14 任13 彭13 廖13 苏12 袁12 向11 余11 付10 雷10 蒲9 文9 熊9 谭9 钟8 肖8 田8 吕7 程7 龚7 汪7 魏7 "
    "严6 税4 敬4 母3 苟5 冉5 幸3 代6 邹6 岳5 梁6 宋6 郑6 韩5 马6 高7 林6 朱8 孙7 胡5 蔡5 潘4 卢4 侯4 贺4"
)

# Given-name characters by how Sichuan parents of 2010-2020 chose them: first and second positions for boys and
# girls, with a weight; two-character given names are drawn from the two positions, one-character ones from both.
BOY_FIRST = (
    "子6 梓5 浩6 宇6 俊4 皓3 一4 思3 博3 明3 天3 嘉3 家3 志2 文3 泽3 奕3 睿3 沐2 锦2 "
    "承2 雨2 振1 永1 德1 晨2 炎1 铭2 诗1 云2"
)
BOY_SECOND = (
    "轩8 宇6 涵3 豪4 然4 辰5 泽4 熙3 睿3 航3 杰4 阳4 宸4 铭3 博2 文3 洋3 浩2 瑞3 鑫2 凯2 鹏2 翔2 彬2 斌2 "
    "诚2 昊3 峰2 林2 恒2 远2 川3 霖2 琛2 晖1 源2 楠2 勋1 朗2 毅2"
)
GIRL_FIRST = (
    "梓4 欣6 子4 紫3 语4 雨5 诗5 思4 佳4 可3 若3 一3 依3 芷2 沐2 书2 艺2 婉2 心2 嘉2 晓2 雅3 梦2 静2 悦2 丽1 春1 玉1"
)
GIRL_SECOND = (
    "涵9 怡7 萱6 琪4 桐4 妍4 彤3 然3 馨3 诺3 汐3 琳4 婷4 瑶4 雯3 悦3 颖3 洁2 菲2 蕾2 娜2 静2 薇2 宁2 雪2 "
    "茜2 淇2 露2 欣3 韵2 月2 慧2 希2 楠2 蓉2 媛2 佳2 丹2"
)
# Generation characters (字辈) brothers' children share in a clan that keeps a list.
GENERATION = "家明文德永世正光华国宗志"
# Adults' names (guardians): common given names of parents born 1975-1995.
ADULT_GIVEN_MALE = (
    "建军 伟 勇 强 军 平 杰 涛 斌 刚 波 鹏 林 辉 华 超 明 兵 亮 俊 海 峰 磊 洪 春 红兵 小龙 志强 国平 德明"
)
ADULT_GIVEN_FEMALE = "丽 芳 燕 艳 敏 静 霞 娟 玲 红 梅 琴 英 华 兰 萍 秀英 小红 春梅 晓燕 丽娟 海燕 玉兰 雪梅 金凤 桂芳"

# Liangshan Yi names: clan name + given name, written with a separator in most registers (阿苦·日体).
YI_CLANS = "阿苦 吉克 沙马 阿尔 俄木 吉伍 马海 海来 阿约 曲比 瓦扎 尔古 勒格 日火 吉木"
YI_GIVEN = "日体 阿呷 拉且 木呷 伍沙 尔布 曲布 拉哈 木果 阿依 子莫 伍呷 石布 阿牛 依作 小军"
# Ganzi / Aba Tibetan names: two two-character parts, no surname.
TIBETAN_PARTS = "扎西 卓玛 泽仁 拉姆 格桑 多吉 次仁 措姆 央金 尼玛 达瓦 群培 旦增 曲珍 降措 益西"

# County codes of Sichuan, checked against python-stdnum's division table for every birth year used (tables.py
# keeps only those valid throughout; see sichuan.people.counties). Weighted roughly by children.
COUNTIES = (
    "510104:6 510105:6 510106:7 510107:8 510108:7 510112:6 510113:3 510114:6 510115:4 510121:4 510129:3 "
    "510131:2 510181:4 510182:4 510183:3 510184:3 510302:3 510303:2 510304:2 510311:2 510321:3 510322:4 "
    "510402:2 510411:2 510502:4 510503:3 510504:3 510521:5 510522:4 510524:3 510525:3 510603:4 510623:5 "
    "510681:4 510682:3 510683:3 510703:5 510704:3 510722:6 510723:3 510725:2 510726:1 510727:1 510781:5 "
    "511102:3 511111:1 511112:1 511123:3 511124:2 511126:2 511129:1 511132:1 511133:1 511181:3 511302:4 "
    "511303:4 511304:4 511321:7 511322:5 511323:4 511324:6 511325:4 511381:5"
)
LIANGSHAN = "513401:4 513423:2 513424:2 513426:2 513427:2 513428:2 513429:2 513430:2 513431:3 513432:2 513433:2 513434:3 513435:2 513436:3 513437:2"  # noqa: E501
TIBETAN_COUNTIES = "513301:2 513322:1 513323:1 513201:1 513221:1"

# Characters a reader of a handwritten form or a scan mistakes for one another (形近字), as school primers list
# them; only pairs that occur in names matter. Written as pairs "ab".
LOOK_ALIKE = (
    "浩洁 浩皓 宇字 宇守 子孑 梓锌 梓样 涵函 萱宣 萱喧 琪棋 琪淇 桐铜 妍研 彤肜 馨磬 婷停 婷亭 瑶遥 瑶摇 "
    "雯雲 颖颍 洁浩 菲非 蕾雷 娜哪 薇微 雪雷 茜西 淇棋 露路 韵均 慧彗 楠柚 媛缓 媛暖 丹舟 轩杆 轩钎 豪毫 然燃 "
    "辰晨 辰振 泽择 泽译 熙煦 睿叡 航舫 杰杏 阳旧 宸震 铭钻 博搏 博傅 洋详 瑞端 鑫鑫 凯铠 鹏朋 翔祥 彬杉 "
    "斌赋 诚城 昊吴 峰锋 峰蜂 林材 恒垣 远运 川州 霖淋 琛探 源原 朗郎 毅殺 欣旅 语悟 雨两 诗侍 思恩 佳往 "
    "佳桂 可司 若苦 依侬 芷芒 沐沭 书韦 艺乙 婉碗 心必 嘉喜 晓烧 雅稚 梦梵 静争 悦锐 丽丰 春奏 玉王 子了 "
    "一二 浩告 俊浚 皓浩 天夭 天夫 明朋 文丈 永水 德徳 晨晟 炎灸 云去 超起 鹏鹃 国囯 志忘 海每 华毕 洪烘"
)

# Characters that sound the same without tones (同音字): what a pinyin input method offers next to the right one.
HOMOPHONES = (
    "宇雨语羽禹玉 轩宣萱璇 涵寒晗含韩函 梓子紫籽 浩昊皓号豪毫 俊骏峻浚 杰洁婕捷 婷庭廷亭霆 琳林霖淋麟 "
    "嘉佳家加 雅亚娅 思斯丝 博伯柏泊 文雯闻 睿瑞锐 涛韬滔 晴清青情 彤桐童 怡宜仪贻 欣心新馨鑫 辰晨臣尘 "
    "泽则择 熙希曦溪 航杭 阳杨洋扬 宸晨 铭明鸣名茗 凯楷 鹏朋 翔祥 彬斌 诚成城程承 峰锋风丰 恒衡 远源媛元 "
    "川传 楠南 朗浪 毅艺忆 妍言岩 瑶遥 雯文 颖影 菲飞 蕾磊 薇微 雪学 茜倩 露璐路 韵运 慧惠 媛园 丹单 "
    "然冉 豪好 依一伊衣 芷志 沐木牧 书舒 婉晚 心新 晓小 梦孟 静靖 悦月越 诺娜 汐曦希"
)

# Traditional and variant forms found in registers and typed by Hong Kong / Taiwan keyboards: simplified → other.
TRADITIONAL = (
    "轩軒 涵涵 萱萲 琪琪 馨馨 婷婷 瑶瑤 颖穎 洁潔 蕾蕾 娜娜 韵韻 慧慧 丹丹 宇宇 豪豪 辰辰 泽澤 熙熈 睿睿 "
    "航航 杰傑 阳陽 铭銘 博博 洋洋 瑞瑞 鑫鑫 凯凱 鹏鵬 翔翔 彬彬 诚誠 峰峯 霖霖 琛琛 远遠 华華 国國 伟偉 "
    "丽麗 军軍 红紅 龙龍 凤鳳 宁寧 东東 刚剛 涛濤 丰豐 群羣 启啓 哲喆 强強 岩巖 骏駿 静靜 云雲 梦夢 兰蘭 "
    "诗詩 语語 欣欣 紫紫 梓梓 佳佳 嘉嘉 俊儁 浩浩 晓曉 艺藝 书書 雯雯 悦悅 桐桐 妍妍 宸宸 轩軒 宏宏 志誌"
)

# Separators typed between the parts of a minority name, and half/full-width forms of them.
SEPARATORS = ("·", "•", "・", "．", ".", "-", "－", "—", " ", "　", "。", "‧", "･")
