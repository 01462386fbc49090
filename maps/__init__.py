"""Folium maps of catchments: coverage, travel, overcrowding, a parent's lookup, plan comparison.

Pure functions from domain objects to ``folium.Map``; no HTTP, no SQL. Write a map with
:func:`maps.assets.render_html` (``inline=True`` for a self-contained offline page).
"""

from maps.assets import render_html
from maps.base import OSM, Tiles, parse_tiles
from maps.compare import changed_areas, compare_map
from maps.coverage import coverage_map
from maps.geometry import ProblemAreas, find_problem_areas, problems_from_findings
from maps.lookup import lookup_map
from maps.overcrowding import overcrowding_map
from maps.travel import travel_map

__all__ = [
    "OSM",
    "ProblemAreas",
    "Tiles",
    "changed_areas",
    "compare_map",
    "coverage_map",
    "find_problem_areas",
    "lookup_map",
    "overcrowding_map",
    "parse_tiles",
    "problems_from_findings",
    "render_html",
    "travel_map",
]
