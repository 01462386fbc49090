"""Bounded wire types shared by every route and body: ids, counts, offsets, school codes.

Every integer that comes in through a path, a query or a body is one of these, bounded by
``geo.models.MAX_INT`` (both backends store 64-bit signed integers): an unbounded ``int`` passes
validation and then fails in the database driver, which answered 500 instead of 422.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from geo.models import CODE_PATTERN, CODE_RULE, MAX_INT, check_code

#: A stored row's id (plans, zones, keys): 1 .. 2**63 - 1.
Id = Annotated[int, Field(ge=1, le=MAX_INT)]
#: A count or a page offset: 0 .. 2**63 - 1.
Count = Annotated[int, Field(ge=0, le=MAX_INT)]

#: A school code as written by a client: checked by ``geo.models.check_code`` (whose message says
#: which characters are allowed, in English and Chinese); the pattern is shown in the OpenAPI.
SchoolCode = Annotated[str, AfterValidator(check_code),
                       Field(min_length=1, max_length=64, description=f"school code: {CODE_RULE['en']}",
                             json_schema_extra={"pattern": CODE_PATTERN})]
