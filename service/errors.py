"""One table from domain exception to HTTP status, and RFC 9457 problem+json bodies."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY
from starlette.types import Scope

from geo import errors as geo_errors
from geo.errors import (
    AmbiguousAddress,
    CatchmentError,
    Conflict,
    Forbidden,
    Infeasible,
    InvalidGeometry,
    InvalidInput,
    NotFound,
    PreconditionRequired,
    StaleVersion,
    TooLarge,
    Unauthorized,
    Unavailable,
    UnsupportedFile,
)
from service.operations.imports import RejectedRows

log = logging.getLogger("catchment")
PROBLEM = "application/problem+json"

# Most specific first: the first matching class wins.
STATUS: tuple[tuple[type[CatchmentError], int, str], ...] = (
    (StaleVersion, 412, "Precondition failed"),
    (PreconditionRequired, 428, "Precondition required"),
    (TooLarge, 413, "Content too large"),
    (UnsupportedFile, 415, "Unsupported file"),
    (InvalidGeometry, 422, "Invalid geometry"),
    (InvalidInput, 422, "Invalid input"),
    (NotFound, 404, "Not found"),  # AddressNotFound too: no address, street or locality matches
    # Several places match the address about equally well: 409 with "candidates" in the body,
    # so the client asks the user to pick one (300 Multiple Choices reads as a redirect to clients).
    (AmbiguousAddress, 409, "Ambiguous address"),
    (Conflict, 409, "Conflict"),
    (Unauthorized, 401, "Unauthorized"),
    (Forbidden, 403, "Forbidden"),
    (Unavailable, 503, "Service unavailable"),
)


def problem(status: int, title: str, detail: str, *, instance: str | None = None, headers: Mapping[str, str] | None = None,
            **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "status": status, "title": title, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    out = dict(headers or {})
    if status == 401:
        out.setdefault("WWW-Authenticate", "Bearer")
    if status == 503:
        out.setdefault("Retry-After", "5")
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=out or None)


def status_for_name(name: str) -> int:
    """The HTTP status of a domain exception known by its class name (as a failed job stores it); 500 otherwise."""
    cls = getattr(geo_errors, name, None)
    if isinstance(cls, type) and issubclass(cls, CatchmentError):
        for known, status, _ in STATUS:
            if issubclass(cls, known):
                return status
        return 400
    return 500


def fmt_bytes(n: int) -> str:
    """``8 MiB``, ``512 KiB`` or ``1234 bytes``: the size as it was configured."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} bytes"


def too_large_detail(limit: int | None) -> str:
    """The 413 problem detail, in English and Chinese."""
    if limit is None:
        return "the request body is too large / 请求体过大"
    size = fmt_bytes(limit)
    return (f"the request body is larger than the {size} ({limit} bytes) allowed here; send less, or split it "
            f"into several requests / 请求体超过此处允许的 {size}（{limit} 字节）上限，请减少内容或分多次发送")


def limit_in_force(scope: Scope) -> int | None:
    """The body limit applied to this request, as the limiter recorded it in the scope."""
    value = scope.get(MAX_BODY_SIZE_SCOPE_KEY)
    return value if isinstance(value, int) else None


def status_for(exc: CatchmentError) -> tuple[int, str]:
    for cls, status, title in STATUS:
        if isinstance(exc, cls):
            return status, title
    return 400, "Bad request"


def install(app: FastAPI) -> None:
    """Register handlers so every error leaves as problem+json."""

    @app.exception_handler(CatchmentError)
    async def _domain(request: Request, exc: CatchmentError) -> JSONResponse:
        status, title = status_for(exc)
        extra: dict[str, Any] = {}
        if isinstance(exc, AmbiguousAddress):
            extra["candidates"] = [candidate_body(c) for c in exc.candidates]
        if isinstance(exc, Infeasible):
            extra["detail_zh"] = exc.message_zh
            extra["shortfalls"] = list(exc.shortfalls) or None
        if isinstance(exc, RejectedRows):
            extra.update(exc.extra)  # the import report: every rejected row, not only the first
        return problem(status, title, exc.message, instance=str(request.url.path), where=exc.where, **extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"where": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "invalid")}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['where']}: {e['message']}" for e in errors) or "invalid request"
        first = errors[0]["where"] if errors else None
        return problem(422, "Invalid input", detail, instance=str(request.url.path), where=first, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 413:
            # Raised by the body limiter (service/bodylimits.py) while the body streamed in.
            limit = limit_in_force(request.scope)
            return problem(413, "Content too large", too_large_detail(limit), instance=str(request.url.path), where="body",
                           limit_bytes=limit)
        if exc.status_code == 400 and exc.__cause__ is not None:
            # FastAPI's "There was an error parsing the body" (bytes that are not UTF-8 JSON, broken
            # multipart): say why, as the 422 every other unreadable input gets.
            msg = f"the body could not be read: {exc.__cause__}"
            return problem(422, "Invalid input", msg, instance=str(request.url.path), where="body")
        # Keep the exception's headers: the router's 405 carries Allow (RFC 9110 requires it).
        return problem(exc.status_code, _title(exc.status_code), str(exc.detail), instance=str(request.url.path),
                       headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Last resort: log the trace, never leak it. Tests assert this path is not reached.
        log.exception("unexpected error on %s", request.url.path)
        return problem(500, "Internal error", "an unexpected error happened; it has been logged", instance=str(request.url.path))


def candidate_body(c: Any) -> dict[str, Any]:
    """One geocode candidate of an ambiguous address, as the 409 body lists it."""
    return {"address": c.address, "lon": c.lon, "lat": c.lat, "precision": str(c.precision), "score": c.score,
            "geocoder": c.geocoder, "address_id": c.address_id, "components": dict(c.components)}


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
