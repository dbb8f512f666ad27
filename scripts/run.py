"""The `make run` supervisor: one command brings up all of Hearth on one machine.

    python3 scripts/run.py                       install if needed, then run everything
    .venv/bin/python scripts/run.py --skip-install
    .venv/bin/python scripts/run.py --only api   one service alone in the foreground (`make api`)

It applies the migrations, starts Redis (the embedded server unless HEARTH_REDIS_URL is set; its
address goes to var/redis.url, where every service looks), then the api on
127.0.0.1:$HEARTH_API_PORT, the arq worker and the web on 127.0.0.1:$HEARTH_WEB_PORT, and prints
each line they write under their name. Ctrl-C (SIGINT) or SIGTERM stops the web, the worker, the
api and then Redis, and exits 0; a second Ctrl-C stops them without waiting. If any of them dies
on its own, the rest are stopped and the exit status is non-zero.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
SERVICES = ("api", "worker", "web")
# Callers go first, so nothing is left talking to a part that has already gone.
STOP_ORDER = ("web", "worker", "api", "redis")
# The worker gets longest: arq lets the job in hand finish.
GRACE_SECONDS = {"web": 10.0, "worker": 30.0, "api": 15.0, "redis": 10.0}
ADMIN_CREATED = "Hearth admin created:"
COLORS = {"hearth": "1", "migrate": "35", "redis": "31", "api": "36", "worker": "33",
          "web": "32"}

if sys.platform.startswith("linux"):
    import ctypes

    _LIBC = ctypes.CDLL(None, use_errno=True)
else:  # pragma: no cover
    _LIBC = None
PR_SET_PDEATHSIG = 1


def _die_with_supervisor() -> None:
    """Runs in each child before exec: if the supervisor is killed outright (SIGKILL, OOM),
    the kernel sends the child SIGTERM, so no orphan keeps a port."""
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Console:
    """One writer for many processes: whole lines, each under the name of who wrote it."""

    def __init__(self, *, prefix: bool) -> None:
        self._lock = threading.Lock()
        self._prefix = prefix
        self._color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
        self._width = max(len(name) for name in COLORS)

    def write(self, name: str, text: str) -> None:
        if self._prefix:
            label = f"{name:>{self._width}} |"
            if self._color:
                label = f"\033[{COLORS.get(name, '0')}m{label}\033[0m"
            text = f"{label} {text}"
        with self._lock:
            try:
                sys.stdout.write(text + "\n")
                sys.stdout.flush()
            except (BrokenPipeError, ValueError):
                pass  # nobody is reading any more; keep supervising regardless


@dataclass
class Child:
    name: str
    process: subprocess.Popen
    output: IO[bytes] | None
    pump: threading.Thread | None = None


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        # As the servers do: connections of a run just stopped (TIME_WAIT) do not hold the port.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def http_answers(url: str) -> bool:
    """True once anything answers HTTP there (an error status still means it is up)."""
    try:
        with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (our own local URL)
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False


def port_answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


def redis_answers(url: str) -> bool:
    from redis import Redis

    client = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(client.ping())
    except Exception:
        return False
    finally:
        client.close()


def masked(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


REVISION = re.compile(r"^revision(?::[^=]*)?=\s*['\"](\w+)['\"]", re.M)
DOWN_REVISION = re.compile(r"^down_revision(?::[^=]*)?=(.*)$", re.M)


def migration_heads() -> set[str] | None:
    """The newest revisions in migrations/versions, read as text; None if a file is unusual."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (ROOT / "migrations" / "versions").glob("*.py"):
        text = path.read_text()
        revision, down = REVISION.search(text), DOWN_REVISION.search(text)
        if not revision or not down:
            return None
        revisions.add(revision.group(1))
        parents.update(re.findall(r"['\"](\w+)['\"]", down.group(1)))
    return (revisions - parents) or None


