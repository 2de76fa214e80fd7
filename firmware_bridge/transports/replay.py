"""Playing a raw capture (:mod:`.capture`) back as a transport."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

from firmware_bridge.transports.base import EventCallback, Transport, TransportEvent
from firmware_bridge.transports.capture import KIND_EVENT, read_capture

__all__ = ["ReplayTransport"]


class ReplayTransport(Transport):
    """Play a capture back: at its recorded pace (``speed=1``), N× faster, or as fast as
    possible (``speed=None``). Recorded link events are re-emitted through ``on_event``,
    in their place between the bytes. Not ``live``: ``arrival_s`` is when read() returns.

    Paced, each read() returns one chunk as it was received. As fast as possible, read()
    returns everything up to the next event (at most ``max_chunk`` bytes), as a live port
    returns all that is waiting: the bytes are the same, and a capture of 20-byte BLE
    notifications decodes 3x faster than chunk by chunk.
    """

    #: Largest chunk read() returns when not paced, bytes.
    max_chunk: int = 1 << 16

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        speed: float | None = None,
        on_event: EventCallback | None = None,
    ) -> None:
        super().__init__(on_event=on_event)
        if speed is not None and speed <= 0:
            raise ValueError(f"speed={speed!r}; must be > 0, or None for as fast as possible")
        self.path = Path(path)
        self.name = self.path.name
        self.speed = speed
        self.meta, self._records = read_capture(self.path)
        self._start: float | None = None
        self._held: bytes | None = None
        self._closed = False

    live = False

    async def read(self) -> bytes:
        """The next chunk (>= 1 byte); b"" at the end of the capture and once closed.

        Raises
        ------
        ConcurrentReadError
            Another read is waiting.
        """
        with self._reading():
            chunk = await self._read()
        self.arrival_s = time.monotonic()
        return b"" if self._closed else chunk

    async def _read(self) -> bytes:
        if self._closed:
            return b""
        if self._start is None:
            self._start = time.monotonic()
        if self._held is not None:  # an event that ended the previous batch
            self._event(self._held)
            self._held = None
        batch: list[bytes] = []
        size = 0
        for t, kind, payload in self._records:
            if self.speed is not None:
                delay = self._start + t / self.speed - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            if kind == KIND_EVENT:
                if batch:
                    self._held = payload
                    return b"".join(batch)
                self._event(payload)
            elif payload:
                if self.speed is not None:
                    return payload
                batch.append(payload)
                size += len(payload)
                if size >= self.max_chunk:
                    return b"".join(batch)
        if batch:
            return b"".join(batch)
        await self.aclose()
        return b""

    def _event(self, payload: bytes) -> None:
        if self.on_event is not None:
            self.on_event(TransportEvent(**json.loads(payload)))

    async def aclose(self) -> None:
        """Close the capture file. Idempotent; never raises."""
        if not self._closed:
            self._closed = True
            self._records.close()
