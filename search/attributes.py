"""The words of the enrichers' fields (COCO objects, colours, light) in English and Chinese,
and spotting them in a query.

Ingest writes these words into an item's ``enrich`` payload; the query side reads the same
tables to turn "blue bus at night" or "雪地里的狗" into conditions on those fields.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

# payload keys the enrichers write (under the item's ``enrich`` object)
OBJECTS_FIELD = "enrich.objects"
COLOURS_FIELD = "enrich.colours"
GRAMS_FIELD = "enrich.text_grams"
PEOPLE_FIELD = "enrich.people"
TEXT_COUNT_FIELD = "enrich.text_count"

# words that ask for an image with writing in it, whatever it says ("writing" and "written"
# name the act as often: "a pencil for writing")
TEXT_WORDS = (
    "sign", "signs", "signboard", "text", "handwriting", "handwritten", "words", "letters",
    "lettering", "label", "poster", "banner", "plate", "menu", "caption", "notice", "billboard",
    "招牌", "牌子", "路牌", "标志", "标牌", "文字", "手写", "海报", "横幅", "车牌", "菜单", "告示",
)  # fmt: skip
# one-character Chinese words that ask for writing only as a word of their own (写着字的牌子),
# not inside another (金字塔 a pyramid, 字符串 a string, 写字 to write)
TEXT_CHARACTERS = ("字",)

# COCO's 80 object classes (TF Object Detection API ids) → English, Chinese
COCO: dict[int, tuple[str, str]] = {
    1: ("person", "人"), 2: ("bicycle", "自行车"), 3: ("car", "汽车"), 4: ("motorcycle", "摩托车"),
    5: ("airplane", "飞机"), 6: ("bus", "公交车"), 7: ("train", "火车"), 8: ("truck", "卡车"),
    9: ("boat", "船"), 10: ("traffic light", "红绿灯"), 11: ("fire hydrant", "消防栓"),
    13: ("stop sign", "停车标志"), 14: ("parking meter", "停车计时器"), 15: ("bench", "长椅"),
    16: ("bird", "鸟"), 17: ("cat", "猫"), 18: ("dog", "狗"), 19: ("horse", "马"),
    20: ("sheep", "羊"), 21: ("cow", "牛"), 22: ("elephant", "大象"), 23: ("bear", "熊"),
    24: ("zebra", "斑马"), 25: ("giraffe", "长颈鹿"), 27: ("backpack", "背包"),
    28: ("umbrella", "雨伞"), 31: ("handbag", "手提包"), 32: ("tie", "领带"),
    33: ("suitcase", "行李箱"), 34: ("frisbee", "飞盘"), 35: ("skis", "滑雪板"),
    36: ("snowboard", "单板滑雪板"), 37: ("sports ball", "球"), 38: ("kite", "风筝"),
    39: ("baseball bat", "棒球棒"), 40: ("baseball glove", "棒球手套"), 41: ("skateboard", "滑板"),
    42: ("surfboard", "冲浪板"), 43: ("tennis racket", "网球拍"), 44: ("bottle", "瓶子"),
    46: ("wine glass", "酒杯"), 47: ("cup", "杯子"), 48: ("fork", "叉子"), 49: ("knife", "刀"),
    50: ("spoon", "勺子"), 51: ("bowl", "碗"), 52: ("banana", "香蕉"), 53: ("apple", "苹果"),
    54: ("sandwich", "三明治"), 55: ("orange", "橙子"), 56: ("broccoli", "西兰花"),
    57: ("carrot", "胡萝卜"), 58: ("hot dog", "热狗"), 59: ("pizza", "披萨"),
    60: ("donut", "甜甜圈"), 61: ("cake", "蛋糕"), 62: ("chair", "椅子"), 63: ("couch", "沙发"),
    64: ("potted plant", "盆栽"), 65: ("bed", "床"), 67: ("dining table", "餐桌"),
    70: ("toilet", "马桶"), 72: ("tv", "电视"), 73: ("laptop", "笔记本电脑"), 74: ("mouse", "鼠标"),
    75: ("remote", "遥控器"), 76: ("keyboard", "键盘"), 77: ("cell phone", "手机"),
    78: ("microwave", "微波炉"), 79: ("oven", "烤箱"), 80: ("toaster", "烤面包机"),
    81: ("sink", "水槽"), 82: ("refrigerator", "冰箱"), 84: ("book", "书"), 85: ("clock", "钟"),
    86: ("vase", "花瓶"), 87: ("scissors", "剪刀"), 88: ("teddy bear", "泰迪熊"),
    89: ("hair drier", "吹风机"), 90: ("toothbrush", "牙刷"),
}  # fmt: skip
OBJECT_ZH = dict(COCO.values())

# query words (English or Chinese) → an object label
OBJECT_WORDS: dict[str, str] = {
    **{en: en for en in OBJECT_ZH},
    **{zh: en for en, zh in OBJECT_ZH.items()},
    "people": "person", "persons": "person", "man": "person", "men": "person",
    "woman": "person", "women": "person", "child": "person", "children": "person",
    "kid": "person", "kids": "person", "boy": "person", "girl": "person", "crowd": "person",
    "人们": "person", "男人": "person", "女人": "person", "孩子": "person", "人群": "person",
    "bike": "bicycle", "motorbike": "motorcycle", "plane": "airplane", "sofa": "couch",
    "table": "dining table", "phone": "cell phone", "television": "tv", "puppy": "dog",
    "kitten": "cat", "ship": "boat", "lorry": "truck", "单车": "bicycle", "小狗": "dog",
    "小猫": "cat", "巴士": "bus", "大巴": "bus", "轿车": "car",
}  # fmt: skip

# the Chinese names of two or more characters (query_attributes looks for them inside a query)
CJK_OBJECT_WORDS = {
    w: label for w, label in OBJECT_WORDS.items() if len(w) > 1 and ord(w[0]) > 0x2E80
}

COLOUR_ZH = {
    "black": "黑色", "white": "白色", "grey": "灰色", "red": "红色", "orange": "橙色",
    "yellow": "黄色", "green": "绿色", "cyan": "青色", "blue": "蓝色", "purple": "紫色",
    "pink": "粉色", "brown": "棕色",
}  # fmt: skip
COLOUR_WORDS: dict[str, str] = {
    **{en: en for en in COLOUR_ZH},
    **{zh: en for en, zh in COLOUR_ZH.items()},
    **{zh[0]: en for en, zh in COLOUR_ZH.items()},
    "gray": "grey", "violet": "purple", "teal": "cyan", "紅": "red", "藍": "blue", "綠": "green",
}  # fmt: skip
NIGHT_WORDS = ("night", "dark", "evening", "夜", "晚上", "夜晚", "夜景", "黑夜")
BW_WORDS = ("black and white", "black-and-white", "monochrome", "grayscale", "黑白")
PEOPLE_LABEL = "person"


@dataclass(frozen=True, slots=True)
class QueryAttributes:
    """What a query asks of the enrichers' fields."""

    objects: list[str] = field(default_factory=list)
    colours: list[str] = field(default_factory=list)
    night: bool = False
    bw: bool = False

    def is_empty(self) -> bool:
        return not (self.objects or self.colours or self.night or self.bw)


