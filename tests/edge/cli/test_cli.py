"""The command line, run as a newcomer runs it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from edge.cli import main
from edge.store import TrialInfo, TrialStore
from firmware_bridge.sim.insole import InsoleSimulator
from firmware_bridge.transports.capture import CaptureWriter
from tests.conftest import capture_of


def test_help_teaches() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "edge", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for word in ("demo", "sim", "listen", "run", "trials", "train", "evaluate", "examples:"):
        assert word in out


def test_demo_delivers_every_sample_and_gap() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "edge", "demo", "--speed", "0"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.count("OK: every sample and every gap as recorded") == 2, out
    assert "L shoe: id" in out and "R shoe: id" in out
    assert "trial 1: complete" in out and "heel strikes" in out
    assert "lost (seq gaps)    60 in 39 gaps" in out  # left foot of the bundled walk
    assert "lost (seq gaps)    63 in 43 gaps" in out  # right foot


def test_demo_with_faults_reports_them(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["demo", "--speed", "20", "--corrupt", "0.05", "--drop", "0.02",
                 "--disconnect", "6:2"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert out.count("link outages       1") == 2, out
    assert "MISMATCH" not in out and "OK: every sample" not in out  # no clean check with faults


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["demo", "--disconnect", "5"], "--disconnect '5': write AT:FOR"),
        (["demo", "--drop", "2"], "--drop 2.0: a probability"),
        (["demo", "--data", "/nonexistent"], "no GaitData/ folder"),
        (["listen", "bogus"], "is not a URL"),
    ],
)
def test_bad_input_is_one_clear_line(argv, message, capsys) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_listen_decodes_a_capture(tmp_path, walk_left, capsys) -> None:
    path = tmp_path / "walk.gecap"
    w = CaptureWriter(path, source="test")
    for _, frame in InsoleSimulator(walk_left).frames():
        w.write(frame)
    w.close()
    assert main(["listen", f"replay://{path}"]) == 0
    out = capsys.readouterr().out
    assert f"samples delivered  {len(walk_left)}" in out
    assert "lost (seq gaps)    60 in 39 gaps" in out


def test_run_records_two_captured_shoes_and_lists_them(
    tmp_path, walk_left, walk_right, capsys
) -> None:
    """``gaitedge run`` over replayed raw captures: the full loop into a store, then ``trials``."""
    urls = [capture_of(tmp_path / f"{r.side}.gecap", r) for r in (walk_left, walk_right)]
    db = tmp_path / "trials.db"
    argv = ["run", "--left", urls[0], "--right", urls[1], "--db", str(db), "--subject", "P07",
            "--shoe", "A"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "trial 1: complete, subject P07, shoe A" in out
    assert f"L: {len(walk_left)} samples stored, 60 lost" in out
    assert f"R: {len(walk_right)} samples stored, 63 lost" in out
    assert main(["trials", "--db", str(db)]) == 0
    listing = capsys.readouterr().out
    assert "1 trial(s)" in listing and "complete" in listing and "P07" in listing
    assert main(["trials", "1", "--db", str(db)]) == 0
    assert "gaps" in capsys.readouterr().out
    # the stored trial again through the model, and the captures again through the loop
    assert main(["replay", "1", "--db", str(db), "--quiet"]) == 0
    assert "trial 2: complete" in capsys.readouterr().out
    left_capture = urls[0].removeprefix("replay://")
    assert main(["replay", "--left", left_capture, "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "trial 3: complete" in out and f"L: {len(walk_left)} samples stored" in out
    assert main(["replay", "--db", str(db)]) == 2
    assert "give a stored TRIAL id" in capsys.readouterr().err


def test_run_without_shoes_or_store_is_one_line(tmp_path, capsys) -> None:
    assert main(["run", "--db", str(tmp_path / "t.db")]) == 2
    assert "give --left URL" in capsys.readouterr().err
    assert main(["trials", "--db", str(tmp_path / "none.db")]) == 2
    assert "no trial store there" in capsys.readouterr().err


def test_export_writes_every_sample_with_units(tmp_path, walk_left, walk_right, capsys) -> None:
    import csv
    import json

    import numpy as np

    urls = [capture_of(tmp_path / f"{r.side}.gecap", r) for r in (walk_left, walk_right)]
    db = tmp_path / "trials.db"
    assert main(["run", "--left", urls[0], "--right", urls[1], "--db", str(db)]) == 0
    out = tmp_path / "out"
    assert main(["export", "1", "--db", str(db), "--out", str(out), "--format", "csv,parquet"]) == 0
    capsys.readouterr()
    with (out / "trial-1-samples.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(walk_left) + len(walk_right)
    for col in ("t_host_s", "acc_x_mps2", "gyr_z_radps", "phase_cos", "stance"):
        assert col in rows[0], col
    left = [r for r in rows if r["side"] == "L"]
    assert [int(r["counter"]) for r in left] == walk_left.counter.tolist()
    acc = np.array([float(r["acc_z_mps2"]) for r in left])
    assert np.allclose(acc, walk_left.imu[:, 2], atol=0.01)
    stance = np.array([float(r["stance"]) for r in left])
    assert np.all((stance >= 0) & (stance <= 1))
    with (out / "trial-1-events.csv").open() as f:
        events = list(csv.DictReader(f))
    assert {e["kind"] for e in events} == {"HS", "TO"}
    assert all(float(e["t_at_s"]) <= float(e["t_reported_s"]) + 1e-6 for e in events)
    meta = json.loads((out / "trial-1.json").read_text())
    assert meta["status"] == "complete" and set(meta["devices"]) == {"L", "R"}
    with (out / "trial-1-strides.csv").open() as f:
        strides = list(csv.DictReader(f))
    assert {r["side"] for r in strides} == {"L", "R"} and len(strides) >= 16
    assert 1.0 < float(strides[3]["stride_length_m"]) < 1.5
    assert meta["strides"]["source"] == "offline"
    assert meta["strides"]["summary"]["L"]["stride_length_m"]["n"] >= 5
    import pyarrow.parquet as pq

    assert pq.read_table(out / "trial-1-strides.parquet").num_rows == len(strides)

    table = pq.read_table(out / "trial-1-samples.parquet")
    assert table.num_rows == len(rows)
    assert np.allclose(table.column("acc_z_mps2").to_numpy()[: len(left)], acc)
    assert main(["export", "7", "--db", str(db), "--out", str(out)]) == 2
    assert "no trial 7" in capsys.readouterr().err


def test_run_reads_a_toml_config_and_flags_win(tmp_path, walk_left, capsys) -> None:
    url = capture_of(tmp_path / "L.gecap", walk_left)
    db = tmp_path / "lab.db"
    cfg = tmp_path / "lab.toml"
    cfg.write_text(
        f'db = "{db}"\nbackend = "numpy"\n[shoes]\nleft = "{url}"\n'
        '[trial]\nsubject = "from-file"\nshoe = "B"\n[runtime]\nmax_wait_s = 0.8\n'
    )
    assert main(["run", "--config", str(cfg), "--subject", "P09"]) == 0
    out = capsys.readouterr().out
    assert "subject P09, shoe B" in out  # the flag won, the file filled in the rest
    assert db.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[trial]\nsubjct = "x"\n', "unknown key 'trial.subjct'"),
        ("duration = -3\n", "duration must be a number > 0"),
        ("duration = nan\n", "duration must be a number > 0"),
        ("[runtime]\nmax_bridge_ms = -inf\n", "runtime.max_bridge_ms must be a number >= 0"),
        ('backend = "gpu"\n', "backend is 'gpu'; choose one of numpy, tflite"),
        ("db = 3\n", "db must be a string"),
        ("db = \n", "not valid TOML"),
    ],
)
def test_bad_config_names_the_key(tmp_path, capsys, text, message) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    assert main(["run", "--config", str(cfg), "--left", "replay://x"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


async def test_scan_identifies_an_insole_on_a_port(walk_left, capsys) -> None:
    """``gaitedge scan --port PTY`` opens it with pyserial and reads its DEVICE_INFO."""
    import asyncio

    from edge.cli.main import _parser
    from firmware_bridge.sim.pty import PtyInsole

    sim = InsoleSimulator(walk_left)
    async with PtyInsole(sim) as pty:
        streaming = asyncio.create_task(pty.run(1.0))
        args = _parser().parse_args(["scan", "--ble-seconds", "0", "--port", pty.port])
        assert await args.func(args) == 0
        streaming.cancel()
    out = capsys.readouterr().out
    assert f"serial://{pty.port}" in out and "L shoe: id" in out and "100 Hz" in out


def test_strides_of_a_stored_trial_as_text_json_and_csv(
    tmp_path, walk_left, walk_right, capsys
) -> None:
    import csv
    import json

    urls = [capture_of(tmp_path / f"{r.side}.gecap", r) for r in (walk_left, walk_right)]
    db = tmp_path / "trials.db"
    assert main(["run", "--left", urls[0], "--right", urls[1], "--db", str(db),
                 "--shoe-size", "EU 44"]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["strides", "1", "--db", str(db)]) == 0
    text = capsys.readouterr().out
    assert "strides (smoothed): L: " in text and "stride_length_m" in text and "SI %" in text
    assert main(["trials", "1", "--db", str(db)]) == 0
    assert "cadence_spm" in capsys.readouterr().out  # the summary is in the trial's page
    assert main(["strides", "1", "--db", str(db), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (trial,) = doc["trials"]
    summary = trial["summary"]
    assert 90 < summary["L"]["cadence_spm"]["mean"] < 130  # the bundled walk, ~105 steps/min
    assert 1.0 < summary["R"]["stride_length_m"]["mean"] < 1.5
    assert all(r["side"] in ("L", "R") for r in trial["strides"])
    csv_path = tmp_path / "strides.csv"
    assert main(["strides", "1", "--db", str(db), "--csv", str(csv_path)]) == 0
    with csv_path.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(trial["strides"]) and rows[0]["trial"] == "1"
    with TrialStore(db, read_only=True) as store:  # the shoe size reached the geometry
        toe = store.strides(1).geometry["toe_m"][0] - store.strides(1).geometry["heel_m"][0]
    assert toe == pytest.approx((44 * 2 / 3 - 1.5) / 100)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["strides"], "give a stored TRIAL id, or --data DIR"),
        (["strides", "1", "--data", "x"], "give a stored TRIAL id, or --data DIR"),
        (["strides", "1", "--trial", "1-1", "--db", "x.db"], "--trial goes with --data"),
        (["strides", "1", "--db", "/nonexistent.db"], "no trial store there"),
        (["strides", "--data", "/nonexistent"], "is not a folder"),
    ],
)
def test_strides_bad_input_is_one_line(argv, message, capsys) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_strides_of_an_unknown_trial_or_an_old_store(tmp_path, capsys) -> None:
    """Trial 9 is not there: one line. A trial from before strides is measured on request."""
    import sqlite3

    from edge.store.schema import MIGRATIONS

    db = tmp_path / "old.db"
    conn = sqlite3.connect(db, isolation_level=None)
    for statement in MIGRATIONS[0]:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO trials (start_unix_s, status) VALUES (1.0, 'complete')")
    conn.close()
    assert main(["strides", "9", "--db", str(db)]) == 2
    assert "no trial 9" in capsys.readouterr().err
    assert main(["strides", "1", "--db", str(db)]) == 0  # upgraded, measured: no samples
    captured = capsys.readouterr()
    assert "no strides" in captured.out and "measured now and stored" in captured.err


def test_strides_of_a_data_folder(ipol_dir, capsys) -> None:
    import json

    assert main(["strides", "--data", str(ipol_dir), "--trial", "1-1", "--json"]) == 0
    (trial,) = json.loads(capsys.readouterr().out)["trials"]
    assert trial["trial"] == "1-1"
    assert 1.0 < trial["summary"]["L"]["stride_length_m"]["mean"] < 1.6


def test_strides_of_a_plain_format_folder(tmp_path, walk_left, walk_right, capsys) -> None:
    """The plain per-trial format (what a lab writes from its own data) with its events."""
    import json

    from edge.training.data import save_trial, trial_from_recording

    for rec in (walk_left, walk_right):
        save_trial(tmp_path / f"walk-{rec.side}.npz", trial_from_recording(rec))
    assert main(["strides", "--data", str(tmp_path), "--json"]) == 0
    (trial,) = json.loads(capsys.readouterr().out)["trials"]
    summary = trial["summary"]
    assert {"L", "R"} <= set(summary)
    assert 1.0 < summary["L"]["stride_length_m"]["mean"] < 1.5
    assert 0.9 < summary["R"]["stride_time_s"]["mean"] < 1.4  # from the recording's events


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--duration", "-1"], "--duration must be a number > 0, not -1.0"),
        (["--duration", "0"], "--duration must be a number > 0"),
        (["--duration", "nan"], "--duration must be a number > 0, not nan"),
        (["--max-bridge-ms", "-5"], "--max-bridge-ms must be a number >= 0"),
        (["--max-wait-s", "0"], "--max-wait-s must be a number > 0"),
    ],
)
def test_bad_numeric_flags_are_one_line_as_in_the_file(tmp_path, capsys, flags, message) -> None:
    """Issue 14: the flags were taken as given (a negative duration, a NaN one)."""
    argv = ["run", "--left", "replay://x.gecap", "--db", str(tmp_path / "t.db"), *flags]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "t.db").exists()  # refused before anything was opened


def test_escape_sequences_in_trial_fields_do_not_reach_the_terminal(tmp_path, capsys) -> None:
    """Issue 14: notes with an escape sequence were printed raw (a screen cleared, colours)."""
    db = tmp_path / "t.db"
    with TrialStore(db) as store:
        tid = store.start_trial(TrialInfo(subject="P\x0701", notes="\x1b[2J\x1b[31mred", shoe="A"))
        store.finish_trial(tid)
    for argv in (["trials", "--db", str(db)], ["trials", "1", "--db", str(db)]):
        assert main(argv) == 0
        out = capsys.readouterr().out
        assert "\x1b" not in out and "\x07" not in out
        assert "P\\x0701" in out
    assert main(["trials", "1", "--db", str(db)]) == 0
    assert "\\x1b[2J\\x1b[31mred" in capsys.readouterr().out


def test_export_to_a_full_or_wrong_target_is_one_line_and_leaves_no_partial_file(
    tmp_path, capsys, monkeypatch
) -> None:
    """Issue 14: export showed tracebacks on unwritable or full targets and left truncated
    files under their final names."""
    import errno

    import edge.export

    db = tmp_path / "t.db"
    with TrialStore(db) as store:
        store.finish_trial(store.start_trial(TrialInfo(subject="P01")))
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    assert main(["export", "1", "--db", str(db), "--out", str(a_file)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gaitedge: error: cannot write trial 1") and "Traceback" not in err

    real = edge.export._write_csv

    def half_then_full(path, table):  # type: ignore[no-untyped-def]
        real(path, table)
        if "events" in path.name:  # the second file: half written, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(edge.export, "_write_csv", half_then_full)
    out = tmp_path / "out"
    assert main(["export", "1", "--db", str(db), "--out", str(out)]) == 2
    assert "No space left on device" in capsys.readouterr().err
    names = sorted(p.name for p in out.iterdir())
    assert names == ["trial-1-samples.csv"]  # complete ones only; no .part, no half file
