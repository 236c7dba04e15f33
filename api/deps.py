"""Request dependencies as ``Annotated`` aliases, so routes stay a few lines.

They are ``async``: none of them blocks, and FastAPI runs a plain ``def`` dependency in its
thread pool, one hop per dependency per request (measurable on a text query).
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from loupe.api.errors import Unauthorized
from loupe.api.watcher import AliasWatcher
from loupe.ingest.service import IngestService
from loupe.search.errors import Forbidden
from loupe.search.service import SearchService
from loupe.search.settings import Settings


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


async def require_admin(request: Request) -> None:
    """``Authorization: Bearer <LOUPE_ADMIN_TOKEN>``, compared in constant time. With no token
    configured the admin routes are closed to everyone."""
    settings: Settings = request.app.state.settings
    if settings.admin_token is None:
        raise Forbidden("admin routes are closed: LOUPE_ADMIN_TOKEN is not configured")
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise Unauthorized("admin routes need 'Authorization: Bearer <token>'")
    expected = settings.admin_token.get_secret_value().encode()
    if not hmac.compare_digest(given.strip().encode(), expected):
        raise Unauthorized("the admin token is wrong")


SettingsDep = Annotated[Settings, Depends(get_settings)]
IngestServiceDep = Annotated[IngestService, Depends(get_ingest)]
SearchServiceDep = Annotated[SearchService, Depends(get_search)]
WatcherDep = Annotated[AliasWatcher, Depends(get_watcher)]
AdminDep = Annotated[None, Depends(require_admin)]
