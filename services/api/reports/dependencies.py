from datetime import date
from typing import Annotated

from fastapi import Depends, Query

from services.api.errors import ProblemError
from services.api.reports.schemas import MAX_PERIOD_DAYS, ReportPeriod


def invalid_query(problems: list[tuple[str, str]]) -> ProblemError:
    """A 422 shaped like FastAPI's own, for what one parameter cannot check alone."""
    errors = [{"loc": ["query", field], "msg": msg, "type": "value_error"}
              for field, msg in problems]
    return ProblemError(422, "; ".join(f"{field}: {msg}" for field, msg in problems),
                        type_="validation-error", errors=errors)


def report_period(
    start: Annotated[date, Query(description="First day, inclusive (UTC).")],
    end: Annotated[date, Query(description="Last day, inclusive (UTC).")],
) -> ReportPeriod:
    if end < start:
        raise invalid_query([("end", "must be on or after start")])
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise invalid_query([("end", f"a period spans at most {MAX_PERIOD_DAYS} days")])
    return ReportPeriod(start=start, end=end)


PeriodDep = Annotated[ReportPeriod, Depends(report_period)]
