"""The trial store: round trip, schema versions, non-blocking appends, disk full, SIGKILL."""

from __future__ import annotations

import logging
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from edge.store import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    StoreError,
    StoreHealth,
    TrialInfo,
    TrialStore,
)

ROOT = Path(__file__).resolve().parents[3]
OUTPUTS = ["phase_cos", "phase_sin", "stance"]
INFO = TrialInfo(
    subject="P03", shoe="A-17", shoe_model="Runner 2", shoe_size="EU 42", condition="walk",
    surface="treadmill", operator="jd", notes="left insole re-taped", model_name="gait-phase",
    model_sha256="ab" * 32,
)  # fmt: skip


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(5)


def _device(store: TrialStore, tid: int, side: str, p: int = 0) -> None:
    channels = ["acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]
    channels += [f"pressure_{i}" for i in range(p)]
    units = ["m/s^2"] * 3 + ["rad/s"] * 3 + ["kPa"] * p
    store.add_device(
        tid, side, device_id=0x514C if side == "L" else "R-0042", firmware="1.2.0",
        sample_rate_hz=100.0, channels=channels, units=units, transport=f"sim://{side}",
    )  # fmt: skip


def _block(rng: np.random.Generator, start: int, n: int, p: int | None = None) -> tuple:
    counter = np.arange(start, start + n, dtype=np.int64)
    t_host = 1.7e9 + counter / 100 + rng.random(n) * 1e-3
    t_device_us = counter * 10_000 + 123_456_789_012
    imu = rng.standard_normal((n, 6)).astype(np.float32)
    pressure = None if p is None else rng.random((n, p)).astype(np.float32) * 300
    return counter, t_host, t_device_us, imu, pressure


def _integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def test_round_trip(tmp_path: Path, rng: np.random.Generator) -> None:
    path = tmp_path / "deep" / "folder" / "store.db"  # parent folders are created
    written: dict[str, list[tuple]] = {"L": [], "R": []}
    preds: dict[str, list[tuple]] = {"L": [], "R": []}
    with TrialStore(path, flush_interval_s=0.05) as store:
        tid = store.start_trial(INFO)
        _device(store, tid, "L", p=4)
        _device(store, tid, "R")
        store.set_outputs(tid, OUTPUTS)
        for start in range(0, 400, 4):
            for side, p in (("L", 4), ("R", None)):
                block = _block(rng, start, 4, p)
                if side == "L" and start == 8:
                    block[4][1, 2] = np.nan  # a cell without a valid reading
                store.append_samples(tid, side, *block)
                written[side].append(block)
                out = rng.standard_normal((4, 3)).astype(np.float32)
                # a non-contiguous view, as the loop passes y[:, row]; modified afterwards
                view = np.stack([out, out])[:, :, :][0]
                store.append_predictions(tid, side, block[0], view)
                preds[side].append((block[0], out.copy()))
                view[:] = 0  # the store copied it
        store.append_event(tid, "L", "HS", 101.25, 104, 1.7e9 + 1.04)
        store.append_event(tid, "R", "TO", 150.5, 153, 1.7e9 + 1.53)
        store.append_gap(tid, "R", 200, 3, "bridged")
        store.append_error(tid, None, "link gave up: test")
        store.append_error(tid, "L", "battery low")
        # a second, read-only store sees committed data while this one records
        store.flush()
        with TrialStore(path, read_only=True) as viewer:
            assert len(viewer.samples(tid, "L").counter) == 400
            assert viewer.trial(tid).status == "recording"
        store.finish_trial(tid)
        assert store.status == "ok"

    with TrialStore(path) as store:  # reopened
        [row] = store.trials()
        assert row.id == tid and row.status == "complete"
        assert row.start_unix_s <= row.end_unix_s <= time.time()
        trial = store.trial(tid)
        for field in ("subject", "shoe", "shoe_model", "shoe_size", "condition", "surface"):
            assert getattr(trial, field) == getattr(INFO, field)
        assert trial.model_sha256 == INFO.model_sha256 and trial.notes == INFO.notes
        assert trial.outputs == OUTPUTS
        assert set(trial.devices) == {"L", "R"}
        assert trial.devices["L"].device_id == 0x514C
        assert trial.devices["R"].device_id == "R-0042"
        assert trial.devices["L"].channels[-1] == "pressure_3"
        assert trial.devices["L"].units[:6] == ["m/s^2"] * 3 + ["rad/s"] * 3
        assert trial.devices["R"].sample_rate_hz == 100.0

        for side in "LR":
            got = store.samples(tid, side)
            want = [np.concatenate([b[i] for b in written[side]]) for i in range(4)]
            for key, w in zip(("counter", "t_host", "t_device_us", "imu"), want, strict=True):
                assert getattr(got, key).dtype == w.dtype
                np.testing.assert_array_equal(getattr(got, key), w)
            if side == "L":
                w = np.concatenate([b[4] for b in written[side]])
                assert got.pressure is not None and got.pressure.dtype == np.float32
                np.testing.assert_array_equal(got.pressure, w)  # NaN where NaN
                assert np.isnan(got.pressure[9, 2])
            else:
                assert got.pressure is None
            counter, outputs, names = store.predictions(tid, side)
            np.testing.assert_array_equal(counter, np.concatenate([c for c, _ in preds[side]]))
            np.testing.assert_array_equal(outputs, np.concatenate([o for _, o in preds[side]]))
            assert outputs.dtype == np.float32 and names == OUTPUTS

        events = store.events(tid)
        assert [(e.side, e.kind, e.counter_at, e.counter_reported) for e in events] == [
            ("L", "HS", 101.25, 104),
            ("R", "TO", 150.5, 153),
        ]
        assert events[0].t_host == 1.7e9 + 1.04
        [gap] = store.gaps(tid)
        assert (gap.side, gap.first_counter, gap.n_lost, gap.reason) == (
            "R", 200, 3, "bridged",
        )  # fmt: skip
        assert [(e.side, e.message) for e in store.errors(tid)] == [
            (None, "link gave up: test"),
            ("L", "battery low"),
        ]
    assert _integrity(path) == "ok"


def test_sql_on_samples_and_predictions(tmp_path: Path, rng: np.random.Generator) -> None:
    """The schema is usable from plain SQL (the module docstring's example)."""
    path = tmp_path / "s.db"
    with TrialStore(path, flush_interval_s=0.05) as store:
        tid = store.start_trial(TrialInfo())
        store.set_outputs(tid, OUTPUTS)
        block = _block(rng, 0, 8)
        out = rng.random((8, 3)).astype(np.float32)
        store.append_samples(tid, "L", *block)
        store.append_predictions(tid, "L", block[0], out)
        store.finish_trial(tid)
    conn = sqlite3.connect(path)
    rows = conn.execute(
        "SELECT p.counter, p.value, s.acc_z_mps2 FROM predictions p "
        "JOIN outputs o ON o.trial_id = p.trial_id AND o.idx = p.output "
        "JOIN samples s ON s.trial_id = p.trial_id AND s.side = p.side AND s.counter = p.counter "
        "WHERE p.trial_id = ? AND p.side = 'L' AND o.name = 'stance' ORDER BY p.rowid",
        (tid,),
    ).fetchall()
    conn.close()
    np.testing.assert_array_equal([r[0] for r in rows], block[0])
    np.testing.assert_array_equal(np.array([r[1] for r in rows], np.float32), out[:, 2])
    np.testing.assert_array_equal(np.array([r[2] for r in rows], np.float32), block[3][:, 2])


def test_schema_version_newer_refused_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "v.db"
    with TrialStore(path) as store:
        tid = store.start_trial(TrialInfo(subject="P01"))
        store.finish_trial(tid, "stopped")
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()

    with TrialStore(path) as store:  # reopening an existing store works, data kept
        assert [(t.subject, t.status) for t in store.trials()] == [("P01", "stopped")]
        tid2 = store.start_trial(TrialInfo(subject="P02"))
        assert tid2 == tid + 1
        store.finish_trial(tid2)

    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    msg = rf"written by a newer gaitedge \(schema {SCHEMA_VERSION + 1}.*\); upgrade gaitedge"
    with pytest.raises(StoreError, match=msg) as info:
        TrialStore(path)
    assert "\n" not in str(info.value)
    with pytest.raises(StoreError, match="newer gaitedge"):
        TrialStore(path, read_only=True)


def test_foreign_files_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="not a gaitedge trial store; pick another path"):
        TrialStore(other)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not sqlite at all, " * 100)
    with pytest.raises(StoreError, match="cannot open trial store"):
        TrialStore(junk)
    with pytest.raises(StoreError, match="no trial store at"):
        TrialStore(tmp_path / "missing.db", read_only=True)


