"""The audit log: one JSON line per write on the ``loupe.audit`` logger, for a log shipper.

Each line names the action, the key (name and id), its tenant, the request id and the item or
job ids touched."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from typing import Any

from starlette.requests import Request

from loupe.api.access.keys import Principal

log = logging.getLogger("loupe.audit")


def record(
    action: str,
    principal: Principal,
    *,
    request_id: str | None,
    ids: Iterable[str] = (),
    **details: Any,
) -> None:
    line: dict[str, Any] = {
        "audit": action,
        "at": round(time.time(), 3),
        "key": principal.name,
        "key_id": principal.key_id,
        "tenant": principal.tenant,
        "request_id": request_id,
        "ids": list(ids),
    }
    line.update(details)
    log.info(json.dumps(line, default=str))


def request_done(request: Request, action: str, *, ids: Iterable[str] = (), **details: Any) -> None:
    """Record a write made by the request's principal (set by the access dependency)."""
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal):
        raise RuntimeError("audit of a request that no access dependency authenticated")
    record(
        action,
        principal,
        request_id=getattr(request.state, "request_id", None),
        ids=ids,
        **details,
    )
