"""Planning data both backends share: address points, demand units, networks, plan history.

Mixed into :class:`service.storage.sqlbase.SqlRepository`; the same hooks apply (``_tx``,
``_read``, ``_x``, ``_geom_in``, ``_anygeom_in_sql``, ``_geom_out_sql``). Every write is one
transaction with its audit event, and bumps the data version so every worker's in-memory
snapshot (zone index, gazetteer) follows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import shapely

from geo.address.geocode import AddressRecord
from geo.errors import Conflict, InvalidInput, NotFound
from geo.io.write import zone_feature, zones_from_features
from geo.models import Plan, PlanStatus, Zone
from geo.planning.demand import DemandUnit
from service.storage.rows import from_json, json_text, now


class PlanningStores:
    """Methods over the tables of migration 0002."""

    # hooks from SqlRepository, declared for type checkers
    def _tx(self) -> Any: ...
    def _read(self) -> Any: ...
    def _x(self, cur: Any, sql: str, params: Sequence[Any] = ()) -> Any: ...
    def _sql(self, sql: str) -> str: ...
    def _geom_in(self, geom: Any) -> Any: ...
    def _geom_out_sql(self) -> str: ...
    def _geom_out(self, value: Any) -> Any: ...
    def _ts(self, d: Any) -> Any: ...
    def _audit(self, cur: Any, actor: str, action: str, target: str, before: Any, after: Any) -> None: ...
    def _bump_zone_version(self, cur: Any) -> None: ...
    def _lock_plan(self, cur: Any, plan_id: int) -> Plan: ...
    def _get_plan(self, cur: Any, plan_id: int) -> Plan: ...
    def _check_codes(self, cur: Any, zones: Sequence[Zone]) -> None: ...
    def _zones(self, cur: Any, where: str, params: Sequence[Any]) -> list[Zone]: ...
    def _geom_in_sql(self) -> str: ...
    def _zone_extra_cols(self) -> tuple[str, ...]: ...
    def _zone_extra_vals(self, geom: Any) -> tuple[Any, ...]: ...

    def _anygeom_in_sql(self) -> str:
        """SQL for a geometry parameter of any type (WKB in); PostGIS wraps it in ST_GeomFromWKB."""
        return "?"

    # ---- addresses -------------------------------------------------------------------
    def import_addresses(self, dataset: str, records: Sequence[AddressRecord], *, actor: str, replace: bool = True) -> int:
        """Load address points into ``dataset`` (replacing it by default), all in one transaction."""

        rows = [(dataset, r.id, r.text, r.number, r.street, r.locality, r.postcode, r.lon, r.lat) for r in records]
        with self._tx() as cur:
            if replace:
                self._x(cur, "DELETE FROM addresses WHERE dataset = ?", (dataset,))
            cur.executemany(self._sql("INSERT INTO addresses (dataset, ext_id, full_text, number, street, locality, postcode, lon, lat) "
                                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"), rows)
            self._audit(cur, actor, "addresses.import", f"addresses:{dataset}", None,
                        {"count": len(rows), "replace": replace, "at": str(now())})
            self._bump_zone_version(cur)
        return len(rows)

    def addresses(self, dataset: str | None = None) -> list[AddressRecord]:
        where, params = ("WHERE dataset = ?", (dataset,)) if dataset else ("", ())
        with self._read() as cur:
            rows = self._x(cur, f"SELECT ext_id, lon, lat, full_text, number, street, locality, postcode FROM addresses {where} ORDER BY id",
                           params).fetchall()
        return [AddressRecord(id=r[0], lon=float(r[1]), lat=float(r[2]), text=r[3], number=r[4], street=r[5], locality=r[6],
                              postcode=r[7]) for r in rows]

    def count_addresses(self) -> int:
        with self._read() as cur:
            return int(self._x(cur, "SELECT count(*) FROM addresses").fetchone()[0])

    def address_stamp(self) -> tuple[int, int]:
        """(count, highest row id) of the address points: changes whenever an import changes them,
        so a worker can keep its in-memory gazetteer when only zones or schools moved."""
        with self._read() as cur:
            r = self._x(cur, "SELECT count(*), coalesce(max(id), 0) FROM addresses").fetchone()
        return int(r[0]), int(r[1])

    # ---- demand ----------------------------------------------------------------------
    def import_demand(self, name: str, units: Sequence[DemandUnit], *, kind: str, report: dict[str, Any], actor: str) -> int:
        """Replace the demand set ``name`` with ``units``, atomically."""

        seen: set[str] = set()
        for u in units:
            if u.id in seen:
                msg = f"demand unit id {u.id!r} appears twice"
                raise InvalidInput(msg, where=f"unit {u.id}")
            seen.add(u.id)
        with self._tx() as cur:
            self._x(cur, "DELETE FROM demand_sets WHERE name = ?", (name,))
            self._x(cur, "INSERT INTO demand_sets (name, kind, report, created_at) VALUES (?, ?, ?, ?)",
                    (name, kind, json_text(report), self._ts(now())))
            sql = (f"INSERT INTO demand_units (dataset, unit_id, counts, grade_counts, population, attributes, geom) "
                   f"VALUES (?, ?, ?, ?, ?, ?, {self._anygeom_in_sql()})")
            cur.executemany(self._sql(sql), [
                (name, u.id, json_text(dict(u.counts)), json_text(dict(u.grade_counts)), u.population, json_text(dict(u.attributes)),
                 self._geom_in(u.geometry)) for u in units])
            self._audit(cur, actor, "demand.import", f"demand:{name}", None, {"units": len(units), "kind": kind})
        return len(units)

    def demand_sets(self) -> list[dict[str, Any]]:
        with self._read() as cur:
            rows = self._x(cur, "SELECT s.name, s.kind, s.report, s.created_at, count(u.id) FROM demand_sets s "
                                "LEFT JOIN demand_units u ON u.dataset = s.name GROUP BY s.name, s.kind, s.report, s.created_at "
                                "ORDER BY s.name").fetchall()
        return [{"name": r[0], "kind": r[1], "report": from_json(r[2]), "created_at": str(r[3]), "units": int(r[4])} for r in rows]

    def demand_units(self, name: str) -> list[DemandUnit]:
        with self._read() as cur:
            if self._x(cur, "SELECT 1 FROM demand_sets WHERE name = ?", (name,)).fetchone() is None:
                msg = f"no demand set named {name!r}; load one with `catchment import demand`"
                raise NotFound(msg, where="demand")
            rows = self._x(cur, f"SELECT unit_id, counts, grade_counts, population, attributes, {self._geom_out_sql()} "
                                f"FROM demand_units WHERE dataset = ? ORDER BY id", (name,)).fetchall()
        return [DemandUnit(id=r[0], counts=from_json(r[1]), grade_counts=from_json(r[2]), population=r[3], attributes=from_json(r[4]),
                           geometry=shapely.from_wkb(bytes(r[5]))) for r in rows]

    # ---- networks --------------------------------------------------------------------
    def register_network(self, name: str, *, mode: str, path: str, source: str | None, stats: dict[str, Any], actor: str) -> None:

        with self._tx() as cur:
            # One network per name and per (extract, mode): rebuilding the walk network of a file
            # replaces that one, whatever it was named, and never the drive network.
            self._x(cur, "DELETE FROM networks WHERE name = ? OR (mode = ? AND source = ?)", (name, mode, source))
            self._x(cur, "INSERT INTO networks (name, mode, path, source, stats, built_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (name, mode, path, source, json_text(stats), self._ts(now())))
            self._audit(cur, actor, "network.register", f"network:{name}", None, {"mode": mode, "path": path, **stats})
            self._bump_zone_version(cur)

    def networks(self) -> list[dict[str, Any]]:
        with self._read() as cur:
            rows = self._x(cur, "SELECT name, mode, path, source, stats, built_at FROM networks ORDER BY name").fetchall()
        return [{"name": r[0], "mode": r[1], "path": r[2], "source": r[3], "stats": from_json(r[4]), "built_at": str(r[5])} for r in rows]

    # ---- zones added to a plan --------------------------------------------------------
    def append_zones(self, plan_id: int, zones: Sequence[Zone], *, actor: str, action: str = "zones.append") -> Plan:
        """Add ``zones`` to plan ``plan_id`` and keep its others (e.g. zones phasing in from a later
        year): one transaction, one new plan version, and a zone-version bump so lookups follow."""
        with self._tx() as cur:
            plan = self._lock_plan(cur, plan_id)
            if plan.status is PlanStatus.ARCHIVED:
                msg = f"plan {plan_id} is archived; copy it to a new draft to change it"
                raise Conflict(msg, where="plan_id")
            if not zones:
                return plan
            self._check_codes(cur, zones)
            before = int(self._x(cur, "SELECT count(*) FROM zones WHERE plan_id = ?", (plan_id,)).fetchone()[0])
            extra = self._zone_extra_cols()
            cols = "plan_id, name, school_codes, grades, grade_start_years, source, attributes, geom" + "".join(f", {c}" for c in extra)
            marks = "?, ?, ?, ?, ?, ?, ?, " + self._geom_in_sql() + "".join(", ?" for _ in extra)
            links: list[tuple[int, str]] = []
            for z in zones:
                vals = (plan_id, z.name, json_text(list(z.school_codes)), None if z.grades is None else json_text(list(z.grades)),
                        json_text(dict(z.grade_start_years)), z.source, json_text(dict(z.attributes)), self._geom_in(z.geometry))
                zid = int(self._x(cur, f"INSERT INTO zones ({cols}) VALUES ({marks}) RETURNING id",
                                  vals + self._zone_extra_vals(z.geometry)).fetchone()[0])
                links.extend((zid, c) for c in dict.fromkeys(z.school_codes))
            cur.executemany(self._sql("INSERT INTO zone_schools (zone_id, school_code) VALUES (?, ?)"), links)
            self._x(cur, "UPDATE plans SET version = version + 1 WHERE id = ?", (plan_id,))
            self._record_version(cur, plan_id, plan.version + 1, action, actor, self._zones(cur, "WHERE plan_id = ?", (plan_id,)))
            self._audit(cur, actor, f"plan.{action}", f"plan:{plan_id}", {"zones": before, "version": plan.version},
                        {"zones": before + len(zones), "added": len(zones), "version": plan.version + 1})
            self._bump_zone_version(cur)
            return self._get_plan(cur, plan_id)

    # ---- plan history ----------------------------------------------------------------
    def _record_version(self, cur: Any, plan_id: int, version: int, action: str, actor: str, zones: Sequence[Zone]) -> None:

        doc = {"type": "FeatureCollection", "features": [zone_feature(z) for z in zones]}
        self._x(cur, "INSERT INTO plan_versions (plan_id, version, action, actor, at, zones) VALUES (?, ?, ?, ?, ?, ?)",
                (plan_id, version, action, actor, self._ts(now()), json.dumps(doc, separators=(",", ":"))))

    def plan_versions(self, plan_id: int) -> list[dict[str, Any]]:
        with self._read() as cur:
            rows = self._x(cur, "SELECT version, action, actor, at FROM plan_versions WHERE plan_id = ? ORDER BY version",
                           (plan_id,)).fetchall()
        return [{"version": int(r[0]), "action": r[1], "actor": r[2], "at": str(r[3])} for r in rows]

    def plan_version_zones(self, plan_id: int, version: int) -> list[Zone]:
        with self._read() as cur:
            r = self._x(cur, "SELECT zones FROM plan_versions WHERE plan_id = ? AND version = ?", (plan_id, version)).fetchone()
        if r is None:
            msg = f"plan {plan_id} has no stored version {version}"
            raise NotFound(msg, where="version")
        return zones_from_features(from_json(r[0])["features"])
