"""Proposals by optimisation: ``POST /v1/plans/{id}/optimise`` starts a job (202); the job's
status, progress (incumbent objective and gap) and result (the new draft's id and the report)
are at ``GET /v1/jobs/{id}``, ``DELETE /v1/jobs/{id}`` cancels."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from service.deps import JobsDep, PlannerDep, RepoDep, SettingsDep, SnapDep, actor
from service.errors import status_for_name
from service.operations import optimise as ops
from service.operations.optimise_costs import server_matrix
from service.params import Id
from service.schemas import JobOut
from service.schemas_optimise import OptimiseIn

router = APIRouter(prefix="/v1/plans", tags=["planning"])


@router.post("/{plan_id}/optimise", response_model=JobOut, status_code=202,
             summary="Propose zones by optimisation (a job): the result is a new draft, a child of this plan")
def optimise(plan_id: Id, body: OptimiseIn, repo: RepoDep, runner: JobsDep, snap: SnapDep, settings: SettingsDep,
             user: PlannerDep) -> JSONResponse:
    """Checks the request first (422 naming the field, or the schools short of seats), then 202
    with the job and ``Location``."""
    matrix = server_matrix(settings, body.options.matrix) if body.options.matrix else None
    req = body.to_request(matrix)
    s = ops.setup(repo, plan_id, req, travels=snap.travels)
    who = actor(user)
    job = runner.submit(kind="optimise", owner=who, fn=ops.job(repo, s, actor=who),
                        params={"plan_id": plan_id, **req.params(), "units": len(s.units), "schools": len(s.schools)})
    out = JobOut.from_domain(job, status_of=status_for_name)
    return JSONResponse(out.model_dump(mode="json"), status_code=202, headers={"Location": out.href})
