"""Plan versions: the ETag of a plan, the If-Match every plan write needs, and whether a plan may change.

Every plan write names the version its author saw (428 without it, 412 when stale), and only
drafts and proposals change: adopted and archived plans are read-only, so public answers change
only by adoption.
"""

from __future__ import annotations

from geo.errors import Conflict, InvalidInput, PreconditionRequired, StaleVersion
from geo.models import Plan, PlanStatus
from service.storage.base import Repository

READ_ONLY = (PlanStatus.ADOPTED, PlanStatus.ARCHIVED)


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(value: str | None) -> int:
    """``If-Match: "7"`` -> 7. Every plan write needs one (428 without), so that no write
    silently replaces a version its author never saw."""
    if value is None or not value.strip():
        msg = ("this plan write needs If-Match with the plan's ETag (from GET /v1/plans/{id}), so concurrent "
               "writes never overwrite each other / 修改方案须带 If-Match（方案的 ETag，见 GET /v1/plans/{id}），以免覆盖他人的修改")
        raise PreconditionRequired(msg, where="If-Match")
    text = value.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        msg = f"If-Match {value!r} must be an ETag from this API, like \"3\""
        raise InvalidInput(msg, where="If-Match")
    return int(text)


def read_only_message(plan: Plan) -> str:
    return (f"plan {plan.id} is {plan.status.value} and read-only; copy it to a draft (POST /v1/plans/{plan.id}/copy) "
            f"and change the draft / 方案 {plan.id} 已{'采用' if plan.status is PlanStatus.ADOPTED else '归档'}，只读："
            f"请复制为草稿（POST /v1/plans/{plan.id}/copy）后修改草稿")


def writable_plan(repo: Repository, plan_id: int, if_match: str | None, *, drafts_only: bool = False) -> tuple[Plan, int]:
    """The plan a write is about and the version it expects, checked in this order: If-Match given
    (428), the plan exists (404), the version is current (412), the plan may change (409).

    The version is checked before anything else is looked up (zone ids, units), so a stale
    client hears "reload" rather than "no such zone". The repository checks it again inside its
    transaction.
    """
    version = parse_if_match(if_match)
    plan = repo.get_plan(plan_id)
    if plan.version != version:
        msg = f"plan {plan_id} is at version {plan.version}, not {version}; reload it and retry"
        raise StaleVersion(msg, where="If-Match")
    if plan.status in READ_ONLY:
        raise Conflict(read_only_message(plan), where="plan_id")
    if drafts_only and plan.status is not PlanStatus.DRAFT:
        msg = f"plan {plan_id} is {plan.status.value}; only drafts are edited: copy it first (POST /v1/plans/{plan_id}/copy)"
        raise Conflict(msg, where="plan_id")
    return plan, version
