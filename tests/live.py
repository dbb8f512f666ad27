"""Fixtures for the web tests (a pytest plugin: `pytest_plugins = ["tests.live"]`).

In-process: the web app over ASGI, its API client wired to the real API app over ASGI.
Live: the real API, web and worker as subprocesses on free ports, for the browser tests (whose
conftest runs them only while its package runs: a live worker would take other tests' jobs)."""

import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from shared.embedded_redis import free_port

ROOT = Path(__file__).resolve().parent.parent

CSRF_IN_PAGE = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class WebSession:
    """One browser-like visitor of the in-process web app: its own cookies and CSRF token."""

    http: httpx.AsyncClient
    csrf: str = ""
    staff: dict = field(default_factory=dict)

    async def get(self, url: str, **kwargs) -> httpx.Response:
        response = await self.http.get(url, **kwargs)
        if found := CSRF_IN_PAGE.search(response.text):
            self.csrf = found.group(1)
        return response

    async def post(self, url: str, data: dict | None = None, **kwargs) -> httpx.Response:
        """A form post carrying this session's CSRF token, as the page's form would."""
        return await self.http.post(url, data={"csrf_token": self.csrf, **(data or {})}, **kwargs)

    async def sign_in(self, email: str, password: str) -> httpx.Response:
        await self.get("/login")
        response = await self.post("/login", {"email": email, "password": password})
        await self.get("/communities")  # the CSRF token is renewed at sign-in
        return response


@pytest.fixture
async def web_app() -> AsyncIterator:
    from services.api.main import app as api_app
    from web.main import create_app
    from web.settings import WebSettings

    transport = httpx.ASGITransport(app=api_app, raise_app_exceptions=False)
    app = create_app(WebSettings(api_url="http://api.test"), transport=transport)
    yield app
    await app.state.http.aclose()


@pytest.fixture
async def open_web(web_app, make_staff) -> AsyncIterator[Callable[..., Awaitable[WebSession]]]:
    """Opens a web session, signed in as a new staff user of `role` (None: signed out)."""
    clients: list[httpx.AsyncClient] = []

    async def _open(role: str | None = "admin") -> WebSession:
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=web_app),
                                 base_url="http://web.test")
        clients.append(http)
        session = WebSession(http)
        if role:
            session.staff = await make_staff(role)
            response = await session.sign_in(session.staff["email"], session.staff["password"])
            assert response.status_code == 303, response.text
        return session

    yield _open
    for http in clients:
        await http.aclose()


@pytest.fixture
async def web(open_web) -> WebSession:
    """A web session signed in as an admin."""
    return await open_web("admin")


# Live servers for the browser tests -------------------------------------------------------------

BIN = Path(sys.executable).parent  # the virtualenv's uvicorn and arq
# Generous: three servers start at once on a 2-core machine that may be busy.
STARTUP_SECONDS = 120


@dataclass
class LiveServers:
    api_url: str
    web_url: str
    log_dir: Path

    def logs(self) -> str:
        """Every server's log, to explain a failing browser test."""
        return "\n".join(f"--- {path.name}\n{path.read_text()[-4000:]}"
                         for path in sorted(self.log_dir.glob("*.log")))


def _start(name: str, command: list[str], env: dict[str, str], log_dir: Path) -> subprocess.Popen:
    log = (log_dir / f"{name}.log").open("w")
    # The servers' working directory is the repository, as with `make run`.
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def _wait_healthy(process: subprocess.Popen, url: str, servers: LiveServers) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}\n{servers.logs()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer /healthz in {STARTUP_SECONDS} s\n{servers.logs()}")


@contextmanager
def run_live_servers(log_dir: Path) -> Iterator[LiveServers]:
    """The API, the web and the worker as real processes on the test database and Redis (their
    URLs are in os.environ, set by the `database` and `redis_url` fixtures)."""
    api_port, web_port = free_port(), free_port()
    servers = LiveServers(f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{web_port}", log_dir)
    env = {**os.environ, "HEARTH_API_URL": servers.api_url, "HEARTH_WEB_URL": servers.web_url}
    uvicorn = [str(BIN / "uvicorn"), "--host", "127.0.0.1", "--no-access-log"]
    processes = []
    try:
        api = _start("api", [*uvicorn, "services.api.main:app", "--port", str(api_port)],
                     env, servers.log_dir)
        processes.append(api)
        web = _start("web", [*uvicorn, "web.main:app", "--port", str(web_port)],
                     env, servers.log_dir)
        processes.append(web)
        processes.append(_start("worker", [str(BIN / "arq"), "services.worker.main.WorkerSettings"],
                                env, servers.log_dir))
        _wait_healthy(api, servers.api_url, servers)
        _wait_healthy(web, servers.web_url, servers)
        yield servers
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
