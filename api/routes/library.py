"""Photo management: edit an item's tags and metadata; tag or delete many items at once.
The changes are made by ``ingest.library`` (tags and metadata) and ``routes.items.remove``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, StrictStr

from loupe.api.access import audit
from loupe.api.deps import RuntimeDep, ThumbsDep, WriterDep
from loupe.api.routes.items import item_model, remove
from loupe.api.schemas import ItemModel, Scalar, Strict
from loupe.ingest.library import Change, change_item, change_items
from loupe.ingest.tenancy import owns_item
from loupe.search.errors import Unavailable
from loupe.workers.runtime import Runtime

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


def _live(runtime: Runtime) -> str:
    live = runtime.index.resolve_alias(runtime.settings.collection_alias)
    if live is None:
        raise Unavailable("there is no live collection")
    return live


@router.patch("/{item_id}", response_model=ItemModel)
def patch_item(
    item_id: str, body: ItemPatch, writer: WriterDep, runtime: RuntimeDep, request: Request
) -> ItemModel:
    """Change an item's tags (replace, add, remove) and metadata (merge)."""
    change = Change(body.tags, body.add_tags, body.remove_tags, body.metadata)
    hit = change_item(runtime.index, item_id, change, tenant=writer.tenant, live=_live(runtime))
    audit.request_done(request, "item.update", ids=[hit.id])
    return item_model(hit)


@router.post("/bulk/tags", response_model=BulkResult)
def tag_items(
    body: BulkTags, writer: WriterDep, runtime: RuntimeDep, request: Request
) -> BulkResult:
    """Add and remove tags on many items at once."""
    change = Change(add_tags=body.add_tags, remove_tags=body.remove_tags)
    changed, missing = change_items(
        runtime.index, body.ids, change, tenant=writer.tenant, live=_live(runtime)
    )
    audit.request_done(request, "item.tag", ids=[h.id for h in changed])
    return BulkResult(changed=[h.id for h in changed], missing=missing)


@router.post("/bulk/delete", response_model=BulkResult)
def delete_items(
    body: BulkIds, writer: WriterDep, runtime: RuntimeDep, thumbs: ThumbsDep, request: Request
) -> BulkResult:
    """Delete many items at once (as ``DELETE /v1/items/{id}`` does for one)."""
    wanted = list(dict.fromkeys(body.ids))
    found = [
        h for h in runtime.index.retrieve(_live(runtime), wanted) if owns_item(h, writer.tenant)
    ]
    for hit in found:
        remove(runtime, thumbs, hit)
    done = {h.id for h in found}
    audit.request_done(request, "delete", ids=sorted(done))
    return BulkResult(
        changed=[i for i in wanted if i in done], missing=[i for i in wanted if i not in done]
    )
