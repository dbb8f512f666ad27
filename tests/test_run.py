"""`make run` for real: scripts/run.py starts migrations, the embedded Redis, the api, the worker
and the web as processes on free ports, in a temporary working directory (its own var/), and
stops every one of them on Ctrl-C, on SIGTERM, or when one of them dies.

The virtualenv already exists under pytest, so the supervisor runs with --skip-install (what
`make run` itself passes once `make install` is done)."""

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from shared.embedded_redis import free_port, start_embedded_redis

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "scripts" / "run.py"
MIGRATE = ROOT / "scripts" / "migrate.py"
# Not a performance threshold: only keeps a start that never comes up from hanging the suite.
SAFETY_NET_SECONDS = 300
ADMIN_LINE = re.compile(r"Hearth admin created: (\S+) / (\S+)")


def _environment(workdir: Path, **extra: str) -> dict[str, str]:
    """The developer's environment without any HEARTH_* (the suite sets its own), plus ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
    env["HEARTH_DATABASE_URL"] = f"sqlite+aiosqlite:///{workdir / 'var' / 'hearth.db'}"
    env["NO_COLOR"] = "1"
    env.update(extra)
    return env


class Supervised:
    """A process started by the test, with its output collected line by line."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_until(self, check: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + SAFETY_NET_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"exited ({self.process.returncode}) while waiting for {what}:\n"
                            f"{self.output}")
            if check():
                return
            time.sleep(0.2)
        pytest.fail(f"never saw {what}:\n{self.output}")

    def stop(self, sig: signal.Signals) -> int:
        self.process.send_signal(sig)
        return self.finish()

    def finish(self) -> int:
        try:
            code = self.process.wait(timeout=SAFETY_NET_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            pytest.fail(f"did not exit:\n{self.output}")
        self._reader.join(timeout=10)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _answers(url: str, status: int = 200) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == status
    except httpx.HTTPError:
        return False


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: the fields after the last ')' do not.
    return int(stat.rsplit(")", 1)[1].split()[1])


def descendants(pid: int) -> dict[int, str]:
    """pid -> command line of every process below `pid`."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (parent := _parent_of(int(entry.name))) is not None:
            parents[int(entry.name)] = parent
    found, frontier = {}, [pid]
    while frontier:
        current = frontier.pop()
        for child, parent in parents.items():
            if parent == current and child not in found:
                try:
                    cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
                except OSError:
                    continue
                found[child] = cmdline.replace(b"\0", b" ").decode(errors="replace")
                frontier.append(child)
    return found


def alive(pid: int) -> bool:
    """A zombie (exited, not yet reaped by whoever adopted it) counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def assert_all_gone(pids: dict[int, str], output: str) -> None:
    deadline = time.monotonic() + SAFETY_NET_SECONDS
    while time.monotonic() < deadline and any(alive(pid) for pid in pids):
        time.sleep(0.1)
    left = {pid: cmd for pid, cmd in pids.items() if alive(pid)}
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"left running: {left}\n{output}"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path / "hearth"


@pytest.fixture
def started() -> Iterator[list[Supervised]]:
    """Whatever a test starts is killed at the end even if the test failed half-way."""
    processes: list[Supervised] = []
    yield processes
    for process in processes:
        for pid in descendants(process.process.pid):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        process.kill()


def start_everything(workdir: Path, started: list[Supervised],
                     ports: tuple[int, int] | None = None) -> tuple[Supervised, str, str]:
    api_port, web_port = ports or (free_port(), free_port())
    env = _environment(workdir, HEARTH_API_PORT=str(api_port), HEARTH_WEB_PORT=str(web_port))
    run = Supervised([str(RUN), "--skip-install", "--workdir", str(workdir)], env, ROOT)
    started.append(run)
    api, web = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{web_port}"
    run.wait_until(lambda: _answers(f"{api}/healthz"), "the api's /healthz")
    run.wait_until(lambda: _answers(f"{api}/readyz"), "the api's /readyz (database and Redis)")
    run.wait_until(lambda: _answers(f"{web}/login"), "the web's /login")
    run.wait_until(lambda: "Hearth is running" in run.output, "the banner with the URLs")
    return run, api, web


def the_services(run: Supervised) -> dict[int, str]:
    children = descendants(run.process.pid)
    commands = " | ".join(children.values())
    for expected in ("services.api.main:app", "services.worker.main.WorkerSettings",
                     "web.main:app", "redis-server"):
        assert expected in commands, f"{expected} is not running under the supervisor: {commands}"
    return children


def sign_in(api: str, email: str, password: str) -> None:
    response = httpx.post(f"{api}/v1/auth/login", json={"email": email, "password": password},
                          timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["access_token"]


def test_ctrl_c_stops_everything_and_a_second_start_reuses_var(workdir, started):
    run, api, web = start_everything(workdir, started)
    children = the_services(run)
    match = ADMIN_LINE.search(run.output)
    assert match, f"the api did not print the first admin's password:\n{run.output}"
    email, password = match.groups()
    assert email == "admin@localhost"
    sign_in(api, email, password)
    assert "Running upgrade" in run.output
    redis_url = (workdir / "var" / "redis.url").read_text().strip()
    assert redis_url in run.output
    secret = (workdir / "var" / "secret_key").read_text()

    assert run.stop(signal.SIGINT) == 0, run.output
    assert_all_gone(children, run.output)
    assert not (workdir / "var" / "redis.url").exists()

    # Straight away on the same ports: the connections just closed do not hold them.
    ports = (int(api.rsplit(":", 1)[1]), int(web.rsplit(":", 1)[1]))
    again, api, _ = start_everything(workdir, started, ports)
    children = the_services(again)
    # Same database (already migrated, admin kept) and the same secret: var/ was reused.
    assert "Running upgrade" not in again.output
    assert "is at the latest migration" in again.output
    assert not ADMIN_LINE.search(again.output)
    assert (workdir / "var" / "secret_key").read_text() == secret
    sign_in(api, email, password)

    assert again.stop(signal.SIGTERM) == 0, again.output
    assert_all_gone(children, again.output)


def test_when_one_service_dies_the_rest_are_stopped(workdir, started):
    run, _, _ = start_everything(workdir, started)
    children = the_services(run)
    worker = next(pid for pid, cmd in children.items() if "arq" in cmd)
    os.kill(worker, signal.SIGKILL)

    code = run.finish()
    assert code != 0, run.output
    assert "worker exited" in run.output
    assert_all_gone(children, run.output)


def migrate(workdir: Path) -> None:
    workdir.mkdir(parents=True)
    done = subprocess.run([sys.executable, str(MIGRATE)], cwd=workdir, env=_environment(workdir),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_one_service_alone_finds_the_embedded_redis_through_var(workdir, started):
    migrate(workdir)
    # `make run` (or another `make api`) left its embedded Redis's address in var/redis.url.
    redis_port = free_port()
    redis = start_embedded_redis(redis_port, workdir / "var" / "redis")
    try:
        (workdir / "var" / "redis.url").write_text(f"redis://127.0.0.1:{redis_port}/0\n")
        api_port = free_port()
        api = Supervised([str(RUN), "--skip-install", "--only", "api", "--workdir", str(workdir)],
                         _environment(workdir, HEARTH_API_PORT=str(api_port)), ROOT)
        started.append(api)
        api.wait_until(lambda: _answers(f"http://127.0.0.1:{api_port}/readyz"),
                       "the api's /readyz with the Redis from var/redis.url")
        # It found that Redis rather than starting its own: it runs alone, in the foreground.
        assert descendants(api.process.pid) == {}
        assert api.stop(signal.SIGINT) == 0, api.output
    finally:
        redis.terminate()
        redis.wait(timeout=30)


def test_one_service_alone_brings_a_redis_when_none_runs(workdir, started):
    migrate(workdir)
    api_port = free_port()
    api = Supervised([str(RUN), "--skip-install", "--only", "api", "--workdir", str(workdir)],
                     _environment(workdir, HEARTH_API_PORT=str(api_port)), ROOT)
    started.append(api)
    api.wait_until(lambda: _answers(f"http://127.0.0.1:{api_port}/readyz"),
                   "the api's /readyz with an embedded Redis")
    children = descendants(api.process.pid)
    assert any("redis-server" in cmd for cmd in children.values()), children
    assert (workdir / "var" / "redis.url").exists()

    assert api.stop(signal.SIGTERM) == 0, api.output
    assert_all_gone(children, api.output)
    assert not (workdir / "var" / "redis.url").exists()
