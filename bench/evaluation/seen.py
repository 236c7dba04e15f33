"""``loupe eval seen``: text-in-image and compositional queries, English and Chinese, answered
with and without what the enrichers saw (``search.evidence``).

The collection (built in memory, the real ``SearchService`` over the exact ``NumpyIndex``):
the 19 sample photos, ten of them again with a sign rendered on them (Latin and Chinese, some
turned by 90° or 180°), a darkened copy of the cat ("at night") and a grey copy of the coffee
("black and white"). Each image is enriched as ingest would (``LOUPE_ENRICHERS``), encoded with
the encoder asked for, and searched by every query of ``QUERIES``: **hit@3** is the share of
queries with a right image among the first three. *before* = the encoder's vectors alone,
*after* = as ingest stores them with the enrichers on (the text read mixed into the semantic
vector) and searched with the evidence. ``meaning`` queries name what a sign says in other
words or the other language ("pharmacy" for 大药房).

The sets are small and were written while building the fusion: figures to compare
configurations with, not a held-out benchmark.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from loupe.bench.evaluation.ingested import eval_index, ingested
from loupe.bench.evaluation.samples import load_sample, sample_labels
from loupe.ingest.enrich.runner import Enrichers
from loupe.search.encoders.base import Encoder
from loupe.search.index.base import Point
from loupe.search.query import SearchQuery
from loupe.search.service import SearchService

CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")
K = 3

# label: (background sample, sign text, turned by degrees)
SIGNS: dict[str, tuple[str, str, int]] = {
    "sign-for-sale": ("brick", "FOR SALE", 0),
    "sign-exit": ("gravel", "EXIT", 0),
    "sign-open": ("china", "OPEN 24 HOURS", 0),
    "sign-bus-stop": ("grass", "BUS STOP", 90),
    "sign-plate": ("motorcycle", "RE16 TGK", 0),
    "sign-coffee": ("coins", "COFFEE SHOP", 180),
    "sign-zhongshan": ("moon", "中山路出口", 0),
    "sign-no-smoking": ("flower", "禁止吸烟", 0),
    "sign-welcome": ("retina", "欢迎光临", 270),
    "sign-pharmacy": ("hubble_deep_field", "大药房", 0),
}
QUERIES: dict[str, dict[str, set[str]]] = {
    "text-en": {
        "a sign that says FOR SALE": {"sign-for-sale"},
        "exit sign": {"sign-exit"},
        "open 24 hours": {"sign-open"},
        "a bus stop sign": {"sign-bus-stop"},
        "licence plate RE16": {"sign-plate"},
        "coffee shop sign": {"sign-coffee"},
        "Zhongshan road exit 中山路": {"sign-zhongshan"},
        "a shop sign saying pharmacy 药房": {"sign-pharmacy"},
        "a street sign": set(SIGNS),
        "a shop sign on a building": set(SIGNS),
    },
    "text-zh": {
        "写着禁止吸烟的牌子": {"sign-no-smoking"},
        "中山路出口的路牌": {"sign-zhongshan"},
        "欢迎光临": {"sign-welcome"},
        "药房的招牌": {"sign-pharmacy"},
        "出售的牌子 FOR SALE": {"sign-for-sale"},
        "出口": {"sign-exit", "sign-zhongshan"},
        "路牌": set(SIGNS),
        "商店的招牌": set(SIGNS),
    },
    "meaning": {
        "pharmacy": {"sign-pharmacy"},
        "no smoking": {"sign-no-smoking"},
        "welcome": {"sign-welcome"},
        "a way out": {"sign-exit", "sign-zhongshan"},
        "药店": {"sign-pharmacy"},
        "咖啡店": {"sign-coffee"},
        "公交车站": {"sign-bus-stop"},
        "欢迎": {"sign-welcome"},
    },
    "comp-en": {
        "a woman": {"astronaut"},
        "a man in a black and white photo": {"camera"},
        "a cat at night": {"cat-night"},
        "a black and white photo of a cup of coffee": {"coffee-bw"},
        "a red motorcycle": {"motorcycle", "sign-plate"},
        "people": {"astronaut", "camera"},
        "an orange flower": {"flower", "sign-no-smoking"},
        "an astronaut": {"astronaut"},
        "a photographer": {"camera"},
    },
    "comp-zh": {
        "一个女人": {"astronaut"},
        "黑白照片里的男人": {"camera"},
        "夜晚的猫": {"cat-night"},
        "黑白的咖啡": {"coffee-bw"},
        "红色的摩托车": {"motorcycle", "sign-plate"},
        "人们": {"astronaut", "camera"},
        "宇航员": {"astronaut"},
        "摄影师": {"camera"},
    },
}


def _font(text: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(CJK_FONT), size)


def sign_on(photo: Image.Image, text: str, turned: int) -> Image.Image:
    """``photo`` (at 1024 px) with a white sign reading ``text``, the whole turned by
    ``turned`` degrees."""
    image = photo.convert("RGB")
    image.thumbnail((1024, 1024))
    draw = ImageDraw.Draw(image)
    size = max(24, image.width // (len(text) + 3))
    font = _font(text, size)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    x, y = image.width // 10, image.height // 3
    pad = size // 3
    draw.rectangle((x - pad, y - pad, x + right - left + pad, y + bottom - top + pad), fill="white")
    draw.text((x - left, y - top), text, font=font, fill=(20, 20, 20))
    return image.rotate(turned, expand=True) if turned else image


def collection() -> dict[str, Image.Image]:
    """The eval images by label."""
    images = {label: load_sample(label) for label in sample_labels()}
    for label, (background, text, turned) in SIGNS.items():
        images[label] = sign_on(images[background], text, turned)
    cat = np.asarray(images["chelsea"].convert("RGB"), dtype=np.float32)
    images["cat-night"] = Image.fromarray((cat * 0.18).astype(np.uint8))
    images["coffee-bw"] = images["coffee"].convert("L").convert("RGB")
    return images


@dataclass(slots=True)
class SeenReport:
    model_id: str
    enrichers: list[str]
    hits: dict[str, dict[str, float]] = field(default_factory=dict)  # type -> before/after
    misses: dict[str, list[str]] = field(default_factory=dict)  # after, per type

    def rows(self) -> list[tuple[str, int, float, float]]:
        return [
            (kind, len(QUERIES[kind]), v["before"], v["after"]) for kind, v in self.hits.items()
        ]


def points(
    images: dict[str, Image.Image], encoder: Encoder, enrichers: Enrichers | None
) -> list[Point]:
    """Points as ingest makes them (``ingested``), one per label, so that the concept route and
    (with ``enrichers``) what they saw are measured too."""
    labels = list(images)
    return ingested(
        encoder,
        [images[label] for label in labels],
        [str(uuid.uuid5(uuid.NAMESPACE_URL, label)) for label in labels],
        [{"modality": "image", "label": label} for label in labels],
        enrichers,
    )


def _service(points: list[Point], encoder: Encoder, *, evidence: bool) -> SearchService:
    return SearchService(
        eval_index(points, encoder),
        encoder,
        alias="loupe",
        cache_size=0,
        max_in_flight=4,
        batch_wait_ms=0.5,
        evidence=evidence,
    )


def _hit_at_k(service: SearchService, queries: dict[str, set[str]]) -> tuple[float, list[str]]:
    found, misses = 0, []
    for query, right in queries.items():
        result = service.search(SearchQuery(text=query, limit=K, collapse_duplicates=False))
        labels = [str(hit.payload["label"]) for hit in result.hits]
        if right & set(labels):
            found += 1
        else:
            misses.append(query)
    return found / len(queries), misses


def run_seen(encoder: Encoder, enrichers: Enrichers) -> SeenReport:
    images = collection()
    report = SeenReport(encoder.model_id, enrichers.names)
    services = {
        "before": _service(points(images, encoder, None), encoder, evidence=False),
        "after": _service(points(images, encoder, enrichers), encoder, evidence=True),
    }
    for kind, queries in QUERIES.items():
        before, _ = _hit_at_k(services["before"], queries)
        after, misses = _hit_at_k(services["after"], queries)
        report.hits[kind] = {"before": before, "after": after}
        report.misses[kind] = misses
    for service in services.values():
        service.close()
    return report
