"""The transport contract: an async source of raw bytes from one insole."""

from __future__ import annotations

import abc
import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Literal, Self

__all__ = ["EventCallback", "Transport", "TransportEvent"]

log = logging.getLogger(__name__)


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

    def __init__(self, *, on_event: EventCallback | None = None) -> None:
        self.on_event = on_event

    @abc.abstractmethod
    async def read(self) -> bytes:
        """Wait for the next chunk of bytes (>= 1 byte); b"" at end of stream."""

    @abc.abstractmethod
    async def aclose(self) -> None:
        """Release the device. Idempotent; never raises."""

    def _emit(self, kind: str, *, gap_s: float = 0.0, detail: str = "") -> None:
        event = TransportEvent(kind, time.monotonic(), self.name, gap_s, detail)  # type: ignore[arg-type]
        log.info("%s: %s%s", self.name, kind, f" ({detail})" if detail else "")
        if self.on_event is not None:
            self.on_event(event)

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
