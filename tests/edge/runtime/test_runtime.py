"""The streaming loop end to end: simulated insoles → real ptys → pyserial → model → store."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from edge.model.files import default_model_dir, load_model
from edge.model.gru import GRU
from edge.runtime import TrialRecorder, replay_trial, summarize
from edge.store import TrialInfo, TrialStore
from firmware_bridge.sim.insole import Faults, InsoleSimulator, two_shoes
from firmware_bridge.sim.pty import PtyInsole
from firmware_bridge.sim.walks import Recording
from tests.conftest import capture_of


async def _record(
    tmp_path: Path,
    left: Recording,
    right: Recording,
    *,
    speed: float = 20.0,
    faults: Faults | None = None,
    drift_ppm: tuple[float, float] = (40.0, -40.0),
    right_faults: Faults | None = None,
) -> tuple[TrialStore, TrialRecorder, int]:
    model = load_model(default_model_dir())
    sims = two_shoes(left, right, drift_ppm=drift_ppm, faults=faults)
    if right_faults is not None:  # the right shoe alone misbehaves
        sims = (sims[0], InsoleSimulator(right, drift_ppm=drift_ppm[1], faults=right_faults))
    store = TrialStore(tmp_path / "trials.db")
    async with PtyInsole(sims[0]) as pl, PtyInsole(sims[1]) as pr:
        rec = TrialRecorder(
            model,
            {"L": f"serial://{pl.port}", "R": f"serial://{pr.port}"},
            store,
            TrialInfo(subject="S01", shoe="A", condition="lab"),
        )
        stop = asyncio.Event()
        task = asyncio.create_task(rec.run(stop))
        await asyncio.gather(pl.run(speed), pr.run(speed))
        last = {"L": int(left.counter[-1]), "R": int(right.counter[-1])}
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:  # the ptys hold the last bytes: let them in
            done = [rec.shoes[s].last_counter for s in "LR"]
            if all(c is not None and c >= last[s] for c, s in zip(done, "LR", strict=True)):
                break
            await asyncio.sleep(0.05)
        stop.set()
        trial_id = await task
    return store, rec, trial_id


async def test_two_shoes_are_recorded_whole(
    tmp_path: Path, walk_left: Recording, walk_right: Recording
) -> None:
    store, _, tid = await _record(tmp_path, walk_left, walk_right)
    with store:
        trial = store.trial(tid)
        assert trial.status == "complete"
        assert trial.subject == "S01"
        model = load_model(default_model_dir())
        for side, source in (("L", walk_left), ("R", walk_right)):
            s = store.samples(tid, side)
            # every sample the recording has, values within the int16 step, no invented ones
            assert np.array_equal(s.counter, source.counter)
            assert np.allclose(s.imu, source.imu, atol=0.01)
            gaps = store.gaps(tid)
            lost = sum(g.n_lost for g in gaps if g.side == side)
            assert lost == source.lost_samples
            # predictions: one per sample, equal to the model run offline on what arrived
            counter, outputs, names = store.predictions(tid, side)
            assert np.array_equal(counter, source.counter)
            assert names == ["phase_cos", "phase_sin", "stance"]
            y, _ = GRU(model.weights).run(model.normalise(s.imu)[:, None, :])
            y = y[:, 0]
            y[:, 2] = 1 / (1 + np.exp(-y[:, 2]))
            assert np.max(np.abs(outputs - y)) < 1e-4
            # host times never go back, even while the clock fit settles
            assert np.all(np.diff(s.t_host) > 0)
        events = store.events(tid)
        hs = [e for e in events if e.kind == "HS"]
        assert len(hs) >= 2 * 8  # the bundled 14 s: a dozen strides a foot
        summary = summarize(store, tid)
    assert summary.shoes["L"].samples == len(walk_left)
    assert 0.8 < summary.shoes["L"].stride_time_s < 1.6


async def test_strides_live_then_smoothed_when_the_trial_ends(
    tmp_path: Path, walk_left: Recording, walk_right: Recording
) -> None:
    """The live pass fills the status; the stored strides are the offline pass's."""
    store, rec, tid = await _record(tmp_path, walk_left, walk_right)
    with store:
        rows = store.strides(tid)
        assert rows.source == "offline"
        c = rows.columns
        steady = c["steady"]
        for side in "LR":
            mine = steady & (c["side"] == side)
            assert mine.sum() >= 5  # the bundled 14 s: ~10 strides a foot, the edges not steady
            assert 1.0 < np.median(c["stride_length_m"][mine]) < 1.5  # a walk of ~1.1 m/s
            assert 0.9 < np.median(c["stride_time_s"][mine]) < 1.4
            last = rec.shoes[side].stats.last_stride
            assert last is not None and last["side"] == side
        assert " m/s " in rec.status_line()


