"""The editing map without a browser: the page built from the real Fairfax zones, the page as the
service serves it for a draft, and the demand units endpoint it reads (GET /v1/plans/{id}/units).

The page in a browser, editing through a running service, is tested in
tests/service/test_editor_browser.py.
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import asdict
from typing import Any

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient

from geo.errors import InvalidInput
from geo.models import Plan, PlanStatus
from maps import render_html
from maps.editor import EDITOR_LABELS, FINDING_NAMES, EditorUrls, editor_map, zone_collection
from maps.styles import ZONE_PALETTE, Lang
from tests.conftest import bearer
from tests.maps import data

URLS = EditorUrls(edits="/v1/plans/7/edits", undo="/v1/plans/7/undo", redo="/v1/plans/7/redo", zones="/v1/plans/7/zones",
                  units="/v1/plans/7/units", validation="/v1/plans/7/validation", capacity="/v1/reports/capacity?plan=7",
                  history="/v1/plans/7/history")
_CONFIG = re.compile(r"catchmentStartEditor\(\w+, (?P<config>\{.*?\}), \w+\);\n")


def config_of(page: str) -> dict[str, Any]:
    """The configuration the page hands to its editor script."""
    match = _CONFIG.search(page)
    assert match is not None
    return dict(json.loads(match["config"].replace("<\\/", "</")))


def _draft(status: PlanStatus = PlanStatus.DRAFT) -> Plan:
    return Plan(id=7, name="Relieve Beech <draft>", level="es", school_year=2024, status=status, version=3)


def _page(lang: Lang = "en", status: PlanStatus = PlanStatus.DRAFT) -> str:
    zones = data.fairfax_es()
    schools = [s for s in data.fairfax_schools() if "es" in s.levels]
    return render_html(editor_map(_draft(status), zones, schools, etag='"3"', urls=URLS, lang=lang, tiles="none"), inline=True)


def test_the_page_holds_the_draft_and_works_offline() -> None:
    zones = data.fairfax_es()
    page = _page()
    # Everything is inlined (Leaflet, Leaflet-Geoman, the editor script): no network at run time.
    assert '<script src="' not in page and '<link rel="stylesheet" href="' not in page
    assert "sourceMappingURL=leaflet-geoman" not in page and "leaflet-geoman" in page and "pm:create" in page
    cfg = config_of(page)
    assert cfg["etag"] == '"3"' and cfg["urls"] == asdict(URLS) and cfg["plan"]["status"] == "draft"
    # The zones with their ids, at 7 decimals: the stored vertices, so an unmoved edge still meets its neighbour.
    feats = cfg["zones"]["features"]
    assert [f["properties"]["zone_id"] for f in feats] == [z.id for z in zones]
    assert [f["properties"]["school_codes"] for f in feats] == [list(z.school_codes) for z in zones]
    for f, z in zip(feats[:20], zones[:20], strict=True):
        got = shapely.geometry.shape(f["geometry"])
        assert np.allclose(shapely.get_coordinates(got), np.round(shapely.get_coordinates(z.geometry), 7), atol=1e-9)
    # Every single-school zone is filled from the zone palette, by its school.
    singles = {z.school_codes[0] for z in zones if len(z.school_codes) == 1}
    assert singles <= set(cfg["colours"]) and set(cfg["colours"].values()) <= set(ZONE_PALETTE)
    # The panel: the zone count, the key box, the tallies and validation boxes, undo/redo; the plan name escaped.
    assert f"{len(zones)} zones" in page
    for cls in ("catchment-key-input", "catchment-tallies", "ce-tallies", "catchment-validation", "ce-undo", "ce-redo",
                "ce-conflict"):
        assert cls in page
    assert "Relieve Beech \\u0026lt;draft\\u0026gt;" in page  # escaped in the panel's HTML
    assert cfg["labels"]["conflict"] == "Someone else changed this draft — reload to see their change."


def test_labels_in_chinese_and_english() -> None:
    for key, texts in EDITOR_LABELS.items():
        fields = [{f for _, f, _, _ in string.Formatter().parse(texts[lang]) if f} for lang in ("en", "zh")]
        assert texts["en"] and texts["zh"] and fields[0] == fields[1], key
    assert all(v["en"] and v["zh"] for v in FINDING_NAMES.values())
    page = _page("zh", PlanStatus.ADOPTED)
    cfg = config_of(page)
    assert cfg["labels"]["conflict"] == "其他人修改了此草案——请重新加载以查看其修改。" and cfg["lang"] == "zh"
    assert cfg["labels"]["conflict"] in page
    assert cfg["layerNames"]["zones"] == "招生片区"
    # An adopted plan opens with a warning: the API refuses its edits.
    assert "已采用" in page or "\\u5df2\\u91c7\\u7528" in page  # the panel's HTML may be JSON-escaped
    with pytest.raises(InvalidInput):
        editor_map(_draft(), data.fairfax_es()[:3], [], etag='"3"', urls=URLS, lang="fr", tiles="none")  # type: ignore[arg-type]


def test_zone_collection_rounds_and_keeps_ids() -> None:
    zones = data.fairfax_es()[:5]
    doc = zone_collection(zones, decimals=4)
    assert [f["properties"]["zone_id"] for f in doc["features"]] == [z.id for z in zones]
    for f, z in zip(doc["features"], zones, strict=True):
        got = shapely.get_coordinates(shapely.geometry.shape(f["geometry"]))
        assert np.array_equal(got, np.round(got, 4))
        # Rounding moves a vertex by at most half a unit of the 4th decimal on each axis.
        assert shapely.hausdorff_distance(shapely.geometry.shape(f["geometry"]), z.geometry) <= 0.5e-4 * 2 ** 0.5 + 1e-12


# --------------------------------------------------------------------------- through the service


def _copy(client: TestClient, planner: dict[str, str]) -> tuple[int, str]:
    adopted = client.get("/v1/plans", params={"district": "fairfax", "level": "elementary", "status": "adopted"}).json()[0]
    r = client.post(f"/v1/plans/{adopted['id']}/copy", headers=planner)
    assert r.status_code == 201
    return int(r.json()["id"]), r.headers["ETag"]


def test_the_served_edit_page(client: TestClient, keys: dict[str, str]) -> None:
    plan_id, etag = _copy(client, bearer(keys["planner"]))
    n_zones = len(client.get(f"/v1/plans/{plan_id}/zones").json()["features"])
    r = client.get(f"/v1/maps/plan/{plan_id}/edit", params={"tiles": "none", "lang": "en"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert f"{n_zones} zones" in page and "catchment-key-input" in page and "catchment-tallies" in page
    assert "cdn.jsdelivr.net" not in page and "cdnjs" not in page
    cfg = config_of(page)
    assert cfg["etag"] == etag and len(cfg["zones"]["features"]) == n_zones
    assert cfg["urls"]["edits"] == f"/v1/plans/{plan_id}/edits" and cfg["urls"]["capacity"] == f"/v1/reports/capacity?plan={plan_id}"
    # The URLs the page calls answer.
    for name in ("zones", "validation", "history", "capacity"):
        assert client.get(cfg["urls"][name]).status_code == 200, name
    zh = client.get(f"/v1/maps/plan/{plan_id}/edit", params={"tiles": "none", "lang": "zh"}).text
    assert "其他人修改了此草案" in zh
    for params, status in [({"lang": "fr"}, 422), ({"tiles": "ftp://x"}, 422)]:
        bad = client.get(f"/v1/maps/plan/{plan_id}/edit", params=params)
        assert bad.status_code == status and bad.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/maps/plan/99999/edit").status_code == 404


def test_units_with_their_school(client: TestClient, keys: dict[str, str]) -> None:
    planner = bearer(keys["planner"])
    plan_id, etag = _copy(client, planner)
    everything = client.get(f"/v1/plans/{plan_id}/units")
    assert everything.status_code == 200 and everything.headers["ETag"] == etag
    doc = everything.json()
    assert doc["demand"] == "fairfax-blocks" and doc["level"] == "elementary"
    cap = client.get("/v1/reports/capacity", params={"plan": plan_id}).json()
    src = cap["demand_source"]
    assert len(doc["features"]) == src["units"] - src["units_outside_zones"]
    # Every pupil of the level is in one unit: the total matches the capacity report's demand.
    assert sum(f["properties"]["pupils"] for f in doc["features"]) == pytest.approx(cap["totals"]["demand"], abs=5.0)
    # Light: coordinates rounded to 5 decimals.
    coords = np.concatenate([shapely.get_coordinates(shapely.geometry.shape(f["geometry"])) for f in doc["features"][:200]])
    assert np.array_equal(coords, np.round(coords, 5))
    # A unit wholly inside one zone is served by that zone's school (checked against the zones' shapes).
    zones = client.get(f"/v1/plans/{plan_id}/zones").json()["features"]
    shapes = [shapely.geometry.shape(z["geometry"]) for z in zones]
    whole = [f for f in doc["features"] if f["properties"]["share"] > 0.999][::97]
    for f in whole:
        p = shapely.geometry.shape(f["geometry"]).point_on_surface()
        holders = [z["properties"] for z, g in zip(zones, shapes, strict=True) if g.contains(p)]
        assert f["properties"]["zone_id"] in {h["zone_id"] for h in holders}
        assert f["properties"]["school"] == zones[[z["properties"]["zone_id"] for z in zones].index(f["properties"]["zone_id"])][
            "properties"]["school_codes"][0]
    # bbox: only the units touching it, the same as in the whole set.
    box = (-77.30, 38.85, -77.26, 38.88)
    part = client.get(f"/v1/plans/{plan_id}/units", params={"bbox": ",".join(map(str, box))}).json()
    by_id = {f["id"]: f for f in doc["features"]}
    assert 0 < len(part["features"]) < len(doc["features"])
    assert all(shapely.geometry.shape(f["geometry"]).intersects(shapely.box(*box)) and f["properties"] == by_id[f["id"]]["properties"]
               for f in part["features"])
    # Moving a unit shows at once.
    unit = max(part["features"], key=lambda f: f["properties"]["pupils"])
    other = next(f["properties"]["school"] for f in part["features"] if f["properties"]["school"] != unit["properties"]["school"])
    r = client.post(f"/v1/plans/{plan_id}/edits", headers=planner | {"If-Match": etag},
                    json={"op": "move_units", "moves": {unit["id"]: other}})
    assert r.status_code == 200, r.text
    after = client.get(f"/v1/plans/{plan_id}/units", params={"bbox": ",".join(map(str, box))})
    assert after.headers["ETag"] == r.headers["ETag"] != etag
    assert next(f for f in after.json()["features"] if f["id"] == unit["id"])["properties"]["school"] == other
    # Bad input is a problem; a plan no demand set covers has no units.
    bad = client.get(f"/v1/plans/{plan_id}/units", params={"bbox": "1,2"})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    nsw = client.get("/v1/plans", params={"district": "nsw", "level": "primary"}).json()[0]
    empty = client.get(f"/v1/plans/{nsw['id']}/units").json()
    assert empty["features"] == [] and empty["demand"] is None
