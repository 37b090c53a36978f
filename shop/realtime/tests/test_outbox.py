"""The outbox of one feed client: bounded in messages and in bytes (shop.realtime.outbox)."""

import asyncio

from shop.realtime.outbox import Outbox


def test_the_outbox_is_bounded_in_bytes() -> None:
    async def scenario() -> tuple[
        int, bool, int
    ]:  # (bytes waiting after the puts, overflowed, after one sent)
        # given: a client that reads nothing (its send never returns), 64 messages and 1,000 bytes
        stuck = asyncio.Event()

        async def send(message: dict) -> None:
            await stuck.wait()

        outbox = Outbox(send, limit=64, limit_bytes=1000)
        # when: five 300-byte messages are put at once
        for _ in range(5):
            await outbox.put({"type": "websocket.send", "text": "x" * 300})
        queued, overflowed = outbox.queued_bytes, outbox.overflowed.is_set()
        await asyncio.sleep(0)  # the writer takes the first, and waits on the client
        after_one = outbox.queued_bytes
        outbox.stop()
        return queued, overflowed, after_one

    queued, overflowed, after_one = asyncio.run(scenario())
    # then: three fit in 1,000 bytes, the fourth overflowed; a message taken by the writer no longer counts
    assert (queued, overflowed, after_one) == (900, True, 600)
