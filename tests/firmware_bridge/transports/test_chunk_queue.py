"""ChunkQueue: the hand-over from a link's thread or callback to ``Transport.read``."""

from __future__ import annotations

import asyncio
import threading

import pytest

from firmware_bridge.transports import _chunk_queue
from firmware_bridge.transports._chunk_queue import ChunkQueue
from firmware_bridge.transports.base import Transport


class _Link(Transport):
    """The smallest queue-fed link."""

    name = "test"

    def __init__(self) -> None:
        super().__init__()
        self.chunks = ChunkQueue(self)

    async def read(self) -> bytes:
        return await self.chunks.get()

    async def aclose(self) -> None:
        pass


def _queue() -> ChunkQueue:
    return _Link().chunks


async def test_a_thread_queues_without_waking_the_loop_unless_a_reader_waits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loop = asyncio.get_running_loop()
    wakes = []
    real = loop.call_soon_threadsafe
    monkeypatch.setattr(loop, "call_soon_threadsafe", lambda *a: wakes.append(a) or real(*a))
    q = _queue()

    def put(n: int, first: int) -> None:
        for i in range(first, first + n):
            q.put(bytes([i]), 100.0 + i)

    t = threading.Thread(target=put, args=(10, 0))  # nobody reads: no wake-up
    t.start()
    t.join()
    assert wakes == []
    got = await q.get_stamped()
    assert got == [(bytes([i]), 100.0 + i) for i in range(10)]  # in order, stamps kept
    assert q._owner.arrival_s == 109.0

    reader = asyncio.create_task(q.get_stamped())  # now a reader waits: one wake-up
    await asyncio.sleep(0.01)
    t = threading.Thread(target=put, args=(3, 20))
    t.start()
    got = await asyncio.wait_for(reader, 2.0)
    t.join()
    assert len(wakes) == 1
    rest = [] if len(got) == 3 else await q.get_stamped()  # the thread may still be putting
    assert [c for c, _ in got + rest] == [bytes([20]), bytes([21]), bytes([22])]


async def test_the_end_comes_after_every_chunk_and_an_error_once() -> None:
    q = _queue()
    q.put(b"a", 1.0)
    q.put(b"b", 2.0)
    q.end(OSError("unplugged"))
    q.put(b"late", 3.0)  # after the end: never read
    assert await q.get() == b"ab"
    with pytest.raises(OSError, match="unplugged"):
        await q.get()
    assert await q.get() == b""
    assert q.ended and q.queued_bytes == 0


async def test_a_cancelled_reader_leaves_the_queue_usable() -> None:
    q = _queue()
    reader = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader
    q.put(b"x")
    assert await asyncio.wait_for(q.get(), 1.0) == b"x"


async def test_reads_are_capped_and_a_backlog_warns_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(_chunk_queue, "QUEUE_WARN_BYTES", 10_000)
    q = _queue()
    for _ in range(40):
        q.put(b"x" * 4096)
    warnings = [r for r in caplog.records if "not keeping up" in r.getMessage()]
    assert len(warnings) == 1
    sizes = []
    while q.queued_bytes:
        sizes.append(len(await q.get()))
    assert sum(sizes) == 40 * 4096 and max(sizes) <= _chunk_queue.MAX_READ_BYTES


async def test_one_reader_at_a_time() -> None:
    q = _queue()
    first = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="one reader"):
        await q.get()
    q.put(b"x")
    assert await asyncio.wait_for(first, 1.0) == b"x"
