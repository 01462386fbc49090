"""The CLI's imports over HTTP: multipart upload of a file plus the same options."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile

from service.deps import AdminDep, HolderDep, PlannerDep, RepoDep, SettingsDep, actor
from service.operations.addresses import import_addresses_file, unread_columns
from service.operations.imports import import_schools_file, import_zones_file
from service.operations.rules import RULE_SUFFIXES, import_rules_file
from service.operations.uploads import ADDRESS_SUFFIXES, save_upload, upload_options
from service.schemas import PlanOut

# The upload's size is bounded while it streams in (CATCHMENT_LIMIT_UPLOAD_BYTES, service/bodylimits.py).
router = APIRouter(prefix="/v1/imports", tags=["imports"])


@router.post("/schools", summary="Import schools from an uploaded file (all-or-nothing)")
def import_schools(repo: RepoDep, holder: HolderDep, settings: SettingsDep, user: AdminDep, file: Annotated[UploadFile, File()],
                   map: Annotated[list[str], Form(description="target=SOURCE_FIELD, repeatable")] = [],  # noqa: B006
                   code_prefix: Annotated[str, Form()] = "", where: Annotated[list[str], Form()] = [],  # noqa: B006
                   level_map: Annotated[list[str], Form()] = [],  # noqa: B006
                   crs: Annotated[str | None, Form()] = None,
                   allow_rejects: Annotated[bool, Form()] = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = save_upload(file.filename, file.file, Path(tmp))
        opts = upload_options(settings, mapping=map, code_prefix=code_prefix, where=where, level_map=level_map, crs=crs,
                              allow_rejects=allow_rejects)
        report = import_schools_file(repo, path, opts=opts, actor=actor(user))
    holder.refresh_after_write()
    return {"report": report.as_dict()}


@router.post("/zones", summary="Import zones from an uploaded file into a new plan (all-or-nothing)")
def import_zones(repo: RepoDep, holder: HolderDep, settings: SettingsDep, user: PlannerDep, file: Annotated[UploadFile, File()],
                 plan: Annotated[str, Form(min_length=1, max_length=200)], level: Annotated[str, Form()],
                 year: Annotated[int, Form(ge=1900, le=2200)], district: Annotated[str, Form()] = "default",
                 adopt: Annotated[bool, Form()] = False,
                 map: Annotated[list[str], Form()] = [],  # noqa: B006
                 code_prefix: Annotated[str, Form()] = "", where: Annotated[list[str], Form()] = [],  # noqa: B006
                 crs: Annotated[str | None, Form()] = None,
                 allow_rejects: Annotated[bool, Form()] = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = save_upload(file.filename, file.file, Path(tmp))
        opts = upload_options(settings, mapping=map, code_prefix=code_prefix, where=where, level_map=[], crs=crs,
                              allow_rejects=allow_rejects)
        created, report = import_zones_file(repo, path, plan_name=plan, district=district, level=level, year=year,
                                            adopt=adopt, opts=opts, actor=actor(user))
    holder.refresh_after_write()
    return {"plan": PlanOut.from_domain(created).model_dump(mode="json"), "report": report.as_dict()}


@router.post("/rules", summary="Replace a plan's address rules (招生范围) from an uploaded CSV or XLSX (all-or-nothing; "
             "a bad row is a 422 naming it)")
def import_rules(repo: RepoDep, holder: HolderDep, user: PlannerDep, file: Annotated[UploadFile, File()],
                 plan: Annotated[int, Form(ge=1, le=2**31 - 1, description="the plan whose rules are replaced")]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = save_upload(file.filename, file.file, Path(tmp), suffixes=RULE_SUFFIXES, kinds=".csv or .xlsx")
        n = import_rules_file(repo, path, plan_id=plan, actor=actor(user))
    holder.refresh_after_write()
    return {"plan_id": plan, "rules": n}
@router.post("/addresses", summary="Import address points (the gazetteer) from an uploaded file, replacing that dataset")
def import_addresses(repo: RepoDep, holder: HolderDep, user: AdminDep, file: Annotated[UploadFile, File()],
                     dataset: Annotated[str | None, Form(max_length=100, description="default: the file name's stem")] = None,
                     map: Annotated[list[str], Form(description="field=COLUMN (id, text, number, street, locality, "
                                                                "postcode, lon, lat), repeatable")] = [],  # noqa: B006
                     crs: Annotated[str | None, Form(description="EPSG:<code>, gcj02 or bd09")] = None) -> dict[str, Any]:
    """The CLI's ``catchment import addresses`` over HTTP: CSV (lon/lat), GeoJSON, GeoPackage, zipped
    shapefile or an OpenStreetMap extract (``addr:*`` tags). The points are stored in the database,
    so every worker of every host geocodes them within a second."""
    with tempfile.TemporaryDirectory() as tmp:
        path = save_upload(file.filename, file.file, Path(tmp), suffixes=ADDRESS_SUFFIXES,
                           kinds=".geojson, .gpkg, .zip (shapefile), .csv or .osm.pbf")
        note = unread_columns(path, mapping=map)
        name, count = import_addresses_file(repo, path, dataset=dataset, mapping=map, crs=crs, actor=actor(user))
    holder.refresh_after_write()
    return {"dataset": name, "count": count, "note": note}
