"""Addresses: type-ahead over the gazetteer, and geocoding on its own (without a lookup).

Both are cheap on the gazetteer (in memory, sub-millisecond), so they are ``async def``; a
remote geocoder's network call runs in the thread pool (see :mod:`service.operations.addresses`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service.deps import RemoteDep, SnapDep, geocoder_lifespan
from service.openapi import problems
from service.operations.addresses import geocode
from service.schemas import GeocodeOut, SuggestionOut, SuggestOut

router = APIRouter(prefix="/v1/addresses", tags=["addresses"], lifespan=geocoder_lifespan)


@router.get("/suggest", response_model=SuggestOut, summary="Type-ahead: up to 10 known addresses for partly typed text",
            responses=problems(429))
async def suggest(snap: SnapDep,
                  q: Annotated[str, Query(description="what the user has typed so far (any case, abbreviations, Chinese)")],
                  limit: Annotated[int, Query(ge=1, le=10)] = 10) -> SuggestOut:
    gaz = snap.gazetteer
    found = gaz.suggest(q, limit=limit)
    return SuggestOut(query=q, geocoder=gaz.name, addresses=len(gaz), suggestions=[SuggestionOut.from_domain(s) for s in found])


@router.get("/geocode", response_model=GeocodeOut, summary="Address text -> EPSG:4326 point, precision and score",
            responses=problems(404, 409, 429))
async def geocode_address(snap: SnapDep, remote: RemoteDep,
                          address: Annotated[str, Query(description="free address text")]) -> GeocodeOut:
    return GeocodeOut.from_domain(await geocode(address, gazetteer=snap.gazetteer, remote=remote))