def sqlite_is_migrated(database_url: str) -> bool:
    """True when an SQLite database already stands at the newest migration: then a restart
    need not pay for loading Alembic and every model. Any doubt answers False, and Alembic
    runs as usual (always for PostgreSQL, where replicas may migrate concurrently)."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return False
    path = Path(url.database)
    heads = migration_heads()
    if not heads or not path.is_file():
        return False
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=5)) as connection:
            current = {row[0] for row in connection.execute(
                "SELECT version_num FROM alembic_version")}
    except sqlite3.Error:
        return False
    return current == heads


def service_command(name: str, *, api_port: int, web_port: int) -> list[str]:
    python = sys.executable
    if name == "api":
        return [python, "-m", "uvicorn", "services.api.main:app",
                "--host", "127.0.0.1", "--port", str(api_port)]
    if name == "web":
        return [python, "-m", "uvicorn", "web.main:app",
                "--host", "127.0.0.1", "--port", str(web_port)]
    if name == "worker":
        return [python, "-m", "arq", "services.worker.main.WorkerSettings"]
    raise ValueError(name)


class Supervisor:
    def __init__(self, console: Console, workdir: Path) -> None:
        self.console = console
        self.workdir = workdir
        self.children: list[Child] = []
        self.stopping = threading.Event()
        self.hurry = threading.Event()
        self.admin_lines: list[str] = []
        self.owned_redis_url: str | None = None

    def say(self, text: str) -> None:
        self.console.write("hearth", text)

    # Signal handlers only set flags: printing from one could re-enter a write in progress.
    def on_signal(self, signum: int, _frame: object) -> None:
        if self.stopping.is_set():
            self.hurry.set()
        self.stopping.set()

    def install_signal_handlers(self) -> None:
        # SIGHUP: the terminal went away; stop as cleanly as on Ctrl-C.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self.on_signal)

    def spawn(self, name: str, command: list[str], env: dict[str, str]) -> Child:
        # Each child gets its own session: Ctrl-C in the terminal reaches only the supervisor,
        # which then stops the children in order instead of all at once.
        process = subprocess.Popen(
            command, cwd=self.workdir, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
            # preexec_fn is unsafe beside threads: every child is spawned before the pumps start.
            preexec_fn=_die_with_supervisor,
        )
        child = Child(name, process, process.stdout)
        self.children.append(child)
        return child

    def adopt(self, name: str, process: subprocess.Popen, output: IO[bytes] | None) -> Child:
        child = Child(name, process, output)
        self.children.append(child)
        return child

    def _pump(self, child: Child) -> None:
        assert child.output is not None
        for raw in iter(child.output.readline, b""):
            text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if ADMIN_CREATED in text:
                self.admin_lines.append(text.strip())
            self.console.write(child.name, text)

    def start_pumps(self) -> None:
        for child in self.children:
            if child.pump is None and child.output is not None:
                child.pump = threading.Thread(target=self._pump, args=(child,), daemon=True,
                                              name=f"pump-{child.name}")
                child.pump.start()

    def run_step(self, name: str, command: list[str], env: dict[str, str]) -> int:
        """A one-off step (migrations) in the foreground, its output under its name."""
        with subprocess.Popen(command, cwd=self.workdir, env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as process:
            assert process.stdout is not None
            for raw in iter(process.stdout.readline, b""):
                self.console.write(name, raw.decode("utf-8", errors="replace").rstrip("\r\n"))
            return process.wait()

    def start_embedded_redis(self) -> str:
        from shared.embedded_redis import free_port, start_embedded_redis
        from shared.settings import EMBEDDED_REDIS_URL_FILE

        port = free_port()
        process = start_embedded_redis(port, self.workdir / "var" / "redis")
        self.adopt("redis", process, process.stderr)
        url = f"redis://127.0.0.1:{port}/0"
        url_file = self.workdir / EMBEDDED_REDIS_URL_FILE
        url_file.parent.mkdir(parents=True, exist_ok=True)
        url_file.write_text(url + "\n")
        self.owned_redis_url = url
        return url

    def forget_embedded_redis(self) -> None:
        from shared.settings import EMBEDDED_REDIS_URL_FILE

        url_file = self.workdir / EMBEDDED_REDIS_URL_FILE
        # Only our own address: another run may have written its own there since.
        if (self.owned_redis_url and url_file.exists()
                and url_file.read_text().strip() == self.owned_redis_url):
            url_file.unlink()
        self.owned_redis_url = None

    def watch(self) -> int:
        """Until a signal or a death: 0 after a requested stop, non-zero if a child died."""
        while not self.stopping.wait(0.2):
            for child in self.children:
                code = child.process.poll()
                if code is not None:
                    how = f"code {code}" if code >= 0 else signal.Signals(-code).name
                    self.stopping.set()
                    self.say(f"{child.name} exited ({how}); stopping the others")
                    self.stop_all()
                    return code if code > 0 else 1
        self.say("stopping (press Ctrl-C again to stop at once)")
        self.stop_all()
        return 0

    def _signal_group(self, child: Child, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.process.pid, sig)

    def stop(self, child: Child) -> None:
        if child.process.poll() is None:
            self._signal_group(child, signal.SIGTERM)
            deadline = time.monotonic() + GRACE_SECONDS.get(child.name, 10.0)
            while child.process.poll() is None:
                if self.hurry.is_set() or time.monotonic() > deadline:
                    self.say(f"{child.name} did not stop in time; killing it")
                    self._signal_group(child, signal.SIGKILL)
                    child.process.wait()
                    break
                time.sleep(0.05)
        # Whatever it started itself goes too (its group shares its pid).
        self._signal_group(child, signal.SIGKILL)

    def stop_all(self) -> None:
        rank = {name: index for index, name in enumerate(STOP_ORDER)}
        for child in sorted(self.children, key=lambda c: rank.get(c.name, -1)):
            self.stop(child)
        for child in self.children:
            if child.pump is not None:
                child.pump.join(timeout=2)
        self.forget_embedded_redis()
        self.say("all stopped")

    def announce_when_ready(self, lines: list[str], admin_hint: str, api_url: str,
                            web_port: int) -> None:
        # The web is only asked whether it listens: a page request would run its code (and
        # its logs) on our behalf.
        while not self.stopping.is_set():
            if http_answers(f"{api_url}/healthz") and port_answers(web_port):
                break
            time.sleep(0.3)
        else:
            return
        admin = self.admin_lines[-1] if self.admin_lines else admin_hint
        banner = ["", "Hearth is running:", *lines, f"  {admin}",
                  "  Press Ctrl-C to stop everything.", ""]
        for line in banner:
            self.say(line)


def base_environment(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    # The project is installed editable into .venv; this also covers a bare checkout.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def run_everything(workdir: Path) -> int:
    from shared.settings import Settings

    console = Console(prefix=True)
    supervisor = Supervisor(console, workdir)
    supervisor.install_signal_handlers()
    # Reading the settings once here writes var/secret_key on a first run, before three
    # services could race to create three different ones.
    settings = Settings()
    api_port, web_port = settings.api_port, settings.web_port
    for name, port, variable in (("api", api_port, "HEARTH_API_PORT"),
                                 ("web", web_port, "HEARTH_WEB_PORT")):
        if not port_is_free(port):
            supervisor.say(f"port {port} for the {name} is in use: stop what holds it or set "
                           f"{variable} to another port")
            return 1
    api_url, web_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{web_port}"
    env = base_environment(workdir)
    env["HEARTH_API_URL"] = api_url
    env.setdefault("HEARTH_WEB_URL", web_url)

    if sqlite_is_migrated(settings.database_url):
        supervisor.say(f"database {masked(settings.database_url)} is at the latest migration")
    else:
        supervisor.say(f"database {masked(settings.database_url)}: applying migrations")
        code = supervisor.run_step("migrate",
                                   [sys.executable, str(ROOT / "scripts" / "migrate.py")], env)
        if supervisor.stopping.is_set():
            return 130
        if code != 0:
            supervisor.say(f"migrations failed (exit code {code})")
            return code

    try:
        if settings.redis_url:
            redis_url, redis_note = settings.redis_url, "HEARTH_REDIS_URL"
        else:
            redis_url, redis_note = supervisor.start_embedded_redis(), "embedded, in var/redis.url"
        for name in SERVICES:
            supervisor.spawn(name, service_command(name, api_port=api_port, web_port=web_port),
                             env)
    except Exception as error:
        supervisor.say(f"could not start: {error}")
        supervisor.stop_all()
        return 1
    supervisor.start_pumps()
    lines = [
        f"  Web (staff sign-in)  {web_url}/login",
        f"  API                  {api_url}   OpenAPI docs: {api_url}/docs",
        f"  Health               {api_url}/healthz  {api_url}/readyz  {api_url}/metrics",
        f"  Database             {masked(settings.database_url)}",
        f"  Redis                {masked(redis_url)} ({redis_note})",
    ]
    if settings.admin_email and settings.admin_password:
        admin_hint = f"Admin: {settings.admin_email} (password from HEARTH_ADMIN_PASSWORD)"
    else:
        admin_hint = ("Admin: created on an earlier run, whose output showed its password "
                      "(HEARTH_ADMIN_EMAIL/HEARTH_ADMIN_PASSWORD choose it on an empty database)")
    threading.Thread(target=supervisor.announce_when_ready,
                     args=(lines, admin_hint, api_url, web_port),
                     daemon=True, name="announce").start()
    return supervisor.watch()


def run_one(name: str, workdir: Path) -> int:
    """`make api|worker|web`: one service in the foreground with `make run`'s environment."""
    from shared.settings import EMBEDDED_REDIS_URL_FILE, Settings

    settings = Settings()
    env = base_environment(workdir)
    env.setdefault("HEARTH_API_URL", f"http://127.0.0.1:{settings.api_port}")
    env.setdefault("HEARTH_WEB_URL", f"http://127.0.0.1:{settings.web_port}")
    command = service_command(name, api_port=settings.api_port, web_port=settings.web_port)
    # As in `make run`: the embedded Redis unless HEARTH_REDIS_URL names one. A running
    # `make run` (or another `make api`) left the embedded one's address in var/redis.url.
    needs_redis = name in ("api", "worker") and not settings.redis_url
    url_file = workdir / EMBEDDED_REDIS_URL_FILE
    if not needs_redis or (url_file.exists() and redis_answers(url_file.read_text().strip())):
        # Nothing to look after: become the service, so signals and exit status are its own.
        os.chdir(workdir)
        os.execve(command[0], command, env)  # noqa: S606

    # No Redis configured and no embedded one running (`make run` is not up): bring one along.
    supervisor = Supervisor(Console(prefix=True), workdir)
    supervisor.install_signal_handlers()
    try:
        url = supervisor.start_embedded_redis()
        supervisor.say(f"no Redis running: started the embedded one at {url} for the {name}")
        supervisor.spawn(name, command, env)
    except Exception as error:
        supervisor.say(f"could not start: {error}")
        supervisor.stop_all()
        return 1
    supervisor.start_pumps()
    return supervisor.watch()


