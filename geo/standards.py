"""Standards profiles: the named, versioned numbers that planning reports are judged against.

A deployment picks one profile (``CATCHMENT_PROFILE``) and every report names the profile it
used (:attr:`StandardsProfile.key`). Each number carries the document it comes from, so a
planner can check it; numbers that are our own convention (utilisation bands) say so.

Levels are matched by *kind* (primary, junior, high) so that a deployment whose level names
are ``"es"``, ``"elementary"`` or ``"小学"`` finds the primary numbers: see :func:`level_kind`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from geo.errors import InvalidInput


class LevelKind(StrEnum):
    PRIMARY = "primary"
    JUNIOR = "junior"
    HIGH = "high"


#: Level names (lower case, spaces and hyphens as "_") -> kind. "junior" follows Chinese usage
#: (初中, junior secondary), not the English "junior school" (ages 7-11).
LEVEL_KINDS: Mapping[str, LevelKind] = {
    **dict.fromkeys(("primary", "elementary", "infants", "es", "小学", "primary_school", "elementary_school"), LevelKind.PRIMARY),
    **dict.fromkeys(("junior", "middle", "ms", "初中", "junior_high", "junior_secondary", "middle_school"), LevelKind.JUNIOR),
    **dict.fromkeys(("high", "secondary", "senior", "hs", "高中", "senior_high", "high_school", "senior_secondary"), LevelKind.HIGH),
}


def level_kind(level: str) -> LevelKind | None:
    """The kind of a deployment's level name (``"ES"`` -> primary), or None when unknown.

    Parameters
    ----------
    level
        A level name as the deployment writes it; case, spaces and hyphens are ignored.
    """
    key = "_".join(str(level).strip().lower().replace("-", " ").split())
    return LEVEL_KINDS.get(key)


@dataclass(frozen=True, slots=True)
class Source:
    """A published document a number comes from."""

    title: str
    issuer: str
    year: int
    reference: str | None = None
    gives: str = ""


@dataclass(frozen=True, slots=True)
class Band:
    """One labelled interval of a scale. ``upper`` None = unbounded above."""

    key: str
    label_en: str
    label_zh: str
    upper: float | None
    upper_inclusive: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label_en": self.label_en, "label_zh": self.label_zh, "upper": self.upper,
                "upper_inclusive": self.upper_inclusive}


@dataclass(frozen=True, slots=True)
class BandScale:
    """Ordered bands; a value falls in the first band whose upper bound admits it."""

    bands: tuple[Band, ...]

    def classify(self, value: float) -> Band:
        """The band holding ``value``. Raises InvalidInput for NaN."""
        if math.isnan(value):
            msg = "cannot band a missing value (NaN)"
            raise InvalidInput(msg, where="value")
        for band in self.bands:
            if band.upper is None or value < band.upper or (band.upper_inclusive and value == band.upper):
                return band
        return self.bands[-1]

    def by_key(self, key: str) -> Band:
        for band in self.bands:
            if band.key == key:
                return band
        msg = f"no band {key!r}; bands are {[b.key for b in self.bands]}"
        raise InvalidInput(msg, where="band")


@dataclass(frozen=True, slots=True)
class Indicator:
    """A school-resource indicator of the balance (均衡) assessment.

    The school's value is ``attributes[key] / enrolment * per_pupils`` (``per_pupils`` is 1 for
    per-pupil indicators, 100 for per-100-pupil ones).
    """

    key: str
    label_en: str
    label_zh: str
    per_pupils: int
    unit: str


@dataclass(frozen=True, slots=True)
class LevelStandard:
    """The numbers of one level kind. None = the profile sets no number for this."""

    class_size: int | None = None
    class_size_bands: BandScale | None = None
    school_size_max: int | None = None
    service_radius_m: float | None = None
    balance_thresholds: Mapping[str, float] = field(default_factory=dict)
    balance_cv_limit: float | None = None


@dataclass(frozen=True, slots=True)
class StandardsProfile:
    """A named, versioned set of planning numbers with their sources."""

    name: str
    version: str
    title_en: str
    title_zh: str
    utilisation_bands: BandScale
    levels: Mapping[LevelKind, LevelStandard] = field(default_factory=dict)
    #: Size limit of a school spanning primary and junior (nine-year / twelve-year, 一贯制).
    combined_school_size_max: int | None = None
    balance_indicators: tuple[Indicator, ...] = ()
    #: A school passes when at least this many indicators meet their threshold ...
    balance_min_indicators_met: int | None = None
    #: ... and every other one reaches this share of its threshold.
    balance_floor_share: float | None = None
    #: 学区 (school district grouping compulsory schools): at most this many schools in one.
    district_max_schools: int | None = None
    #: Admission discipline: at most this share of a school's intake from outside its zone.
    out_of_zone_share_max: float | None = None
    #: At least this share of migrant children (随迁子女) in public schools (or places bought by the
    #: government in private schools).
    migrant_public_share_min: float | None = None
    sources: tuple[Source, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """``name@version``, the string every report carries."""
        return f"{self.name}@{self.version}"

    def for_level(self, level: str) -> LevelStandard:
        """The numbers for a deployment's level name; an empty standard when none apply."""
        kind = level_kind(level)
        return self.levels.get(kind, LevelStandard()) if kind is not None else LevelStandard()

    def as_dict(self) -> dict[str, Any]:
        """Plain data for reports and the API."""
        return {
            "key": self.key,
            "name": self.name,
            "version": self.version,
            "title_en": self.title_en,
            "title_zh": self.title_zh,
            "utilisation_bands": [b.as_dict() for b in self.utilisation_bands.bands],
            "levels": {
                str(k): {
                    "class_size": v.class_size,
                    "class_size_bands": [b.as_dict() for b in v.class_size_bands.bands] if v.class_size_bands else None,
                    "school_size_max": v.school_size_max,
                    "service_radius_m": v.service_radius_m,
                    "balance_thresholds": dict(v.balance_thresholds),
                    "balance_cv_limit": v.balance_cv_limit,
                }
                for k, v in self.levels.items()
            },
            "combined_school_size_max": self.combined_school_size_max,
            "balance_min_indicators_met": self.balance_min_indicators_met,
            "balance_floor_share": self.balance_floor_share,
            "district_max_schools": self.district_max_schools,
            "out_of_zone_share_max": self.out_of_zone_share_max,
            "migrant_public_share_min": self.migrant_public_share_min,
            "sources": [asdict(s) for s in self.sources],
            "notes": list(self.notes),
        }


