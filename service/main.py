"""The FastAPI application: ``create_app(settings)``; ``app`` is built from the environment."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import RedirectResponse, Response

from service import errors
from service.dask_cluster import DaskClients
from service.operations.jobs import JobRunner
from service.problem_cache import ProblemCache
from service.routes import (
    addresses,
    admin,
    editor,
    health,
    imports,
    jobs,
    lookup,
    maps,
    ogc,
    planning,
    plans,
    reports,
    rules,
    schools,
    travel,
)
from service.sample import is_empty, load_sample
from service.settings import Settings
from service.state import SnapshotHolder
from service.storage import network_dir, open_repository

log = logging.getLogger("catchment")

DESCRIPTION = """
Which school serves this address, school catchment maps, and planning tools.

Coordinates are EPSG:4326 in (lon, lat) order everywhere. Reads are public; writes need
`Authorization: Bearer KEY` (keys from `catchment keys create`). Errors are RFC 9457
`application/problem+json`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        repo = open_repository(settings.database.url, **_repo_options(settings))
        if settings.sample.load and is_empty(repo):
            log.info("empty database: loading the bundled sample from %s", settings.sample.dir)
            load_sample(repo, settings.sample.dir, networks=network_dir(settings.database.url), say=log.info)
        holder = SnapshotHolder(repo, check_every_s=settings.lookup.version_check_s)
        holder.refresh()
        app.state.settings = settings
        app.state.repo = repo
        app.state.holder = holder
        app.state.problems = ProblemCache()
        app.state.jobs = JobRunner(repo, workers=settings.jobs.workers, heartbeat_s=settings.jobs.heartbeat_s)
        app.state.dask = DaskClients(settings.dask)  # a cluster starts with the first batch job, not here
        swept = app.state.jobs.sweep()
        if swept:
            log.warning("%d job(s) left running by a stopped process marked failed", swept)
        if settings.maps.warm:
            app.state.problems.warm(repo)
        try:
            yield
        finally:
            # Background readers first: closing SQLite under a running query crashes the process.
            app.state.problems.close()
            app.state.jobs.close()
            app.state.dask.close()
            holder.close()
            repo.close()

    app = FastAPI(title="Catchment", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    errors.install(app)
    # planning before plans: /v1/plans/compare must win over /v1/plans/{plan_id}.
    for module in (health, schools, planning, rules, plans, lookup, addresses, imports, reports, travel, maps, editor, jobs,
                   ogc, admin):
        app.include_router(module.router)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/docs")

    return app


def _repo_options(settings: Settings) -> dict[str, object]:
    if settings.database.url.startswith("sqlite:"):
        return {}
    return {"pool_max": settings.database.pool_max, "pool_timeout_s": settings.database.pool_timeout_s}


app = create_app()
