"""A small HTTP/1.1 load generator on asyncio streams (keep-alive, no dependencies)."""

import asyncio
import json
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        """Successful (2xx) answers a second: a setup that fails fast must not look fast."""
        ok = sum(n for status, n in self.statuses.items() if 200 <= status < 300)
        return ok / self.seconds if self.seconds else 0.0


async def _worker(
    url: str, method: str, headers: dict[str, str], body: bytes, deadline: float, result: LoadResult
) -> None:
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    head = f"{method} {path} HTTP/1.1\r\nHost: {parts.hostname}\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    request = head.encode() + body
    try:
        while time.monotonic() < deadline:
            start = time.perf_counter()
            writer.write(request)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            result.latencies.append(time.perf_counter() - start)
            status = int(status_line.split()[1])
            result.statuses[status] = result.statuses.get(status, 0) + 1
    finally:
        writer.close()


async def _run(
    url: str, method: str, headers: dict[str, str], bodies: list[bytes], seconds: float, concurrency: int
) -> LoadResult:
    result = LoadResult()
    start = time.monotonic()
    deadline = start + seconds
    await asyncio.gather(
        *(
            _worker(url, method, headers, bodies[n % len(bodies)], deadline, result)
            for n in range(concurrency)
        )
    )
    result.seconds = time.monotonic() - start
    return result


def load(
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    json_body: object = None,
    json_bodies: list[object] | None = None,
    seconds: float = 10.0,
    concurrency: int = 16,
) -> LoadResult:
    """``json_bodies``: one body per client connection, in turn (client n sends body n mod count)."""
    given = json_bodies if json_bodies is not None else [json_body]
    bodies = [json.dumps(body).encode() if body is not None else b"" for body in given]
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    return asyncio.run(_run(url, method, all_headers, bodies, seconds, concurrency))


def merged(*results: LoadResult) -> LoadResult:
    """Several runs as one: their requests over their summed time."""
    total = LoadResult()
    for result in results:
        total.latencies += result.latencies
        total.seconds += result.seconds
        for status, count in result.statuses.items():
            total.statuses[status] = total.statuses.get(status, 0) + count
    return total
