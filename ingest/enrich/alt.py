"""A short description of an image from its enrichers' fields, in English and Chinese, for
people who cannot see it (the page's alt attributes, the detail view, the API)."""

from __future__ import annotations

from typing import Any

from loupe.search.attributes import OBJECT_ZH

_NUMBERS_EN = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_NUMBERS_ZH = ("零", "一", "两", "三", "四", "五", "六", "七", "八", "九")
MAX_OBJECTS = 4
MAX_TEXT = 80


def _plural(label: str, count: int) -> str:
    if count == 1:
        return label
    if label == "person":
        return "people"
    return label + ("es" if label.endswith(("s", "sh", "ch", "x")) else "s")


def _count_en(label: str, count: int) -> str:
    number = _NUMBERS_EN[count] if count < len(_NUMBERS_EN) else str(count)
    if count == 1:
        number = "an" if label[0] in "aeiou" else "a"
    return f"{number} {_plural(label, count)}"


_MEASURE_ZH = {
    **dict.fromkeys(
        (
            "bird",
            "cat",
            "dog",
            "horse",
            "sheep",
            "cow",
            "elephant",
            "bear",
            "zebra",
            "giraffe",
            "teddy bear",
        ),
        "只",
    ),
    **dict.fromkeys(("bicycle", "car", "motorcycle", "bus", "train", "truck"), "辆"),
    **dict.fromkeys(("chair", "umbrella", "knife", "fork", "spoon", "scissors"), "把"),
    **dict.fromkeys(("bed", "dining table", "couch"), "张"),
    "boat": "艘",
    "airplane": "架",
    "book": "本",
    "bottle": "瓶",
    "cup": "杯",
}


def _count_zh(label: str, count: int) -> str:
    number = _NUMBERS_ZH[count] if count < len(_NUMBERS_ZH) else str(count)
    return f"{number}{_MEASURE_ZH.get(label, '个')}{OBJECT_ZH.get(label, label)}"


def people_count(fields: dict[str, Any]) -> int:
    """People seen: persons detected or faces found, whichever is more."""
    counts = fields.get("object_counts") or {}
    return max(int(counts.get("person", 0)), int(fields.get("faces") or 0))


def _things(fields: dict[str, Any]) -> list[tuple[str, int]]:
    counts = dict(fields.get("object_counts") or {})
    people = people_count(fields)
    counts.pop("person", None)
    things = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if people:
        things.insert(0, ("person", people))
    return things[:MAX_OBJECTS]


def _short(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def alt_text(fields: dict[str, Any]) -> dict[str, str]:
    """``{"en": ..., "zh": ...}``; empty strings when nothing was seen."""
    things = _things(fields)
    colours = list(fields.get("colours") or [])[:2]
    colours_zh = list(fields.get("colours_zh") or [])[:2]
    en: list[str] = []
    zh: list[str] = []
    mood_en = "black-and-white " if fields.get("bw") else ("dark " if fields.get("night") else "")
    mood_zh = "黑白" if fields.get("bw") else ("昏暗的" if fields.get("night") else "")
    if things:
        en.append(f"A {mood_en}photo of " + ", ".join(_count_en(k, n) for k, n in things) + ".")
        zh.append(f"一张{mood_zh}照片，有" + "、".join(_count_zh(k, n) for k, n in things) + "。")
    elif mood_en or colours:
        en.append(f"A {mood_en}photo.")
        zh.append(f"一张{mood_zh}照片。")
    if colours and not fields.get("bw"):
        en.append("Mostly " + " and ".join(colours) + ".")
        zh.append("主要是" + "和".join(colours_zh) + "。")
    text = str(fields.get("text") or "").strip()
    if text:
        en.append(f"Text: '{_short(text)}'.")
        zh.append(f"文字：“{_short(text)}”。")
    return {"en": " ".join(en), "zh": "".join(zh)}
