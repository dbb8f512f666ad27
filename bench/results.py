"""One measurement's figures, the table `make bench` prints and var/bench.json."""

import json
import math
from dataclasses import dataclass, field
from pathlib import Path


class CorrectnessError(Exception):
    """The code under test produced a wrong result: the bench fails (non-zero exit)."""


@dataclass
class Result:
    name: str
    value: float
    baseline: float | None
    target: float
    unit: str
    # "ratio": value / baseline must reach target; "below": value must stay under target.
    goal: str = "ratio"
    extra: dict = field(default_factory=dict)  # more JSON fields (p50_ms, p99_ms, ...)
    extra_checks: dict[str, bool] = field(default_factory=dict)  # more conditions to pass
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        if self.goal != "ratio" or not self.baseline:
            return None
        return self.value / self.baseline

    @property
    def passed(self) -> bool:
        if self.goal == "ratio":
            met = self.ratio is not None and self.ratio >= self.target
        else:
            met = self.value < self.target
        return met and all(self.extra_checks.values())

    def as_json(self) -> dict:
        def clean(number: float | None) -> float | None:
            if number is None or math.isnan(number):
                return None
            return round(number, 4)

        return {"name": self.name, "value": clean(self.value), "baseline": clean(self.baseline),
                "ratio": clean(self.ratio), "target": self.target, "unit": self.unit,
                "passed": self.passed, **self.extra}


def _fmt(number: float | None) -> str:
    if number is None or (isinstance(number, float) and math.isnan(number)):
        return "-"
    if abs(number) >= 100:
        return f"{number:,.0f}"
    return f"{number:.3g}" if abs(number) < 10 else f"{number:.1f}"


def table(results: list[Result]) -> str:
    headers = ["name", "value", "baseline", "ratio", "target", "unit", "result"]
    rows = []
    for r in results:
        target = f">= {r.target}x" if r.goal == "ratio" else f"< {r.target}"
        if "p99_ms" in r.extra:
            target += f", p99 < {r.extra.get('p99_target_ms')} ms"
        rows.append([r.name, _fmt(r.value), _fmt(r.baseline),
                     f"{r.ratio:.3f}" if r.ratio is not None else "-", target, r.unit,
                     "pass" if r.passed else "FAIL"])
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    for r in results:
        lines += [f"  {r.name}: {note}" for note in r.notes]
    return "\n".join(lines)


def write_json(path: Path, results: list[Result], meta: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"results": [r.as_json() for r in results], "meta": meta},
                               indent=2) + "\n")
