"""The transport contract, checked once and run on every transport (as trio's
``check_one_way_stream``): serial on a real pty, BLE on the simulated radio, a replay of
a capture, and the capture-recording wrapper around a serial link.

Each subclass says how to make a :class:`Link`: a transport that will deliver
:data:`PAYLOAD` once ``send()`` is called, and whose stream ends when ``end()`` is
called (an unplug or a drop with no reconnect budget; a capture simply runs out).
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import time
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path

import pytest

from firmware_bridge.sim.ble_radio import SimRadio
from firmware_bridge.transports import ConcurrentReadError, Transport
from firmware_bridge.transports.ble import BleTransport
from firmware_bridge.transports.capture import CaptureWriter, RecordingTransport, read_capture
from firmware_bridge.transports.replay import ReplayTransport
from firmware_bridge.transports.serial_port import SerialTransport
from tests.firmware_bridge.transports.pseudo_tty import Pty

#: What every link delivers: every byte value, 16 times (4 KiB).
PAYLOAD = bytes(range(256)) * 16
#: The payload as the link's far end sends it.
CHUNKS = [PAYLOAD[i : i + 64] for i in range(0, len(PAYLOAD), 64)]
#: Longest any one step of a test may take, s.
STEP_S = 2.0


@dataclasses.dataclass
class Link:
    """A transport under test, and the far end's two moves."""

    transport: Transport
    #: Start delivering :data:`PAYLOAD` (a replay has it recorded: nothing to do).
    send: Callable[[], None]
    #: End the stream; called once the whole payload has been read.
    end: Callable[[], None]


def _nothing() -> None:
    pass


async def read_all(t: Transport, n: int) -> bytes:
    """Read ``n`` bytes, checking that no read returns b"" before they are in."""
    got = bytearray()
    async with asyncio.timeout(STEP_S):
        while len(got) < n:
            chunk = await t.read()
            assert chunk, f"read() returned b'' after {len(got)} of {n} bytes"
            got += chunk
    return bytes(got)


async def read_once(t: Transport) -> bytes:
    return await asyncio.wait_for(t.read(), STEP_S)


class TransportContract:
    """The promise of :class:`~firmware_bridge.transports.Transport`; subclasses provide
    the ``link`` fixture."""

    async def test_reads_return_bytes_then_end_of_stream_for_good(self, link: Link) -> None:
        t = link.transport
        link.send()
        assert await read_all(t, len(PAYLOAD)) == PAYLOAD
        link.end()
        assert await read_once(t) == b""
        assert await read_once(t) == b""  # and again after the end
        await t.aclose()

    async def test_read_stamped_returns_chunks_as_received_then_nothing(self, link: Link) -> None:
        t = link.transport
        link.send()
        got = bytearray()
        async with asyncio.timeout(STEP_S):
            while len(got) < len(PAYLOAD):
                parts = await t.read_stamped()
                assert parts, f"read_stamped() returned [] after {len(got)} bytes"
                for chunk, received_s in parts:
                    assert chunk and math.isfinite(received_s)
                    assert received_s <= time.monotonic()
                    got += chunk
        assert got == PAYLOAD
        link.end()
        assert await asyncio.wait_for(t.read_stamped(), STEP_S) == []
        await t.aclose()

    async def test_a_second_concurrent_read_is_refused_by_name(self, link: Link) -> None:
        t = link.transport
        first = asyncio.create_task(t.read())
        await asyncio.sleep(0.05)
        assert not first.done()
        with pytest.raises(ConcurrentReadError, match="one reader per transport"):
            await t.read()
        with pytest.raises(ConcurrentReadError):
            await t.read_stamped()
        link.send()
        chunk = await asyncio.wait_for(first, STEP_S)  # the first reader is unharmed
        assert chunk and PAYLOAD.startswith(chunk)
        assert await read_all(t, len(PAYLOAD) - len(chunk)) == PAYLOAD[len(chunk) :]
        await t.aclose()

    async def test_aclose_is_idempotent_and_reads_after_it_are_end_of_stream(
        self, link: Link
    ) -> None:
        t = link.transport
        link.send()
        assert await read_once(t)
        await t.aclose()
        await t.aclose()
        assert await read_once(t) == b""
        assert await asyncio.wait_for(t.read_stamped(), STEP_S) == []
        assert await read_once(t) == b""

    async def test_aclose_ends_a_pending_read(self, link: Link) -> None:
        t = link.transport
        pending = asyncio.create_task(t.read())
        await asyncio.sleep(0.05)
        await t.aclose()
        assert await asyncio.wait_for(pending, STEP_S) == b""
        assert await read_once(t) == b""

    async def test_aclose_before_any_read(self, link: Link) -> None:
        t = link.transport
        await t.aclose()
        assert await read_once(t) == b""
        await t.aclose()


