"""qdrant-client's failures as the index's errors: transport failures and busy or failing
servers are ``IndexUnavailable``; an unknown collection or alias is ``CollectionNotFound``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import httpx
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from loupe.search.index.base import CollectionNotFound, IndexUnavailable

_UNAVAILABLE_STATUS = frozenset({429, 502, 503, 504})


@contextlib.contextmanager
def mapped_errors(name: str | None) -> Iterator[None]:
    """Map the client's errors inside the block; ``name``: the collection or alias it uses
    (None: a 404 or "not found" is not about a collection and is raised as it is)."""
    try:
        yield
    except (ResponseHandlingException, httpx.TransportError) as exc:
        raise IndexUnavailable(f"Qdrant is unreachable: {exc}") from exc
    except UnexpectedResponse as exc:
        status = exc.status_code or 0
        if status == 404 and name is not None:
            raise CollectionNotFound(f"no collection or alias named {name!r}") from exc
        if status in _UNAVAILABLE_STATUS or status >= 500:
            raise IndexUnavailable(f"Qdrant answered {status}") from exc
        raise
    except ValueError as exc:
        if name is not None and str(exc).endswith("not found"):
            raise CollectionNotFound(f"no collection or alias named {name!r}") from exc
        raise