async def test_faults_end_with_gaps_accounted(
    tmp_path: Path, walk_left: Recording, walk_right: Recording
) -> None:
    """Drops, corruption, a 5 s unplug and clocks 400 ppm apart, paced at 10x."""
    faults = Faults(drop=0.02, corrupt=0.02, disconnects=((4.0, 5.0),))
    store, rec, tid = await _record(tmp_path, walk_left, walk_right, faults=faults, speed=10,
                                    drift_ppm=(200.0, -200.0))  # fmt: skip
    with store:
        assert store.trial(tid).status == "complete"
        assert all(s.stats.disconnects == 1 for s in rec.shoes.values())
        long = [g for g in store.gaps(tid) if g.n_lost >= 400]  # the unplug: ~500 samples
        assert {g.side for g in long} == {"L", "R"} and all(g.reason == "reset" for g in long)
        for side, shoe in rec.shoes.items():
            s = store.samples(tid, side)
            lost = sum(g.n_lost for g in store.gaps(tid) if g.side == side)
            first, last = int(s.counter[0]), int(s.counter[-1])
            # every counter value between the first and last received: stored or a gap
            assert len(s.counter) + lost == last - first + 1
            assert lost == shoe.decoder.stats.lost_samples
            assert len(store.predictions(tid, side)[0]) == len(s.counter)


async def test_replay_equals_the_live_run_exactly(
    tmp_path: Path, walk_left: Recording, walk_right: Recording
) -> None:
    """Live (with drops, a 1 s outage and corruption) vs replay of the stored samples."""
    faults = Faults(drop=0.03, corrupt=0.01, disconnects=((5.0, 1.0),))
    store, _, tid = await _record(tmp_path, walk_left, walk_right, faults=faults, speed=10)
    model = load_model(default_model_dir())
    with store:
        assert any(g.reason == "reset" for g in store.gaps(tid))  # the outage reset a shoe
        seen = []
        new = replay_trial(store, tid, model, progress=lambda d, t: seen.append((d, t)))
        assert seen[-1][0] == seen[-1][1] > 0
        store.flush()
        for side in "LR":
            c0, y0, _ = store.predictions(tid, side)
            c1, y1, _ = store.predictions(new, side)
            assert np.array_equal(c0, c1)
            assert np.array_equal(y0, y1)  # bit for bit
        for side in "LR":
            live = [e for e in store.events(tid) if e.side == side]
            assert live == [e for e in store.events(new) if e.side == side]
        assert store.trial(new).status == "complete"
        assert f"replay of trial {tid}" in store.trial(new).notes
        # one summary, read from the store: the replay's equals the live run's
        assert summarize(store, new).shoes == summarize(store, tid).shoes


@pytest.mark.slow
async def test_one_silent_shoe_does_not_hold_the_other_and_replays_exactly(
    tmp_path: Path, walk_left: Recording, walk_right: Recording
) -> None:
    """The right shoe drops out for 2 s at real-time pace: the left one goes on meanwhile."""
    right = Faults(disconnects=((3.0, 2.0),))
    store, _, tid = await _record(tmp_path, walk_left, walk_right, speed=1.5, right_faults=right)
    model = load_model(default_model_dir())
    with store:
        gaps = store.gaps(tid)
        assert any(g.side == "R" and g.reason in ("stalled", "reset") for g in gaps)
        assert not any(g.side == "L" and g.reason != "bridged" for g in gaps)
        assert len(store.predictions(tid, "L")[0]) == len(walk_left)  # the left shoe: whole
        new = replay_trial(store, tid, model)
        store.flush()
        for side in "LR":
            assert np.array_equal(store.predictions(tid, side)[1], store.predictions(new, side)[1])
            # per shoe the same events; across shoes the interleaving follows arrival
            live = [e for e in store.events(tid) if e.side == side]
            assert live == [e for e in store.events(new) if e.side == side]


