"""The server's WebSocket protocol (shop.ops.protocol): uvicorn's websockets-sansio protocol,
subclassed (docs/architecture.md, "Where we lean on private APIs"). These pin what the subclass
takes from uvicorn; shop/realtime/tests/test_slow_client.py is the end-to-end behaviour."""

import asyncio
from typing import Any

import pytest
import uvicorn
from pytest_django.fixtures import Settings
from uvicorn.server import ServerState

from shop.ops.protocol import SlowReaderGuard

UPSTREAM = "uvicorn changed what shop.ops.protocol takes from it ({}); see docs/architecture.md, "
UPSTREAM += '"Where we lean on private APIs".'


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:  # never called
    raise AssertionError


class Transport:
    """The little of asyncio's transport the protocol touches before any traffic."""

    def __init__(self) -> None:
        self.aborted = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("203.0.113.5", 50000), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def abort(self) -> None:
        self.aborted = True

    def is_closing(self) -> bool:
        return self.aborted


def loaded_config() -> uvicorn.Config:
    config = uvicorn.Config(app, ws="shop.ops.protocol:SlowReaderGuard", log_config=None)
    config.load()
    return config


def test_uvicorn_takes_the_guard_by_its_import_string() -> None:
    assert loaded_config().ws_protocol_class is SlowReaderGuard, UPSTREAM.format("Config(ws=import string)")


@pytest.mark.parametrize("resumes", [False, True])
def test_a_connection_paused_past_the_timeout_is_aborted_unless_it_resumes(
    settings: Settings, resumes: bool
) -> None:
    settings.FEED_SEND_TIMEOUT_SECONDS = 0.05

    async def scenario() -> Transport:
        # given: a connection of uvicorn's protocol (its constructor, loop, transport and client)
        config = loaded_config()
        try:
            guard = SlowReaderGuard(config, ServerState(), {}, _loop=asyncio.get_running_loop())
        except TypeError as error:
            pytest.fail(
                UPSTREAM.format(f"WebSocketsSansIOProtocol(config, server_state, app_state): {error}")
            )
        transport = Transport()
        guard.connection_made(transport)  # type: ignore[arg-type]
        assert guard.client == ("203.0.113.5", 50000), UPSTREAM.format("protocol.client")
        assert guard.transport is transport, UPSTREAM.format("protocol.transport")
        # when: asyncio pauses writing (the peer stopped reading), and maybe resumes it in time
        guard.pause_writing()
        if resumes:
            guard.resume_writing()
        await asyncio.sleep(0.3)
        return transport

    # then: a peer that stays paused is aborted; one that drained is kept
    assert asyncio.run(scenario()).aborted is not resumes
