"""Alt text from the enrichers' fields, in English and Chinese."""

from __future__ import annotations

from loupe.ingest.enrich.alt import alt_text, people_count


def test_people_objects_colours_and_text() -> None:
    fields = {
        "object_counts": {"cat": 1, "bus": 2, "person": 1},
        "faces": 3,
        "colours": ["blue", "white"],
        "colours_zh": ["蓝色", "白色"],
        "text": "EXIT",
    }
    assert people_count(fields) == 3
    alt = alt_text(fields)
    assert (
        alt["en"]
        == "A photo of three people, two buses, a cat. Mostly blue and white. Text: 'EXIT'."
    )
    assert alt["zh"] == "一张照片，有三个人、两辆公交车、一只猫。主要是蓝色和白色。文字：“EXIT”。"


def test_black_and_white_and_dark_photos() -> None:
    assert alt_text({"bw": True, "colours": ["grey"], "colours_zh": ["灰色"]}) == {
        "en": "A black-and-white photo.",
        "zh": "一张黑白照片。",
    }
    assert alt_text({"night": True, "faces": 1})["en"] == "A dark photo of a person."


def test_nothing_seen_is_empty() -> None:
    assert alt_text({}) == {"en": "", "zh": ""}