def test_bad_arguments(tmp_path: Path, rng: np.random.Generator) -> None:
    with TrialStore(tmp_path / "b.db") as store:
        tid = store.start_trial(TrialInfo())
        counter, t_host, t_dev, imu, _ = _block(rng, 0, 4)
        with pytest.raises(ValueError, match="side must be 'L' or 'R', got 'X'"):
            store.append_samples(tid, "X", counter, t_host, t_dev, imu)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=r"imu \(n, 6\)"):
            store.append_samples(tid, "L", counter, t_host, t_dev, imu[:, :3])
        with pytest.raises(ValueError, match="trial 99 is not recording in this store"):
            store.append_samples(99, "L", counter, t_host, t_dev, imu)
        with pytest.raises(ValueError, match=r"call set_outputs\("):
            store.append_predictions(tid, "L", counter, np.zeros((4, 3), np.float32))
        store.set_outputs(tid, OUTPUTS)
        with pytest.raises(ValueError, match=r"outputs \(n, 3\)"):
            store.append_predictions(tid, "L", counter, np.zeros((4, 2), np.float32))
        with pytest.raises(ValueError, match="status must be one of"):
            store.finish_trial(tid, "recording")  # type: ignore[arg-type]
        store.finish_trial(tid)
        with pytest.raises(ValueError, match="not recording"):
            store.append_samples(tid, "L", counter, t_host, t_dev, imu)
    with pytest.raises(StoreError, match="is closed"):
        store.start_trial(TrialInfo())


