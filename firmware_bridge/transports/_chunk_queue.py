"""ChunkQueue: the hand-over from a link's reader thread or callback to ``Transport.read``."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import logging
import threading
import time
from typing import Final

from firmware_bridge.transports.base import (
    ConcurrentReadError,
    StampedChunk,
    Transport,
    joined,
)

__all__ = ["MAX_READ_BYTES", "QUEUE_WARN_BYTES", "ChunkQueue"]

log = logging.getLogger(__name__)

#: Most bytes one read() of a queue-fed transport returns when chunks have queued up.
MAX_READ_BYTES: Final = 64 * 1024
#: Bytes waiting for read() above which a queue-fed transport warns (once) that nobody
#: keeps up with it. Nothing is dropped.
QUEUE_WARN_BYTES: Final = 16 * 1024 * 1024


@dataclasses.dataclass(frozen=True, slots=True)
class _End:
    """Queue marker: the stream has ended, with ``error`` if it failed."""

    error: BaseException | None


class ChunkQueue:
    """Chunks a link received, waiting for :meth:`Transport.read`, then how the stream ended.

    The link calls :meth:`put` for every chunk, from any thread (a reader thread stamps
    and queues each chunk itself), and :meth:`end` when the stream is over; ``read()``
    returns :meth:`get`. The event loop is woken only when a reader is waiting: a consumer
    that reads a live link in batches (sleeping between reads) costs no wake-up per chunk.
    Nothing is ever dropped: when more than :data:`QUEUE_WARN_BYTES` wait, a warning is
    logged once.

    Parameters
    ----------
    owner : Transport
        Whose chunks these are (its ``name`` labels the warning; its ``arrival_s`` is set
        by every :meth:`get_stamped` that returns chunks).
    """

    def __init__(self, owner: Transport) -> None:
        self._owner = owner
        self._items: collections.deque[StampedChunk | _End] = collections.deque()
        self._lock = threading.Lock()  # guards _items, _waiter and queued_bytes
        self._waiter: asyncio.Future[None] | None = None  # set while get_stamped() waits
        self._warned = False
        #: Bytes put and not yet returned by :meth:`get`.
        self.queued_bytes = 0
        #: True once :meth:`get` has returned (or raised) the end of the stream.
        self.ended = False

    def put(self, chunk: bytes, received_s: float | None = None) -> None:
        """Queue ``chunk`` (not empty) for :meth:`get`, received at ``received_s``
        (``time.monotonic()``; default now). Any thread."""
        stamp = time.monotonic() if received_s is None else received_s
        if self._append((chunk, stamp), len(chunk)):
            log.warning(
                "%s: %.1f MiB received and not yet read: the consumer is not keeping up "
                "(nothing is dropped; memory grows until it catches up)",
                self._owner.name,
                self.queued_bytes / 2**20,
            )

    def end(self, error: BaseException | None = None) -> None:
        """End the stream after the chunks queued so far; :meth:`get` then raises ``error``
        (once) or returns b"". Later calls are ignored by :meth:`get`. Any thread."""
        self._append(_End(error), 0)

    def _append(self, item: StampedChunk | _End, size: int) -> bool:
        """Queue ``item`` (``size`` bytes) and wake a waiting reader, under one lock;
        True the first time the bytes waiting pass :data:`QUEUE_WARN_BYTES`."""
        with self._lock:
            self._items.append(item)
            self.queued_bytes += size
            warn = not self._warned and self.queued_bytes > QUEUE_WARN_BYTES
            self._warned |= warn
            waiter, self._waiter = self._waiter, None
        if waiter is None:
            return warn
        loop = waiter.get_loop()
        try:
            on_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            _wake(waiter)
        else:
            with contextlib.suppress(RuntimeError):  # loop closed: nobody reads any more
                loop.call_soon_threadsafe(_wake, waiter)
        return warn

    async def get_stamped(self) -> list[StampedChunk]:
        """The queued chunks as received, each with its reception time; ``[]`` at the end
        of the stream (or its error, once). Same limits as :meth:`get`.

        Raises
        ------
        ConcurrentReadError
            Another reader is waiting (one reader at a time).
        """
        while not self.ended:
            with self._lock:
                if not self._items:
                    if self._waiter is not None:
                        raise ConcurrentReadError(
                            f"{self._owner.name}: read while another read waits; one reader "
                            "per transport"
                        )
                    waiter = self._waiter = asyncio.get_running_loop().create_future()
                else:
                    waiter = None
                    out = self._take()
            if waiter is None:
                if out:
                    self._owner.arrival_s = out[-1][1]
                return out
            try:
                await waiter
            finally:
                with self._lock:
                    if self._waiter is waiter:  # cancelled while waiting
                        self._waiter = None
        return []

    def _take(self) -> list[StampedChunk]:
        """Pop chunks (lock held) up to :data:`MAX_READ_BYTES`, or the end of the stream."""
        items = self._items
        if isinstance(items[0], _End):
            end = items.popleft()
            assert isinstance(end, _End)
            self.ended = True
            self.queued_bytes = 0
            if end.error is not None:
                raise end.error
            return []
        out: list[StampedChunk] = []
        size = 0
        while items and size < MAX_READ_BYTES and not isinstance(items[0], _End):
            item = items.popleft()
            assert not isinstance(item, _End)
            out.append(item)
            size += len(item[0])
        self.queued_bytes -= size
        return out

    async def get(self) -> bytes:
        """Queued chunks joined (>= 1 byte, up to :data:`MAX_READ_BYTES` unless one chunk is
        larger); b"" at the end of the stream, or its error once."""
        return joined(await self.get_stamped())


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
