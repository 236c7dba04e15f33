"""Request dependencies as ``Annotated`` aliases, so routes stay a few lines.

They are ``async``: none of them blocks for long (a key lookup is one indexed SQLite read or
one Redis round trip), and FastAPI runs a plain ``def`` dependency in its thread pool, one hop
per dependency per request (measurable on a text query).

Access: ``ReaderDep``, ``WriterDep`` and ``AdminDep`` each authenticate the request once
(``Authorization: Bearer <key>`` or ``X-API-Key``), refuse a scope too low (403), apply the
key's request rate (429) and give the route the ``Principal``, whose tenant the route passes
on to the services.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from loupe.api.access.keys import ANONYMOUS, Principal, Scope
from loupe.api.access.limits import Limiter
from loupe.api.access.service import Access
from loupe.api.settings import Settings
from loupe.api.watcher import AliasWatcher
from loupe.ingest.service import IngestService
from loupe.search.errors import Forbidden
from loupe.search.service import SearchService


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_ingest(request: Request) -> IngestService:
    ingest: IngestService = request.app.state.ingest
    return ingest


async def get_search(request: Request) -> SearchService:
    search: SearchService = request.app.state.search
    return search


async def get_watcher(request: Request) -> AliasWatcher:
    watcher: AliasWatcher = request.app.state.watcher
    return watcher


async def get_access(request: Request) -> Access:
    access: Access = request.app.state.access
    return access


def presented_key(request: Request) -> str | None:
    """The key in ``Authorization: Bearer <key>`` or ``X-API-Key``; None if neither."""
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and given.strip():
        return given.strip()
    header = request.headers.get("x-api-key", "").strip()
    return header or None


async def get_principal(request: Request) -> Principal:
    """Who is asking (authenticated once per request; 401 for a missing or unknown key on a
    closed server)."""
    known = getattr(request.state, "principal", None)
    if isinstance(known, Principal):
        return known
    access: Access = request.app.state.access
    if access.remote:  # Redis: a round trip, kept off the event loop
        principal = await run_in_threadpool(access.authenticate, presented_key(request))
    else:  # SQLite: one indexed read, microseconds
        principal = access.authenticate(presented_key(request))
    request.state.principal = principal
    return principal


def _require(needed: Scope) -> Any:
    async def dependency(request: Request) -> Principal:
        principal = await get_principal(request)
        if not principal.scope.allows(needed):
            if principal is ANONYMOUS:
                raise Forbidden(
                    "admin routes are closed: set LOUPE_ADMIN_TOKEN or create an admin key "
                    "(`loupe keys create --scope admin`)"
                )
            raise Forbidden(
                f"this key has the {principal.scope.value} scope; {needed.value} needed"
            )
        limiter: Limiter = request.app.state.limiter
        limiter.request(principal)
        return principal

    return dependency


_admin = _require(Scope.ADMIN)
_reader = _require(Scope.READ)


async def _original_reader(request: Request, item_id: str, link: str | None = None) -> Principal:
    """A reader by key, or by a link to this item's original (``?link=``, ``access.links``)."""
    if link is None:
        principal: Principal = await _reader(request)
        return principal
    access: Access = request.app.state.access
    if access.remote:
        principal = await run_in_threadpool(access.redeem, link, item_id)
    else:
        principal = access.redeem(link, item_id)
    request.state.principal = principal
    limiter: Limiter = request.app.state.limiter
    limiter.request(principal)
    return principal


async def _library_admin(request: Request) -> Principal:
    principal: Principal = await _admin(request)
    if principal.tenant is not None:
        raise Forbidden("this acts on every tenant's items: it needs an admin key with no tenant")
    return principal


SettingsDep = Annotated[Settings, Depends(get_settings)]
IngestServiceDep = Annotated[IngestService, Depends(get_ingest)]
SearchServiceDep = Annotated[SearchService, Depends(get_search)]
WatcherDep = Annotated[AliasWatcher, Depends(get_watcher)]
AccessDep = Annotated[Access, Depends(get_access)]
ReaderDep = Annotated[Principal, Depends(_reader)]
OriginalReaderDep = Annotated[Principal, Depends(_original_reader)]
WriterDep = Annotated[Principal, Depends(_require(Scope.WRITE))]
AdminDep = Annotated[Principal, Depends(_admin)]
LibraryAdminDep = Annotated[Principal, Depends(_library_admin)]
