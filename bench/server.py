"""Starts an ASGI app the way production does: `python -m uvicorn app --host 127.0.0.1 --port N`
(one process, no reload, uvicorn's defaults, the app's own logging), here on a free port, with its
output in var/bench-<name>.log."""

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bench.config import PYTHON, ROOT, VAR_DIR


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False


@contextmanager
def serve(name: str, app: str, env: dict[str, str], *, ready_path: str = "/",
          timeout: float = 60.0) -> Iterator[Server]:
    port = free_port()
    VAR_DIR.mkdir(exist_ok=True)
    log_path = VAR_DIR / f"bench-{name}.log"
    with open(log_path, "wb") as log:
        # BENCH_PROFILE=1: the server runs under cProfile, its stats in var/bench-<name>.prof
        # (slower, so only the shape of its time is meaningful, not the figures).
        profile = (["-m", "cProfile", "-o", str(VAR_DIR / f"bench-{name}.prof")]
                   if os.environ.get("BENCH_PROFILE") == "1" else [])
        process = subprocess.Popen(
            [PYTHON, *profile, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    server = Server(name, port, process)
    try:
        deadline = time.monotonic() + timeout
        while not _answers(server.base_url + ready_path):
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}; see {log_path}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not answer within {timeout:.0f} s; see {log_path}")
            time.sleep(0.1)
        yield server
    finally:
        if process.poll() is None:
            # uvicorn re-raises the signal once it has shut down; only SIGINT (a
            # KeyboardInterrupt) lets cProfile still write its stats.
            process.send_signal(signal.SIGINT if profile else signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
