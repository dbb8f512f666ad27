from fastapi import APIRouter
from fastapi.responses import JSONResponse
from redis.asyncio import Redis
from sqlalchemy import text

from services.api.errors import problem
from shared.db import get_engine
from shared.settings import get_settings, resolve_redis_url

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    """Anyone may call this."""
    return {"status": "ok"}


async def _database_ok() -> bool:
    try:
        async with get_engine().connect() as connection:
            await connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


async def _redis_ok() -> bool:
    client = Redis.from_url(resolve_redis_url(get_settings()), socket_connect_timeout=2,
                            socket_timeout=2)
    try:
        return bool(await client.ping())
    except Exception:
        return False
    finally:
        await client.aclose()


@router.get("/readyz", summary="Readiness: database and Redis reachable",
            responses={503: {"description": "Names what is down"}})
async def readyz() -> JSONResponse:
    """Anyone may call this (load balancers do). 503 names each part that is down."""
    checks = {"database": await _database_ok(), "redis": await _redis_ok()}
    down = [name for name, ok in checks.items() if not ok]
    if down:
        return problem(503, f"Not ready: {', '.join(down)} unreachable", type_="not-ready",
                       checks={name: "ok" if ok else "down" for name, ok in checks.items()})
    return JSONResponse({"status": "ready", "checks": dict.fromkeys(checks, "ok")})
