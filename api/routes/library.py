"""Photo management: browse without a query (``search.browse``), edit an item's tags and
metadata, tag or delete many items at once (``IngestService.change_items`` /
``delete_items``, see ``ingest.library``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field, StrictStr

from loupe.api.access import audit
from loupe.api.deps import IngestServiceDep, ReaderDep, SearchServiceDep, WriterDep
from loupe.api.routes.items import item_model
from loupe.api.schemas import FilterModel, ItemModel, Scalar, SearchResponse, Strict
from loupe.api.search_mapping import filter_from_model, result_response
from loupe.ingest.library import Change
from loupe.search.errors import NotFound

router = APIRouter(prefix="/v1/items", tags=["items"])
Tag = Annotated[str, Field(min_length=1, max_length=200)]
Key = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")]
Ids = Annotated[list[StrictStr], Field(min_length=1, max_length=1000)]


class ItemPatch(Strict):
    tags: list[Tag] | None = Field(None, max_length=100, description="Replace the tags.")
    add_tags: list[Tag] = Field(default_factory=list, max_length=100)
    remove_tags: list[Tag] = Field(default_factory=list, max_length=100)
    metadata: dict[Key, Scalar | None] = Field(
        default_factory=dict, max_length=50, description="Merged key by key; null removes a key."
    )


class BulkTags(Strict):
    ids: Ids
    add_tags: list[Tag] = Field(default_factory=list, max_length=100)
    remove_tags: list[Tag] = Field(default_factory=list, max_length=100)


class BulkIds(Strict):
    ids: Ids


class BulkResult(BaseModel):
    changed: list[str] = Field(description="The items changed (or deleted).")
    missing: list[str] = Field(description="Ids with no such item.")


@router.get("", response_model=SearchResponse)
def browse(
    reader: ReaderDep,
    search: SearchServiceDep,
    tag: Annotated[list[str] | None, Query(description="Items with any of these tags.")] = None,
    sort: Annotated[str, Query(pattern="^(taken_at|created_at)$")] = "taken_at",
    order: Annotated[str, Query(pattern="^(desc|asc)$")] = "desc",
    taken_after: str | None = None,
    taken_before: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 24,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> Response:
    """Browse the library without a query: all items, or those with a tag, newest first by the
    date taken (``sort=created_at``: by upload; ``order=asc``: oldest first). ``total`` is
    the library's (or the tag's) count."""
    model = FilterModel(
        tags=[t for t in tag or [] if t.strip()],
        taken_after=taken_after,
        taken_before=taken_before,
    )
    result = search.browse(
        filter=filter_from_model(model),
        sort=sort,
        descending=order == "desc",
        limit=limit,
        offset=offset,
        tenant=reader.tenant,
    )
    return result_response(result)


@router.patch("/{item_id}", response_model=ItemModel)
def patch_item(
    item_id: str, body: ItemPatch, writer: WriterDep, ingest: IngestServiceDep, request: Request
) -> ItemModel:
    """Change an item's tags (replace, add, remove) and metadata (merge)."""
    change = Change(body.tags, body.add_tags, body.remove_tags, body.metadata)
    changed, _ = ingest.change_items([item_id], change, tenant=writer.tenant)
    if not changed:
        raise NotFound("no item with that id")
    audit.request_done(request, "item.update", ids=[item_id])
    return item_model(changed[0])


@router.post("/bulk/tags", response_model=BulkResult)
def tag_items(
    body: BulkTags, writer: WriterDep, ingest: IngestServiceDep, request: Request
) -> BulkResult:
    """Add and remove tags on many items at once."""
    change = Change(add_tags=body.add_tags, remove_tags=body.remove_tags)
    changed, missing = ingest.change_items(body.ids, change, tenant=writer.tenant)
    audit.request_done(request, "item.tag", ids=[h.id for h in changed])
    return BulkResult(changed=[h.id for h in changed], missing=missing)


@router.post("/bulk/delete", response_model=BulkResult)
def delete_items(
    body: BulkIds, writer: WriterDep, ingest: IngestServiceDep, request: Request
) -> BulkResult:
    """Delete many items at once (as ``DELETE /v1/items/{id}`` does for one)."""
    deleted, missing = ingest.delete_items(body.ids, tenant=writer.tenant)
    audit.request_done(request, "delete", ids=deleted)
    return BulkResult(changed=deleted, missing=missing)
