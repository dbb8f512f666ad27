"""A closed-loop HTTP/1.1 load generator in separate processes from the server under test.

Each process runs uvloop with its share of keep-alive connections; each connection sends a
request, waits for the whole response, records its latency and sends the next (closed loop, as a
client that waits for its answer does). The raw protocol keeps the client's own cost per request
to a few microseconds, so the server, not the generator, is what saturates. Baseline and target
are measured by this same code with the same settings."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from dataclasses import dataclass, field
from multiprocessing.synchronize import Barrier


@dataclass
class LoadResult:
    duration: float
    responses: int = 0  # completed inside the measuring window
    sent: int = 0  # all requests sent, warm-up included
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    error_samples: list[str] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.responses / self.duration if self.duration else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    def merge(self, other: LoadResult) -> None:
        self.responses += other.responses
        self.sent += other.sent
        self.errors += other.errors
        for status, count in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + count
        self.latencies_ms.extend(other.latencies_ms)
        self.error_samples.extend(other.error_samples[:5 - len(self.error_samples)])


class _Window:
    """When responses count: after the warm-up, for `duration` seconds."""

    def __init__(self, warmup: float, duration: float) -> None:
        self.begin = time.monotonic() + warmup
        self.end = self.begin + duration


class _Connection(asyncio.Protocol):
    def __init__(self, requests: list[bytes], offset: int, window: _Window, result: LoadResult,
                 done: asyncio.Future) -> None:
        self.requests = requests
        self.next_index = offset
        self.window = window
        self.result = result
        self.done = done
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.sent_at = 0.0
        self.body_length: int | None = None  # of the response being read; None: headers pending
        self.chunked = False
        self.header_end = 0
        self.status = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._send()

    def _send(self) -> None:
        request = self.requests[self.next_index % len(self.requests)]
        self.next_index += 1
        self.sent_at = time.monotonic()
        self.result.sent += 1
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buffer.extend(data)
        while self._parse():
            pass

    def _parse(self) -> bool:
        """Consumes one complete response from the buffer if there is one."""
        if self.body_length is None and not self.chunked:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return False
            head = bytes(self.buffer[:end]).decode("latin-1").lower()
            self.status = int(head[9:12])
            self.header_end = end + 4
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name == "content-length":
                    self.body_length = int(value)
                elif name == "transfer-encoding" and "chunked" in value:
                    self.chunked = True
            if self.body_length is None and not self.chunked:
                self.body_length = 0
        if self.chunked:
            end = self.buffer.find(b"\r\n0\r\n\r\n", self.header_end - 2)
            if end < 0:
                return False
            consumed = end + 7
        else:
            consumed = self.header_end + self.body_length
            if len(self.buffer) < consumed:
                return False
        body = bytes(self.buffer[self.header_end:consumed])
        del self.buffer[:consumed]
        self.body_length = None
        self.chunked = False
        self._completed(body)
        return True

    def _completed(self, body: bytes) -> None:
        now = time.monotonic()
        result = self.result
        if self.window.begin <= now <= self.window.end:
            result.responses += 1
            result.statuses[self.status] = result.statuses.get(self.status, 0) + 1
            result.latencies_ms.append((now - self.sent_at) * 1000)
            if not 200 <= self.status < 300:
                result.errors += 1
                if len(result.error_samples) < 5:
                    result.error_samples.append(f"{self.status} {body[:200]!r}")
        if now > self.window.end:
            self.transport.close()
        else:
            self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        if time.monotonic() < self.window.end:
            self.result.errors += 1
            if len(self.result.error_samples) < 5:
                self.result.error_samples.append(f"connection lost: {exc!r}")
        if not self.done.done():
            self.done.set_result(None)


async def _drive(host: str, port: int, requests: list[bytes], connections: int, first: int,
                 warmup: float, duration: float, barrier: Barrier) -> LoadResult:
    loop = asyncio.get_running_loop()
    # Every process is up and imported before any of them starts: the window is common.
    await asyncio.to_thread(barrier.wait)
    window = _Window(warmup, duration)
    result = LoadResult(duration=duration)
    waits = []
    for i in range(connections):
        done = loop.create_future()
        offset = (first + i) * 7919  # spread the connections over the request list
        await loop.create_connection(
            lambda done=done, offset=offset: _Connection(requests, offset, window, result, done),
            host, port)
        waits.append(done)
    try:
        await asyncio.wait_for(asyncio.gather(*waits), timeout=warmup + duration + 30)
    except TimeoutError:
        result.errors += 1
        result.error_samples.append("connections still open 30 s after the window")
    return result


def _process_main(host: str, port: int, requests: list[bytes], connections: int, first: int,
                  warmup: float, duration: float, barrier: Barrier, queue) -> None:
    import uvloop

    result = uvloop.run(_drive(host, port, requests, connections, first, warmup, duration,
                               barrier))
    queue.put(result)


def run_load(host: str, port: int, requests: list[bytes], *, connections: int, processes: int,
             duration: float, warmup: float = 2.0) -> LoadResult:
    """`connections` keep-alive clients over `processes` processes for `duration` seconds after
    `warmup`; requests cycle through `requests` (complete raw HTTP/1.1 requests)."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    queue = context.Queue()
    per_process = [connections // processes + (1 if i < connections % processes else 0)
                   for i in range(processes)]
    workers = []
    first = 0
    for count in per_process:
        worker = context.Process(target=_process_main, daemon=True,
                                 args=(host, port, requests, count, first, warmup, duration,
                                       barrier, queue))
        worker.start()
        workers.append(worker)
        first += count
    total = LoadResult(duration=duration)
    for _ in workers:
        total.merge(queue.get(timeout=warmup + duration + 120))
    for worker in workers:
        worker.join(timeout=10)
    return total


def get_request(path: str, host: str, port: int, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Accept: application/json"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
