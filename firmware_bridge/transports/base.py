"""The transport contract: an async source of raw bytes from one insole."""

from __future__ import annotations

import abc
import asyncio
import contextlib
import dataclasses
import logging
import math
import time
from collections.abc import Callable, Iterator
from typing import Any, Literal, Self, TypeAlias

from firmware_bridge.errors import GaitedgeError

__all__ = [
    "ConcurrentReadError",
    "EventCallback",
    "EventKind",
    "StampedChunk",
    "Transport",
    "TransportEvent",
    "future_failed",
    "joined",
]

log = logging.getLogger(__name__)

#: What happened to a link (see :class:`TransportEvent`).
EventKind: TypeAlias = Literal["connected", "disconnected", "reconnected", "gave_up"]

#: One chunk as the link received it: ``(bytes, received_s)``, ``received_s`` being
#: ``time.monotonic()`` at reception, s (NaN from a link that does not stamp).
StampedChunk: TypeAlias = tuple[bytes, float]


class ConcurrentReadError(GaitedgeError, RuntimeError):
    """A read was started while another read of the same transport was still waiting."""


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

    kind: EventKind
    host_time_s: float
    source: str
    gap_s: float = 0.0
    detail: str = ""


EventCallback = Callable[[TransportEvent], None]


class Transport(abc.ABC):
    """Async source of raw bytes from one insole.

    The promise (as trio's ``ReceiveStream``):

    * :meth:`read` returns at least one byte, and ``b""`` only at the end of the stream
      (replay file done, reconnection given up, closed), and again at every later call;
    * one reader at a time: a read started while another waits raises
      :class:`ConcurrentReadError`;
    * :meth:`aclose` is idempotent and never raises; a read after it (or waiting when it
      is called) returns ``b""``.

    Bytes arrive exactly as received: no framing, no decoding. A transport that reconnects
    by itself reports the outage through ``on_event`` and keeps the same object alive, so a
    trial goes on across a reconnect.

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
    #: True while a read holds :meth:`_reading`.
    _read_busy: bool = False

    def __init__(self, *, on_event: EventCallback | None = None) -> None:
        self.on_event = on_event
        #: ``time.monotonic()`` when the newest bytes returned by the last :meth:`read`
        #: were received (by the link's own thread or callback), s; NaN before any read.
        self.arrival_s = math.nan

    @abc.abstractmethod
    async def read(self) -> bytes:
        """Wait for the next chunk of bytes (>= 1 byte); b"" at end of stream."""

    async def read_stamped(self) -> list[StampedChunk]:
        """Like :meth:`read`, but the chunks as received, each with its reception time
        (``time.monotonic()``); ``[]`` at the end. A consumer reading a live link in
        batches uses it to keep every chunk's timing."""
        chunk = await self.read()
        return [(chunk, self.arrival_s)] if chunk else []

    @abc.abstractmethod
    async def aclose(self) -> None:
        """Release the device. Idempotent; never raises."""

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """Hold the transport's one read slot for the duration of a read.

        Raises
        ------
        ConcurrentReadError
            Another read holds it.
        """
        if self._read_busy:
            raise ConcurrentReadError(
                f"{self.name}: read while another read waits; one reader per transport"
            )
        self._read_busy = True
        try:
            yield
        finally:
            self._read_busy = False

    def _emit(self, kind: EventKind, *, gap_s: float = 0.0, detail: str = "") -> None:
        event = TransportEvent(kind, time.monotonic(), self.name, gap_s, detail)
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


def joined(parts: list[StampedChunk]) -> bytes:
    """The bytes of stamped chunks (:meth:`Transport.read_stamped`), in order; b"" for none."""
    return parts[0][0] if len(parts) == 1 else b"".join(c for c, _ in parts)


def future_failed(fut: asyncio.Future[Any]) -> bool:
    """True if ``fut`` has ended with an error or was cancelled (the error then counts as
    retrieved, so asyncio does not log it as never retrieved)."""
    return fut.done() and (fut.cancelled() or fut.exception() is not None)
