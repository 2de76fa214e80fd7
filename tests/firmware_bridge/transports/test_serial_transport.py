"""SerialTransport end to end over real pseudo-terminals, read by real pyserial.

A pty's slave side stands in for /dev/ttyACM0; closing its master is an unplug (the
slave then reads EIO / "readiness but no data"); a new pty behind a repointed symlink is
the replug under a /dev/serial/by-id link. USB id matching is tested on pyserial's own
ListPortInfo objects, since no USB device exists here.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import random
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
import pytest
import serial.tools.list_ports
from serial.tools.list_ports_common import ListPortInfo

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
from firmware_bridge.sim.walks import Recording
from firmware_bridge.transports import TransportEvent, open_transport, serial_port
from firmware_bridge.transports.serial_discovery import find_usb_port, list_serial_insoles
from firmware_bridge.transports.serial_port import SerialTransport
from tests.firmware_bridge.transports.pseudo_tty import Pty

THREAD_PREFIX = "gaitedge-serial"


@pytest.fixture
def ptys() -> Iterator[list[Pty]]:
    made: list[Pty] = []
    yield made
    for p in made:
        p.unplug()


@pytest.fixture
def pty(ptys: list[Pty]) -> Pty:
    p = Pty()
    ptys.append(p)
    return p


@pytest.fixture(autouse=True)
def _no_thread_or_fd_left() -> Iterator[None]:
    fds = set(os.listdir("/proc/self/fd"))
    yield
    left = [t.name for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX)]
    assert not left, f"reader threads still running: {left}"
    leaked = set(os.listdir("/proc/self/fd")) - fds
    assert not leaked, f"file descriptors left open: {leaked}"


def _link(link: Path, target: str) -> None:
    """Point ``link`` at ``target`` atomically, as udev does."""
    tmp = link.with_name(link.name + ".new")
    os.symlink(target, tmp)
    os.replace(tmp, link)


@contextlib.asynccontextmanager
async def opened(target: str, **kw: object) -> AsyncIterator[tuple[SerialTransport, list]]:
    events: list[TransportEvent] = []
    t = SerialTransport(target, on_event=events.append, **kw)  # type: ignore[arg-type]
    try:
        await t.open()
        yield t, events
    finally:
        await t.aclose()


async def read_n(t: SerialTransport, n: int, timeout_s: float = 2.0) -> bytes:
    got = bytearray()
    async with asyncio.timeout(timeout_s):
        while len(got) < n:
            chunk = await t.read()
            assert chunk, "read() returned b'' before the data was in"
            got += chunk
    return bytes(got)


async def wait_for_event(events: list, kind: str, timeout_s: float = 2.0) -> TransportEvent:
    async with asyncio.timeout(timeout_s):
        while True:
            for e in events:
                if e.kind == kind:
                    return e
            await asyncio.sleep(0.01)


# ---------------------------------------------------------------------- bytes


async def test_bytes_arrive_exactly_small_and_large_writes(pty: Pty) -> None:
    async with opened(pty.path) as (t, events):
        assert [e.kind for e in events] == ["connected"]
        assert pty.path in events[0].detail and t.device_ == pty.path
        every_byte = bytes(range(256))
        for i in range(0, 256, 16):  # small writes, one by one
            pty.write(every_byte[i : i + 16])
        assert await read_n(t, 256) == every_byte
        for b in b"\x00\xff\r\n\x11\x13\x03":  # NUL, CR/LF, XON/XOFF, ^C: all plain bytes
            pty.write(bytes([b]))
            assert await read_n(t, 1) == bytes([b])
        big = random.Random(0).randbytes(1 << 20)  # more than any tty buffer holds
        writer = asyncio.create_task(asyncio.to_thread(pty.write, big))
        got = await read_n(t, len(big), timeout_s=5.0)
        await writer
        assert got == big


async def test_bytes_sent_before_open_are_kept(pty: Pty) -> None:
    pty.write(b"sent early")  # pyserial itself would flush these at open
    async with opened(pty.path) as (t, _):
        assert await read_n(t, 10) == b"sent early"


async def test_open_through_by_id_symlink(pty: Pty, tmp_path: Path) -> None:
    link = tmp_path / "usb-GaitEdge_Insole_E6614C31-if00"
    _link(link, pty.path)
    async with opened(str(link)) as (t, events):
        assert t.name == str(link) and t.device_ == pty.path
        assert pty.path in events[0].detail
        pty.write(b"via link")
        assert await read_n(t, 8) == b"via link"


async def test_second_open_is_refused_with_a_clear_message(pty: Pty) -> None:
    async with opened(pty.path) as (t, _):
        other = SerialTransport(pty.path)
        with pytest.raises(TransportError, match="another program") as info:
            await other.read()
        assert not isinstance(info.value, DeviceNotFoundError)
        msg = str(info.value)
        assert pty.path in msg and "exclusively" in msg and "\n" not in msg
        await other.aclose()
        pty.write(b"still mine")  # the first reader gets everything
        assert await read_n(t, 10) == b"still mine"


async def test_missing_port_says_so(tmp_path: Path) -> None:
    missing = str(tmp_path / "ttyACM9")
    t = open_transport(f"serial://{missing}")
    with pytest.raises(DeviceNotFoundError, match="not found") as info:
        await t.read()
    assert missing in str(info.value) and "plugged in" in str(info.value)
    await t.aclose()
    await t.aclose()  # idempotent
    assert await t.read() == b""


async def test_aclose_without_open_and_read_after_close(pty: Pty) -> None:
    t = SerialTransport(pty.path)
    await t.aclose()
    assert await t.read() == b""
    async with opened(pty.path) as (t2, _):
        pending = asyncio.create_task(t2.read())
        await asyncio.sleep(0.05)
        await t2.aclose()  # wakes the pending read with end of stream
        assert await asyncio.wait_for(pending, 1.0) == b""
        assert await t2.read() == b""


async def test_an_open_that_failed_after_its_reader_gave_up_is_tried_again(pty: Pty) -> None:
    t = SerialTransport(pty.path)
    real_open = t._open_port
    calls = 0

    def busy_at_first() -> object:
        nonlocal calls
        calls += 1
        if calls == 1:
            time.sleep(0.2)  # e.g. ModemManager probing the new port
            raise TransportError(f"serial port {pty.path} is busy")
        return real_open()

    t._open_port = busy_at_first  # type: ignore[method-assign]
    try:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(t.read(), 0.05)  # gives up while the port is opening
        await asyncio.sleep(0.3)  # the open has failed meanwhile, with nobody waiting
        pty.write(b"second try")
        assert await read_n(t, 10) == b"second try"
        assert calls == 2
    finally:
        await t.aclose()


def test_open_errors_say_what_to_check() -> None:
    msg = str(serial_port._open_error("/dev/ttyS7", OSError(errno.EINVAL, "Invalid argument")))
    assert "/dev/ttyS7" in msg and "baud rate" in msg and "list_ports" in msg


def test_bad_arguments_are_value_errors() -> None:
    with pytest.raises(ValueError, match="usb:VID:PID"):
        SerialTransport("usb:2e8a")
    with pytest.raises(ValueError, match="hex"):
        SerialTransport("usb:raspi:000a")
    with pytest.raises(ValueError, match="baudrate"):
        SerialTransport("/dev/ttyACM0", baudrate=0)
    with pytest.raises(ValueError, match="reconnect_budget_s"):
        SerialTransport("/dev/ttyACM0", reconnect_budget_s=-1)


# ---------------------------------------------------------------------- unplug / replug


async def test_unplug_then_replug_behind_the_link(ptys: list[Pty], tmp_path: Path) -> None:
    first = Pty()
    ptys.append(first)
    link = tmp_path / "usb-GaitEdge_Insole-if00"
    _link(link, first.path)
    async with opened(str(link), retry_initial_s=0.05, retry_max_s=0.1) as (t, events):
        first.write(b"before")
        assert await read_n(t, 6) == b"before"

        first.unplug()  # udev removes the by-id link too; another process may reuse the pty
        link.unlink()
        down = await wait_for_event(events, "disconnected")
        outage_s = 0.4
        await asyncio.sleep(outage_s)
        second = Pty()  # the kernel may hand out a new ttyname: the link follows it
        ptys.append(second)
        _link(link, second.path)
        up = await wait_for_event(events, "reconnected")
        assert outage_s <= up.gap_s < outage_s + 0.5
        assert up.host_time_s - down.host_time_s == pytest.approx(up.gap_s, abs=0.1)
        assert t.device_ == second.path

        second.write(b"after")
        assert await read_n(t, 5) == b"after"
        assert [e.kind for e in events] == ["connected", "disconnected", "reconnected"]


async def test_gives_up_after_the_budget(pty: Pty, tmp_path: Path) -> None:
    link = tmp_path / "usb-GaitEdge_Insole-if00"
    _link(link, pty.path)
    retry = {"reconnect_budget_s": 0.3, "retry_initial_s": 0.05, "retry_max_s": 0.1}
    async with opened(str(link), **retry) as (t, events):
        pty.write(b"last words")
        assert await read_n(t, 10) == b"last words"
        pty.unplug()
        link.unlink()
        async with asyncio.timeout(2.0):
            assert await t.read() == b""
        assert [e.kind for e in events] == ["connected", "disconnected", "gave_up"]
        gave_up = events[-1]
        assert 0.3 <= gave_up.gap_s < 0.6
        assert "not found" in gave_up.detail
        assert await t.read() == b""


async def test_a_read_error_on_a_present_port_reopens_it(
    pty: Pty, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The driver fails one read (EIO) while the device stays: closed, reopened, going on."""
    fail = threading.Event()

    class Flaky(serial_port._serial_class()):  # type: ignore[misc]
        def read_available(self) -> bytes:
            if fail.is_set():
                fail.clear()
                raise OSError(errno.EIO, "Input/output error")
            return super().read_available()  # type: ignore[no-any-return]

    monkeypatch.setattr(serial_port, "_serial_class", lambda: Flaky)
    async with opened(pty.path, retry_initial_s=0.05) as (t, events):
        pty.write(b"one")
        assert await read_n(t, 3) == b"one"
        fail.set()
        await wait_for_event(events, "reconnected")
        pty.write(b"two")
        assert await read_n(t, 3) == b"two"
        assert [e.kind for e in events] == ["connected", "disconnected", "reconnected"]


