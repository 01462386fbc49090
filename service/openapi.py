"""The OpenAPI's error responses, declared in one place.

Every error leaves as RFC 9457 ``application/problem+json`` (``service/errors.py``). Each operation
declares the statuses it can really answer, with that media type and the shared ``ProblemDetail``
schema. Cross-cutting ones are read off the route itself by :func:`declare_errors`:

* 422 where anything is taken (path, query, header or body);
* 404 where a path names a stored thing (a plan, a school, a key);
* 401 and 429 (failed authentications are rate limited) on operations that need a key, 403 where
  only some roles may, 409 on every write (the storage refuses clashing writes);
* 413 and 415 where a body or an upload is taken; 412 and 428 where ``If-Match`` is read;
* 503 where the database or the remote geocoder is used.

The rest (a 404 for a ``plan=`` query, a 409 for an ambiguous address, a 429 on public lookups)
a route declares with ``responses=problems(...)``. A 405 (wrong method, with ``Allow``) is
answered by the router for every path and is not listed per operation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from geo.models import Role

PROBLEM = "application/problem+json"
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
SCHEMA_REF = "#/components/schemas/ProblemDetail"

DESCRIPTIONS: dict[int, str] = {
    400: "The body could not be read (malformed multipart or form data)",
    401: "No API key, or an unknown or revoked one: send `Authorization: Bearer KEY`",
    403: "The key's role may not do this",
    404: "Not found: `where` names what was looked for",
    409: "Conflict with the stored state (duplicate, wrong status, ambiguous address with `candidates`)",
    412: "If-Match no longer matches the stored version: GET it again",
    413: "The body or upload is too large",
    415: "Unsupported media type or file format",
    422: "Invalid input: `where` names the field, `errors` lists each problem",
    428: "This write needs If-Match with the ETag from a GET",
    429: "Too many requests: retry after `Retry-After` seconds",
    503: "A dependency (database, remote geocoder) is unavailable: retry after `Retry-After` seconds",
}
HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "seconds to wait", "schema": {"type": "string"}}},
    503: {"Retry-After": {"description": "seconds to wait", "schema": {"type": "string"}}},
}


class FieldProblem(BaseModel):
    where: str = Field(description="dotted path of the field at fault, e.g. query.offset or body.code")
    message: str


class ProblemDetail(BaseModel):
    """An error, as RFC 9457 problem details (``application/problem+json``)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(default="about:blank", description="a URI naming the kind of problem")
    status: int = Field(description="the HTTP status, repeated")
    title: str = Field(description="short, the same for every problem of this status")
    detail: str = Field(description="what was wrong, in words")
    instance: str | None = Field(default=None, description="the path of the request")
    where: str | None = Field(default=None, description="the field, parameter, header, row or feature at fault")
    errors: list[FieldProblem] | None = Field(default=None, description="422: every invalid field")
    candidates: list[dict[str, Any]] | None = Field(default=None, description="409 ambiguous address: the places it matches")


def problem_response(status: int) -> dict[str, Any]:
    """One ``responses=`` entry: the status's description, problem+json with ``ProblemDetail``."""
    entry: dict[str, Any] = {"description": DESCRIPTIONS[status], "content": {PROBLEM: {"schema": {"$ref": SCHEMA_REF}}}}
    if status in HEADERS:
        entry["headers"] = HEADERS[status]
    return entry


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=problems(404, 409)``: the statuses a route answers beyond the ones read off it."""
    return {s: problem_response(s) for s in statuses}


def ok_as(*media_types: str) -> dict[int | str, dict[str, Any]]:
    """``responses=ok_as("text/csv")``: media types the 200 answer may have besides the route's own."""
    return {200: {"content": {m: {"schema": {"type": "string"}} for m in media_types}}}


class GeoJSONResponse(JSONResponse):
    """``response_class`` of routes that answer GeoJSON, so the OpenAPI says application/geo+json."""

    media_type = "application/geo+json"


def _dependants(d: Dependant) -> Iterator[Dependant]:
    yield d
    for sub in d.dependencies:
        yield from _dependants(sub)


def inferred_statuses(route: APIRoute, *, repo: Callable[..., Any], user: Callable[..., Any],
                      remote: Callable[..., Any]) -> set[int]:
    """The error statuses that follow from what the route takes and depends on."""
    tree = list(_dependants(route.dependant))
    calls = {d.call for d in tree}
    out: set[int] = set()
    takes = any(d.path_params or d.query_params or d.header_params or d.body_params for d in tree)
    has_body = route.body_field is not None or "requestBody" in (route.openapi_extra or {})
    if takes or has_body:
        out.add(422)
    if any(d.path_params for d in tree):
        out.add(404)
    if has_body:
        out |= {413, 415}
    if any(p.alias.lower() == "if-match" for d in tree for p in d.header_params):
        out |= {412, 428}
    keyed = user in calls or any(getattr(c, "roles", None) is not None for c in calls)
    if keyed:
        out |= {401, 429}
        if route.methods & WRITES:
            out.add(409)
        roles = [getattr(c, "roles", None) for c in calls]
        if any(r is not None and set(r) != set(Role) for r in roles):
            out.add(403)
    if repo in calls or remote in calls:
        out.add(503)
    return out


def declare_errors(router: APIRouter, *, repo: Callable[..., Any], user: Callable[..., Any],
                   remote: Callable[..., Any]) -> None:
    """Give every operation of ``router`` its problem+json error responses (before it is included).

    ``repo``, ``user`` and ``remote`` are the dependencies that reach the database, check the API
    key and call the remote geocoder. Running it again gives the same answer (apps built in tests
    share the module routers).
    """
    for route in router.routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        statuses = inferred_statuses(route, repo=repo, user=user, remote=remote)
        statuses |= {s for s in route.responses if isinstance(s, int) and s >= 400}
        for status in sorted(statuses):
            route.responses[status] = problem_response(status)


def install(app: FastAPI) -> None:
    """Add the ``ProblemDetail`` schema that every error response refers to, to the app's OpenAPI."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        doc = build()
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        model = ProblemDetail.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(model.pop("$defs", {}))
        schemas["ProblemDetail"] = model
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
