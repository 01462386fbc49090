"""Enrolment projection worked by hand (made-up counts for arithmetic, not real schools)."""

from __future__ import annotations

import pytest

from geo.capacity.forecast import ProjectionMethod, project_enrolment
from geo.errors import InvalidInput

# 2023: K 100, grade 1 90, grade 2 80; 2024: K 110, grade 1 95, grade 2 88.
# Survival into 1 = 95/100 = 0.95; into 2 = 88/90 = 0.977778. Intake trend: 100, 110 -> 120 in 2025, 130 in 2026.
HISTORY = {2023: {"K": 100, "1": 90, "2": 80}, 2024: {"K": 110, "1": 95, "2": 88}}


def test_cohort_survival_one_year() -> None:
    p = project_enrolment("S1", year=2025, history=HISTORY)
    assert p.method is ProjectionMethod.COHORT_SURVIVAL
    assert p.survival == pytest.approx({"1": 0.95, "2": 88 / 90})
    assert p.survival_basis == {"1": "history", "2": "history"}
    assert p.intake_basis == "trend"
    # K 120, grade 1 = 110 * 0.95 = 104.5, grade 2 = 95 * 0.977778 = 92.888889
    assert p.grades == pytest.approx({"K": 120.0, "1": 104.5, "2": 95 * 88 / 90})
    assert p.total == pytest.approx(120 + 104.5 + 95 * 88 / 90)


def test_cohort_survival_two_years() -> None:
    p = project_enrolment("S1", year=2026, history=HISTORY)
    # K 130, grade 1 = 120 * 0.95 = 114, grade 2 = 104.5 * 0.977778 = 102.177778
    assert p.grades == pytest.approx({"K": 130.0, "1": 114.0, "2": 104.5 * 88 / 90})


def test_configured_survival_and_intake() -> None:
    p = project_enrolment("S1", year=2025, history={2024: {"K": 110, "1": 95, "2": 88}}, survival={"1": 1.0, "2": 0.9},
                          intake=100)
    assert p.survival_basis == {"1": "configured", "2": "configured"} and p.intake_basis == "configured"
    assert p.grades == pytest.approx({"K": 100.0, "1": 110.0, "2": 95 * 0.9})


def test_single_year_intake_carried_forward_is_said() -> None:
    p = project_enrolment("S1", year=2025, history={2024: {"K": 110, "1": 95}}, survival={"1": 1.0})
    assert p.intake_basis == "carried" and p.grades["K"] == 110
    assert any("carried forward" in n for n in p.notes)


def test_single_year_without_ratios_is_refused() -> None:
    with pytest.raises(InvalidInput, match="survival ratio"):
        project_enrolment("S1", year=2025, history={2024: {"K": 110, "1": 95}})


def test_growth_rate_from_history() -> None:
    # (441 / 400) ** (1/2) - 1 = 0.05; 2024 = 441 * 1.05 ** 2 = 486.2025
    p = project_enrolment("S2", year=2024, totals={2020: 400, 2022: 441})
    assert p.method is ProjectionMethod.GROWTH_RATE and p.growth_basis == "history"
    assert p.growth_rate == pytest.approx(0.05)
    assert p.total == pytest.approx(486.2025)


def test_growth_rate_configured() -> None:
    p = project_enrolment("S2", year=2025, totals={2024: 500}, growth_rate=-0.1)
    assert p.total == pytest.approx(450.0) and p.growth_basis == "configured"


def test_same_year_is_reported() -> None:
    assert project_enrolment("S1", year=2024, history=HISTORY).method is ProjectionMethod.REPORTED


@pytest.mark.parametrize(
    "kwargs",
    [{"year": 2023, "history": HISTORY}, {"year": 2025, "history": {2024: {"K": -1}}}, {"year": 2025},
     {"year": 2025, "totals": {2024: 100}}, {"year": 2025, "history": {2024: {"Z": 3}}}],
)
def test_bad_inputs(kwargs: dict) -> None:
    with pytest.raises(InvalidInput):
        project_enrolment("S", **kwargs)
