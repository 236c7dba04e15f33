"""Queries for ``loupe bench relevance``: queries with a right answer (per photo label) and
nonsense of four families (``nonsense``): ``prose`` (letter salad, invented words and prose from
unrelated fields, ``NONSENSE``), ``random`` (seeded random Latin and CJK strings), ``mash``
(seeded keyboard mash along one row of keys) and ``no photo`` (real words, English and Chinese,
for things no eval photo shows). None of these is a null query the cut is calibrated on
(``search.null_queries``), so the nonsense measures the judge on texts it never saw.

Every query falls in the *tuning* or the *held-out* half by a hash of its text (``held_out``):
thresholds are chosen on the tuning half and both halves are reported.

Labels are ``<set>:<label>``: ``samples:chelsea``, ``fashion:sandal``, ``animal:cat``."""

from __future__ import annotations

import random
import zlib

from loupe.bench.evaluation.samples import CAPTIONS

# sample label: (short English query, short Chinese query); the captions are queries too.
SAMPLE_SHORT: dict[str, tuple[str, str]] = {
    "astronaut": ("an astronaut", "宇航员"),
    "brick": ("bricks", "砖墙"),
    "camera": ("a photographer", "摄影师"),
    "chelsea": ("a cat", "一只猫"),
    "coffee": ("coffee", "咖啡"),
    "coins": ("coins", "硬币"),
    "grass": ("grass", "草地"),
    "gravel": ("gravel", "碎石"),
    "horse": ("a horse", "一匹马"),
    "hubble_deep_field": ("galaxies", "星系"),
    "immunohistochemistry": ("a microscope slide", "显微镜切片"),
    "moon": ("the moon", "月亮"),
    "page": ("printed text", "印刷文字"),
    "retina": ("a retina", "视网膜"),
    "rocket": ("a rocket", "火箭"),
    "text": ("handwriting", "手写字"),
    "motorcycle": ("a motorcycle", "摩托车"),
    "china": ("a pagoda", "宝塔"),
    "flower": ("a flower", "一朵花"),
}
FASHION: dict[str, tuple[str, str]] = {
    "t-shirt": ("a t-shirt", "T恤"),
    "trousers": ("trousers", "裤子"),
    "pullover": ("a pullover", "套头毛衣"),
    "dress": ("a dress", "连衣裙"),
    "coat": ("a coat", "外套"),
    "sandal": ("sandals", "凉鞋"),
    "shirt": ("a shirt", "衬衫"),
    "sneaker": ("sneakers", "运动鞋"),
    "bag": ("a bag", "手提包"),
    "ankle boot": ("ankle boots", "短靴"),
}
ANIMAL: dict[str, tuple[str, str]] = {
    "bear": ("a bear", "熊"),
    "bird": ("a bird", "鸟"),
    "cat": ("a cat", "猫"),
    "cow": ("a cow", "奶牛"),
    "dog": ("a dog", "狗"),
    "elephant": ("an elephant", "大象"),
    "giraffe": ("a giraffe", "长颈鹿"),
    "horse": ("a horse", "马"),
    "sheep": ("a sheep", "羊"),
    "zebra": ("a zebra", "斑马"),
}
NONSENSE: tuple[str, ...] = (
    "vbnq trelk oosp", "zimbo kraxle fent", "qqqq wwww eeee", "plarg snoot vrim",
    "hjkl yuio bvcx", "mnbvc xzlk jhgf", "frobnicate the wozzle", "blip blop bloop",
    "xyzzy plugh", "gribble spont achoo", "wug wugs wugging", "tlon uqbar orbis",
    "jabberwock borogove", "kazoo fizzbin quux", "aaaa bbbb",
    "how to appeal a parking fine", "the minutes of the annual general meeting",
    "depreciation of fixed assets", "null pointer exception in thread main",
    "the treaty of westphalia", "convert celsius to kelvin formula",
    "password reset email not received", "dns propagation takes 48 hours",
    "the second law of thermodynamics", "vat registration threshold",
    "stack overflow in a recursive function", "jurisdiction of the appellate court",
    "implied volatility of an option", "ISO 8601 week numbering", "compound interest formula",
    "git rebase onto another branch", "the categorical imperative", "pension contribution limits",
    "http 418 i am a teapot", "sql injection in a login form",
    "the half-life of carbon fourteen",
    "量子色动力学的拉格朗日量", "增值税申报截止日期", "合同违约的诉讼时效", "递归函数栈溢出",
    "股东大会会议纪要", "哈希值校验失败", "密码重置邮件没有收到", "期权的隐含波动率",
    "热力学第二定律", "阿巴阿巴", "嘻嘻哈哈呜呜", "啊啊啊啊啊", "的了是在不有",
    "乱七八糟的字符串", "养老金缴费上限", "域名解析需要四十八小时",
    "ldkfj weoiru xcmvn", "pzzt krong hummel", "7f3a 9c2e 11bd", "lorem dolor fugiat nulla",
)  # fmt: skip


