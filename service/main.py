"""The FastAPI application: ``create_app(settings)``; ``app`` is built from the environment."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import Response
from starlette.middleware.cors import CORSMiddleware

from service import errors, openapi
from service.bodylimits import BodyLimits
from service.dask_cluster import DaskClients
from service.deps import get_remote, get_repo, get_user
from service.fast_lookup import FastLookup
from service.headers import SecurityHeaders, cors_options
from service.networks import import_network_files
from service.openapi import declare_errors
from service.operations.jobs import JobRunner
from service.operations.lookup_cache import AnswerCache
from service.problem_cache import ProblemCache, VersionedCache
from service.ratelimit import RateLimits, new_limiter
from service.routes import (
    addresses,
    admin,
    admission,
    districts,
    docs,
    editor,
    health,
    imports,
    jobs,
    lookup,
    lookup_zones,
    maps,
    ogc,
    optimise,
    pages,
    planning,
    plans,
    reports,
    rules,
    schools,
    travel,
    workspace,
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
            load_sample(repo, settings.sample.dir, say=log.info)
        import_network_files(repo, folder=network_dir(settings.database.url))
        holder = SnapshotHolder(repo, check_every_s=settings.lookup.version_check_s)
        holder.refresh()
        holder.start()
        app.state.settings = settings
        app.state.repo = repo
        app.state.holder = holder
        app.state.answer_cache = AnswerCache()
        app.state.problems = ProblemCache()
        app.state.jobs = JobRunner(repo, workers=settings.jobs.workers, heartbeat_s=settings.jobs.heartbeat_s)
        app.state.dask = DaskClients(settings.dask)  # a cluster starts with the first batch job, not here
        swept = app.state.jobs.sweep()
        if swept:
            log.warning("%d job(s) left running by a stopped process marked failed", swept)
        app.state.notices = VersionedCache()
        if settings.maps.warm:
            app.state.problems.warm(repo, skip=set(holder.current().skipped))
        try:
            yield
        finally:
            # Background readers first: closing SQLite under a running query crashes the process.
            app.state.problems.close()
            app.state.jobs.close()
            app.state.dask.close()
            holder.close()
            repo.close()

    app = FastAPI(title="Catchment", version="0.1.0", description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    errors.install(app)
    # Innermost first: body limits, then rate limits, then headers on every answer (413 and
    # 429 too), CORS outermost so browsers of allowed origins can read those answers.
    app.add_middleware(BodyLimits, limits=settings.limits)
    limiter = new_limiter(settings.rate)
    app.add_middleware(RateLimits, settings=settings.rate, limiter=limiter)
    app.add_middleware(SecurityHeaders, http=settings.http)
    if settings.http.cors_origins:
        app.add_middleware(CORSMiddleware, **cors_options(settings.http))
    # Outermost of ours: a plain point lookup is answered here, the same checks, no stack.
    app.state.fast_lookup = {"served": 0}
    app.add_middleware(FastLookup, settings=settings, limiter=limiter, stats=app.state.fast_lookup)
    # planning before plans: /v1/plans/compare must win over /v1/plans/{plan_id}.
    # lookup_zones and workspace before lookup and travel: their paths extend /v1/lookup and /v1/reports/travel.
    for module in (health, schools, planning, rules, plans, lookup_zones, lookup, addresses, imports, workspace, reports, travel,
                   maps, editor, jobs, optimise, districts, ogc, admin, admission):
        declare_errors(module.router, repo=get_repo, user=get_user, remote=get_remote)
        app.include_router(module.router)
    openapi.install(app)
    lookup.install_lean(app)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)

    docs.install(app)
    pages.install(app)
    return app


def _repo_options(settings: Settings) -> dict[str, object]:
    if settings.database.url.startswith("sqlite:"):
        return {}
    return {"pool_max": settings.database.pool_max, "pool_timeout_s": settings.database.pool_timeout_s}


app = create_app()
