"""BleTransport end to end through bleak's public API, over a simulated radio.

``ble_sim.SimRadio`` provides bleak backend classes (passed as ``backend=``), so
``BleakScanner`` and ``BleakClient`` run unchanged and the transport under test is the
code that runs on a Pi. The radio models BlueZ's one-operation-at-a-time adapter, 20-byte
notifications, link drops, failing connects and forgotten devices.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time
from collections.abc import AsyncIterator

import numpy as np
import pytest
from bleak import BleakClient
from bleak.exc import BleakDBusError

from firmware_bridge import (
    DeviceInfo,
    SampleBlock,
    Status,
    StreamDecoder,
    encode_device_info,
    encode_samples,
    encode_status,
    quantise_imu,
    spec,
)
from firmware_bridge.errors import DeviceNotFoundError, TransportError
from firmware_bridge.sim.ble_radio import SimRadio, VirtualPeripheral, paced_source
from firmware_bridge.sim.walks import Recording
from firmware_bridge.transports import TransportEvent, ble, open_transport
from firmware_bridge.transports.ble import ALLOW_ENV, BleTransport, adapter_lock, scan_insoles

ADDR_L = "C0:FF:EE:00:00:A1"
ADDR_R = "C0:FF:EE:00:00:A2"
NAME_L = "GaitEdge-L-00A1"
NAME_R = "GaitEdge-R-00A2"
#: One chunk of a counting source: the counter as u32, three times (12 bytes).
COUNTER = struct.Struct("<III")


@pytest.fixture
async def radio() -> AsyncIterator[SimRadio]:
    async with SimRadio() as r:
        yield r


def random_bytes(n: int, seed: int) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes()


def slices(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def counting_source(interval_s: float = 0.002) -> AsyncIterator[bytes]:
    return paced_source((COUNTER.pack(i, i, i) for i in range(1_000_000)), interval_s=interval_s)


def counters(stream: bytes) -> list[int]:
    """The counter values of a counting source's bytes (which arrive in whole chunks)."""
    assert len(stream) % COUNTER.size == 0
    values = [COUNTER.unpack_from(stream, i) for i in range(0, len(stream), COUNTER.size)]
    assert all(a == b == c for a, b, c in values)
    return [a for a, _, _ in values]


def transport(
    radio: SimRadio, target: object, events: list[TransportEvent], **kw: object
) -> BleTransport:
    kw.setdefault("retry_initial_s", 0.05)
    kw.setdefault("retry_max_s", 0.05)
    return BleTransport(target, backend=radio.backend, on_event=events.append, **kw)  # type: ignore[arg-type]


async def read_n(t: BleTransport, n: int, timeout_s: float = 2.0) -> bytes:
    buf = bytearray()
    async with asyncio.timeout(timeout_s):
        while len(buf) < n:
            chunk = await t.read()
            assert chunk, "stream ended early"
            buf += chunk
    return bytes(buf)


async def wait_for(
    events: list[TransportEvent], kind: str, timeout_s: float = 2.0
) -> TransportEvent:
    async with asyncio.timeout(timeout_s):
        while True:
            for e in events:
                if e.kind == kind:
                    return e
            await asyncio.sleep(0.01)


def kinds(events: list[TransportEvent]) -> list[str]:
    return [e.kind for e in events]


# ---------------------------------------------------------------------- scanning


