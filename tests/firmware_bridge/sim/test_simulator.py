"""The simulator through a real pseudo-terminal into pyserial and the decoder."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from firmware_bridge import spec
from firmware_bridge.decoder import SampleBlock, StreamDecoder
from firmware_bridge.packets import DeviceInfo, Status
from firmware_bridge.sim.insole import Faults, InsoleSimulator, ble_insole, two_shoes
from firmware_bridge.sim.pty import PtyInsole
from firmware_bridge.sim.walks import Recording, load_ipol
from firmware_bridge.transports import TransportEvent, open_transport

STEP = np.array([spec.accel_lsb_mps2(3)] * 3 + [spec.gyro_lsb_radps(4)] * 3, dtype=np.float32)


async def _through_pty(
    sim: InsoleSimulator, speed: float | None, events: list[TransportEvent] | None = None
) -> tuple[SampleBlock, StreamDecoder]:
    """Stream ``sim`` into a pty, read it with pyserial until its last sample arrives."""
    decoder = StreamDecoder()
    blocks: list[SampleBlock] = []
    last = int(sim.recording.counter[-1])
    async with PtyInsole(sim) as pty:
        transport = open_transport(
            f"serial://{pty.port}", on_event=(events if events is not None else []).append
        )

        async def read_all() -> None:
            async with transport:
                while chunk := await transport.read():
                    for item in decoder.feed(chunk):
                        if isinstance(item, SampleBlock):
                            blocks.append(item)
                            if item.seq[-1] >= last:
                                return

        reader = asyncio.create_task(read_all())
        await pty.run(speed)
        await asyncio.wait_for(reader, 10)
    return SampleBlock.concat(blocks), decoder


def _check_equal_to_source(block: SampleBlock, rec: Recording) -> None:
    np.testing.assert_array_equal(block.seq, rec.counter)
    err = np.abs(block.imu - rec.imu)
    assert np.all(err <= STEP / 2 + 1e-6), err.max(axis=0)


async def test_bundled_walk_arrives_intact_with_its_real_gaps(walk_left: Recording) -> None:
    sim = InsoleSimulator(walk_left, clock_start_us=2**32 - 5_000_000)  # the clock wraps mid-walk
    block, dec = await _through_pty(sim, speed=None)
    _check_equal_to_source(block, walk_left)
    s = dec.stats
    assert walk_left.gaps > 30  # the slice really has the link's losses
    assert (s.gaps, s.lost_samples) == (walk_left.gaps, walk_left.lost_samples)
    assert s.frames_bad == s.duplicates == s.out_of_order == s.resets == 0
    assert np.all(np.diff(block.t_device_us) == 10_000 * np.diff(block.seq))
    assert isinstance(dec.info_, DeviceInfo) and dec.info_.side == "L"
    assert isinstance(dec.status_, Status) and dec.status_.battery_pct is not None


async def test_real_time_pacing(walk_left: Recording) -> None:
    part = walk_left.window(int(walk_left.counter[0]), int(walk_left.counter[0]) + 100)  # 1 s
    loop = asyncio.get_running_loop()
    start = loop.time()
    block, _ = await _through_pty(InsoleSimulator(part), speed=2.0)
    elapsed = loop.time() - start
    assert len(block) == len(part)
    assert 0.4 <= elapsed < 1.5  # 1 s of walking at 2x real time


async def test_faults_are_counted_exactly(walk_left: Recording) -> None:
    faults = Faults(drop=0.03, corrupt=0.03, duplicate=0.03, reorder=0.03)
    sim = InsoleSimulator(walk_left, faults=faults, seed=7)
    block, dec = await _through_pty(sim, speed=None)
    inj, s = sim.injected, dec.stats
    assert (
        min(inj.dropped_frames, inj.corrupted_frames, inj.duplicated_frames, inj.reordered_frames)
        > 0
    )
    assert s.frames_bad >= inj.corrupted_frames - inj.dropped_frames  # one bad frame per corruption
    assert s.duplicates > 0 and s.out_of_order > 0
    # every expected sample is delivered, lost or late; delivered ones equal the source
    first, last = int(walk_left.counter[0]), int(walk_left.counter[-1])
    assert s.samples_ok + s.lost_samples + s.out_of_order == last - first + 1
    assert np.all(np.diff(block.seq) > 0)
    src = dict(zip(walk_left.counter.tolist(), range(len(walk_left)), strict=True))
    idx = [src[q] for q in block.seq.tolist()]
    assert np.all(np.abs(block.imu - walk_left.imu[idx]) <= STEP / 2 + 1e-6)


async def test_unplug_for_a_while_then_carry_on(walk_left: Recording) -> None:
    """A 5 s outage (at 10x: 0.5 s of wall time): pyserial sees the port vanish, reopens
    it through the stable link, and the decoder counts the samples lost meanwhile."""
    sim = InsoleSimulator(walk_left, faults=Faults(disconnects=((4.0, 5.0),)))
    events: list[TransportEvent] = []
    block, dec = await _through_pty(sim, speed=10.0, events=events)
    kinds = [e.kind for e in events]
    assert "disconnected" in kinds and "reconnected" in kinds
    gap = next(e for e in events if e.kind == "reconnected").gap_s
    assert 0.2 < gap < 1.5
    # about 5 s of samples are missing around the outage, on top of the recording's own
    extra_lost = dec.stats.lost_samples - walk_left.lost_samples
    assert 400 <= extra_lost <= 560
    assert block.seq[-1] == walk_left.counter[-1]


async def test_two_shoes_with_clock_drift(walk_left: Recording, walk_right: Recording) -> None:
    left, right = two_shoes(walk_left, walk_right, drift_ppm=(200.0, -200.0))
    assert left.info.device_id != right.info.device_id and left.info.boot_id != right.info.boot_id
    assert left.duration_s < right.duration_s  # the fast clock sends its samples sooner
    (bl, dl), (br, dr) = await asyncio.gather(_through_pty(left, None), _through_pty(right, None))
    assert (dl.info_.side, dr.info_.side) == ("L", "R")
    _check_equal_to_source(bl, walk_left)
    _check_equal_to_source(br, walk_right)


@pytest.mark.parametrize("trial", ["1-6", "12-3", "11-1"])
async def test_full_recordings_through_pty(ipol_dir, trial: str) -> None:
    """Whole trials from ../shared (1-6 and 12-3 have many lost samples, 11-1 a repeated
    counter that the loader keeps once)."""
    for side in ("L", "R"):
        rec = load_ipol(ipol_dir, trial, side)
        block, dec = await _through_pty(InsoleSimulator(rec, samples_per_packet=4), speed=None)
        _check_equal_to_source(block, rec)
        assert (dec.stats.gaps, dec.stats.lost_samples) == (rec.gaps, rec.lost_samples)


async def _through_ble(
    sims: tuple[InsoleSimulator, ...], speed: float, events: list[TransportEvent]
) -> list[tuple[SampleBlock, StreamDecoder]]:
    """Scan once, connect every shoe by its advert under bleak's public API, decode."""
    from firmware_bridge.sim.ble_radio import SimRadio
    from firmware_bridge.transports.ble import BleTransport, scan_insoles

    async with SimRadio() as radio:
        for sim in sims:
            ble_insole(radio, sim, speed)
        adverts = {a.name: a for a in await scan_insoles(1.0, backend=radio.backend)}
        assert set(adverts) == {s.name for s in sims}

        async def read(sim: InsoleSimulator) -> tuple[SampleBlock, StreamDecoder]:
            dec, blocks, last = StreamDecoder(), [], int(sim.recording.counter[-1])
            link = BleTransport(adverts[sim.name].device, backend=radio.backend,
                                on_event=events.append)  # fmt: skip
            async with link:
                while chunk := await link.read():
                    blocks += [b for b in dec.feed(chunk) if isinstance(b, SampleBlock)]
                    if blocks and blocks[-1].seq[-1] >= last:
                        break
            return SampleBlock.concat(blocks), dec

        return list(await asyncio.wait_for(asyncio.gather(*(read(s) for s in sims)), 30))


