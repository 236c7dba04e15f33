"""Items: upload (files or texts), read, thumbnail, original, more-like-this, delete."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from loupe.api.access import audit
from loupe.api.access.keys import Principal
from loupe.api.access.limits import Limiter
from loupe.api.deps import (
    ReaderDep,
    RuntimeDep,
    SearchServiceDep,
    SettingsDep,
    ThumbsDep,
    WriterDep,
)
from loupe.api.schemas import (
    AcceptedModel,
    FilterModel,
    ItemModel,
    SearchResponse,
    TextItemsRequest,
    UploadResponse,
)
from loupe.api.search_glue import filter_from_model, hit_model, result_response
from loupe.ingest.items import ItemSpec, Modality
from loupe.ingest.thumbs import Thumbnailer
from loupe.ingest.uploads import (
    Refused,
    TextItem,
    UploadFile,
    image_specs,
    submit,
    text_specs,
)
from loupe.search.errors import InvalidInput, NotFound, PayloadTooLarge, Unavailable
from loupe.search.index import Hit
from loupe.workers.runtime import Runtime

router = APIRouter(prefix="/v1/items", tags=["items"])
NOSNIFF = {"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=86400"}


def _labels(tags_raw: list[str], metadata_raw: str | None) -> tuple[list[str], dict[str, Any]]:
    tags = sorted({t.strip() for raw in tags_raw for t in raw.split(",") if t.strip()})
    metadata: dict[str, Any] = {}
    if metadata_raw:
        try:
            metadata = json.loads(metadata_raw)
        except json.JSONDecodeError:
            raise InvalidInput("metadata must be a JSON object") from None
        if not isinstance(metadata, dict):
            raise InvalidInput("metadata must be a JSON object")
    return tags, metadata


def _charge(request: Request, writer: Principal, size: int) -> None:
    limiter: Limiter = request.app.state.limiter
    limiter.upload(writer, size)


async def _multipart(
    request: Request, runtime: Runtime, limit: int, writer: Principal
) -> list[ItemSpec | Refused]:
    settings = runtime.settings
    try:
        form = await request.form(max_files=limit + 1, max_fields=200)
    except (MultiPartException, StarletteHTTPException) as exc:
        if "too many files" in str(exc).lower():
            raise PayloadTooLarge(f"at most {limit} files per request") from exc
        raise InvalidInput("the multipart body is malformed or has too many parts") from exc
    try:
        files = [f for f in form.getlist("files") if isinstance(f, StarletteUpload)]
        if not files:
            raise InvalidInput("send one or more images in the multipart field 'files'")
        if len(files) > limit:
            raise PayloadTooLarge(f"at most {limit} files per request")
        uploads = []
        for f in files:
            data = await f.read(settings.max_upload_bytes + 1)
            if len(data) > settings.max_upload_bytes:
                raise PayloadTooLarge(
                    f"{f.filename or 'a file'} is larger than {settings.max_upload_bytes} bytes"
                )
            uploads.append(UploadFile(f.filename, f.content_type, data))
        _charge(request, writer, sum(len(u.data) for u in uploads))
        tags, metadata = _labels(
            [v for v in form.getlist("tags") if isinstance(v, str)],
            v if isinstance(v := form.get("metadata"), str) else None,
        )
    finally:
        await form.close()
    return await run_in_threadpool(
        image_specs, runtime.pipeline, uploads, tags=tags, metadata=metadata
    )


@router.post("", status_code=202, response_model=UploadResponse)
async def upload(
    request: Request, writer: WriterDep, runtime: RuntimeDep, settings: SettingsDep
) -> UploadResponse:
    """Multipart ``files`` (images; optional ``tags``, ``metadata`` JSON) or JSON
    ``{"items": [{"text": ..., "tags": [...], "metadata": {...}}]}``."""
    if runtime.dispatcher is None:
        raise Unavailable("this process does not accept uploads")
    ctype = request.headers.get("content-type", "")
    specs: list[ItemSpec | Refused]
    if ctype.startswith("multipart/form-data"):
        specs = await _multipart(request, runtime, settings.max_files_per_request, writer)
    elif ctype.startswith("application/json"):
        try:
            raw = await request.body()
            _charge(request, writer, len(raw))
            body = TextItemsRequest.model_validate_json(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "body"
            raise InvalidInput(f"{where}: {first.get('msg', 'invalid')}") from None
        items = [TextItem(i.text, list(i.tags), dict(i.metadata)) for i in body.items]
        specs = list(await run_in_threadpool(text_specs, runtime.pipeline, items))
    else:
        raise InvalidInput("send multipart/form-data with 'files', or JSON with 'items'")
    runtime.dispatcher.ping()
    job, accepted = await run_in_threadpool(submit, runtime.pipeline, specs)
    if job is not None:
        runtime.dispatcher.submit(job.id, list(range(job.total)))
    audit.request_done(
        request,
        "upload",
        ids=[a.id for a in accepted if a.status == "queued" and a.id],
        job_id=job.id if job else None,
        duplicates=sum(a.status == "duplicate" for a in accepted),
        refused=sum(a.status == "refused" for a in accepted),
    )
    return UploadResponse(
        job_id=job.id if job else None,
        items=[
            AcceptedModel(id=a.id, status=a.status, filename=a.filename, error=a.error)
            for a in accepted
        ],
    )


def _find(runtime: Runtime, item_id: str) -> Hit:
    live = runtime.index.resolve_alias(runtime.settings.collection_alias)
    hits = runtime.index.retrieve(live, [item_id]) if live else []
    if not hits:
        raise NotFound("no item with that id")
    return hits[0]


@router.get("/{item_id}", response_model=ItemModel)
def get_item(item_id: str, reader: ReaderDep, runtime: RuntimeDep) -> ItemModel:
    return item_model(_find(runtime, item_id))


def item_model(hit: Hit) -> ItemModel:
    base = hit_model(hit)
    payload = hit.payload
    return ItemModel(
        **base.model_dump(),
        sha256=payload.get("sha256"),
        mime=payload.get("mime"),
        size=payload.get("size"),
        model_id=payload.get("model_id"),
        enrich=_enrich_view(payload),
    )


def _enrich_view(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The enrichers' fields as shown to people (the n-gram keywords are an index detail)."""
    enrich = payload.get("enrich")
    if not isinstance(enrich, dict):
        return None
    return {k: v for k, v in enrich.items() if k != "text_grams"}


