"""Raw captures: exactly the bytes a link delivered, with host receive times, and their replay.

File format (``.gecap``, little-endian)::

    b"GECAP1\\n"                       magic and format version
    one line of JSON + b"\\n"          metadata: source, started (ISO 8601 UTC), gaitedge version
    records until the end of file:
        f64  t_s     host monotonic time since the capture started, s
        u8   kind    0 = bytes as received, 1 = a TransportEvent as JSON
        u32  n       length of what follows
        n bytes

A record is written whole or not at all, and the file is flushed at least every
``flush_every_s``: a power cut loses at most that much, and a reader stops quietly at a
torn last record.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import os
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Final

from firmware_bridge.errors import TransportError
from firmware_bridge.transports.base import EventCallback, Transport, TransportEvent, joined

__all__ = ["CaptureWriter", "RecordingTransport", "ReplayTransport", "read_capture"]

MAGIC: Final = b"GECAP1\n"
_RECORD: Final = struct.Struct("<dBI")
KIND_DATA: Final = 0
KIND_EVENT: Final = 1


class CaptureWriter:
    """Append received chunks and link events to a capture file.

    Parameters
    ----------
    path : path-like
        File to create (an existing file is refused, so nothing is overwritten).
    source : str
        What the bytes came from (transport URL or name), stored in the header.
    flush_every_s : float
        Longest time a written chunk stays in the process's buffer, s.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, source: str, flush_every_s: float = 1.0
    ) -> None:
        self.path = Path(path)
        self.flush_every_s = flush_every_s
        try:
            self._f: BinaryIO | None = open(self.path, "xb")  # noqa: SIM115 (closed in close())
        except FileExistsError:
            raise TransportError(
                f"capture file {self.path} exists; choose a new name "
                "(captures are never overwritten)"
            ) from None
        meta = {
            "source": source,
            "started": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            "gaitedge": _version(),
        }
        self._f.write(MAGIC + json.dumps(meta).encode() + b"\n")
        self._t0 = time.monotonic()
        self._last_flush = self._t0
        self.bytes_written = 0

    def write(self, chunk: bytes, host_time_s: float | None = None) -> None:
        """Record ``chunk`` as received at ``host_time_s`` (time.monotonic(); default now)."""
        self._record(KIND_DATA, chunk, host_time_s)
        self.bytes_written += len(chunk)

    def event(self, event: TransportEvent) -> None:
        """Record a link event (disconnect, reconnect...)."""
        payload = json.dumps(dataclasses.asdict(event)).encode()
        self._record(KIND_EVENT, payload, event.host_time_s)

    def _record(self, kind: int, payload: bytes, host_time_s: float | None) -> None:
        if self._f is None:
            raise ValueError(f"capture {self.path} is closed")
        now = time.monotonic()
        t = (now if host_time_s is None else host_time_s) - self._t0
        self._f.write(_RECORD.pack(t, kind, len(payload)) + payload)
        if now - self._last_flush >= self.flush_every_s:
            self._f.flush()
            self._last_flush = now

    def close(self) -> None:
        """Flush and close; idempotent."""
        if self._f is not None:
            self._f.close()
            self._f = None


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("gaitedge")
    except Exception:  # not installed (running from a source tree)
        return "unknown"


def read_capture(
    path: str | os.PathLike[str],
) -> tuple[dict[str, Any], Iterator[tuple[float, int, bytes]]]:
    """Open a capture: its metadata and an iterator of (t_s, kind, payload) records.

    The iterator opens the file when first advanced and closes it when done or closed.
    It stops at a torn last record (the capture was cut by a power loss or kill).
    Raises TransportError if the file cannot be read or is not a capture.
    """
    p = Path(path)
    try:
        with open(p, "rb") as f:
            magic, header = f.read(len(MAGIC)), f.readline()
            start = f.tell()
    except OSError as e:
        raise TransportError(f"cannot read capture {p}: {e.strerror}") from None
    if magic != MAGIC:
        raise TransportError(f"{p} is not a gaitedge capture (no GECAP1 header)")
    try:
        meta = json.loads(header)
    except ValueError:
        raise TransportError(f"{p}: capture header is damaged") from None

    def records() -> Iterator[tuple[float, int, bytes]]:
        with open(p, "rb") as f:
            f.seek(start)
            while True:
                head = f.read(_RECORD.size)
                if len(head) < _RECORD.size:
                    return
                t, kind, n = _RECORD.unpack(head)
                payload = f.read(n)
                if len(payload) < n:
                    return
                yield t, kind, payload

    return meta, records()


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
        chunk = await self._read()
        self.arrival_s = time.monotonic()
        return chunk

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
        if not self._closed:
            self._closed = True
            self._records.close()  # type: ignore[attr-defined]


class RecordingTransport(Transport):
    """Wrap a live transport and write everything it delivers to a capture file."""

    def __init__(self, inner: Transport, path: str | os.PathLike[str]) -> None:
        super().__init__(on_event=inner.on_event)
        self.inner = inner
        self.live = inner.live
        self.name = inner.name
        self.capture = CaptureWriter(path, source=inner.name)
        inner.on_event = self._on_inner_event

    def _on_inner_event(self, event: TransportEvent) -> None:
        self.capture.event(event)
        if self.on_event is not None:
            self.on_event(event)

    async def read(self) -> bytes:
        return joined(await self.read_stamped())

    async def read_stamped(self) -> list[tuple[bytes, float]]:
        parts = await self.inner.read_stamped()
        self.arrival_s = self.inner.arrival_s
        for chunk, received in parts:  # stamped when the link received it, not when read
            self.capture.write(chunk, received if received == received else None)
        return parts

    async def aclose(self) -> None:
        try:
            await self.inner.aclose()
        finally:
            self.capture.close()