def ensure_installed(argv: list[str]) -> None:
    """The same bootstrap as `make install` (a no-op when nothing changed), then continue in
    the project's virtualenv."""
    subprocess.run(["make", "-C", str(ROOT), "--no-print-directory", "install"],
                   check=True)
    if Path(sys.prefix).resolve() != VENV.resolve():
        python = str(VENV / "bin" / "python")
        os.execv(python, [python, str(Path(__file__).resolve()), *argv, "--skip-install"])  # noqa: S606


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-install", action="store_true",
                        help="the virtualenv is ready: do not run `make install` first")
    parser.add_argument("--only", choices=SERVICES,
                        help="run one service alone in the foreground")
    parser.add_argument("--workdir", type=Path, default=ROOT,
                        help="directory whose var/ keeps the SQLite database, the secret key and "
                             "the embedded Redis address (default: the repository)")
    args = parser.parse_args(argv)
    if not args.skip_install:
        try:
            ensure_installed(argv)
        except subprocess.CalledProcessError as error:
            print(f"install failed (exit code {error.returncode})", file=sys.stderr)
            return 1
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    # Settings read var/ relative to the working directory.
    os.chdir(workdir)
    if args.only:
        return run_one(args.only, workdir)
    return run_everything(workdir)


if __name__ == "__main__":
    sys.exit(main())