# --------------------------------------------------------------------------- shared pieces

#: Utilisation = pupils / seats. Our convention, not a national standard: below 80 % seats stand
#: idle, up to 100 % fits, up to 110 % is absorbed by temporary measures, beyond that is over.
UTILISATION_BANDS = BandScale((
    Band("under", "under-used (< 80 %)", "学位富余（< 80%）", 0.80, upper_inclusive=False),
    Band("ok", "within capacity (80-100 %)", "学位适中（80%-100%）", 1.00),
    Band("tight", "tight (100-110 %)", "学位紧张（100%-110%）", 1.10),
    Band("over", "over capacity (> 110 %)", "学位不足（> 110%）", None),
))


def _class_bands(standard: int) -> BandScale:
    # Ministry of Education statistics group classes as 正常 (up to the standard), 偏大 (to 55),
    # 大班额 (56-65) and 超大班额 (66+); averages are fractional, so the cuts are at 56 and 66.
    return BandScale((
        Band("normal", f"normal (<= {standard})", f"正常班额（≤{standard}人）", float(standard)),
        Band("above_standard", f"above standard ({standard + 1}-55)", f"偏大班额（{standard + 1}-55人）", 56.0, upper_inclusive=False),
        Band("large", "large class, 大班额 (56-65)", "大班额（56-65人）", 66.0, upper_inclusive=False),
        Band("very_large", "very large class, 超大班额 (66+)", "超大班额（66人及以上）", None),
    ))


BALANCE_INDICATORS: tuple[Indicator, ...] = (
    Indicator("teachers_above_degree", "teachers with a degree above the required one", "高于规定学历教师数", 100, "per 100 pupils"),
    Indicator("backbone_teachers", "county-level or higher backbone teachers", "县级以上骨干教师数", 100, "per 100 pupils"),
    Indicator("pe_art_teachers", "PE and art (music, fine art) teachers", "体育、艺术（美术、音乐）专任教师数", 100, "per 100 pupils"),
    Indicator("teaching_area_m2", "teaching and auxiliary floor area", "教学及辅助用房面积", 1, "m2 per pupil"),
    Indicator("sports_area_m2", "sports ground and hall area", "体育运动场馆面积", 1, "m2 per pupil"),
    Indicator("equipment_value_yuan", "teaching equipment value", "教学仪器设备值", 1, "yuan per pupil"),
    Indicator("multimedia_classrooms", "networked multimedia classrooms", "网络多媒体教室数", 100, "per 100 pupils"),
)

