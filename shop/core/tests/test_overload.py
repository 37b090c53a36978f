"""Overload is shed, not queued without end (shop.core.asgi_http): a bounded queue in front of
the web threads, requests of clients that left dropped unrun, the probes on a lane of their own."""

import asyncio
import threading
from typing import Any

from shop.core.asgi_http import BUSY, SyncHttp


def scope(path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": b"",
        "http_version": "1.1",
        "headers": [],
    }


class Client:
    """One request's ASGI side: its (empty) body, then a disconnect when ``leave`` is set."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.leave = asyncio.Event()
        self._asked = False

    async def receive(self) -> dict[str, Any]:
        if not self._asked:
            self._asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.leave.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int | None:
        return next((m["status"] for m in self.sent if m["type"] == "http.response.start"), None)


def test_a_full_queue_sheds_at_once_the_probes_still_answer_and_a_gone_client_is_not_served() -> None:
    release = threading.Event()
    ran: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        ran.append(environ["PATH_INFO"])
        if environ["PATH_INFO"] != "/healthz":
            release.wait(10)  # a slow request: it holds the one thread
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]

    async def scenario() -> dict[str, Any]:
        # given: one thread and room for one request to wait
        http = SyncHttp(app, threads=1, queue=1)
        running, waiting, shed = Client(), Client(), Client()
        first = asyncio.create_task(http(scope("/slow/1"), running.receive, running.send))
        second = asyncio.create_task(http(scope("/slow/2"), waiting.receive, waiting.send))
        await asyncio.sleep(0.2)
        # when: a third request comes, and the probe, while both are taken
        await asyncio.wait_for(http(scope("/slow/3"), shed.receive, shed.send), 1)
        probe = Client()
        await asyncio.wait_for(http(scope("/healthz"), probe.receive, probe.send), 5)
        # and the waiting request's client leaves before a thread is free
        waiting.leave.set()
        await asyncio.sleep(0.1)
        release.set()
        await asyncio.wait_for(asyncio.gather(first, second), 10)
        return {"shed": shed, "probe": probe, "running": running, "waiting": waiting}

    clients = asyncio.run(scenario())
    # then: the third was refused at once with 503, Retry-After and the JSON error; the probe
    # answered while the thread was busy; the request whose client left never ran
    shed = clients["shed"]
    assert shed.status == 503
    assert (b"retry-after", b"1") in shed.sent[0]["headers"]
    assert BUSY.encode() in shed.sent[1]["body"]
    assert clients["probe"].status == 200
    assert clients["running"].status == 200
    assert clients["waiting"].sent == []
    assert ran == ["/slow/1", "/healthz"]
