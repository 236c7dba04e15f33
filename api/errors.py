"""One table from domain errors to HTTP; every error body is ``{"error": {"type", "message"}}``.

Messages come from our own exceptions (safe to show); unexpected exceptions become a generic
500 with a request id — never a stack trace or a filesystem path."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from loupe.ingest.storage import storage_error
from loupe.search.encoders import EncoderUnavailable
from loupe.search.errors import (
    Conflict,
    Damaged,
    Forbidden,
    InvalidInput,
    LoupeError,
    NotFound,
    Overloaded,
    PayloadTooLarge,
    StorageFull,
    Unavailable,
)
from loupe.search.index import CollectionNotFound, IndexUnavailable, ModelMismatch

log = logging.getLogger(__name__)


class Unauthorized(LoupeError):
    """The request lacks valid credentials (answered with ``WWW-Authenticate: Bearer``)."""

    kind = "unauthorized"


STATUS: dict[type[Exception], int] = {
    StorageFull: 507,  # before Unavailable, its base class
    Damaged: 410,
    InvalidInput: 422,
    NotFound: 404,
    Unauthorized: 401,
    Forbidden: 403,
    Conflict: 409,
    PayloadTooLarge: 413,
    Overloaded: 429,
    Unavailable: 503,
}


def error_body(kind: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"type": kind, "message": message}}


def _answer(
    request: Request,
    kind: str,
    message: str,
    status: int,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """The error response; the type is noted on the request for the errors-by-type metric."""
    request.state.error_type = kind
    return JSONResponse(error_body(kind, message), status_code=status, headers=headers)


def _loupe(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LoupeError)
    status = next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 400)
    headers = {}
    if isinstance(exc, Overloaded):
        headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    return _answer(request, exc.kind, exc.message, status, headers)


def _index_down(request: Request, exc: Exception) -> JSONResponse:
    message = "the vector index is not reachable; try again shortly"
    return _answer(request, "unavailable", message, 503, {"Retry-After": "5"})


def _index_state(request: Request, exc: Exception) -> JSONResponse:
    return _answer(request, "conflict", str(exc), 409)


def _encoder_down(request: Request, exc: Exception) -> JSONResponse:
    return _answer(request, "unavailable", "the encoder is not available", 503)


def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors()[:20]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        problems.append(f"{where}: {err.get('msg', 'invalid')}")
    return _answer(request, "invalid_input", "; ".join(problems), 422)


def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    kind = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
        exc.status_code, "http_error"
    )
    message = exc.detail if isinstance(exc.detail, str) else "request refused"
    return _answer(request, kind, message, exc.status_code, exc.headers)


def _storage(request: Request, exc: Exception) -> JSONResponse:
    """A storage cause we know (disk full, read-only folder, ...) or else a generic 500."""
    known = storage_error(exc, data_dir=request.app.state.settings.data_dir)
    if known is None:
        return unexpected(request, exc)
    log.warning("storage fault: %s (%s)", known.message, exc)
    return _loupe(request, known)


def unexpected(request: Request, exc: Exception) -> JSONResponse:
    """A generic 500 naming only the request id; the traceback goes to the log."""
    known = storage_error(exc, data_dir=request.app.state.settings.data_dir)
    if known is not None:
        return _loupe(request, known)
    request_id = getattr(request.state, "request_id", "-")
    log.error("unhandled error (request %s)", request_id, exc_info=exc)
    return _answer(request, "internal", f"internal error (request id {request_id})", 500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(LoupeError, _loupe)
    app.add_exception_handler(IndexUnavailable, _index_down)
    app.add_exception_handler(CollectionNotFound, _index_state)
    app.add_exception_handler(ModelMismatch, _index_state)
    app.add_exception_handler(EncoderUnavailable, _encoder_down)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(OSError, _storage)
    app.add_exception_handler(sqlite3.Error, _storage)
    app.add_exception_handler(Exception, unexpected)
