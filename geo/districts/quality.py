"""Quality scores for district formation: from the balance indicators of a profile, or a column.

The balance score of a school is the mean, over the profile's resource indicators it has, of
its value as a share of the per-school threshold (教督〔2017〕6号), each share capped at
``cap`` so that a surplus of one resource (a large sports ground) cannot hide a shortage of
another (teachers). 1.0 = every indicator exactly at its threshold.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

from geo.capacity.balance import balance_report
from geo.capacity.utilisation import non_negative
from geo.districts.model import DistrictSchool
from geo.errors import InvalidInput
from geo.models import School
from geo.standards import StandardsProfile

DEFAULT_SHARE_CAP = 1.5


def balance_quality(schools: Sequence[School], *, level: str, profile: StandardsProfile,
                    cap: float = DEFAULT_SHARE_CAP) -> dict[str, float]:
    """School code -> mean capped share of the profile's thresholds over its known indicators.

    Parameters
    ----------
    schools
        Schools of the level (open ones with enrolment are scored, as in the balance report).
    level
        The deployment's level name; thresholds are the profile's for its kind.
    profile
        A profile with balance indicators and thresholds (``cn``).
    cap
        Upper bound of each indicator's share.

    Raises
    ------
    InvalidInput
        When the profile sets no thresholds for the level, or a school has no indicator value.
    """
    report = balance_report(schools, level=level, profile=profile)
    shares: dict[str, list[float]] = {v.code: [] for v in report.schools}
    for ind in report.indicators:
        for sv in ind.schools:
            if sv.share_of_threshold is not None:
                shares[sv.code].append(min(sv.share_of_threshold, cap))
    if not any(shares.values()):
        msg = f"profile {profile.key} sets no balance thresholds for level {level!r}, or no school has an indicator"
        raise InvalidInput(msg, where="profile")
    out = {}
    for code, vals in shares.items():
        if not vals:
            msg = f"school {code}: none of the profile's balance indicators is recorded"
            raise InvalidInput(msg, where=f"school {code}")
        out[code] = sum(vals) / len(vals)
    return out


def attribute_quality(schools: Sequence[School], key: str) -> dict[str, float]:
    """School code -> the number in ``attributes[key]`` (a supplied quality column).

    Raises
    ------
    InvalidInput
        Naming the first school whose value is missing, not a number or negative.
    """
    out = {}
    for s in schools:
        v = non_negative(s.attributes.get(key), what=key, code=s.code)
        if v is None:
            msg = f"school {s.code}: no {key!r} value to score quality by"
            raise InvalidInput(msg, where=f"school {s.code}")
        out[s.code] = v
    return out


def district_schools(schools: Sequence[School], quality: Mapping[str, float], *,
                     urban: Callable[[School], bool | None] | None = None,
                     level: Callable[[School], str | None] | None = None) -> list[DistrictSchool]:
    """The optimiser's input from domain schools and their scores (schools without a score are left out).

    Parameters
    ----------
    schools
        The schools.
    quality
        Code -> score (from :func:`balance_quality` or :func:`attribute_quality`).
    urban
        School -> True (urban), False (rural) or None, e.g. from a remoteness attribute.
    level
        School -> its level, for ``mix_levels``; the first of ``School.levels`` when omitted.
    """
    out = []
    for s in schools:
        q = quality.get(s.code)
        if q is None or math.isnan(q):
            continue
        out.append(DistrictSchool(
            code=s.code, quality=float(q), lon=s.lon, lat=s.lat, urban=urban(s) if urban else None,
            level=level(s) if level else (s.levels[0] if s.levels else None), name=s.name, name_local=s.name_local,
        ))
    return out
