"""Raw captures (``.gecap``): exactly the bytes a link delivered, with host receive times.

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

import dataclasses
import datetime as dt
import json
import os
import struct
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any, BinaryIO, Final

from firmware_bridge.errors import TransportError
from firmware_bridge.transports.base import (
    StampedChunk,
    Transport,
    TransportEvent,
    joined,
)

__all__ = ["CaptureWriter", "RecordingTransport", "read_capture"]

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
) -> tuple[dict[str, Any], Generator[tuple[float, int, bytes], None, None]]:
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

    def records() -> Generator[tuple[float, int, bytes], None, None]:
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


class RecordingTransport(Transport):
    """Wrap a transport and write everything it delivers, and its link events, to a capture.

    Parameters
    ----------
    inner : Transport
        The link to record; its ``on_event`` is still called, after the event is written.
    path : path-like
        The capture file to create (see :class:`CaptureWriter`).
    """

    def __init__(self, inner: Transport, path: str | os.PathLike[str]) -> None:
        super().__init__(on_event=inner.on_event)
        self.inner = inner
        self.live = inner.live
        self.name = inner.name
        self.capture = CaptureWriter(path, source=inner.name)
        self._closed = False
        inner.on_event = self._on_inner_event

    def _on_inner_event(self, event: TransportEvent) -> None:
        self.capture.event(event)
        if self.on_event is not None:
            self.on_event(event)

    async def read(self) -> bytes:
        """The inner transport's next bytes, once written to the capture; b"" at the end."""
        return joined(await self.read_stamped())

    async def read_stamped(self) -> list[StampedChunk]:
        """The inner transport's stamped chunks, written to the capture with their stamps."""
        with self._reading():
            if self._closed:
                return []
            parts = await self.inner.read_stamped()
            if self._closed:  # closed while waiting: the capture is complete
                return []
        self.arrival_s = self.inner.arrival_s
        for chunk, received in parts:  # stamped when the link received it, not when read
            self.capture.write(chunk, received if received == received else None)
        return parts

    async def aclose(self) -> None:
        """Close the inner transport and the capture. Idempotent."""
        self._closed = True
        try:
            await self.inner.aclose()
        finally:
            self.capture.close()
