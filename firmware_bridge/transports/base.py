"""The transport contract: an async source of raw bytes from one insole."""

from __future__ import annotations

import abc
import asyncio
import collections
import contextlib
import dataclasses
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any, Final, Literal, Self

__all__ = ["EventCallback", "Transport", "TransportEvent"]

log = logging.getLogger(__name__)

#: Most bytes one read() of a queue-fed transport returns when chunks have queued up.
MAX_READ_BYTES: Final = 64 * 1024
#: Bytes waiting for read() above which a queue-fed transport warns (once) that nobody
#: keeps up with it. Nothing is dropped.
QUEUE_WARN_BYTES: Final = 16 * 1024 * 1024


@dataclasses.dataclass(frozen=True, slots=True)
class TransportEvent:
    """Something that happened to a link, as opposed to bytes it carried.

    Attributes
    ----------
    kind : {"connected", "disconnected", "reconnected", "gave_up"}
        What happened. After "disconnected" the transport is trying to reconnect;
        "reconnected" ends that gap; "gave_up" means read() will return b"" next.
    host_time_s : float
        ``time.monotonic()`` when it happened, s.
    source : str
        The transport's ``name`` (port, address, file).
    gap_s : float
        For "reconnected" and "gave_up": how long the link was down, s; else 0.
    detail : str
        Human-readable reason (the OS or BlueZ error text).
    """

    kind: Literal["connected", "disconnected", "reconnected", "gave_up"]
    host_time_s: float
    source: str
    gap_s: float = 0.0
    detail: str = ""


EventCallback = Callable[[TransportEvent], None]


class Transport(abc.ABC):
    """Async source of raw bytes from one insole.

    The promise (as trio's ``ReceiveStream``): :meth:`read` returns at least one byte, and
    ``b""`` only at the end of the stream (replay file done, reconnection given up, closed).
    Bytes arrive exactly as received: no framing, no decoding. A transport that reconnects
    by itself reports the outage through ``on_event`` and keeps the same object alive, so a
    trial goes on across a reconnect. :meth:`aclose` is idempotent and never raises.

    Parameters
    ----------
    on_event : callable, optional
        Called (on the event loop) with every :class:`TransportEvent`.
    """

    #: Human-readable identity of the link (port path, BLE address, file name).
    name: str = "?"
    #: True for a device link (bytes arrive in real time and queue up while nobody reads);
    #: False for a replay, whose read() paces itself. A consumer may read a live link in
    #: batches (sleeping between reads) without losing anything or its timing.
    live: bool = True

    def __init__(self, *, on_event: EventCallback | None = None) -> None:
        self.on_event = on_event
        #: ``time.monotonic()`` when the newest bytes returned by the last :meth:`read`
        #: were received (by the link's own thread or callback), s; NaN before any read.
        self.arrival_s = math.nan

    @abc.abstractmethod
    async def read(self) -> bytes:
        """Wait for the next chunk of bytes (>= 1 byte); b"" at end of stream."""

    async def read_stamped(self) -> list[tuple[bytes, float]]:
        """Like :meth:`read`, but the chunks as received, each with its reception time
        (``time.monotonic()``): ``[(chunk, received_s), …]``; ``[]`` at the end. A
        consumer reading a live link in batches uses it to keep every chunk's timing."""
        chunk = await self.read()
        return [(chunk, self.arrival_s)] if chunk else []

    @abc.abstractmethod
    async def aclose(self) -> None:
        """Release the device. Idempotent; never raises."""

    def _emit(self, kind: str, *, gap_s: float = 0.0, detail: str = "") -> None:
        event = TransportEvent(kind, time.monotonic(), self.name, gap_s, detail)  # type: ignore[arg-type]
        log.info("%s: %s%s", self.name, kind, f" ({detail})" if detail else "")
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception:  # a consumer's bug must not tear down (or leak) the link
                log.exception("%s: on_event failed; ignored", self.name)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> bytes:
        chunk = await self.read()
        if not chunk:
            raise StopAsyncIteration
        return chunk


def joined(parts: list[tuple[bytes, float]]) -> bytes:
    """The bytes of stamped chunks (:meth:`Transport.read_stamped`), in order; b"" for none."""
    return parts[0][0] if len(parts) == 1 else b"".join(c for c, _ in parts)


def future_failed(fut: asyncio.Future[Any]) -> bool:
    """True if ``fut`` has ended with an error or was cancelled (the error then counts as
    retrieved, so asyncio does not log it as never retrieved)."""
    return fut.done() and (fut.cancelled() or fut.exception() is not None)


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
        Whose chunks these are (its ``name`` labels the warning).
    """

    def __init__(self, owner: Transport) -> None:
        self._owner = owner
        self._items: collections.deque[tuple[bytes, float] | _End] = collections.deque()
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

    def _append(self, item: tuple[bytes, float] | _End, size: int) -> bool:
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

    async def get_stamped(self) -> list[tuple[bytes, float]]:
        """The queued chunks as received, each with its reception time; ``[]`` at the end
        of the stream (or its error, once). Same limits as :meth:`get`. One reader at a
        time (a second one waiting at once is a RuntimeError)."""
        while not self.ended:
            with self._lock:
                if not self._items:
                    if self._waiter is not None:
                        raise RuntimeError(
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

    def _take(self) -> list[tuple[bytes, float]]:
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
        out: list[tuple[bytes, float]] = []
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
