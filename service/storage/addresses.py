"""Address points of the offline gazetteer (address lookups and type-ahead).

Composition, not a mixin: the store is given the repository's SQL executor and owns its queries.
"""

from __future__ import annotations

from collections.abc import Sequence

from geo.address.geocode import AddressRecord
from service.storage.executor import Audit, SqlExecutor
from service.storage.rows import now


class AddressStore:
    def __init__(self, db: SqlExecutor, *, audit: Audit) -> None:
        self.db = db
        self._audit = audit

    def import_addresses(self, dataset: str, records: Sequence[AddressRecord], *, actor: str, replace: bool = True) -> int:
        """Load address points into ``dataset`` (replacing it by default), all in one transaction."""

        rows = [(dataset, r.id, r.text, r.number, r.street, r.locality, r.postcode, r.lon, r.lat) for r in records]
        with self.db.transaction() as cur:
            if replace:
                self.db.execute(cur, "DELETE FROM addresses WHERE dataset = ?", (dataset,))
            self.db.execute_many(cur, "INSERT INTO addresses (dataset, ext_id, full_text, number, street, locality, postcode, lon, lat) "
                                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            self._audit(cur, actor, "addresses.import", f"addresses:{dataset}", None,
                        {"count": len(rows), "replace": replace, "at": str(now())})
            self.db.bump_zone_version(cur)
        return len(rows)

    def addresses(self, dataset: str | None = None) -> list[AddressRecord]:
        where, params = ("WHERE dataset = ?", (dataset,)) if dataset else ("", ())
        with self.db.read_cursor() as cur:
            rows = self.db.execute(cur, f"SELECT ext_id, lon, lat, full_text, number, street, locality, postcode FROM addresses {where} ORDER BY id",
                           params).fetchall()
        return [AddressRecord(id=r[0], lon=float(r[1]), lat=float(r[2]), text=r[3], number=r[4], street=r[5], locality=r[6],
                              postcode=r[7]) for r in rows]

    def count_addresses(self) -> int:
        with self.db.read_cursor() as cur:
            return int(self.db.execute(cur, "SELECT count(*) FROM addresses").fetchone()[0])

    def address_stamp(self) -> tuple[int, int]:
        """(count, highest row id) of the address points: changes whenever an import changes them,
        so a worker can keep its in-memory gazetteer when only zones or schools moved."""
        with self.db.read_cursor() as cur:
            r = self.db.execute(cur, "SELECT count(*), coalesce(max(id), 0) FROM addresses").fetchone()
        return int(r[0]), int(r[1])
