from __future__ import annotations

import time

import numpy as np
import pytest

from firmware_bridge import SampleBlock, StreamDecoder
from firmware_bridge.errors import TransportError
from firmware_bridge.sim.insole import InsoleSimulator
from firmware_bridge.transports import Transport, TransportEvent, open_transport
from firmware_bridge.transports.capture import CaptureWriter, RecordingTransport, read_capture
from firmware_bridge.transports.replay import ReplayTransport


class ListTransport(Transport):
    """Chunks from a list, with one link event half-way: the smallest live-like source."""

    name = "list"

    def __init__(self, chunks: list[bytes]) -> None:
        super().__init__()
        self.chunks = list(chunks)
        self.i = 0

    async def read(self) -> bytes:
        if self.i == len(self.chunks) // 2:
            self._emit("disconnected", detail="test")
            self._emit("reconnected", gap_s=0.25)
        if self.i >= len(self.chunks):
            return b""
        self.i += 1
        return self.chunks[self.i - 1]

    async def aclose(self) -> None:
        pass


async def test_record_then_replay_gives_the_same_bytes_and_events(tmp_path, walk_left) -> None:
    frames = b"".join(f for _, f in InsoleSimulator(walk_left).frames())
    chunks = [frames[i : i + 37] for i in range(0, len(frames), 37)]
    live_events: list[TransportEvent] = []
    live = ListTransport(chunks)
    live.on_event = live_events.append
    path = tmp_path / "trial.gecap"
    async with RecordingTransport(live, path) as rec:
        got_live = [c async for c in rec]
    assert b"".join(got_live) == frames
    assert [e.kind for e in live_events] == ["disconnected", "reconnected"]

    replay_events: list[TransportEvent] = []
    async with open_transport(f"replay://{path}?speed=1000", on_event=replay_events.append) as r:
        got = [c async for c in r]
    assert got == chunks  # paced: chunk boundaries kept, not only the bytes
    assert replay_events == live_events

    # as fast as possible: the same bytes in bigger chunks, events still between them
    seen: list[object] = []
    async with open_transport(f"replay://{path}", on_event=seen.append) as fast:
        async for c in fast:
            seen.append(c)
    assert [type(x) for x in seen] == [bytes, TransportEvent, TransportEvent, bytes]
    assert seen[0] + seen[3] == frames
    assert seen[0] == b"".join(chunks[: len(chunks) // 2])
    meta, _ = read_capture(path)
    assert meta["source"] == "list"

    decoder = StreamDecoder()
    blocks = [b for c in got for b in decoder.feed(c) if isinstance(b, SampleBlock)]
    np.testing.assert_array_equal(SampleBlock.concat(blocks).seq, walk_left.counter)


async def test_replay_paces_by_recorded_time(tmp_path) -> None:
    path = tmp_path / "paced.gecap"
    w = CaptureWriter(path, source="test")
    t0 = time.monotonic()
    for i in range(5):
        w.write(b"x", host_time_s=t0 + 0.1 * i)
    w.close()
    start = time.monotonic()
    async with ReplayTransport(path, speed=2.0) as r:
        n = len([c async for c in r])
    elapsed = time.monotonic() - start
    assert n == 5
    assert 0.18 <= elapsed < 0.6  # 0.4 s of recording at 2x


def test_torn_last_record_is_ignored(tmp_path) -> None:
    path = tmp_path / "torn.gecap"
    w = CaptureWriter(path, source="test")
    w.write(b"first")
    w.write(b"second")
    w.close()
    data = path.read_bytes()
    path.write_bytes(data[:-3])  # power cut in the middle of the last record
    _, records = read_capture(path)
    assert [p for _, _, p in records] == [b"first"]


def test_capture_is_never_overwritten(tmp_path) -> None:
    path = tmp_path / "a.gecap"
    CaptureWriter(path, source="x").close()
    with pytest.raises(TransportError, match="exists; choose a new name"):
        CaptureWriter(path, source="x")


def test_not_a_capture_is_refused_clearly(tmp_path) -> None:
    path = tmp_path / "nope.gecap"
    path.write_bytes(b"hello")
    with pytest.raises(TransportError, match="not a gaitedge capture"):
        ReplayTransport(path)
    with pytest.raises(ValueError, match="unknown replay option"):
        open_transport(f"replay://{path}?fast=1")
    with pytest.raises(ValueError, match="expected serial, ble or replay"):
        open_transport("usb://x")