# Things no photo of the eval collections shows (samples, Fashion/Animal-MNIST, GCompris).
NO_PHOTO_EN: tuple[str, ...] = (
    "a violin", "a submarine", "a pizza", "a laptop", "a traffic light", "a bicycle", "a piano",
    "a banana", "a guitar", "sushi", "an umbrella", "a school bus", "a fire truck",
    "a hot air balloon", "a sewing machine", "a vacuum cleaner", "a microwave oven",
    "a strawberry", "a tennis racket", "a volcano", "a bathtub", "a toothbrush", "a pineapple",
    "a snowboard", "a birthday cake", "an aeroplane", "a sailing boat", "a wedding",
    "a crowded beach",
)  # fmt: skip
NO_PHOTO_ZH: tuple[str, ...] = (
    "小提琴", "潜水艇", "披萨", "笔记本电脑", "红绿灯", "自行车", "钢琴", "香蕉", "吉他", "寿司",
    "雨伞", "校车", "消防车", "热气球", "缝纫机", "吸尘器", "微波炉", "草莓", "网球拍", "火山",
    "浴缸", "牙刷", "菠萝", "滑雪板", "生日蛋糕", "飞机", "帆船", "婚礼", "拥挤的海滩",
)  # fmt: skip
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_KEY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def random_strings(n: int = 40, *, seed: int = 7) -> list[str]:
    """``n`` seeded random strings: invented words, letters and digits, and CJK characters."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        if i % 4 == 3:
            out.append("".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(rng.randint(2, 6))))
        elif i % 4 == 2:
            alphabet = _LETTERS + "0123456789"
            out.append("".join(rng.choice(alphabet) for _ in range(rng.randint(5, 14))))
        else:
            words = [
                "".join(rng.choice(_LETTERS) for _ in range(rng.randint(3, 8)))
                for _ in range(rng.randint(1, 3))
            ]
            out.append(" ".join(words))
    return out


def keyboard_mash(n: int = 24, *, seed: int = 11) -> list[str]:
    """``n`` seeded runs of keys from one row of a keyboard ("sdfsdfs dsf")."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        row = rng.choice(_KEY_ROWS)
        start = rng.randint(0, len(row) - 4)
        keys = row[start : start + rng.randint(3, 6)]
        text = "".join(rng.choice(keys) for _ in range(rng.randint(5, 12)))
        if i % 3 == 0:
            text += " " + "".join(rng.choice(keys) for _ in range(rng.randint(3, 7)))
        out.append(text)
    return out


def nonsense() -> list[tuple[str, str]]:
    """(query, family) of every nonsense query, families ``prose``, ``random``, ``mash`` and
    ``no photo``; each text once."""
    families = (
        ("prose", list(NONSENSE)),
        ("random", random_strings()),
        ("mash", keyboard_mash()),
        ("no photo", [*NO_PHOTO_EN, *NO_PHOTO_ZH]),
    )
    seen: dict[str, str] = {}
    for family, texts in families:
        for text in texts:
            seen.setdefault(text, family)
    return list(seen.items())


def held_out(text: str) -> bool:
    """Whether ``text`` is in the held-out half (else the tuning half): CRC-32 parity."""
    return zlib.crc32(text.encode("utf-8")) % 2 == 1


def language(text: str) -> str:
    """``zh`` when ``text`` holds a CJK character, else ``en``."""
    return "zh" if any("\u3400" <= c <= "\u9fff" for c in text) else "en"


def right_answers(*, with_mnist: bool) -> dict[str, set[str]]:
    """query -> the labels whose photos answer it rightly (a query may have several)."""
    pairs: list[tuple[str, str]] = []
    for label, (english, chinese) in CAPTIONS.items():
        pairs += [(english, f"samples:{label}"), (chinese, f"samples:{label}")]
    for label, (english, chinese) in SAMPLE_SHORT.items():
        pairs += [(english, f"samples:{label}"), (chinese, f"samples:{label}")]
    if with_mnist:
        for prefix, table in (("fashion", FASHION), ("animal", ANIMAL)):
            for label, (english, chinese) in table.items():
                pairs += [(english, f"{prefix}:{label}"), (chinese, f"{prefix}:{label}")]
    answers: dict[str, set[str]] = {}
    for query, label in pairs:
        answers.setdefault(query, set()).add(label)
    return answers
