"""Search by text, by a stored item, by an uploaded image, or any weighted mix."""

from __future__ import annotations

import json

from fastapi import APIRouter, File, Form, UploadFile
from pydantic import ValidationError

from api.deps import SearchServiceDep, SettingsDep
from api.schemas import SearchOptions, SearchRequest, SearchResponse
from api.search_glue import b64_image, build_query, decode_query_image, result_model
from search.errors import InvalidInput, PayloadTooLarge

router = APIRouter(prefix="/v1/search", tags=["search"])


@router.post("", response_model=SearchResponse)
def search(body: SearchRequest, service: SearchServiceDep, settings: SettingsDep) -> SearchResponse:
    image = None
    if body.image is not None:
        image = b64_image(
            body.image, max_bytes=settings.max_upload_bytes, max_pixels=settings.max_pixels
        )
    query = build_query(body, text=body.text, image_id=body.image_id, image=image)
    return result_model(service.search(query))


@router.post("/image", response_model=SearchResponse)
def search_image(
    service: SearchServiceDep,
    settings: SettingsDep,
    file: UploadFile = File(..., description="The query photo."),
    text: str | None = Form(None),
    options: str | None = Form(
        None, description="JSON of the optional fields of /v1/search (weights, filter, limit...)"
    ),
) -> SearchResponse:
    data = file.file.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise PayloadTooLarge(f"the file is larger than {settings.max_upload_bytes} bytes")
    try:
        parsed = SearchOptions.model_validate(json.loads(options) if options else {})
    except (json.JSONDecodeError, ValidationError):
        raise InvalidInput(
            "options must be a JSON object of /v1/search's optional fields"
        ) from None
    image = decode_query_image(
        data, max_bytes=settings.max_upload_bytes, max_pixels=settings.max_pixels
    )
    query = build_query(parsed, text=text, image_id=None, image=image)
    return result_model(service.search(query))