def test_append_never_waits_for_the_disk(tmp_path: Path, rng: np.random.Generator) -> None:
    """2,000 appends while another connection holds the write lock: every call returns.

    The writer tries to commit every 10 ms and sits in SQLite's busy wait (5 s) behind the
    lock. Had an append executed any SQL write, or waited for a commit, it could not
    return before the lock is released, which happens only after the last append.
    """
    path = tmp_path / "nb.db"
    with TrialStore(path, flush_interval_s=0.01) as store:
        tid = store.start_trial(TrialInfo())
        store.set_outputs(tid, OUTPUTS)
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # the write lock
        time.sleep(0.1)  # the writer is now blocked (several flush intervals)
        for i in range(2000):
            side = "LR"[i % 2]
            block = _block(rng, 4 * (i // 2), 4)
            store.append_samples(tid, side, *block)
            store.append_predictions(tid, side, block[0], np.zeros((4, 3), np.float32))
        assert blocker.execute("SELECT count(*) FROM samples").fetchone()[0] == 0
        blocker.execute("ROLLBACK")
        blocker.close()
        store.flush()
        for side in "LR":
            assert np.array_equal(store.samples(tid, side).counter, np.arange(4000))
        store.finish_trial(tid)
        assert store.status == "ok"


def test_disk_full_mid_trial(
    tmp_path: Path, rng: np.random.Generator, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "full.db"
    with TrialStore(path, flush_interval_s=0.05) as store:
        tid = store.start_trial(TrialInfo(subject="P09"))
        store.set_outputs(tid, OUTPUTS)
        before = [_block(rng, s, 4, 2) for s in range(0, 100, 4)]
        for b in before:
            store.append_samples(tid, "L", *b)
        store.flush()
        store.min_free_bytes = 1 << 62  # the card "fills up" now
        with caplog.at_level(logging.WARNING, logger="edge.store"):
            for s in range(100, 200, 4):
                b = _block(rng, s, 4, 2)
                store.append_samples(tid, "L", *b)  # never raises
                store.append_predictions(tid, "L", b[0], np.zeros((4, 3), np.float32))
                store.append_event(tid, "L", "HS", s + 0.5, s + 2, 1.7e9)
            store.flush()
            assert store.status.startswith("disk full:")
            assert "recording stopped" in store.status
            assert store.health is StoreHealth.DISK_FULL
            assert store.health.trial_status == "disk_full"
            store.append_samples(tid, "L", *_block(rng, 200, 4, 2))  # dropped, quietly
            store.flush()
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1 and "disk full" in warnings[0].getMessage()
        assert store.trial(tid).status == "disk_full"
        store.finish_trial(tid, "complete")  # keeps disk_full, never raises
        with pytest.raises(StoreError, match="stopped recording: disk full"):
            store.start_trial(TrialInfo())

    assert _integrity(path) == "ok"
    with TrialStore(path, read_only=True) as store:
        trial = store.trial(tid)
        assert trial.status == "disk_full" and trial.end_unix_s is not None
        got = store.samples(tid, "L")
        np.testing.assert_array_equal(got.counter, np.arange(100))
        np.testing.assert_array_equal(got.imu, np.concatenate([b[3] for b in before]))
        np.testing.assert_array_equal(got.pressure, np.concatenate([b[4] for b in before]))
        assert store.events(tid) == []


def test_disk_full_before_start(tmp_path: Path) -> None:
    with (
        TrialStore(tmp_path / "f.db", min_free_bytes=1 << 62) as store,
        pytest.raises(StoreError, match=r"disk nearly full: .* free space or store elsewhere"),
    ):
        store.start_trial(TrialInfo())


def test_close_without_finish_marks_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    with pytest.raises(RuntimeError), TrialStore(path) as store:
        tid = store.start_trial(TrialInfo())
        raise RuntimeError("the loop crashed")
    with TrialStore(path) as store:
        assert store.trial(tid).status == "interrupted"
        assert "the loop crashed" in store.errors(tid)[0].message


def test_interrupted_rule(tmp_path: Path) -> None:
    """Reopening leaves a live writer's trial alone and marks a dead (or recycled) one."""
    path = tmp_path / "r.db"
    with TrialStore(path) as store:
        live = store.start_trial(TrialInfo(subject="live"))
        other = TrialStore(path)  # same process: the writer is alive
        assert other.trial(live).status == "recording"
        other.close()
        store.finish_trial(live)
        recycled = store.start_trial(TrialInfo(subject="pid recycled"))
        rebooted = store.start_trial(TrialInfo(subject="host rebooted"))
        gone = store.start_trial(TrialInfo(subject="pid gone"))
        store.flush()
        conn = sqlite3.connect(path, isolation_level=None)
        for tid, column, value in (
            (recycled, "writer_start_ticks", "writer_start_ticks + 1"),
            (rebooted, "writer_boot_id", "'another boot'"),
            (gone, "writer_pid", str(2**22 + 1)),  # above Linux's pid_max
        ):
            conn.execute(f"UPDATE trials SET {column} = {value} WHERE id = ?", (tid,))
        conn.close()
        other = TrialStore(path)
        assert [other.trial(t).status for t in (recycled, rebooted, gone)] == ["interrupted"] * 3
        other.close()


# --------------------------------------------------------------------------- kill -9

_RECORDER = """
import sys, time
import numpy as np
from edge.store import TrialInfo, TrialStore

path, seed = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(seed)
store = TrialStore(path, flush_interval_s=0.5)
tid = store.start_trial(TrialInfo(subject="K", notes=f"killed, seed {seed}"))
for side in "LR":
    store.add_device(tid, side, device_id=seed, firmware="1.0", sample_rate_hz=100.0,
                     channels=["acc_x"] * 6, units=["m/s^2"] * 6, transport="sim://")
store.set_outputs(tid, ["phase_cos", "phase_sin", "stance"])
print(tid, flush=True)
period_s, n, next_t = 4 / 100, 0, time.monotonic()
while True:  # 2 shoes x 100 Hz in blocks of 4, paced like a live link
    next_t += period_s
    time.sleep(max(0.0, next_t - time.monotonic()))
    counter = np.arange(n, n + 4)
    t_host = np.full(4, time.time())
    for side in "LR":
        store.append_samples(tid, side, counter, t_host, counter * 10_000,
                             rng.standard_normal((4, 6), dtype=np.float32))
        store.append_predictions(tid, side, counter, rng.random((4, 3), dtype=np.float32))
    if n % 100 == 0:
        store.append_event(tid, "L", "HS", n + 0.5, n + 2, float(t_host[-1]))
    n += 4
"""

#: Each sample block carries one host time and arrives every 40 ms, so "the last second"
#: can only be resolved to a block: the allowance is 1 s plus one block period.
_BLOCK_PERIOD_S = 4 / 100


@pytest.mark.slow
def test_sigkill_loses_at_most_one_second(tmp_path: Path) -> None:
    path = tmp_path / "killed.db"
    script = tmp_path / "recorder.py"
    script.write_text(_RECORDER)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    kills = random.Random(20260614)
    losses = []
    for run in range(20):
        stderr = tmp_path / f"recorder-{run}.err"
        with stderr.open("w") as err:
            proc = subprocess.Popen(
                [sys.executable, str(script), str(path), str(run)],
                stdout=subprocess.PIPE, stderr=err, text=True, env=env,
            )  # fmt: skip
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line, stderr.read_text()
            tid = int(line)
            if run == 0:  # a live writer in another process is not mislabelled
                time.sleep(0.6)
                with TrialStore(path) as viewer:
                    assert viewer.trial(tid).status == "recording"
                    assert len(viewer.samples(tid, "L").counter) > 0
            time.sleep(kills.uniform(0.5, 1.5))
            t_kill = time.time()
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait()
            proc.stdout.close()  # type: ignore[union-attr]
        assert proc.returncode == -signal.SIGKILL

        assert _integrity(path) == "ok", f"run {run}"
        with TrialStore(path) as store:
            trial = store.trial(tid)
            assert trial.status == "interrupted", f"run {run}"
            assert trial.end_unix_s is not None
            for side in "LR":
                got = store.samples(tid, side)
                n = len(got.counter)
                np.testing.assert_array_equal(got.counter, np.arange(n))  # no hole
                last = got.t_host[-1] if n else trial.start_unix_s
                losses.append(t_kill - last)
                assert t_kill - last <= 1.0 + _BLOCK_PERIOD_S, (
                    f"run {run} {side}: lost {t_kill - last:.3f} s"
                )
                counter, outputs, _ = store.predictions(tid, side)
                np.testing.assert_array_equal(counter, np.arange(len(counter)))
                assert outputs.shape == (len(counter), 3)
    with TrialStore(path, read_only=True) as store:
        assert [t.status for t in store.trials()] == ["interrupted"] * 20
    print(f"20 kills: lost {min(losses):.3f}-{max(losses):.3f} s (median {np.median(losses):.3f})")


def test_a_killed_trial_is_listed_interrupted_even_read_only(tmp_path: Path) -> None:
    """Issue 14: a trial whose writer died was listed 'recording' until the store was
    opened read-write (which a read-only viewer never does)."""
    path = tmp_path / "k.db"
    code = (
        "import os, sys\n"
        "from edge.store import TrialStore, TrialInfo\n"
        f"s = TrialStore({str(path)!r})\n"
        "s.start_trial(TrialInfo(subject='P01'))\n"
        "os._exit(0)\n"  # dies without closing: the trial stays 'recording' on disk
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT status FROM trials").fetchone()[0] == "recording"
    conn.close()
    with TrialStore(path, read_only=True) as store:
        (t,) = store.trials()
        assert t.status == "interrupted" and store.trial(t.id).status == "interrupted"
    conn = sqlite3.connect(path)  # and nothing was written
    assert conn.execute("SELECT status FROM trials").fetchone()[0] == "recording"
    conn.close()
