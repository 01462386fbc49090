"""Settings from the environment: every group reads its own variables, as the README documents them."""

from __future__ import annotations

import pytest

from service.settings import Settings


def test_the_documented_variables_set_their_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    # CATCHMENT_GEOCODER is both a documented variable and the prefix of the geocoder group: it used
    # to be parsed as the whole group and fail ("error parsing value for field geocoder").
    monkeypatch.setenv("CATCHMENT_GEOCODER", "nominatim")
    monkeypatch.setenv("CATCHMENT_GEOCODER_URL", "https://nominatim.example.org")
    monkeypatch.setenv("CATCHMENT_PROFILE", "cn")
    monkeypatch.setenv("CATCHMENT_DATABASE_URL", "sqlite:///elsewhere.db")
    s = Settings()
    assert (s.geocoder.geocoder, s.geocoder.geocoder_url) == ("nominatim", "https://nominatim.example.org")
    assert (s.profile, s.database.url) == ("cn", "sqlite:///elsewhere.db")


def test_explicit_settings_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CATCHMENT_PROFILE", "cn")
    assert Settings(profile="generic").profile == "generic"
