"""Translation between the HTTP schemas and the search service's types."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import Response
from PIL import Image
from pydantic import ValidationError

from loupe.api.schemas import (
    FilterModel,
    HitModel,
    RangeModel,
    SearchOptions,
    SearchResponse,
    SeenModel,
    WhyModel,
)
from loupe.ingest.validate import load_image
from loupe.search.attributes import (
    COLOUR_WORDS,
    COLOURS_FIELD,
    GRAMS_FIELD,
    OBJECT_WORDS,
    OBJECTS_FIELD,
    PEOPLE_FIELD,
)
from loupe.search.errors import InvalidInput
from loupe.search.index import Filter, Hit, Range
from loupe.search.query import ResultHit, SearchQuery, SearchResult
from loupe.search.text_grams import query_grams


def _epoch(value: str | float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput(f"{value!r} is not an ISO 8601 date-time") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()
    return float(value)


def filter_from_model(model: FilterModel | None) -> Filter | None:
    if model is None:
        return None
    equals: dict[str, str | int | bool] = {}
    ranges: dict[str, Range] = {}
    any_of: dict[str, list[str | int]] = {}
    if model.modality:
        equals["modality"] = model.modality
    if model.mime:
        any_of["mime"] = list(model.mime)
    for key, (after, before) in {
        "created_at": (_epoch(model.created_after), _epoch(model.created_before)),
        "taken_at": (_epoch(model.taken_after), _epoch(model.taken_before)),
    }.items():
        if after is not None or before is not None:
            ranges[key] = Range(gte=after, lte=before)
    for key, value in model.metadata.items():
        if isinstance(value, RangeModel):
            if value.gte is None and value.lte is None:
                raise InvalidInput(f"metadata.{key}: a range needs gte or lte")
            ranges[f"metadata.{key}"] = Range(gte=value.gte, lte=value.lte)
        elif isinstance(value, float):
            ranges[f"metadata.{key}"] = Range(gte=value, lte=value)
        else:
            equals[f"metadata.{key}"] = value
    all_of = _enrich_conditions(model, any_of, ranges)
    flt = Filter(
        equals=equals, any_of=any_of, all_of=all_of, ranges=ranges, tags_any=list(model.tags)
    )
    return None if flt.is_empty() else flt


def _known(value: str, table: dict[str, str], what: str) -> str:
    found = table.get(value.strip().casefold())
    if found is None:
        raise InvalidInput(
            f"unknown {what} {value!r}; known: {', '.join(sorted(set(table.values())))}"
        )
    return found


def _enrich_conditions(
    model: FilterModel, any_of: dict[str, list[str | int]], ranges: dict[str, Range]
) -> dict[str, list[str | int]]:
    """The enrichers' filters (objects, text, colours, people) added to ``any_of``/``ranges``;
    returns the ``all_of`` conditions."""
    all_of: dict[str, list[str | int]] = {}
    if model.objects:
        all_of[OBJECTS_FIELD] = list(
            dict.fromkeys(_known(o, OBJECT_WORDS, "object") for o in model.objects)
        )
    if model.text_contains is not None:
        grams = query_grams(model.text_contains)
        if not grams:
            raise InvalidInput("text_contains has no characters to look for")
        all_of[GRAMS_FIELD] = list(grams)
    if model.colours:
        any_of[COLOURS_FIELD] = list(
            dict.fromkeys(_known(c, COLOUR_WORDS, "colour") for c in model.colours)
        )
    if model.people_min is not None or model.people_max is not None:
        low_n, high_n = model.people_min, model.people_max
        if low_n is not None and high_n is not None and low_n > high_n:
            raise InvalidInput("people_min is larger than people_max")
        low = None if model.people_min is None else float(model.people_min)
        high = None if model.people_max is None else float(model.people_max)
        ranges[PEOPLE_FIELD] = Range(gte=low, lte=high)
    return all_of


def decode_query_image(data: bytes, *, max_bytes: int, max_pixels: int) -> Image.Image:
    return load_image(data, max_bytes=max_bytes, max_pixels=max_pixels)[1]


def b64_image(raw: str, *, max_bytes: int, max_pixels: int) -> Image.Image:
    if raw.startswith("data:"):
        raw = raw.partition(",")[2]
    if len(raw) > max_bytes * 4 // 3 + 8:
        raise InvalidInput("the base64 image is over the size limit")
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("image is not valid base64") from None
    return decode_query_image(data, max_bytes=max_bytes, max_pixels=max_pixels)


def form_options(options: str | None, fields: dict[str, Any]) -> SearchOptions:
    """``SearchOptions`` from the ``options`` JSON of a multipart search plus plain form fields.

    ``fields`` maps ``limit``, ``offset``, ``text_weight``, ``image_weight``, ``tags`` (a list of
    comma-separated strings), ``modality``, ``score_threshold`` and ``collapse_duplicates`` to
    their parsed values or None. A field given both ways is refused (InvalidInput).
    """
    try:
        data = json.loads(options) if options else {}
    except json.JSONDecodeError:
        raise InvalidInput(
            "options must be a JSON object of /v1/search's optional fields"
        ) from None
    if not isinstance(data, dict):
        raise InvalidInput("options must be a JSON object of /v1/search's optional fields")
    merged: dict[str, Any] = dict(data)
    flt: dict[str, Any] = dict(merged.get("filter") or {})
    weights: dict[str, Any] = dict(merged.get("weights") or {})

    def put(target: dict[str, Any], key: str, value: Any, name: str) -> None:
        if value is None:
            return
        if key in target:
            raise InvalidInput(f"{name} is given both in options and as a form field")
        target[key] = value

    for key in ("limit", "offset", "score_threshold", "collapse_duplicates"):
        put(merged, key, fields.get(key), key)
    put(weights, "text", fields.get("text_weight"), "the text weight")
    put(weights, "image", fields.get("image_weight"), "the image weight")
    raw_tags = fields.get("tags") or []
    tags = [t.strip() for raw in raw_tags for t in str(raw).split(",") if t.strip()]
    put(flt, "tags", tags or None, "tags")
    put(flt, "modality", fields.get("modality"), "modality")
    if weights:
        merged["weights"] = weights
    if flt:
        merged["filter"] = flt
    try:
        return SearchOptions.model_validate(merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "options"
        raise InvalidInput(f"{where}: {first.get('msg', 'invalid')}") from None


def build_query(
    options: SearchOptions,
    *,
    text: str | None,
    image_id: str | None,
    image: Image.Image | None,
    tenant: str | None = None,
) -> SearchQuery:
    weights: dict[str, float] = {}
    if options.weights is not None:
        weights = {"text": float(options.weights.text), "image": float(options.weights.image)}
    negative_texts: list[str] = []
    negative_ids: list[str] = []
    if isinstance(options.negative, str):
        negative_texts = [options.negative]
    elif options.negative is not None:
        negative_texts, negative_ids = list(options.negative.texts), list(options.negative.ids)
    return SearchQuery(
        text=text,
        image_id=image_id,
        image=image,
        weights=weights or {"text": 1.0, "image": 1.0},
        negative_texts=negative_texts,
        negative_ids=negative_ids,
        filter=filter_from_model(options.filter),
        limit=options.limit,
        offset=options.offset,
        score_threshold=(
            float(options.score_threshold) if options.score_threshold is not None else None
        ),
        collapse_duplicates=options.collapse_duplicates,
        with_vectors=options.with_vectors,
        tenant=tenant,
    )


def hit_model(hit: Hit | ResultHit, *, duplicates: list[str] | None = None) -> HitModel:
    payload: dict[str, Any] = hit.payload
    modality = str(payload.get("modality") or "image")
    vectors = None
    if hit.vectors:
        vectors = {name: [float(x) for x in vec] for name, vec in hit.vectors.items()}
    return HitModel(
        id=hit.id,
        score=float(hit.score),
        modality=modality,
        metadata=dict(payload.get("metadata") or {}),
        tags=list(payload.get("tags") or []),
        filename=payload.get("filename"),
        text=payload.get("text"),
        width=payload.get("width"),
        height=payload.get("height"),
        created_at=payload.get("created_at"),
        taken_at=payload.get("taken_at", payload.get("created_at")),
        thumbnail_url=f"/v1/items/{hit.id}/thumbnail" if modality == "image" else None,
        original_url=f"/v1/items/{hit.id}/original",
        duplicates=duplicates or [],
        vectors=vectors,
        why=[
            WhyModel(concept=w.concept, name=w.name, name_zh=w.name_zh, weight=round(w.weight, 4))
            for w in (hit.why if isinstance(hit, ResultHit) else [])
        ],
        match=_match(hit),
        alt=_alt(payload),
        seen=_seen(hit),
    )


def _seen(hit: Hit | ResultHit) -> list[SeenModel]:
    if not isinstance(hit, ResultHit):
        return []
    return [SeenModel.model_validate(asdict(s)) for s in hit.seen]


def _alt(payload: dict[str, Any]) -> dict[str, str] | None:
    enrich = payload.get("enrich")
    alt = enrich.get("alt") if isinstance(enrich, dict) else None
    return {str(k): str(v) for k, v in alt.items()} if isinstance(alt, dict) else None


MatchName = Literal["strong", "weak", "none"]
_MATCHES: dict[str, MatchName] = {"strong": "strong", "weak": "weak", "none": "none"}


def _match(hit: Hit | ResultHit) -> MatchName | None:
    return _MATCHES.get(hit.match or "") if isinstance(hit, ResultHit) else None


def result_response(result: SearchResult) -> Response:
    """``result`` as a JSON response, serialised once. Returning the model itself would make
    FastAPI dump it, validate it again against ``response_model`` and dump it once more."""
    body = result_model(result).model_dump_json()
    return Response(content=body, media_type="application/json")


def result_model(result: SearchResult) -> SearchResponse:
    return SearchResponse(
        hits=[hit_model(h, duplicates=list(h.duplicates)) for h in result.hits],
        took_ms=round(result.took_ms, 3),
        model_id=result.model_id,
        next_offset=result.next_offset,
        no_good_match=result.no_good_match,
        total_matches=result.total_matches,
        matches_capped=result.matches_capped,
        total=result.total,
    )
