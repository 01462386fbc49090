"""A plan's address rules (招生范围 lists): import, list or export as CSV, validation, notice lists."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Response
from pydantic import BaseModel, Field

from service.deps import HolderDep, PlannerDep, RepoDep, actor
from service.operations.reports import csv_text
from service.operations.rules import import_rules, rules_export, rules_notice, validate_rules

router = APIRouter(prefix="/v1/plans", tags=["rules"])


class RulesIn(BaseModel):
    rows: list[dict[str, Any]] = Field(max_length=100_000, description="one object per rule: school_code (several "
                                       "separated by ';' = 多校划片), street, from, to, parity (odd/even/all, 单号/双号), "
                                       "compound, building_from, building_to, village, text")


@router.put("/{plan_id}/rules", summary="Replace the plan's address rules (all-or-nothing; a bad row is a 422 naming it)")
def put_rules(plan_id: int, body: Annotated[RulesIn, Body()], repo: RepoDep, holder: HolderDep, user: PlannerDep) -> dict[str, Any]:
    n = import_rules(repo, plan_id, body.rows, actor=actor(user), first_row=1)
    holder.refresh_after_write()
    return {"plan_id": plan_id, "rules": n}


@router.get("/{plan_id}/rules", summary="The plan's address rules, as JSON or CSV (format=csv)")
def get_rules(plan_id: int, repo: RepoDep, format: Annotated[Literal["json", "csv"], Query()] = "json") -> Any:
    rows = rules_export(repo, plan_id)
    if format == "csv":
        return Response(csv_text(rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="plan-{plan_id}-rules.csv"'})
    return {"plan_id": plan_id, "rules": rows}


@router.get("/{plan_id}/rules/validation", summary="Rules matching no address, overlaps, uncovered addresses, "
            "rule/polygon contradictions, with counts per zone")
def rules_validation(plan_id: int, repo: RepoDep) -> dict[str, Any]:
    return {"plan_id": plan_id, **validate_rules(repo, plan_id).as_dict()}


@router.get("/{plan_id}/rules/notice", summary="Each zone as its published rule list (zh: 'XX路1-99号(单号)；XX小区1-12栋')")
def rules_notice_route(plan_id: int, repo: RepoDep) -> dict[str, Any]:
    return {"plan_id": plan_id, "zones": rules_notice(repo, plan_id)}