async def test_two_shoes_over_the_fake_ble_backend(
    tmp_path: Path, walk_left: Recording, walk_right: Recording
) -> None:
    """The same loop over bleak's public API with the simulated radio (20-byte notifications,
    frames spanning notifications, one link drop)."""
    from firmware_bridge.sim.ble_radio import SimRadio
    from firmware_bridge.sim.insole import ble_insole
    from firmware_bridge.transports.ble import BleTransport, scan_insoles

    sims = two_shoes(walk_left, walk_right, drift_ppm=(60.0, -60.0),
                     faults=Faults(disconnects=((6.0, 1.0),)))  # fmt: skip
    model = load_model(default_model_dir())
    async with SimRadio() as radio:
        for sim in sims:
            ble_insole(radio, sim, 8.0)
        adverts = {a.name: a for a in await scan_insoles(1.0, backend=radio.backend)}

        def opener(url: str, on_event=None) -> BleTransport:
            name = url.removeprefix("ble://name=")
            return BleTransport(adverts[name].device, backend=radio.backend, on_event=on_event)

        with TrialStore(tmp_path / "ble.db") as store:
            rec = TrialRecorder(
                model, {s.recording.side: f"ble://name={s.name}" for s in sims}, store,
                TrialInfo(subject="S02"), opener=opener,
            )  # fmt: skip
            stop = asyncio.Event()
            task = asyncio.create_task(rec.run(stop))
            last = {s.recording.side: int(s.recording.counter[-1]) for s in sims}
            deadline = time.monotonic() + 20.0
            while time.monotonic() < deadline:
                if all((rec.shoes[k].last_counter or -1) >= v for k, v in last.items()):
                    break
                await asyncio.sleep(0.05)
            stop.set()
            tid = await task
            assert store.trial(tid).status == "complete"
            for side, shoe in rec.shoes.items():
                s = store.samples(tid, side)
                lost = sum(g.n_lost for g in store.gaps(tid) if g.side == side)
                assert len(s.counter) + lost == int(s.counter[-1] - s.counter[0]) + 1
                assert shoe.stats.disconnects == 1
                assert len(store.predictions(tid, side)[0]) == len(s.counter)
            assert sum(1 for e in store.events(tid) if e.kind == "HS") >= 10


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_at_most_a_second(
    tmp_path: Path, walk_left: Recording, walk_right: Recording
) -> None:
    """``gaitedge run`` recording two shoes at real time, killed with SIGKILL 20 times."""
    import os
    import random
    import signal
    import sqlite3
    import subprocess
    import sys

    urls = [capture_of(tmp_path / f"{r.side}.gecap", r, paced=True)
            for r in (walk_left, walk_right)]  # fmt: skip
    rng = random.Random(20261127)
    db = tmp_path / "kill.db"
    for i in range(20):
        proc = subprocess.Popen(
            [sys.executable, "-m", "edge", "run", "--left", urls[0], "--right", urls[1],
             "--db", str(db), "--subject", f"kill-{i}"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        assert proc.stdout is not None
        proc.stdout.readline()  # the first status line: recording for about a second
        time.sleep(rng.uniform(0.0, 1.5))
        os.kill(proc.pid, signal.SIGKILL)
        killed_at = time.time()
        proc.wait()
        proc.stdout.close()
        con = sqlite3.connect(db)
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        con.close()
        with TrialStore(db) as store:  # opening marks the dead writer's trial
            trial = store.trials()[-1]
            assert trial.subject == f"kill-{i}" and trial.status == "interrupted"
            for side in "LR":
                s = store.samples(trial.id, side)
                assert len(s.counter) > 0
                assert killed_at - s.t_host[-1] <= 1.0 + 0.1, (i, side)
                # what was kept is whole: every counter up to the last, stored or a gap
                lost = sum(g.n_lost for g in store.gaps(trial.id) if g.side == side)
                span = int(s.counter[-1] - s.counter[0]) + 1
                assert len(s.counter) + lost >= span - 1


@pytest.mark.slow
@pytest.mark.parametrize(
    ("faults", "busy_s"),
    [([], 0.0),
     (["--drop", "0.02", "--corrupt", "0.02", "--disconnect", "4:5", "--seed", "7"], 0.0),
     ([], 1.5)],
    ids=["clean", "drops-corruption-5s-unplug", "loop-blocked-1.5s"],
)  # fmt: skip
async def test_left_and_right_share_one_time_axis(
    tmp_path: Path, walk_left: Recording, faults: list[str], busy_s: float
) -> None:
    """Two insoles served by another process (``gaitedge sim``, as a lab's devices would
    be: they do not share the recorder's event loop), clocks 600 ppm apart, real time,
    with and without faults, and with the recorder's loop blocked (an overloaded host):
    every sample of both shoes lands on one time axis to within 5 ms of its true instant
    (the loop knows only device timestamps and arrival times), from the first second on
    and across the unplug; every counter is stored or a gap; a loop that falls behind
    takes no shoe for a silent one."""
    ppm, speed = (300.0, -300.0), 1.0
    sim = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "edge", "sim", "--speed", str(speed),
        "--drift-ppm", *map(str, ppm), *faults, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert sim.stdout is not None
    ports = [(await sim.stdout.readline()).decode().split(": ", 1)[1].strip() for _ in "LR"]
    store = TrialStore(tmp_path / "trials.db")
    rec = TrialRecorder(load_model(default_model_dir()), dict(zip("LR", ports, strict=True)),
                        store, TrialInfo(subject="S01"))  # fmt: skip
    stop = asyncio.Event()
    task = asyncio.create_task(rec.run(stop))
    if busy_s:
        asyncio.get_running_loop().call_later(4.0, time.sleep, busy_s)
    await asyncio.wait_for(sim.wait(), 60.0)  # the walk served; the ports are gone
    stop.set()
    tid = await task
    with store:
        left, right = store.samples(tid, "L"), store.samples(tid, "R")
        for side, s in (("L", left), ("R", right)):
            lost = sum(g.n_lost for g in store.gaps(tid) if g.side == side)
            assert len(s.counter) + lost == s.counter[-1] - s.counter[0] + 1
            assert lost == rec.shoes[side].decoder.stats.lost_samples
            # the unplug, and the ports closing at the end of the walk
            assert rec.shoes[side].stats.disconnects == (2 if faults else 1)
            # a loop behind takes no shoe for silent; across the unplug the links reopen
            # at their own backoff, and the one back first goes on: the other is stalled
            # exactly where its unplug gap starts, nowhere else
            gaps = [g for g in store.gaps(tid) if g.side == side]
            stalled = {g.first_counter for g in gaps if g.reason == "stalled"}
            unplug = {g.first_counter for g in gaps if g.reason == "reset"}
            assert stalled <= (unplug if faults else set()), (stalled, unplug)
    # the truth: both walks start together (one sim process); a device whose clock runs
    # fast by p ppm takes sample k at k / (fs (1 + p 1e-6)) (the simulator's definition;
    # the recordings' sensors were synchronised, so counter k is one instant in the walk)
    common, il, ir = np.intersect1d(left.counter, right.counter, return_indices=True)
    k = common - walk_left.counter[0] + 1
    true_l, true_r = (k / (walk_left.sample_rate_hz * (1 + p * 1e-6)) / speed for p in ppm)
    err = (left.t_host[il] - right.t_host[ir]) - (true_l - true_r)
    assert len(common) > (0.5 if faults else 0.8) * len(walk_left)
    # the first packets, read as a backlog when the ports open, are mapped as late as they
    # came (nothing to compare them with yet): judged from the first second on
    first = k <= walk_left.sample_rate_hz
    q50, q95, worst = np.percentile(np.abs(err[~first]), [50, 95, 100])
    print(f"L/R alignment after the first second: median {1e3 * q50:.2f} ms, "
          f"p95 {1e3 * q95:.2f} ms, max {1e3 * worst:.2f} ms; "
          f"first second max {1e3 * np.abs(err[first]).max():.2f} ms")  # fmt: skip
    assert worst < 0.005, (q50, q95, worst)


@pytest.mark.slow
async def test_disk_nearly_full_stops_cleanly_and_says_so(
    tmp_path: Path, walk_left: Recording, walk_right: Recording
) -> None:
    model = load_model(default_model_dir())
    sims = two_shoes(walk_left, walk_right)
    lines: list[str] = []
    with TrialStore(tmp_path / "full.db") as store:
        async with PtyInsole(sims[0]) as pl, PtyInsole(sims[1]) as pr:
            rec = TrialRecorder(
                model, {"L": f"serial://{pl.port}", "R": f"serial://{pr.port}"}, store,
                TrialInfo(subject="S03"), on_status=lines.append,
            )  # fmt: skip
            task = asyncio.create_task(rec.run(duration_s=6.0))
            feed = asyncio.gather(pl.run(4.0), pr.run(4.0))
            await asyncio.sleep(1.5)
            store.min_free_bytes = 1 << 62  # the disk "fills up" mid-trial
            filled = time.monotonic()
            tid = await task
            # issue 14: the trial ends when nothing more can be kept, not at --duration
            assert time.monotonic() - filled < 2.5
            feed.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feed
        trial = store.trial(tid)
        assert trial.status == "disk_full"
        assert any("disk full" in line for line in lines), lines[-3:]
        kept = store.samples(tid, "L").counter
        assert 0 < len(kept) < len(walk_left)  # what came before is kept, the rest not
    con = sqlite3.connect(tmp_path / "full.db")
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()


def test_a_loop_that_fell_behind_takes_no_shoe_for_silent(tmp_path: Path) -> None:
    """Seconds after both shoes' last bytes were received (the loop is behind, as on an
    overloaded Pi): the left shoe has a packet waiting, the right one's bytes are not yet
    read. Silence is judged between the links' arrival stamps, not against the wall clock:
    nothing is reset. A right shoe whose link received nothing for 0.5 s while the left
    one's did is silent: the left goes on, the right is recorded as stalled."""
    model = load_model(default_model_dir())
    with TrialStore(tmp_path / "behind.db") as store:
        rec = TrialRecorder(model, {"L": "replay:///none", "R": "replay:///none"}, store,
                            TrialInfo())  # fmt: skip
        k = rec.stepper.k
        for side, n in (("L", 2 * k), ("R", k)):  # both shoes walked; then the right's
            imu = np.zeros((n, 6), np.float32)  # next packet has not been read yet
            rec.stepper.push(side, np.arange(n), np.arange(n) / 100.0, imu)
        assert rec.stepper.step() == 1
        long_ago = time.monotonic() - 5.0
        rec.shoes["L"].last_arrival, rec.shoes["R"].last_arrival = long_ago, long_ago - 0.05
        rec._step_ready()
        assert rec.shoes["R"].stats.resets == 0
        assert rec.stepper.lanes["L"].has_packet(k)  # held for the right shoe's packet
        rec.shoes["R"].last_arrival = long_ago - 0.6
        rec._step_ready()
        assert rec.shoes["R"].stats.resets == 1
        assert not rec.stepper.lanes["L"].has_packet(k)  # stepped alone
        store.flush()
        assert [g.reason for g in store.gaps(rec.trial_id)] == ["stalled"]
        store.finish_trial(rec.trial_id)


async def test_links_close_fully_when_a_trial_ends(tmp_path: Path) -> None:
    """A link whose close takes a while (a BLE disconnect: up to seconds) is closed to the
    end, not cancelled halfway: a BLE insole left connected stops advertising."""
    import threading

    from firmware_bridge.transports._chunk_queue import ChunkQueue
    from firmware_bridge.transports.base import Transport

    class SlowToClose(Transport):
        def __init__(self, url: str, on_event: object = None) -> None:
            super().__init__()
            self.name, self.chunks, self.closed = url, ChunkQueue(self), False
            self.stop = threading.Event()
            threading.Thread(target=self._feed, daemon=True).start()

        def _feed(self) -> None:  # a live link's thread: bytes every 10 ms
            while not self.stop.wait(0.01):
                self.chunks.put(b"\x00" * 30)

        async def read(self) -> bytes:
            return await self.chunks.get()

        async def read_stamped(self) -> list[tuple[bytes, float]]:
            return await self.chunks.get_stamped()

        async def aclose(self) -> None:
            self.stop.set()
            await asyncio.sleep(0.3)
            self.closed = True
            self.chunks.end()

    links: list[SlowToClose] = []

    def opener(url: str, on_event: object = None) -> SlowToClose:
        links.append(SlowToClose(url, on_event))
        return links[-1]

    with TrialStore(tmp_path / "close.db") as store:
        rec = TrialRecorder(load_model(default_model_dir()), {"L": "slow://l", "R": "slow://r"},
                            store, TrialInfo(), opener=opener)  # fmt: skip
        async with asyncio.timeout(10):  # the drain once never ended on a live feed
            await rec.run(duration_s=0.3)
    assert [link.closed for link in links] == [True, True]


def test_device_flags_are_stored_and_shown(tmp_path: Path) -> None:
    from firmware_bridge import Status, spec

    model = load_model(default_model_dir())
    with TrialStore(tmp_path / "flags.db") as store:
        rec = TrialRecorder(model, {"L": "replay:///nonexistent"}, store, TrialInfo())
        shoe = rec.shoes["L"]
        flags = spec.ERR_LOW_BATTERY | spec.ERR_FIFO_OVERFLOW
        rec._status(shoe, Status(0, battery_pct=9, error_flags=flags))
        rec._status(shoe, Status(0, battery_pct=9, error_flags=flags))  # unchanged: once
        rec._status(shoe, Status(0, battery_pct=8, error_flags=0))
        assert "batt 8%" in rec.status_line()
        rec._status(shoe, Status(0, battery_pct=8, error_flags=spec.ERR_IMU_FAULT))
        assert "FLAGS IMU_FAULT" in rec.status_line()
        store.flush()
        messages = [e.message for e in store.errors(rec.trial_id)]
        assert messages == ["device flags: FIFO_OVERFLOW LOW_BATTERY", "device flags: cleared",
                            "device flags: IMU_FAULT"]  # fmt: skip
        store.finish_trial(rec.trial_id)


async def test_a_device_the_model_cannot_take_ends_the_trial_with_one_line(
    tmp_path: Path, walk_left: Recording
) -> None:
    """An insole announcing 50 Hz to a 100 Hz model: refused, trial marked, reason stored."""
    import dataclasses

    slow = dataclasses.replace(walk_left, sample_rate_hz=50.0)
    model = load_model(default_model_dir())
    with TrialStore(tmp_path / "bad.db") as store:
        async with PtyInsole(InsoleSimulator(slow)) as pty:
            rec = TrialRecorder(model, {"L": f"serial://{pty.port}"}, store, TrialInfo())
            feed = asyncio.create_task(pty.run(4.0))
            tid = await asyncio.wait_for(rec.run(), 10.0)
            feed.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feed
        assert store.trial(tid).status == "error"
        (err,) = [e.message for e in store.errors(tid)]
        assert "trained at 100 Hz" in err and "50 Hz" in err and "\n" not in err
        assert rec.error == err


def test_a_pure_python_cobs_is_said_once_a_trial(tmp_path: Path, monkeypatch, caplog) -> None:
    """Issue 14: cobs 1.2.2 builds pure Python where there is no compiler (a Pi), silently."""
    import logging

    from firmware_bridge import framing

    model = load_model(default_model_dir())
    for c_core in (True, False):
        monkeypatch.setattr(framing, "using_cobs_c_core", lambda c=c_core: c)
        caplog.clear()
        with caplog.at_level(logging.WARNING), TrialStore(tmp_path / f"{c_core}.db") as store:
            rec = TrialRecorder(model, {"L": "replay://none.gecap"}, store, TrialInfo())
            rec.sink.finish("stopped")
        said = [r for r in caplog.records if "without its C core" in r.getMessage()]
        assert len(said) == (0 if c_core else 1)


async def test_a_trial_that_received_nothing_is_an_error_with_the_cause(tmp_path: Path) -> None:
    """Issue 14: a BLE run that could not connect ended "complete" with 0 samples, exit 0."""
    from firmware_bridge.transports.capture import CaptureWriter

    empty = tmp_path / "empty.gecap"
    CaptureWriter(empty, source="nothing").close()  # a link that opens and sends nothing
    model = load_model(default_model_dir())
    with TrialStore(tmp_path / "t.db") as store:
        rec = TrialRecorder(model, {"L": f"replay://{empty}"}, store, TrialInfo())
        tid = await rec.run(duration_s=5.0)
        assert store.trial(tid).status == "error"
        assert rec.error is not None and rec.error.startswith("no samples from any shoe")
        assert any(e.message == rec.error for e in store.errors(tid))
