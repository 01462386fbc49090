"""Street-first addresses measured on OpenStreetMap's Helsinki centre (tests/data/osm/Helsinki.osm.pbf,
© OpenStreetMap contributors, ODbL): the three figures of issue 15, also in ``make bench``."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo.address.geocode import AddressRecord
from geo.address.osm import read_osm_addresses
from geo.address.quality import address_text, measure, perturb
from geo.errors import InvalidInput, UnsupportedFile

PBF = Path(__file__).resolve().parents[2] / "data" / "osm" / "Helsinki.osm.pbf"


@pytest.fixture(scope="module")
def records() -> list[AddressRecord]:
    return read_osm_addresses(PBF)


def test_reads_nodes_and_building_centroids(records: list[AddressRecord]) -> None:
    kinds = {r.id.split("/")[0] for r in records}
    assert kinds == {"node", "way"}
    assert len(records) > 1400
    numbered = [r for r in records if r.number]
    assert len(numbered) > 1300
    # Every point is in Helsinki's centre (the extract's bounds), buildings included.
    assert all(24.90 < r.lon < 24.99 and 60.15 < r.lat < 60.19 for r in records)
    # Floors and notes after the number are not the number ("2, 2. krs./Floor 2" -> "2").
    assert not [r.number for r in records if r.number and "krs" in r.number]
    assert any(r.id.startswith("way/") and r.number for r in records)


def test_three_figures(records: list[AddressRecord]) -> None:
    q = measure(records)
    assert q.n_exact > 1300 and q.n_held_out > 100
    assert q.exact >= 0.995, q
    assert q.perturbed >= 0.95, q
    assert q.held_out >= 0.85, q


def test_perturbation_changes_the_text(records: list[AddressRecord]) -> None:
    import random

    rng = random.Random(1)
    r = next(x for x in records if x.street == "Mannerheimintie" and x.number and x.postcode)
    typed = perturb(r, rng)
    assert typed != address_text(r).lower() and typed == typed.lower() and "t." in typed


def test_unreadable_and_missing_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"not a pbf")
    with pytest.raises(UnsupportedFile):
        read_osm_addresses(bad)
    with pytest.raises(InvalidInput):
        read_osm_addresses(tmp_path / "missing.osm.pbf")
