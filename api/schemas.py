"""HTTP schemas (pydantic). Requests forbid unknown fields and refuse wrong types."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)

Scalar = StrictStr | StrictInt | StrictFloat | StrictBool


def _has_lone_surrogate(value: object) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_lone_surrogate(v) for v in value)
    return False


class Strict(BaseModel):
    """Request bodies: unknown fields and wrong types refused, and strings must be valid
    Unicode (JSON's ``"\\ud800"`` decodes to a lone surrogate that no encoder can take)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _valid_unicode(cls, data: object) -> object:
        if _has_lone_surrogate(data):
            raise ValueError("strings must be valid Unicode (no lone surrogates)")
        return data


class RangeModel(Strict):
    gte: StrictFloat | StrictInt | None = None
    lte: StrictFloat | StrictInt | None = None


class FilterModel(Strict):
    tags: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=100, description="Items having any of these tags."
    )
    modality: Literal["image", "text"] | None = None
    mime: list[StrictStr] = Field(default_factory=list, max_length=20)
    created_after: StrictStr | StrictFloat | StrictInt | None = Field(
        None, description="ISO 8601 date-time or epoch seconds."
    )
    created_before: StrictStr | StrictFloat | StrictInt | None = Field(
        None, description="ISO 8601 date-time or epoch seconds."
    )
    taken_after: StrictStr | StrictFloat | StrictInt | None = Field(
        None,
        description="Taken at or after (EXIF capture date, else upload time): ISO 8601 or epoch.",
    )
    taken_before: StrictStr | StrictFloat | StrictInt | None = Field(
        None, description="Taken at or before: ISO 8601 date-time or epoch seconds."
    )
    metadata: dict[
        Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")], Scalar | RangeModel
    ] = Field(default_factory=dict, max_length=20, description="Equality or {gte, lte} ranges.")
    objects: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        default_factory=list,
        max_length=10,
        description="Images where all of these were seen (COCO names such as person, dog, bus).",
    )
    text_contains: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        None, description="Images whose text read by OCR contains this (any language, any case)."
    )
    colours: list[Annotated[str, Field(min_length=1, max_length=20)]] = Field(
        default_factory=list, max_length=12, description="Images with any of these main colours."
    )
    people_min: StrictInt | None = Field(
        None, ge=0, le=1000, description="At least this many people."
    )
    people_max: StrictInt | None = Field(
        None, ge=0, le=1000, description="At most this many people."
    )


class Weights(Strict):
    text: StrictFloat | StrictInt = Field(1.0, ge=0, le=10)
    image: StrictFloat | StrictInt = Field(1.0, ge=0, le=10)


class Negative(Strict):
    texts: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list, max_length=10)
    ids: list[StrictStr] = Field(default_factory=list, max_length=50)


class SearchOptions(Strict):
    weights: Weights | None = None
    negative: StrictStr | Negative | None = None
    filter: FilterModel | None = None
    limit: StrictInt = Field(20, ge=1, le=200)
    offset: StrictInt = Field(0, ge=0, le=10_000)
    score_threshold: StrictFloat | StrictInt | None = Field(None, ge=-1, le=1)
    collapse_duplicates: StrictBool = True
    with_vectors: StrictBool = False


class SearchRequest(SearchOptions):
    text: StrictStr | None = None
    image_id: StrictStr | None = None
    image: StrictStr | None = Field(None, description="A base64-encoded image (no data: prefix).")


class WhyModel(BaseModel):
    concept: int = Field(description="Concept id (ImageNet class i is i).")
    name: str
    name_zh: str | None = None
    weight: float = Field(description="This concept's part of the hit's concept score.")


class SeenModel(BaseModel):
    kind: Literal["text", "writing", "object", "colour", "light"] = Field(
        description="What the image showed that the query asked for: text (a word read), "
        "writing (any text, for a query asking for a sign), object, colour or light."
    )
    value: str = Field(description="The query's word for it (a word read, 'person', 'blue').")
    detail: str | None = Field(None, description="For text: the line the image read.")


class HitModel(BaseModel):
    id: str
    score: float
    modality: str
    metadata: dict[str, Any]
    tags: list[str] = Field(default_factory=list)
    filename: str | None = None
    text: str | None = None
    width: int | None = None
    height: int | None = None
    created_at: float | None = None
    taken_at: float | None = Field(
        None, description="When the photo was taken (EXIF), else when it was uploaded."
    )
    thumbnail_url: str | None = None
    original_url: str | None = None
    duplicates: list[str] = Field(default_factory=list)
    vectors: dict[str, list[float]] | None = None
    why: list[WhyModel] = Field(
        default_factory=list, description="Query concepts this hit matched (fused text search)."
    )
    alt: dict[str, str] | None = Field(
        None, description="A short description built from what the enrichers saw: {en, zh}."
    )
    seen: list[SeenModel] = Field(
        default_factory=list,
        description="Why it matched beyond the vectors: text read in it, objects, colours, light "
        "that the query named (text queries).",
    )
    match: Literal["strong", "weak", "none"] | None = Field(
        None,
        description="Calibrated match to the query (docs/relevance.md): text, photo and similar "
        "queries each on their own calibration; null for queries mixing text and a photo. "
        "Matching hits come first.",
    )


class SearchResponse(BaseModel):
    hits: list[HitModel]
    took_ms: float
    model_id: str
    next_offset: int | None
    no_good_match: bool
    total_matches: int | None = Field(
        None, description="Hits that match (strong or weak); null when the query is not judged."
    )
    matches_capped: bool = Field(
        False, description="More matches may exist beyond total_matches (judged window full)."
    )
    total: int | None = Field(
        None, description="Items this query could return (filter applied); first page only."
    )


class TextItemModel(Strict):
    text: StrictStr
    tags: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=100
    )
    metadata: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")], Scalar] = Field(
        default_factory=dict, max_length=50
    )


class TextItemsRequest(Strict):
    items: list[TextItemModel] = Field(min_length=1, max_length=1000)


class AcceptedModel(BaseModel):
    id: str | None = Field(description="The item's id (null for a refused file).")
    status: Literal["queued", "duplicate", "refused"]
    filename: str | None = None
    error: str | None = Field(None, description="Why the file was refused.")


class UploadResponse(BaseModel):
    job_id: str | None
    items: list[AcceptedModel]


class SourceModel(Strict):
    path: StrictStr = Field(min_length=1, max_length=4096)


class JobRequest(Strict):
    source: SourceModel
    tags: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=100
    )
    metadata: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")], Scalar] = Field(
        default_factory=dict, max_length=50
    )


class JobErrorModel(BaseModel):
    seq: int
    item: str
    message: str


class JobModel(BaseModel):
    id: str
    kind: str
    state: str
    total: int
    done: int
    failed: int
    pending: int
    rate: float | None = Field(description="Items per second since the job started.")
    eta_s: float | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    errors: list[JobErrorModel]
    meta: dict[str, Any]


class JobList(BaseModel):
    jobs: list[JobModel]


class ItemModel(HitModel):
    score: float = 1.0
    sha256: str | None = None
    mime: str | None = None
    size: int | None = None
    model_id: str | None = None
    enrich: dict[str, Any] | None = Field(
        None, description="What the enrichers saw: text read, objects, faces, colours, light."
    )