def _latin_words(text: str) -> list[str]:
    words = re.findall(r"[a-z]+", text)
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


def _latin_objects(text: str) -> list[tuple[int, str]]:
    """(position, label) of the object names among the words; a word pair wins over its words:
    "a teddy bear" names a teddy bear, not a bear too."""
    words = re.findall(r"[a-z]+", text)
    pairs = [
        (i, OBJECT_WORDS[pair])
        for i, pair in enumerate(f"{a} {b}" for a, b in itertools.pairwise(words))
        if pair in OBJECT_WORDS
    ]
    covered = {j for i, _ in pairs for j in (i, i + 1)}
    singles = [
        (i, OBJECT_WORDS[w]) for i, w in enumerate(words) if w in OBJECT_WORDS and i not in covered
    ]
    return pairs + singles


def _occurrences(word: str, text: str) -> list[int]:
    """Where ``word`` starts in ``text``, overlaps included."""
    found: list[int] = []
    at = text.find(word)
    while at >= 0:
        found.append(at)
        at = text.find(word, at + 1)
    return found


def _cjk_objects(cjk: str) -> list[tuple[int, str]]:
    """(position, label) of the Chinese object names in ``cjk``, longest first where they
    overlap ("单板滑雪板" is a snowboard, not skis too). One-character names (人, 猫, 狗) count
    only as exact filter values: inside a query they hit too much (人 in 人行道, 马 in 马路)."""
    spans = [
        (start, len(word), label)
        for word, label in CJK_OBJECT_WORDS.items()
        if word in cjk
        for start in _occurrences(word, cjk)
    ]
    taken: set[int] = set()
    found: list[tuple[int, str]] = []
    for start, length, label in sorted(spans, key=lambda s: -s[1]):
        chars = set(range(start, start + length))
        if not chars & taken:
            taken |= chars
            found.append((start, label))
    return found


def query_attributes(query: str) -> QueryAttributes:
    """Objects, colours and light named in ``query`` (English words, Chinese substrings)."""
    text = query.casefold()
    latin = _latin_words(text)
    cjk = "".join(ch for ch in text if ord(ch) > 0x2E80)
    objects = dict.fromkeys(label for _, label in sorted(_latin_objects(text)))
    objects.update(dict.fromkeys(label for _, label in sorted(_cjk_objects(cjk))))
    colours: dict[str, None] = {}
    for word in latin:
        if word in COLOUR_WORDS:
            colours.setdefault(COLOUR_WORDS[word], None)
    if cjk:
        for word, colour in COLOUR_WORDS.items():
            if ord(word[0]) > 0x2E80 and word in cjk:
                colours.setdefault(colour, None)
    bw = any(w in text for w in BW_WORDS)
    if bw:
        colours.pop("black", None)
        colours.pop("white", None)
    night = any(w in latin or (ord(w[0]) > 0x2E80 and w in cjk) for w in NIGHT_WORDS)
    return QueryAttributes(list(objects), list(colours), night=night, bw=bw)