# ---------------------------------------------------------------------- serial on a pty


def _serial_link(pty: Pty, wrap: Callable[[Transport], Transport] = lambda t: t) -> Link:
    inner = SerialTransport(pty.path, reconnect_budget_s=0)
    return Link(wrap(inner), lambda: pty.write(PAYLOAD), pty.unplug)


class TestSerialTransport(TransportContract):
    @pytest.fixture
    async def link(self) -> AsyncIterator[Link]:
        pty = Pty()
        link = _serial_link(pty)
        yield link
        await link.transport.aclose()
        pty.unplug()


# ---------------------------------------------------------------------- BLE on the sim radio

ADDRESS = "C0:FF:EE:00:00:A1"


async def _gated(go: asyncio.Event, chunks: Iterable[bytes]) -> AsyncIterator[bytes]:
    """A peripheral's byte source that starts when ``go`` is set."""
    await go.wait()
    for chunk in chunks:
        await asyncio.sleep(0.001)
        yield chunk


class TestBleTransport(TransportContract):
    @pytest.fixture
    async def link(self) -> AsyncIterator[Link]:
        go = asyncio.Event()
        async with SimRadio() as radio:
            radio.add_insole(ADDRESS, "GaitEdge-L-00A1", _gated(go, CHUNKS))
            t = BleTransport(
                ADDRESS,
                backend=radio.backend,
                reconnect_budget_s=0,
                retry_initial_s=0.05,
                retry_max_s=0.05,
            )
            yield Link(t, go.set, lambda: radio.drop_link(ADDRESS, 10.0))
            await t.aclose()


# ---------------------------------------------------------------------- replay of a capture


def _capture(path: Path, delay_s: float) -> Path:
    """A capture of :data:`CHUNKS`, the first one ``delay_s`` s in, the rest at once."""
    w = CaptureWriter(path, source="contract")
    t0 = time.monotonic()
    for chunk in CHUNKS:
        w.write(chunk, host_time_s=t0 + delay_s)
    w.close()
    return path


class TestReplayTransport(TransportContract):
    @pytest.fixture
    async def link(self, tmp_path: Path) -> AsyncIterator[Link]:
        # paced (speed=1) so that the first read waits, as a live link's does
        t = ReplayTransport(_capture(tmp_path / "contract.gecap", 0.2), speed=1.0)
        yield Link(t, _nothing, _nothing)
        await t.aclose()


# ---------------------------------------------------------------------- recording a live link


class TestRecordingTransport(TransportContract):
    @pytest.fixture
    async def link(self, tmp_path: Path) -> AsyncIterator[Link]:
        pty = Pty()
        self.path = tmp_path / "recorded.gecap"
        link = _serial_link(pty, lambda inner: RecordingTransport(inner, self.path))
        yield link
        await link.transport.aclose()
        pty.unplug()

    async def test_the_capture_holds_what_was_read_and_the_link_events(self, link: Link) -> None:
        await self.test_reads_return_bytes_then_end_of_stream_for_good(link)
        meta, records = read_capture(self.path)
        data = b"".join(p for _, kind, p in records if kind == 0)
        assert data == PAYLOAD and meta["source"] == link.transport.name
