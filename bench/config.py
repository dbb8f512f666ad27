"""What the bench runs against and how big it is. Every size scales with BENCH_SCALE."""

import os
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
VAR_DIR = ROOT / "var"

DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/hearth_bench"
# A Redis database of its own, so the jobs the api queues during the bench meet nobody's worker.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"


def _scale() -> float:
    raw = os.environ.get("BENCH_SCALE", "1.0")
    try:
        scale = float(raw)
    except ValueError:
        raise SystemExit(f"BENCH_SCALE must be a number, not {raw!r}") from None
    if not 0 < scale <= 10:
        raise SystemExit(f"BENCH_SCALE must be in (0, 10], not {scale}")
    return scale


def scaled(full: int, scale: float, *, minimum: int = 1) -> int:
    return max(minimum, round(full * scale))


@dataclass(frozen=True)
class Sizes:
    communities: int
    members: int
    advocates: int
    activities: int
    bulk_requests: int
    bulk_batch: int  # items per POST /v1/activities/bulk: the contract's maximum, never scaled
    status_seconds: float
    status_tokens: int
    status_connections: int
    loadgen_processes: int


@dataclass(frozen=True)
class BenchConfig:
    scale: float
    database_url: str
    redis_url: str
    sizes: Sizes
    only: frozenset[str] | None  # BENCH_ONLY=reward_calc,status_read runs just those

    @property
    def json_path(self) -> Path:
        return VAR_DIR / "bench.json"

    def wants(self, name: str) -> bool:
        return self.only is None or name in self.only


def load_config() -> BenchConfig:
    scale = _scale()
    sizes = Sizes(
        communities=scaled(500, scale, minimum=5),
        members=scaled(20_000, scale, minimum=100),
        advocates=scaled(10_000, scale, minimum=50),
        activities=scaled(1_000_000, scale, minimum=1_000),
        bulk_requests=scaled(40, scale, minimum=2),
        bulk_batch=5_000,
        # Long enough for a steady state; short runs still get a few seconds.
        status_seconds=max(3.0, round(10.0 * min(1.0, scale * 4), 1)),
        status_tokens=scaled(500, scale, minimum=64),
        status_connections=64,
        loadgen_processes=2,
    )
    only = os.environ.get("BENCH_ONLY")
    return BenchConfig(
        scale=scale,
        database_url=os.environ.get("HEARTH_BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        redis_url=os.environ.get("HEARTH_BENCH_REDIS_URL", DEFAULT_REDIS_URL),
        sizes=sizes,
        only=frozenset(s.strip() for s in only.split(",") if s.strip()) if only else None,
    )
