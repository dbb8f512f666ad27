"""Field types with the validation DESIGN.md asks for: ISO 3166 countries, IANA time zones."""

import zoneinfo
from functools import lru_cache
from typing import Annotated

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
