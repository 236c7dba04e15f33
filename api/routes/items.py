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
from loupe.api.access.links import LINK_TTL_S
from loupe.api.deps import (
    AccessDep,
    IngestServiceDep,
    OriginalReaderDep,
    ReaderDep,
    SearchServiceDep,
    SettingsDep,
    WriterDep,
)
from loupe.api.schemas import (
    AcceptedModel,
    FilterModel,
    ItemModel,
    OriginalLinkModel,
    SearchResponse,
    TextItemsRequest,
    UploadResponse,
)
from loupe.api.search_mapping import filter_from_model, hit_model, result_response
from loupe.api.settings import Settings
from loupe.ingest.service import IngestService, Upload
from loupe.ingest.uploads import TextItem, UploadFile
from loupe.search.errors import InvalidInput, PayloadTooLarge
from loupe.search.index import Hit

router = APIRouter(prefix="/v1/items", tags=["items"])
# private: a shared cache must not hand one key's (one tenant's) photos to another requester.
NOSNIFF = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=86400"}
BY_LINK = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": f"private, max-age={LINK_TTL_S}",
    "Referrer-Policy": "no-referrer",  # the link is a credential: never sent onwards
}


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


async def _upload_files(
    request: Request, ingest: IngestService, settings: Settings, writer: Principal
) -> Upload:
    limit = settings.max_files_per_request
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
        ingest.upload_images, uploads, tags=tags, metadata=metadata, tenant=writer.tenant
    )


async def _upload_texts(request: Request, ingest: IngestService, writer: Principal) -> Upload:
    try:
        raw = await request.body()
        _charge(request, writer, len(raw))
        body = TextItemsRequest.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        raise InvalidInput(f"{where}: {first.get('msg', 'invalid')}") from None
    items = [TextItem(i.text, list(i.tags), dict(i.metadata)) for i in body.items]
    return await run_in_threadpool(ingest.upload_texts, items, tenant=writer.tenant)


@router.post("", status_code=202, response_model=UploadResponse)
async def upload(
    request: Request, writer: WriterDep, ingest: IngestServiceDep, settings: SettingsDep
) -> UploadResponse:
    """Multipart ``files`` (images; optional ``tags``, ``metadata`` JSON) or JSON
    ``{"items": [{"text": ..., "tags": [...], "metadata": {...}}]}``."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        done = await _upload_files(request, ingest, settings, writer)
    elif ctype.startswith("application/json"):
        done = await _upload_texts(request, ingest, writer)
    else:
        raise InvalidInput("send multipart/form-data with 'files', or JSON with 'items'")
    audit.request_done(
        request,
        "upload",
        ids=[a.id for a in done.items if a.status == "queued" and a.id],
        job_id=done.job.id if done.job else None,
        duplicates=sum(a.status == "duplicate" for a in done.items),
        refused=sum(a.status == "refused" for a in done.items),
    )
    return UploadResponse(
        job_id=done.job.id if done.job else None,
        items=[
            AcceptedModel(id=a.id, status=a.status, filename=a.filename, error=a.error)
            for a in done.items
        ],
    )


@router.get("/{item_id}", response_model=ItemModel)
def get_item(item_id: str, reader: ReaderDep, ingest: IngestServiceDep) -> ItemModel:
    return item_model(ingest.item(item_id, tenant=reader.tenant))


def item_model(hit: Hit) -> ItemModel:
    payload = hit.payload
    return ItemModel(
        **hit_model(hit).model_dump(),
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
def thumbnail(item_id: str, reader: ReaderDep, ingest: IngestServiceDep) -> Response:
    thumb = ingest.thumbnail(item_id, tenant=reader.tenant)
    return Response(thumb, media_type="image/webp", headers=NOSNIFF)


@router.get("/{item_id}/original")
def original(
    item_id: str, reader: OriginalReaderDep, ingest: IngestServiceDep, link: str | None = None
) -> Response:
    """The stored original, for a key (header) or a link from ``original-link`` (``?link=``)."""
    found = ingest.original(item_id, tenant=reader.tenant)
    mime = "text/plain; charset=utf-8" if found.mime == "text/plain" else found.mime
    return Response(found.data, media_type=mime, headers=BY_LINK if link else NOSNIFF)


@router.post("/{item_id}/original-link", response_model=OriginalLinkModel)
def original_link(
    item_id: str, reader: ReaderDep, ingest: IngestServiceDep, access: AccessDep
) -> OriginalLinkModel:
    """A short-lived URL of this item's original that works without a key header, for a new
    tab or a download (``access.links``): never put the key itself in a URL."""
    hit = ingest.item(item_id, tenant=reader.tenant)  # NotFound: no such item for this key
    url = f"/v1/items/{hit.id}/original"
    made = access.link(reader, hit.id)
    if made is None:
        return OriginalLinkModel(url=url)
    return OriginalLinkModel(url=f"{url}?link={made.token()}", expires_at=made.expires)


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
    found = search.similar(item_id, limit=limit, offset=offset, filter=flt, tenant=reader.tenant)
    return result_response(found)


@router.delete("/{item_id}", status_code=204)
def delete_item(
    item_id: str, writer: WriterDep, ingest: IngestServiceDep, request: Request
) -> Response:
    ingest.delete_item(item_id, tenant=writer.tenant)
    audit.request_done(request, "delete", ids=[item_id])
    return Response(status_code=204)
