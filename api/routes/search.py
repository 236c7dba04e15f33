"""Search by text, by a stored item, by an uploaded image, or any weighted mix."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Response, UploadFile

from loupe.api.deps import ReaderDep, SearchServiceDep, SettingsDep
from loupe.api.schemas import SearchRequest, SearchResponse
from loupe.api.search_mapping import (
    b64_image,
    build_query,
    decode_query_image,
    form_options,
    result_response,
)
from loupe.search.errors import PayloadTooLarge

router = APIRouter(prefix="/v1/search", tags=["search"])


@router.post("", response_model=SearchResponse)
def search(
    body: SearchRequest, reader: ReaderDep, service: SearchServiceDep, settings: SettingsDep
) -> Response:
    """Search by ``text``, ``image_id`` or base64 ``image`` (or a weighted mix of text and one
    image), with optional negatives, filter, paging and duplicate folding."""
    image = None
    if body.image is not None:
        image = b64_image(
            body.image, max_bytes=settings.max_upload_bytes, max_pixels=settings.max_pixels
        )
    query = build_query(
        body, text=body.text, image_id=body.image_id, image=image, tenant=reader.tenant
    )
    return result_response(service.search(query))


@router.post("/image", response_model=SearchResponse)
def search_image(
    reader: ReaderDep,
    service: SearchServiceDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="The query photo.")],
    text: Annotated[str | None, Form(description="Optional words to mix with the photo.")] = None,
    options: Annotated[
        str | None,
        Form(description="JSON of the optional fields of /v1/search (weights, filter, limit...)"),
    ] = None,
    limit: Annotated[int | None, Form(ge=1, le=200)] = None,
    offset: Annotated[int | None, Form(ge=0, le=10_000)] = None,
    text_weight: Annotated[float | None, Form(ge=0, le=10)] = None,
    image_weight: Annotated[float | None, Form(ge=0, le=10)] = None,
    tags: Annotated[
        list[str] | None, Form(description="Filter: any of these tags (repeat or comma).")
    ] = None,
    modality: Annotated[Literal["image", "text"] | None, Form()] = None,
    score_threshold: Annotated[float | None, Form(ge=-1, le=1)] = None,
    collapse_duplicates: Annotated[bool | None, Form()] = None,
) -> Response:
    """Search by an uploaded photo (multipart ``file``), optionally mixed with ``text``. The
    optional fields come as ``options`` JSON, as plain form fields, or both (not the same field
    twice)."""
    data = file.file.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise PayloadTooLarge(f"the file is larger than {settings.max_upload_bytes} bytes")
    parsed = form_options(
        options,
        {
            "limit": limit,
            "offset": offset,
            "text_weight": text_weight,
            "image_weight": image_weight,
            "tags": tags,
            "modality": modality,
            "score_threshold": score_threshold,
            "collapse_duplicates": collapse_duplicates,
        },
    )
    image = decode_query_image(
        data, max_bytes=settings.max_upload_bytes, max_pixels=settings.max_pixels
    )
    query = build_query(parsed, text=text, image_id=None, image=image, tenant=reader.tenant)
    return result_response(service.search(query))