# ---------------------------------------------------------------------- no busy-waiting


async def test_idle_reader_uses_almost_no_cpu(pty: Pty) -> None:
    async with opened(pty.path):
        (reader,) = [t for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX)]
        assert reader.ident is not None
        clock = time.pthread_getcpuclockid(reader.ident)
        cpu0 = time.clock_gettime(clock)
        await asyncio.sleep(0.5)
        cpu_s = time.clock_gettime(clock) - cpu0
    assert cpu_s < 0.05, f"reader thread used {cpu_s:.3f} s CPU in 0.5 s idle"


# ---------------------------------------------------------------------- protocol frames


async def test_protocol_frames_decode_equal_through_the_pty(pty: Pty, walk_left: Recording) -> None:
    ranges = 0x43
    n, k = 400, 4
    counts = quantise_imu(walk_left.imu[:n], ranges)
    pressure = (np.arange(n * 8).reshape(n, 8) % 4000).astype(np.uint16)
    info = DeviceInfo(
        device_id=0x6E00005101, side="L", sample_rate_hz=100.0, accel_range_code=3,
        gyro_range_code=4, n_pressure=8, samples_per_packet=k, boot_id=7,
        firmware=(1, 2, 3), model="pty-insole", axis_frame=spec.AXIS_FRAME_SENSOR,
    )  # fmt: skip
    frames = [encode_device_info(info)]
    for i in range(0, n, k):
        frames.append(
            encode_samples(i, 10_000 * i, 10_000, ranges, counts[i : i + k], pressure[i : i + k])
        )
    frames.append(encode_status(Status(t_device_us=4_000_000, battery_pct=80)))
    wire = b"".join(frames)
    expected = StreamDecoder().feed(wire)

    decoder, got = StreamDecoder(), []
    async with opened(pty.path) as (t, _):
        rng = random.Random(1)
        pos = 0
        while pos < len(wire):  # uneven writes, as a UART delivers them
            step = rng.randint(1, 300)
            pty.write(wire[pos : pos + step])
            pos += step
        received = 0
        async with asyncio.timeout(3.0):
            while received < len(wire):
                chunk = await t.read()
                received += len(chunk)
                got += decoder.feed(chunk)
    assert received == len(wire)
    assert decoder.stats.frames_bad == 0 and decoder.stats.bytes_skipped == 0
    assert got[0] == info and got[-1] == expected[-1]
    block = SampleBlock.concat([p for p in got if isinstance(p, SampleBlock)])
    want = SampleBlock.concat([p for p in expected if isinstance(p, SampleBlock)])
    assert block.seq.tolist() == list(range(n))
    np.testing.assert_array_equal(block.imu, want.imu)
    np.testing.assert_array_equal(block.pressure, want.pressure)
    np.testing.assert_array_equal(block.t_device_us, want.t_device_us)
    np.testing.assert_allclose(block.imu, walk_left.imu[:n], atol=0.01)