async def test_scan_finds_insoles_by_name_prefix_and_by_service_uuid(radio: SimRadio) -> None:
    radio.add_insole(ADDR_L, NAME_L, paced_source([]), rssi=-48)
    radio.add_insole(ADDR_R, NAME_R, paced_source([]), service_uuids=())  # name only
    radio.add_insole("C0:FF:EE:00:00:A3", None, paced_source([]))  # UUID only, no name
    radio.add_insole(
        "12:34:56:78:9A:BC",
        "Phone",
        paced_source([]),
        service_uuids=("0000180d-0000-1000-8000-00805f9b34fb",),
    )

    either = await scan_insoles(0.1, backend=radio.backend)
    assert [a.address for a in either] == ["C0:FF:EE:00:00:A3", ADDR_L, ADDR_R]  # by name
    left = either[1]
    assert (left.name, left.rssi, left.service_uuids) == (NAME_L, -48, (spec.BLE_SERVICE_UUID,))
    assert left.device.address == ADDR_L

    by_name = await scan_insoles(0.1, service_uuid=None, backend=radio.backend)
    assert {a.address for a in by_name} == {ADDR_L, ADDR_R}
    by_uuid = await scan_insoles(0.1, name_prefix=None, backend=radio.backend)
    assert {a.address for a in by_uuid} == {ADDR_L, "C0:FF:EE:00:00:A3"}
    assert [k for _, k in radio.scans] == ["scan"] * 3

    with pytest.raises(ValueError, match="give at least one"):
        await scan_insoles(0.1, name_prefix=None, service_uuid=None, backend=radio.backend)


async def test_scan_does_not_hear_connected_or_dropped_insoles(radio: SimRadio) -> None:
    radio.add_insole(ADDR_L, NAME_L, counting_source())
    radio.add_insole(ADDR_R, NAME_R, counting_source())
    events: list[TransportEvent] = []
    async with transport(radio, ADDR_L, events) as t:
        await t.open()
        radio.drop_link(ADDR_R, 5.0)  # not connected, but off the air
        assert await scan_insoles(0.1, backend=radio.backend) == []


# ---------------------------------------------------------------------- streaming


@pytest.mark.parametrize("mtu", [23, 247])
async def test_reads_return_the_exact_byte_stream(radio: SimRadio, mtu: int) -> None:
    data = random_bytes(6000, seed=mtu)
    p = radio.add_insole(ADDR_L, NAME_L, paced_source(slices(data, 43), interval_s=0.001), mtu=mtu)
    events: list[TransportEvent] = []
    async with transport(radio, ADDR_L, events) as t:
        got = await read_n(t, len(data))
        assert t.att_payload_ == mtu - 3
        assert t.is_connected
    assert got == data
    assert max(p.notification_sizes) == mtu - 3  # 20-byte payloads by default: frames span them
    assert sum(size * k for size, k in p.notification_sizes.items()) == len(data)
    await asyncio.sleep(0.02)  # the disconnect callback of our own aclose() has run
    assert kinds(events) == ["connected"]
    assert events[0].source == ADDR_L and NAME_L in events[0].detail
    assert [k for _, k in radio.scans] == ["scan"]  # our own scan; never a bare-address client
    assert len(p.clients) == 1 and not p.is_connected


async def test_connect_by_name_prefix(radio: SimRadio) -> None:
    radio.add_insole(ADDR_R, NAME_R, counting_source())
    radio.add_insole(ADDR_L, NAME_L, counting_source())
    events: list[TransportEvent] = []
    async with transport(radio, None, events, name_prefix="GaitEdge-L", scan_timeout_s=0.2) as t:
        assert t.name == "name=GaitEdge-L"
        values = counters(await read_n(t, 10 * COUNTER.size))
    assert values[:10] == list(range(10))
    assert (t.address_, t.device_name_, t.name) == (ADDR_L, NAME_L, ADDR_L)
    assert radio[ADDR_L].clients and not radio[ADDR_R].clients


async def test_read_after_close_is_end_of_stream(radio: SimRadio) -> None:
    radio.add_insole(ADDR_L, NAME_L, counting_source())
    events: list[TransportEvent] = []
    t = transport(radio, ADDR_L, events)
    await t.open()
    reader = asyncio.create_task(read_n(t, 10**9))
    await asyncio.sleep(0.05)
    await t.aclose()
    await t.aclose()  # idempotent
    with pytest.raises(AssertionError, match="stream ended early"):
        await reader
    assert await t.read() == b""
    with pytest.raises(TransportError, match="closed"):
        await t.open()


# ---------------------------------------------------------------------- allow-list


