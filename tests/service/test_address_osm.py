"""`catchment import addresses --from-osm` and the column names recognised without --map (issue 15)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from service.cli import app as cli
from service.storage import open_repository

runner = CliRunner()
PBF = Path(__file__).resolve().parents[1] / "data" / "osm" / "Helsinki.osm.pbf"


def _invoke(url: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["import", "addresses", *args, "--database", url])
    return result.exit_code, result.output


def test_from_osm_imports_numbers_and_buildings(db_url: str) -> None:
    code, out = _invoke(db_url, "--from-osm", str(PBF))
    assert code == 0, out
    assert "dataset 'Helsinki'" in out
    got = open_repository(db_url).addresses("Helsinki")
    assert len(got) > 1400
    assert sum(1 for r in got if r.number) > 1300
    assert any(r.id.startswith("way/") for r in got)
    kaivokatu = [r for r in got if r.street == "Kaivokatu" and r.number == "8"]
    assert kaivokatu and all(r.locality == "Helsinki" for r in kaivokatu)


def test_osm_style_columns_import_with_numbers(tmp_path: Path, db_url: str) -> None:
    path = tmp_path / "osm.csv"
    pd.DataFrame({"@id": ["n1", "n2"], "addr:housenumber": ["53", "12 B"], "addr:street": ["Lehrter Straße"] * 2,
                  "addr:postcode": ["10557"] * 2, "addr:city": ["Berlin"] * 2,
                  "lon": [13.365, 13.366], "lat": [52.527, 52.527]}).to_csv(path, index=False)
    code, out = _invoke(db_url, str(path), "--dataset", "osmcsv")
    assert code == 0, out
    got = {r.id: r for r in open_repository(db_url).addresses("osmcsv")}
    assert (got["n1"].number, got["n1"].street, got["n1"].postcode, got["n1"].locality) == ("53", "Lehrter Straße", "10557", "Berlin")
    assert got["n2"].number == "12 B"


def test_openaddresses_columns(tmp_path: Path, db_url: str) -> None:
    path = tmp_path / "oa.csv"
    pd.DataFrame({"LON": [2.331], "LAT": [48.869], "NUMBER": ["12"], "STREET": ["Rue de la Paix"], "UNIT": ["3"],
                  "CITY": ["Paris"], "POSTCODE": ["75002"], "HASH": ["abc"]}).to_csv(path, index=False)
    code, out = _invoke(db_url, str(path), "--dataset", "oa")
    assert code == 0, out
    (r,) = open_repository(db_url).addresses("oa")
    assert (r.id, r.number, r.street, r.locality, r.postcode) == ("abc", "12", "Rue de la Paix", "Paris", "75002")


def test_unrecognised_number_column_is_reported(tmp_path: Path, db_url: str) -> None:
    path = tmp_path / "odd.csv"
    pd.DataFrame({"lon": [13.365], "lat": [52.527], "house_nbr": ["53"], "street": ["Lehrter Straße"]}).to_csv(path, index=False)
    code, out = _invoke(db_url, str(path), "--dataset", "odd")
    assert code == 0, out
    said = " ".join(out.split())
    assert "warning" in said and "house_nbr" in said and "--map number=house_nbr" in said
    assert open_repository(db_url).addresses("odd")[0].number is None  # not imported, and said so
    code, out = _invoke(db_url, str(path), "--dataset", "odd", "--map", "number=house_nbr")
    assert code == 0, out
    assert "warning" not in out
    assert open_repository(db_url).addresses("odd")[0].number == "53"


def test_recognised_columns_give_no_warning(tmp_path: Path, db_url: str) -> None:
    path = tmp_path / "fine.csv"
    pd.DataFrame({"lon": [13.365], "lat": [52.527], "hausnummer": ["53"], "strasse": ["Lehrter Straße"], "plz": ["10557"],
                  "ort": ["Berlin"]}).to_csv(path, index=False)
    code, out = _invoke(db_url, str(path), "--dataset", "de")
    assert code == 0 and "warning" not in out, out
    (r,) = open_repository(db_url).addresses("de")
    assert (r.number, r.street, r.postcode, r.locality) == ("53", "Lehrter Straße", "10557", "Berlin")