# ---------------------------------------------------------------------- usb:VID:PID[:SERIAL]


def _usb_port(device: str, vid: int, pid: int, sn: str | None, loc: str = "1-1") -> ListPortInfo:
    p = ListPortInfo(device, skip_link_detection=True)
    p.vid, p.pid, p.serial_number, p.location = vid, pid, sn, loc
    p.product = "GaitEdge Insole"
    p.apply_usb_info()
    return p


PORTS = [
    ListPortInfo("/dev/ttyAMA0", skip_link_detection=True),  # on-board UART: never a match
    _usb_port("/dev/ttyACM0", 0x2E8A, 0x000A, "E6614C311B4A5E2F", "1-1.2"),
    _usb_port("/dev/ttyACM1", 0x2E8A, 0x000A, "AB12", "1-1.3"),
    _usb_port("/dev/ttyUSB0", 0x0403, 0x6001, None),
]


def test_usb_match_by_ids_and_serial() -> None:
    assert find_usb_port("usb:0403:6001", PORTS) == "/dev/ttyUSB0"
    assert find_usb_port("usb:0x0403:0x6001", PORTS) == "/dev/ttyUSB0"
    assert find_usb_port("usb:2E8A:000A:ab12", PORTS) == "/dev/ttyACM1"  # any case
    assert find_usb_port("usb:2e8a:000a:E6614C311B4A5E2F", PORTS) == "/dev/ttyACM0"


