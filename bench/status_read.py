"""status_read: GET /v1/me with advocates' access-link tokens at 64 concurrent clients against the
real api, against a bare FastAPI endpoint returning a constant under the same server settings,
both driven by the same load generator. Rounds alternate (bare, api, bare, api) so a noisy
neighbour on the machine weighs on both sides alike."""

import asyncio

import httpx
import psutil

from bench import datagen, db
from bench.api import admin_headers, api_server, create_admin
from bench.config import BenchConfig
from bench.loadgen import LoadResult, get_request, run_load
from bench.results import CorrectnessError, Result
from bench.server import serve

ROUNDS = 2
TARGET_RATIO = 0.35
P99_TARGET_MS = 50.0


async def _seed_balances(cfg: BenchConfig) -> None:
    """Advocates with points, explained by the ledger (one adjustment each), and their tiers."""
    conn = await db.connect(cfg.database_url)
    try:
        await db.truncate_all(conn)
        await datagen.load_base(conn, cfg.sizes, with_rules=False)
        await create_admin(conn)
        await conn.execute("""
            INSERT INTO ledger_entry (advocate_id, kind, points, reason, staff_user_id,
                                      idempotency_key, created_at)
            SELECT id, 'adjustment', (id * 7919) % 6000 + 1, 'Points carried over',
                   (SELECT min(id) FROM staff_user), 'bench-seed:' || id, now()
            FROM advocate""")
        await conn.execute("""
            UPDATE advocate a SET balance = l.points, lifetime_points = l.points,
                   tier_id = (SELECT t.id FROM tier t WHERE t.min_lifetime_points <= l.points
                              ORDER BY t.min_lifetime_points DESC LIMIT 1)
            FROM ledger_entry l WHERE l.advocate_id = a.id""")
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def _issue_tokens(base_url: str, count: int) -> list[tuple[int, str]]:
    """(advocate id, token) through POST /v1/advocates/{id}/access-link, as staff do it."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        admin = await admin_headers(http)
        semaphore = asyncio.Semaphore(8)

        async def issue(advocate_id: int) -> tuple[int, str]:
            async with semaphore:
                response = await http.post(f"/v1/advocates/{advocate_id}/access-link",
                                           headers=admin)
            if response.status_code != 201:
                raise CorrectnessError(f"access link for advocate {advocate_id}: "
                                       f"{response.status_code} {response.text[:300]}")
            return advocate_id, response.json()["token"]

        return await asyncio.gather(*(issue(i) for i in range(1, count + 1)))


async def _check_me(cfg: BenchConfig, base_url: str, tokens: list[tuple[int, str]]) -> None:
    """The endpoint under load answers what the database holds, for the right advocate."""
    conn = await db.connect(cfg.database_url)
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            for advocate_id, token in tokens[:5]:
                response = await http.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
                if response.status_code != 200:
                    raise CorrectnessError(f"GET /v1/me: {response.status_code} "
                                           f"{response.text[:300]}")
                body = response.json()
                balance = await conn.fetchval("SELECT balance FROM advocate WHERE id = $1",
                                              advocate_id)
                if body.get("id") != advocate_id or body.get("balance") != balance:
                    raise CorrectnessError(f"GET /v1/me for advocate {advocate_id} (balance "
                                           f"{balance}) answered {body}")
    finally:
        await conn.close()


def _cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def _load(port: int, requests: list[bytes], cfg: BenchConfig, seconds: float) -> LoadResult:
    return run_load("127.0.0.1", port, requests, connections=cfg.sizes.status_connections,
                    processes=cfg.sizes.loadgen_processes, duration=seconds)


async def run(cfg: BenchConfig) -> list[Result]:
    await _seed_balances(cfg)
    seconds = cfg.sizes.status_seconds / ROUNDS
    with api_server(cfg) as api, serve("bare", "bench.bare_app:app", {}) as bare:
        count = min(cfg.sizes.status_tokens, cfg.sizes.advocates)
        tokens = await _issue_tokens(api.base_url, count)
        await _check_me(cfg, api.base_url, tokens)
        headers = [{"Authorization": f"Bearer {token}"} for _, token in tokens]
        api_requests = [get_request("/v1/me", "127.0.0.1", api.port, h) for h in headers]
        # The same headers to the bare app: requests of the same size, parsed the same way.
        bare_requests = [get_request("/", "127.0.0.1", bare.port, h) for h in headers]
        on_api, on_bare = LoadResult(duration=0), LoadResult(duration=0)
        # The server's own CPU time per request (warm-up included in both the time and the
        # count of requests sent): a figure a busy neighbour on the machine hardly moves.
        cpu = {"api": [0.0, 0], "bare": [0.0, 0]}
        for _ in range(ROUNDS):
            for side, total, server, requests in (("bare", on_bare, bare, bare_requests),
                                                  ("api", on_api, api, api_requests)):
                before = _cpu_seconds(server.process.pid)
                measured = await asyncio.to_thread(_load, server.port, requests, cfg, seconds)
                cpu[side][0] += _cpu_seconds(server.process.pid) - before
                cpu[side][1] += measured.sent
                total.merge(measured)
                total.duration += measured.duration
    for side, measured in (("api", on_api), ("bare app", on_bare)):
        if measured.errors or not measured.responses:
            raise CorrectnessError(f"status_read on the {side}: {measured.errors} errors of "
                                   f"{measured.responses} responses, statuses {measured.statuses},"
                                   f" e.g. {measured.error_samples}")
    p50, p99 = on_api.percentile(0.50), on_api.percentile(0.99)
    cpu_ms = {side: seconds * 1000 / max(1, sent) for side, (seconds, sent) in cpu.items()}
    return [Result(
        name="status_read", value=on_api.rps, baseline=on_bare.rps, target=TARGET_RATIO,
        unit="req/s",
        extra={"p50_ms": round(p50, 2), "p99_ms": round(p99, 2), "p99_target_ms": P99_TARGET_MS,
               "baseline_p50_ms": round(on_bare.percentile(0.50), 2),
               "baseline_p99_ms": round(on_bare.percentile(0.99), 2),
               "connections": cfg.sizes.status_connections, "seconds": on_api.duration,
               "requests": on_api.responses,
               "server_cpu_ms_per_request": round(cpu_ms["api"], 3),
               "baseline_server_cpu_ms_per_request": round(cpu_ms["bare"], 3)},
        extra_checks={"p99": p99 < P99_TARGET_MS},
        notes=[f"GET /v1/me p50 {p50:.1f} ms, p99 {p99:.1f} ms (bare app p50 "
               f"{on_bare.percentile(0.5):.1f} ms, p99 {on_bare.percentile(0.99):.1f} ms) at "
               f"{cfg.sizes.status_connections} connections, {len(tokens)} advocate tokens",
               f"server CPU per request: api {cpu_ms['api']:.2f} ms, bare app "
               f"{cpu_ms['bare']:.2f} ms"],
    )]
