"""Wire models (pydantic v2), converted from the geo models with ``from_domain``, one module per resource.

Coordinates on the wire are EPSG:4326, (lon, lat). Everything is re-exported here, so
``from service.schemas import PlanOut`` keeps working.
"""

from __future__ import annotations

from service.schemas.admin import Health, JobOut, KeyOut
from service.schemas.lookup import (
    BatchPoint,
    FeederOut,
    GeocodeOut,
    InCrsOut,
    LevelOut,
    LookupOut,
    RuleDecisionOut,
    SchoolDistanceOut,
    SuggestionOut,
    SuggestOut,
    ZoneHitOut,
)
from service.schemas.plans import AdoptIn, AdoptOut, PlanIn, PlanOut, PlanRef
from service.schemas.schools import FeedersIn, FeedersOut, SchoolIn, SchoolOut, SchoolRef, school_feature

__all__ = ["AdoptIn", "AdoptOut", "BatchPoint", "FeederOut", "FeedersIn", "FeedersOut", "GeocodeOut", "Health", "InCrsOut", "JobOut", "KeyOut", "LevelOut", "LookupOut", "PlanIn", "PlanOut", "PlanRef", "RuleDecisionOut", "SchoolDistanceOut", "SchoolIn", "SchoolOut", "SchoolRef", "SuggestOut", "SuggestionOut", "ZoneHitOut", "school_feature"]