@router.get("/{item_id}/thumbnail")
def thumbnail(item_id: str, reader: ReaderDep, runtime: RuntimeDep, thumbs: ThumbsDep) -> Response:
    hit = _find(runtime, item_id)
    if hit.payload.get("modality") != Modality.IMAGE.value:
        raise NotFound("text items have no thumbnail")
    return Response(
        thumbs.get(str(hit.payload["sha256"])), media_type="image/webp", headers=NOSNIFF
    )


@router.get("/{item_id}/original")
def original(item_id: str, reader: ReaderDep, runtime: RuntimeDep) -> Response:
    hit = _find(runtime, item_id)
    data = runtime.blobs.get(str(hit.payload["sha256"]))
    mime = str(hit.payload.get("mime") or "application/octet-stream")
    if mime == "text/plain":
        mime = "text/plain; charset=utf-8"
    return Response(data, media_type=mime, headers=NOSNIFF)


@router.get("/{item_id}/similar", response_model=SearchResponse)
def similar(
    item_id: str,
    reader: ReaderDep,
    search: SearchServiceDep,
    limit: int = Query(20, ge=1, le=200),
    offset: int = Query(0, ge=0, le=10_000),
    modality: str | None = Query(None, pattern="^(image|text)$"),
) -> Response:
    flt = filter_from_model(FilterModel(modality=modality)) if modality else None  # type: ignore[arg-type]
    return result_response(search.similar(item_id, limit=limit, offset=offset, filter=flt))


@router.delete("/{item_id}", status_code=204)
def delete_item(
    item_id: str, writer: WriterDep, runtime: RuntimeDep, thumbs: ThumbsDep, request: Request
) -> Response:
    hit = _find(runtime, item_id)
    remove(runtime, thumbs, hit)
    audit.request_done(request, "delete", ids=[hit.id])
    return Response(status_code=204)


def remove(runtime: Runtime, thumbs: Thumbnailer, hit: Hit) -> None:
    """Remove ``hit`` from every collection, its original and its cached thumbnails."""
    for info in runtime.index.list_collections():
        runtime.index.delete(info.name, [hit.id])
    key = str(hit.payload["sha256"])
    runtime.blobs.delete(key)
    for cached in thumbs.cache_dir.glob(f"{key}-*"):
        cached.unlink(missing_ok=True)
