"""Field types with the validation DESIGN.md asks for: ISO 3166 countries, IANA time zones, row
ids."""

import zoneinfo
from functools import lru_cache
from typing import Annotated

from annotated_types import Le
from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints
from pydantic_extra_types.country import CountryAlpha2


@lru_cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _valid_time_zone(name: str) -> str:
    if name not in _time_zones():
        raise ValueError(f"{name!r} is not an IANA time zone name such as 'Europe/Berlin'")
    return name


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


CountryCode = Annotated[CountryAlpha2, BeforeValidator(_upper)]
TimeZoneName = Annotated[str, Field(max_length=64), AfterValidator(_valid_time_zone)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", min_length=2,
                                        max_length=100)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Url = Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=2000)]

# Row ids are PostgreSQL `integer`s. A larger number names no row, and the driver refuses to even
# send it (a 500 where a client made the mistake): refused at the edge, it is a 422 on every
# database. Used for ids in paths, queries and bodies alike.
MAX_ROW_ID = 2_147_483_647
RowId = Annotated[int, Le(MAX_ROW_ID)]