async def test_allow_list_refuses_an_address_and_says_how_to_allow_it(
    radio: SimRadio, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(
        TransportError,
        match=rf"BLE device {ADDR_L} is not in the allow-list \({ADDR_R}\).*add {ADDR_L} to "
        rf"allowed_addresses .*{ALLOW_ENV}",
    ):
        BleTransport(ADDR_L, allowed_addresses=[ADDR_R.lower()], backend=radio.backend)

    monkeypatch.setenv(ALLOW_ENV, f"{ADDR_R}, 11:22:33:44:55:66")
    with pytest.raises(TransportError, match=f"{ADDR_L} is not in the allow-list"):
        open_transport(f"ble://{ADDR_L.lower()}")
    assert isinstance(open_transport(f"ble://{ADDR_R}"), BleTransport)

    # by name: a neighbour's insole is passed over, and named in the error
    radio.add_insole(ADDR_L, NAME_L, counting_source())
    events: list[TransportEvent] = []
    t = transport(
        radio,
        None,
        events,
        name_prefix="GaitEdge-L",
        allowed_addresses=[ADDR_R],
        scan_timeout_s=0.1,
        open_budget_s=0.15,
    )
    with pytest.raises(
        DeviceNotFoundError, match=rf"heard but not in the allow-list: {ADDR_L} \({NAME_L}\)"
    ):
        await t.open()
    assert not radio[ADDR_L].clients
    await t.aclose()


def test_targets_are_checked() -> None:
    t = BleTransport.from_target("name=GaitEdge-R")
    assert (t.name_prefix, t.name, t.address_) == ("GaitEdge-R", "name=GaitEdge-R", None)
    assert open_transport("ble://c0:ff:ee:00:00:a1").name == ADDR_L
    with pytest.raises(ValueError, match="not of the form AA:BB:CC:DD:EE:FF"):
        BleTransport("C0:FF:EE")
    with pytest.raises(ValueError, match="name=PREFIX"):
        BleTransport.from_target("nmae=GaitEdge-L")
    with pytest.raises(ValueError, match="name_prefix is empty"):
        BleTransport.from_target("name=")
    with pytest.raises(ValueError, match="not both or neither"):
        BleTransport()


# ---------------------------------------------------------------------- link faults


async def test_link_drop_reconnects_with_the_gap_reported(radio: SimRadio) -> None:
    p = radio.add_insole(ADDR_L, NAME_L, counting_source(0.002))
    events: list[TransportEvent] = []
    async with transport(radio, ADDR_L, events) as t:
        stream = bytearray(await read_n(t, 20 * COUNTER.size))
        t_drop = time.monotonic()
        radio.drop_link(ADDR_L, 0.5)
        async with asyncio.timeout(2.0):
            while "reconnected" not in kinds(events) or len(stream) < 40 * COUNTER.size:
                stream += await t.read()
        t_back = time.monotonic()
        assert t.is_connected
    assert kinds(events)[:3] == ["connected", "disconnected", "reconnected"]
    gap = events[2].gap_s
    assert 0.45 <= gap <= 0.75, gap
    assert gap <= t_back - t_drop + 0.01
    values = counters(bytes(stream))
    steps = np.diff(values)
    assert sorted(set(steps.tolist()))[0] == 1 and (steps > 1).sum() == 1  # one hole, in order
    assert steps.max() > 50  # what was sent while down is lost, not delayed
    assert p.bytes_lost > 0
    assert [k for _, k in radio.scans] == ["scan"]  # no scan during the trial
    assert len(p.clients) == p.connect_attempts >= 2  # a new client for every attempt


async def test_drop_longer_than_the_budget_gives_up(radio: SimRadio) -> None:
    radio.add_insole(ADDR_L, NAME_L, counting_source())
    events: list[TransportEvent] = []
    t0 = time.monotonic()
    async with transport(radio, ADDR_L, events, reconnect_budget_s=0.3) as t:
        await read_n(t, COUNTER.size)
        radio.drop_link(ADDR_L, 10.0)
        async with asyncio.timeout(2.0):
            while await t.read():
                pass
        assert await t.read() == b""
        assert not t.is_connected
    assert time.monotonic() - t0 < 1.5
    assert kinds(events) == ["connected", "disconnected", "gave_up"]
    gave_up = events[-1]
    assert 0.3 <= gave_up.gap_s <= 0.6, gave_up.gap_s
    assert (
        "could not connect" in gave_up.detail and "le-connection-abort-by-local" in gave_up.detail
    )


async def test_zero_budget_gives_up_at_the_first_drop(radio: SimRadio) -> None:
    radio.add_insole(ADDR_L, NAME_L, counting_source())
    events: list[TransportEvent] = []
    async with transport(radio, ADDR_L, events, reconnect_budget_s=0) as t:
        await read_n(t, COUNTER.size)
        radio.drop_link(ADDR_L, 0.01)
        async with asyncio.timeout(1.0):
            while await t.read():
                pass
    assert kinds(events) == ["connected", "disconnected", "gave_up"]
    assert len(radio[ADDR_L].clients) == 1


async def test_a_stale_clients_disconnect_does_not_tear_down_the_new_link(radio: SimRadio) -> None:
    p = radio.add_insole(ADDR_L, NAME_L, counting_source())
    events: list[TransportEvent] = []
    async with transport(radio, ADDR_L, events) as t:
        await read_n(t, COUNTER.size)
        radio.drop_link(ADDR_L, 0.1)
        await wait_for(events, "reconnected")
        assert radio.fire_stale_disconnect(ADDR_L)
        await asyncio.sleep(0.05)
        assert t.is_connected and p.is_connected
        before = p.bytes_sent
        await asyncio.sleep(0.1)
        assert p.bytes_sent > before + 10 * COUNTER.size  # still streaming
        await read_n(t, p.bytes_sent)
    assert kinds(events) == ["connected", "disconnected", "reconnected"]


async def test_first_connect_attempts_that_fail_are_retried_with_new_clients(
    radio: SimRadio,
) -> None:
    p = radio.add_insole(ADDR_L, NAME_L, counting_source(), fail_first_connects=2)
    events: list[TransportEvent] = []
    async with transport(radio, ADDR_L, events, retry_initial_s=0.01) as t:
        await read_n(t, COUNTER.size)
    assert p.connect_attempts == 3 and len(p.clients) == 3
    assert len({id(c) for c in p.clients}) == 3
    assert kinds(events) == ["connected"]

    radio.fail_connects(ADDR_L, 1000)
    t = transport(radio, ADDR_L, [], open_budget_s=0.2)
    with pytest.raises(TransportError, match=r"within 0.2 s .*Software caused connection abort"):
        await t.open()
    await t.aclose()


async def test_a_missing_insole_is_not_found(radio: SimRadio) -> None:
    t = transport(radio, ADDR_L, [], scan_timeout_s=0.05, open_budget_s=0.15)
    with pytest.raises(DeviceNotFoundError, match=f"no BLE insole with {ADDR_L} heard"):
        await t.read()
    await t.aclose()


async def test_a_forgotten_device_is_found_again_by_scanning_for_that_address(
    radio: SimRadio,
) -> None:
    radio.add_insole(ADDR_L, NAME_L, counting_source())
    events: list[TransportEvent] = []
    async with transport(radio, ADDR_L, events) as t:
        await read_n(t, COUNTER.size)
        radio.drop_link(ADDR_L, 0.2)
        radio.forget(ADDR_L)  # BlueZ removed the device object: the cached BLEDevice is stale
        await wait_for(events, "reconnected")
        await read_n(t, 10 * COUNTER.size)
    assert kinds(events) == ["connected", "disconnected", "reconnected"]
    assert [k for _, k in radio.scans] == ["scan", "scan"]


async def test_a_reader_polling_with_timeouts_still_connects(radio: SimRadio) -> None:
    """Cancelling read() during the first connect does not throw the attempt away."""
    p = radio.add_insole(ADDR_L, NAME_L, counting_source(), connect_delay_s=0.3)
    events: list[TransportEvent] = []
    got = b""
    async with transport(radio, ADDR_L, events) as t:
        for _ in range(15):
            try:
                got += await asyncio.wait_for(t.read(), 0.1)
            except TimeoutError:
                continue
            break
    assert got
    assert p.connect_attempts == 1
    assert kinds(events) == ["connected"]


async def test_an_on_event_that_raises_is_logged_and_ignored(
    radio: SimRadio, caplog: pytest.LogCaptureFixture
) -> None:
    p = radio.add_insole(ADDR_L, NAME_L, counting_source())

    def on_event(event: TransportEvent) -> None:
        raise RuntimeError(f"bug in on_event ({event.kind})")

    async with BleTransport(ADDR_L, backend=radio.backend, on_event=on_event) as t:
        await read_n(t, 10 * COUNTER.size)
        assert t.is_connected
    assert len(p.clients) == 1  # no second, unmanaged link
    assert "on_event failed; ignored" in caplog.text and "bug in on_event" in caplog.text


async def test_aclose_during_the_first_connect_ends_a_pending_read(radio: SimRadio) -> None:
    p = radio.add_insole(ADDR_L, NAME_L, counting_source(), connect_delay_s=0.3)
    t = transport(radio, ADDR_L, [])
    reader = asyncio.create_task(t.read())
    await asyncio.sleep(0.1)  # connecting, holding the adapter lock
    t0 = time.monotonic()
    await t.aclose()
    assert time.monotonic() - t0 < 0.1  # did not wait for the connect to finish
    assert not adapter_lock().locked()
    assert await asyncio.wait_for(reader, 1.0) == b""
    assert await t.read() == b""
    assert not p.is_connected
    with pytest.raises(TransportError, match="closed"):
        await t.open()


async def test_a_hung_scan_start_fails_within_the_open_budget(
    radio: SimRadio, monkeypatch: pytest.MonkeyPatch
) -> None:
    radio.add_insole(ADDR_L, NAME_L, counting_source())

    async def hang(self: object) -> None:
        await asyncio.Event().wait()

    monkeypatch.setattr(radio.scanner_backend, "start", hang)
    t = transport(radio, ADDR_L, [], open_budget_s=0.4, scan_timeout_s=0.2)
    t0 = time.monotonic()
    with pytest.raises(TransportError, match="scan did not start within") as info:
        await asyncio.wait_for(t.read(), 2.0)
    assert time.monotonic() - t0 < 0.8
    assert "le-connection-abort" not in str(info.value)  # no hint for another problem
    assert not adapter_lock().locked()
    await t.aclose()


async def test_a_hung_scan_stop_is_given_up_on(
    radio: SimRadio, monkeypatch: pytest.MonkeyPatch
) -> None:
    radio.add_insole(ADDR_L, NAME_L, counting_source())
    stop = radio.scanner_backend.stop

    async def stop_then_hang(self: object) -> None:
        await stop(self)  # type: ignore[arg-type]
        await asyncio.Event().wait()

    monkeypatch.setattr(radio.scanner_backend, "stop", stop_then_hang)
    monkeypatch.setattr(ble.scan, "_SCAN_STOP_TIMEOUT_S", 0.1)
    t0 = time.monotonic()
    found = await asyncio.wait_for(scan_insoles(0.1, backend=radio.backend), 2.0)
    assert [a.address for a in found] == [ADDR_L]
    assert time.monotonic() - t0 < 0.5
    async with transport(radio, ADDR_L, []) as t:  # and then connects (the cached device)
        await asyncio.wait_for(t.open(), 2.0)


async def test_timeouts_say_what_was_waited_for(radio: SimRadio) -> None:
    radio.add_insole(ADDR_L, NAME_L, counting_source(), connect_delay_s=0.5)
    await scan_insoles(0.1, backend=radio.backend)  # cached: no scan in the attempts
    async with adapter_lock():  # another shoe is connecting
        t = transport(radio, ADDR_L, [], connect_timeout_s=0.1, open_budget_s=0.15)
        with pytest.raises(TransportError, match="waiting for the Bluetooth adapter: another shoe"):
            await t.open()
        await t.aclose()
    t = transport(radio, ADDR_L, [], connect_timeout_s=0.1, open_budget_s=0.15)
    with pytest.raises(TransportError, match=rf"timed out after 0.1 s connecting to {ADDR_L}"):
        await t.open()
    await t.aclose()


async def test_name_prefix_with_two_insoles_in_range_lists_them(radio: SimRadio) -> None:
    other = "C0:FF:EE:00:00:A3"
    radio.add_insole(ADDR_L, NAME_L, counting_source(), rssi=-50)
    radio.add_insole(other, "GaitEdge-L-00A3", counting_source(), rssi=-70)
    radio.drop_link(other, 0.1)  # heard only later in the scan window
    t = transport(radio, None, [], name_prefix="GaitEdge-L", scan_timeout_s=0.3)
    t0 = time.monotonic()
    with pytest.raises(TransportError, match="2 BLE insoles with a name starting") as info:
        await t.open()
    assert time.monotonic() - t0 < 1.0  # not retried for the whole open budget
    msg = str(info.value)
    assert f"{ADDR_L} ({NAME_L}, -50 dBm)" in msg and f"{other} (GaitEdge-L-00A3, -70 dBm)" in msg
    assert "connect by address" in msg and not isinstance(info.value, DeviceNotFoundError)
    assert not radio[ADDR_L].clients and not radio[other].clients
    assert len(radio.scans) == 1
    await t.aclose()


async def test_a_consumer_falling_behind_is_warned_once_and_loses_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    t = BleTransport(ADDR_L)
    chunks = [bytes([i % 256]) * 20_000 for i in range(900)]  # 18 MB of notifications
    with caplog.at_level(logging.WARNING):
        for chunk in chunks:
            t._on_notify(None, bytearray(chunk))  # type: ignore[arg-type]
    warnings = [r for r in caplog.records if "not yet read" in r.getMessage()]
    assert len(warnings) == 1 and ADDR_L in warnings[0].getMessage()
    got = bytearray()
    while len(got) < 18_000_000:
        chunk = await t._chunks.get()  # what read() returns once connected
        assert 0 < len(chunk) < 100_000
        got += chunk
    assert got == b"".join(chunks) and t._chunks.queued_bytes == 0
    await t.aclose()
    assert await t.read() == b""


# ---------------------------------------------------------------------- two shoes


@pytest.mark.parametrize("scan_first", [True, False])
async def test_two_shoes_connect_through_one_lock_and_each_gets_its_own_bytes(
    radio: SimRadio, scan_first: bool
) -> None:
    data = {ADDR_L: random_bytes(4000, seed=1), ADDR_R: random_bytes(4000, seed=2)}
    for (address, stream), name in zip(data.items(), (NAME_L, NAME_R), strict=True):
        radio.add_insole(address, name, paced_source(slices(stream, 50), interval_s=0.001))
    if scan_first:  # the recommended way: one scan, then each shoe by its BLEDevice
        found = {a.address: a.device for a in await scan_insoles(0.1, backend=radio.backend)}
        targets: list[object] = [found[ADDR_L], ADDR_R]  # an address is looked up in the cache
    else:
        targets = [ADDR_L, ADDR_R]
    events: list[TransportEvent] = []
    left, right = (transport(radio, target, events) for target in targets)
    async with left, right:
        await asyncio.gather(left.open(), right.open())
        got_l, got_r = await asyncio.gather(
            read_n(left, len(data[ADDR_L])), read_n(right, len(data[ADDR_R]))
        )
    assert got_l == data[ADDR_L] and got_r == data[ADDR_R]
    assert radio.max_adapter_ops == 1  # scans and connects never overlapped
    assert len(radio.scans) == (1 if scan_first else 2)
    assert sorted(e.source for e in events if e.kind == "connected") == [ADDR_L, ADDR_R]


async def test_the_sim_adapter_refuses_overlapping_connects(radio: SimRadio) -> None:
    """Why the lock matters: BlueZ (and the sim) refuse a second concurrent operation."""
    radio.add_insole(ADDR_L, NAME_L, paced_source([]), connect_delay_s=0.05)
    radio.add_insole(ADDR_R, NAME_R, paced_source([]), connect_delay_s=0.05)
    found = {a.address: a.device for a in await scan_insoles(0.1, backend=radio.backend)}
    clients = [BleakClient(found[a], backend=radio.client_backend) for a in (ADDR_L, ADDR_R)]
    results = await asyncio.gather(*(c.connect() for c in clients), return_exceptions=True)
    assert results[0] is None
    assert isinstance(results[1], BleakDBusError) and "InProgress" in str(results[1])
    await clients[0].disconnect()


# ---------------------------------------------------------------------- protocol frames


async def test_protocol_frames_spanning_notifications_decode_equal(
    radio: SimRadio, walk_left: Recording
) -> None:
    ranges = 0x43
    n, k = 200, 4
    counts = quantise_imu(walk_left.imu[:n], ranges)
    info = DeviceInfo(
        device_id=0xC0FFEE0000A1, side="L", sample_rate_hz=100.0, accel_range_code=3,
        gyro_range_code=4, samples_per_packet=k, boot_id=0x1234, firmware=(1, 0, 0),
        model="GE-IMU-1",
    )  # fmt: skip
    frames = [encode_device_info(info)]
    frames += [
        encode_samples(1000 + i, 4_294_900_000 + 10_000 * i, 10_000, ranges, counts[i : i + k])
        for i in range(0, n, k)
    ]
    frames.append(encode_status(Status(t_device_us=123_456, battery_pct=87, battery_mv=3950)))
    wire = b"".join(frames)
    assert all(len(f) > 20 for f in frames[:-1])  # each spans notifications (STATUS: 20 B)
    expected = StreamDecoder().feed(wire)

    p = radio.add_insole(ADDR_L, NAME_L, paced_source(frames, interval_s=0.001))
    decoder, got, received = StreamDecoder(), [], 0
    async with transport(radio, ADDR_L, []) as t:
        async with asyncio.timeout(2.0):
            while received < len(wire):
                chunk = await t.read()
                received += len(chunk)
                got += decoder.feed(chunk)
    assert received == len(wire)
    assert max(p.notification_sizes) == 20
    assert decoder.stats.frames_ok == len(frames)
    assert decoder.stats.frames_bad == 0 and decoder.stats.bytes_skipped == 0
    assert got[0] == info and got[-1] == expected[-1] and decoder.status_ == expected[-1]
    block = SampleBlock.concat([q for q in got if isinstance(q, SampleBlock)])
    want = SampleBlock.concat([q for q in expected if isinstance(q, SampleBlock)])
    assert block.seq.tolist() == list(range(1000, 1000 + n))
    np.testing.assert_array_equal(block.t_device_us, 4_294_900_000 + 10_000 * np.arange(n))
    np.testing.assert_array_equal(block.imu, want.imu)
    np.testing.assert_allclose(block.imu, walk_left.imu[:n], atol=0.01)


def test_virtual_peripheral_checks_its_mtu() -> None:
    with pytest.raises(ValueError, match="ATT minimum is 23"):
        VirtualPeripheral(ADDR_L, NAME_L, paced_source([]), mtu=20)


async def test_no_system_bus_is_one_line_that_says_what_to_start(
    radio: SimRadio, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bleak on a host without BlueZ's D-Bus socket fails with a bare ENOENT."""

    async def no_bus(self: object) -> None:
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(radio.scanner_backend, "start", no_bus)
    with pytest.raises(TransportError, match=r"D-Bus system bus.*systemctl start bluetooth"):
        await scan_insoles(0.1, backend=radio.backend)
    assert not adapter_lock().locked()
