"""Request dependencies as ``Annotated`` aliases, so routes stay a few lines.

They are ``async``: none of them blocks, and FastAPI runs a plain ``def`` dependency in its
thread pool, one hop per dependency per request (measurable on a text query).
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import Depends, Request

from loupe.ingest.thumbs import Thumbnailer
from loupe.search.errors import Forbidden, Unauthorized
from loupe.search.settings import Settings
from loupe.workers.runtime import Runtime


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_search(request: Request) -> Any:
    return request.app.state.search


async def get_thumbs(request: Request) -> Thumbnailer:
    thumbs: Thumbnailer = request.app.state.thumbs
    return thumbs


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
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SearchServiceDep = Annotated[Any, Depends(get_search)]
ThumbsDep = Annotated[Thumbnailer, Depends(get_thumbs)]
AdminDep = Annotated[None, Depends(require_admin)]