_BALANCE_2017 = Source(
    "县域义务教育优质均衡发展督导评估办法", "教育部 (Ministry of Education)", 2017, "教督〔2017〕6号",
    "seven resource indicators and per-school thresholds, CV limits 0.50 / 0.45, at least 6 of 7 met and "
    "the rest >= 85 %; class sizes at most 45 / 50; school size at most 2000 (2500 for nine-/twelve-year schools); "
    "at least 85 % of eligible migrant children (随迁子女) in public schools or in private schools whose places "
    "the government buys (公办学校和政府购买服务的民办学校)",
)
_NEARBY_2014 = Source(
    "关于进一步做好小学升入初中免试就近入学工作的实施意见", "教育部 (Ministry of Education)", 2014, "教基一〔2014〕1号",
    "学区化办学: primary and junior schools grouped into school districts (学区) of relatively near schools of "
    "broadly equal standing, sharing teachers and resources; multi-school zones (多校划片) for popular "
    "schools. The limit of 10 schools per 学区 is as our issue cites this document; the figure was not "
    "checked here against the published text",
)
_CITIES_2014 = Source(
    "关于进一步做好重点大城市义务教育免试就近入学工作的通知", "教育部办公厅 (General Office, Ministry of Education)", 2014,
    None,
    "for the 19 major cities, by 2015: every zoned junior school takes more than 90 % of its intake by nearby "
    "admission, i.e. at most 10 % from outside its zone. The document's reference number (文号) was not confirmed "
    "here, and the 10 % limit applied to every school (primary too) is how our issue states the rule",
)
_CV_FORMULA_2012 = Source(
    "县域义务教育均衡发展督导评估暂行办法", "教育部 (Ministry of Education)", 2012, "教督〔2012〕3号",
    "the enrolment-weighted 差异系数 formula CV = sqrt(sum (n_i/N)(x_i - xbar)^2) / xbar, xbar = total / N",
)
_BUILDING_2002 = Source(
    "城市普通中小学校校舍建设标准", "建设部、国家计委、教育部", 2002, "建标〔2002〕102号",
    "class size 45 primary, 50 secondary",
)
_DESIGN_2011 = Source("中小学校设计规范", "住房和城乡建设部", 2011, "GB 50099-2011", "class size 45 complete primary, 50 secondary")
_LARGE_2016 = Source(
    "关于统筹推进县域内城乡义务教育一体化改革发展的若干意见", "国务院 (State Council)", 2016, "国发〔2016〕40号",
    "eliminate 超大班额 (66+) by 2018 and 大班额 (56+) by 2020; bands 56-65 / 66+ as in MoE statistics",
)
_HIGH_2019 = Source(
    "关于新时代推进普通高中育人方式改革的指导意见", "国务院办公厅", 2019, "国办发〔2019〕29号",
    "eliminate 大班额 (56+) in general senior high schools",
)
_RADIUS_2018 = Source("城市居住区规划设计标准", "住房和城乡建设部", 2018, "GB 50180-2018", "service radius 500 m primary, 1000 m junior")

CN = StandardsProfile(
    name="cn",
    version="2024.1",
    title_en="China: national standards for compulsory and senior high education",
    title_zh="中国：义务教育与普通高中国家标准",
    utilisation_bands=UTILISATION_BANDS,
    levels={
        LevelKind.PRIMARY: LevelStandard(
            class_size=45, class_size_bands=_class_bands(45), school_size_max=2000, service_radius_m=500.0,
            balance_thresholds={"teachers_above_degree": 4.2, "backbone_teachers": 1.0, "pe_art_teachers": 0.9,
                                "teaching_area_m2": 4.5, "sports_area_m2": 7.5, "equipment_value_yuan": 2000.0,
                                "multimedia_classrooms": 2.3},
            balance_cv_limit=0.50,
        ),
        LevelKind.JUNIOR: LevelStandard(
            class_size=50, class_size_bands=_class_bands(50), school_size_max=2000, service_radius_m=1000.0,
            balance_thresholds={"teachers_above_degree": 5.3, "backbone_teachers": 1.0, "pe_art_teachers": 0.9,
                                "teaching_area_m2": 5.8, "sports_area_m2": 10.2, "equipment_value_yuan": 2500.0,
                                "multimedia_classrooms": 2.4},
            balance_cv_limit=0.45,
        ),
        LevelKind.HIGH: LevelStandard(class_size=50, class_size_bands=_class_bands(50)),
    },
    combined_school_size_max=2500,
    balance_indicators=BALANCE_INDICATORS,
    balance_min_indicators_met=6,
    balance_floor_share=0.85,
    district_max_schools=10,
    out_of_zone_share_max=0.10,
    migrant_public_share_min=0.85,
    sources=(_BALANCE_2017, _CV_FORMULA_2012, _BUILDING_2002, _DESIGN_2011, _LARGE_2016, _HIGH_2019, _RADIUS_2018,
             _NEARBY_2014, _CITIES_2014),
    notes=(
        "Utilisation bands (80 / 100 / 110 %) are this project's convention; no national document sets them.",
        "Senior high has a class size (50) and class-size bands but no balance thresholds, school-size limit or radius.",
    ),
)

GENERIC = StandardsProfile(
    name="generic",
    version="2024.1",
    title_en="Generic: utilisation bands only",
    title_zh="通用：仅学位使用率分档",
    utilisation_bands=UTILISATION_BANDS,
    notes=("Utilisation bands (80 / 100 / 110 %) are this project's convention; no class-size or balance standards.",
           "No school-district size, out-of-zone or migrant-children share: those reports run without a limit."),
)

PROFILES: Mapping[str, StandardsProfile] = {p.name: p for p in (CN, GENERIC)}


def get_profile(name: str) -> StandardsProfile:
    """The profile called ``name`` (``"cn"``) or ``name@version`` (``"cn@2024.1"``).

    Raises
    ------
    InvalidInput
        For an unknown name or a version this build does not ship.
    """
    base, _, version = str(name).strip().lower().partition("@")
    profile = PROFILES.get(base)
    if profile is None:
        msg = f"unknown standards profile {name!r}; choose one of {sorted(PROFILES)}"
        raise InvalidInput(msg, where="profile")
    if version and version != profile.version:
        msg = f"profile {base!r} is at version {profile.version}, not {version}"
        raise InvalidInput(msg, where="profile")
    return profile