async def test_two_shoes_over_simulated_ble(walk_left: Recording, walk_right: Recording) -> None:
    """Both shoes through bleak (fake backend, 20-byte notifications) equal their sources."""
    events: list[TransportEvent] = []
    sims = two_shoes(walk_left, walk_right, drift_ppm=(50.0, -50.0))
    (bl, dl), (br, dr) = await _through_ble(sims, speed=20.0, events=events)
    for (block, dec), rec in ((bl, dl), walk_left), ((br, dr), walk_right):
        _check_equal_to_source(block, rec)
        assert (dec.stats.gaps, dec.stats.lost_samples) == (rec.gaps, rec.lost_samples)
        assert dec.stats.frames_bad == 0
    assert [e.kind for e in events] == ["connected", "connected"]


async def test_ble_link_drop_is_a_gap_then_the_stream_goes_on(walk_left: Recording) -> None:
    sim = InsoleSimulator(walk_left, faults=Faults(disconnects=((4.0, 3.0),)))
    events: list[TransportEvent] = []
    [(block, dec)] = await _through_ble((sim,), speed=10.0, events=events)
    assert [e.kind for e in events] == ["connected", "disconnected", "reconnected"]
    assert 0.2 < events[-1].gap_s < 1.5  # 3 s of stream time at 10x
    extra_lost = dec.stats.lost_samples - walk_left.lost_samples
    assert 250 <= extra_lost <= 400  # about 3 s of samples never arrived
    assert block.seq[-1] == walk_left.counter[-1]
    assert dec.stats.frames_bad <= 2  # at most the frame cut at the drop and the one after