def test_usb_several_matches_list_them_and_ask_for_the_serial() -> None:
    with pytest.raises(TransportError, match="2 serial ports match usb:2e8a:000a") as info:
        find_usb_port("usb:2e8a:000a", PORTS)
    msg = str(info.value)
    assert "/dev/ttyACM0" in msg and "/dev/ttyACM1" in msg and "E6614C311B4A5E2F" in msg
    assert "usb:VID:PID:SERIAL" in msg
    assert not isinstance(info.value, DeviceNotFoundError)


def test_usb_no_match_lists_what_is_there() -> None:
    with pytest.raises(DeviceNotFoundError, match="no serial port matches usb:2e8a:000a:ZZ"):
        find_usb_port("usb:2e8a:000a:ZZ", PORTS)
    with pytest.raises(DeviceNotFoundError, match="/dev/ttyUSB0 usb:0403:6001") as info:
        find_usb_port("usb:1234:5678", PORTS)
    assert "ttyAMA0" not in str(info.value)
    with pytest.raises(DeviceNotFoundError, match="present: none"):
        find_usb_port("usb:1234:5678", PORTS[:1])


async def test_usb_target_opens_the_matching_port(
    pty: Pty, monkeypatch: pytest.MonkeyPatch
) -> None:
    ports = [*PORTS, _usb_port(pty.path, 0x1209, 0x6E01, "INSOLE-L")]
    monkeypatch.setattr(serial.tools.list_ports, "comports", lambda *a, **k: ports)
    t = open_transport("serial://usb:1209:6e01")
    assert isinstance(t, SerialTransport)
    try:
        await t.open()
        assert t.device_ == pty.path
        pty.write(b"found by id")
        assert await read_n(t, 11) == b"found by id"  # type: ignore[arg-type]
    finally:
        await t.aclose()


def test_list_serial_insoles_describes_usb_ports() -> None:
    found = list_serial_insoles(ports=PORTS)
    assert [p.path for p in found] == ["/dev/ttyACM0", "/dev/ttyACM1", "/dev/ttyUSB0"]
    acm0, _, ftdi = found
    assert acm0.vid_pid == "2e8a:000a" and acm0.serial_number == "E6614C311B4A5E2F"
    assert acm0.description == "GaitEdge Insole"
    assert acm0.target == "usb:2e8a:000a:E6614C311B4A5E2F"  # no by-id link here
    assert ftdi.target == "/dev/ttyUSB0"  # no serial number: only the path is left
    every = list_serial_insoles(usb_only=False, ports=PORTS)
    (uart,) = [p for p in every if p.path == "/dev/ttyAMA0"]
    assert uart.vid_pid is None and uart.target == "/dev/ttyAMA0" and len(every) == 4
