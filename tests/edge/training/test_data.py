"""Gait targets from footstep events, the plain per-trial format, data-set loading, splits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edge.training.data import (
    CHANNEL_COLUMNS,
    DatasetError,
    Trial,
    gait_targets,
    load_dataset,
    load_trial,
    save_trial,
    split_by_subject,
    trial_from_recording,
)
from firmware_bridge.sim.walks import Recording

# --------------------------------------------------------------------------- synthetic truth

#: 10 heel strikes 100 samples apart (50, 150, …, 950), each preceded by a toe-off 40 earlier.
HS = np.arange(50, 1000, 100)
TO = HS - 40
META = {
    "TrialBoundaries": [0, 990],
    "UTurnBoundaries": [480, 520],
    "LeftFootEvents": [[int(a), int(b)] for a, b in zip(TO, HS, strict=True)],
}


def test_phase_is_zero_at_heel_strike_and_pi_mid_cycle() -> None:
    counter = np.arange(0, 1000)
    t = gait_targets(counter, META, "L")
    assert np.array_equal(t.heel_strikes, HS)
    assert np.array_equal(t.toe_offs, TO)
    assert t.n_cycles == 9
    np.testing.assert_allclose(t.phase[HS[:-1]], 0.0)
    np.testing.assert_allclose(t.phase[HS[:-1] + 50], np.pi)
    np.testing.assert_allclose(t.phase[HS[:-1] + 25], np.pi / 2)
    assert np.all(np.isnan(t.phase[: HS[0]]))  # before the first heel strike
    assert np.all(np.isnan(t.phase[HS[-1] :]))  # from the last heel strike on
    ok = ~np.isnan(t.phase)
    assert np.all((t.phase[ok] >= 0) & (t.phase[ok] < 2 * np.pi))
    np.testing.assert_allclose(t.phase_cos[ok], np.cos(t.phase[ok]), atol=1e-6)
    np.testing.assert_allclose(t.phase_sin[ok], np.sin(t.phase[ok]), atol=1e-6)
    assert np.array_equal(t.cycle[HS[3] : HS[4]], np.full(100, 3))
    assert np.all(t.cycle[~ok] == -1)


def test_stance_flips_at_toe_off_and_heel_strike() -> None:
    counter = np.arange(0, 1000)
    t = gait_targets(counter, META, "L")
    for to, hs in zip(TO, HS, strict=True):
        assert np.all(t.stance[to:hs] == 0)  # swing: toe-off up to heel strike
        assert t.stance[hs] == 1
        assert t.stance[to - 1] == 1 or to == TO[0]
    assert np.all(t.stance[: TO[0]] == 1)  # trial starts standing, then a toe-off
    assert np.all(t.stance[HS[-1] : 991] == 1)  # stands after the last heel strike
    assert np.all(np.isnan(t.stance[991:]))  # outside TrialBoundaries


def test_trial_starting_with_heel_strike_starts_in_swing() -> None:
    meta = {"TrialBoundaries": [0, 300], "LeftFootEvents": [[-10, 20], [100, 150]]}
    t = gait_targets(np.arange(301), meta, "L")
    assert np.array_equal(t.toe_offs, [100])  # the toe-off before the trial is dropped
    assert np.all(t.stance[:20] == 0) and t.stance[20] == 1


def test_events_outside_the_trial_are_dropped() -> None:
    meta = dict(META, TrialBoundaries=[0, 700])
    t = gait_targets(np.arange(1000), meta, "L")
    assert np.array_equal(t.heel_strikes, HS[HS <= 700])
    assert np.all(np.isnan(t.phase[700:])) and not t.scored[701:].any()


def test_lost_samples_keep_phase_aligned_to_counter() -> None:
    dense = gait_targets(np.arange(1000), META, "L")
    keep = np.ones(1000, bool)
    keep[[51, 52, 300, 301, 302, 777]] = False
    gappy = gait_targets(np.flatnonzero(keep), META, "L")
    np.testing.assert_array_equal(gappy.phase, dense.phase[keep])
    np.testing.assert_array_equal(gappy.steady, dense.steady[keep])


def test_masks() -> None:
    counter = np.arange(0, 1000)
    t = gait_targets(counter, META, "L")
    assert np.array_equal(t.in_trial, counter <= 990)
    in_turn = (counter >= 480) & (counter <= 520)
    assert np.array_equal(t.scored, t.in_trial & ~in_turn & ~np.isnan(t.phase))
    # cycle i spans [50 + 100 i, 150 + 100 i]; turn [480, 520]: cycles 3, 4, 5 are 30, 0, 30
    # samples from it (within 50), 0 is the first, 8 the last: 1, 2, 6, 7 are steady.
    steady_cycles = np.unique(t.cycle[t.steady])
    assert steady_cycles.tolist() == [1, 2, 6, 7]
    assert np.all(t.scored[t.steady])
    # the margin is inclusive: a gap of 30 samples is "within" 0.30 s, not within 0.29 s
    strict = gait_targets(counter, META, "L", turn_margin_s=0.30)
    assert np.unique(strict.cycle[strict.steady]).tolist() == [1, 2, 6, 7]
    loose = gait_targets(counter, META, "L", turn_margin_s=0.29)
    assert np.unique(loose.cycle[loose.steady]).tolist() == [1, 2, 3, 5, 6, 7]


def test_bad_metadata_is_a_clear_error() -> None:
    with pytest.raises(DatasetError, match="TrialBoundaries"):
        gait_targets(np.arange(10), {"LeftFootEvents": []}, "L")
    with pytest.raises(DatasetError, match="side"):
        gait_targets(np.arange(10), META, "X")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- bundled slice


def test_targets_on_bundled_slice(walk_left: Recording) -> None:
    meta = walk_left.meta
    t = gait_targets(walk_left.counter, meta, "L")
    events = np.array(meta["LeftFootEvents"])
    assert np.array_equal(t.heel_strikes, events[:, 1])
    assert np.array_equal(t.toe_offs, events[:, 0])
    present = np.isin(t.heel_strikes[:-1], walk_left.counter)
    idx = np.searchsorted(walk_left.counter, t.heel_strikes[:-1][present])
    np.testing.assert_allclose(t.phase[idx], 0.0)
    for c in range(t.n_cycles):
        ph = t.phase[t.cycle == c]
        assert np.all(np.diff(ph) > 0)
    to_idx = np.searchsorted(walk_left.counter, t.toe_offs[np.isin(t.toe_offs, walk_left.counter)])
    assert np.all(t.stance[to_idx] == 0)
    # the slice ends before the trial does: stance after its last event is unknown, and
    # the in-slice last cycle is not the trial's stopping cycle
    assert np.all(np.isnan(t.stance[walk_left.counter >= t.heel_strikes[-1]]))
    assert not t.in_trial[walk_left.counter < meta["TrialBoundaries"][0]].any()
    assert t.steady.sum() > 300 and t.scored.sum() > t.steady.sum()
    assert 0 not in t.cycle[t.steady]  # the trial's first cycle


def test_trial_from_recording(walk_left: Recording) -> None:
    trial = trial_from_recording(walk_left)
    assert trial.subject == "1" and trial.side == "L" and len(trial) == len(walk_left)
    assert set(trial.targets) == {"phase_cos", "phase_sin", "stance"}
    assert set(trial.masks) == {"in_trial", "scored", "steady"}
    assert all(v.dtype == np.float32 for v in trial.targets.values())
    assert all(v.dtype == bool for v in trial.masks.values())


# --------------------------------------------------------------------------- plain format


def _assert_same(a: Trial, b: Trial) -> None:
    assert (a.subject, a.name, a.side, a.sample_rate_hz) == (
        b.subject,
        b.name,
        b.side,
        b.sample_rate_hz,
    )
    np.testing.assert_array_equal(a.counter, b.counter)
    np.testing.assert_array_equal(a.imu, b.imu)
    assert a.imu.dtype == b.imu.dtype == np.float32
    assert a.targets.keys() == b.targets.keys() and a.masks.keys() == b.masks.keys()
    for k in a.targets:
        np.testing.assert_array_equal(a.targets[k], b.targets[k])  # NaN == NaN here
        assert b.targets[k].dtype == np.float32
    for k in a.masks:
        np.testing.assert_array_equal(a.masks[k], b.masks[k])
    assert a.events.keys() == b.events.keys()
    for k in a.events:
        np.testing.assert_array_equal(a.events[k], b.events[k])


@pytest.mark.parametrize("suffix", [".npz", ".csv"])
def test_plain_format_round_trip(walk_left: Recording, tmp_path: Path, suffix: str) -> None:
    trial = trial_from_recording(walk_left)
    path = save_trial(tmp_path / "sub" / f"1-6_L{suffix}", trial)
    _assert_same(trial, load_trial(path))


def test_csv_header_has_units_and_metadata(walk_left: Recording, tmp_path: Path) -> None:
    path = save_trial(tmp_path / "t.csv", trial_from_recording(walk_left))
    lines = path.read_text().splitlines()
    assert lines[0] == '# subject: "1"'
    header = next(line for line in lines if not line.startswith("#")).split(",")
    assert header[:7] == ["counter", *CHANNEL_COLUMNS]
    assert CHANNEL_COLUMNS[0] == "acc_x_mps2" and CHANNEL_COLUMNS[-1] == "gyr_z_radps"
    assert "mask_steady" in header and "phase_cos" in header


def test_hand_written_csv_with_time_and_own_targets(tmp_path: Path) -> None:
    path = tmp_path / "p03_walk1.csv"
    rows = "\n".join(
        f"{i / 200:.3f},0.1,9.8,0.2,0.01,0.02,0.03,{i * 1.5},{i % 2}" for i in range(5)
    )
    path.write_text(
        "# subject: P03\n# side: R\n# sample_rate_hz: 200\n"
        f"t_s,{','.join(CHANNEL_COLUMNS)},knee_angle_deg,mask_valid\n{rows}\n"
    )
    trial = load_trial(path)
    assert (trial.subject, trial.name, trial.side, trial.sample_rate_hz) == (
        "P03",
        "p03_walk1",
        "R",
        200.0,
    )
    assert trial.counter.tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(trial.targets["knee_angle_deg"], [0, 1.5, 3, 4.5, 6])
    assert trial.masks["valid"].tolist() == [False, True, False, True, False]
    assert trial.imu.shape == (5, 6)


def test_plain_format_errors(tmp_path: Path) -> None:
    header = ",".join(["counter", *CHANNEL_COLUMNS[:-1]])
    bad = tmp_path / "bad.csv"
    bad.write_text(f"# subject: 1\n# side: L\n# sample_rate_hz: 100\n{header}\n0,1,2,3,4,5\n")
    with pytest.raises(DatasetError, match=r"bad\.csv: missing column\(s\) gyr_z_radps"):
        load_trial(bad)
    nometa = tmp_path / "nometa.csv"
    nometa.write_text(",".join(["counter", *CHANNEL_COLUMNS]) + "\n0,1,2,3,4,5,6\n")
    with pytest.raises(DatasetError, match="metadata lacks subject, side, sample_rate_hz"):
        load_trial(nometa)
    with pytest.raises(DatasetError, match=r"\*\.npz or \*\.csv"):
        load_trial(tmp_path / "x.txt")


def test_load_dataset_plain_and_errors(
    walk_left: Recording, walk_right: Recording, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DatasetError, match=r"empty.* is empty; put one \*\.npz or \*\.csv"):
        load_dataset(empty)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("hi")
    with pytest.raises(DatasetError, match=r"unknown layout in .*other"):
        load_dataset(other)
    with pytest.raises(DatasetError, match="not a folder"):
        load_dataset(tmp_path / "missing")
    plain = tmp_path / "plain"
    save_trial(plain / "a.npz", trial_from_recording(walk_left))
    save_trial(plain / "b.csv", trial_from_recording(walk_right))
    trials = load_dataset(plain)
    assert [(t.name, t.side) for t in trials] == [("1-6", "L"), ("1-6", "R")]


# --------------------------------------------------------------------------- ipol layout


def test_ipol_layout(ipol_dir: Path) -> None:
    names = ["1-6", "3-3"]  # 3-3's events run on past the trial's end
    some = load_dataset(ipol_dir, trials=names)
    assert [(t.name, t.side) for t in some] == [
        ("1-6", "L"),
        ("1-6", "R"),
        ("3-3", "L"),
        ("3-3", "R"),
    ]
    trials = load_dataset(ipol_dir)  # all of it: well under a second
    assert len(trials) == 2 * len(list((ipol_dir / "GaitData").glob("*.json")))
    for trial in trials:
        meta = json.loads((ipol_dir / "GaitData" / f"{trial.name}.json").read_text())
        t0, t1 = meta["TrialBoundaries"]
        key = "LeftFootEvents" if trial.side == "L" else "RightFootEvents"
        hs = [b for _, b in meta[key] if t0 <= b <= t1]
        assert trial.events["heel_strike"].tolist() == hs
        assert trial.subject == str(meta["Subject"])
        phase = np.arctan2(trial.targets["phase_sin"], trial.targets["phase_cos"]) % (2 * np.pi)
        defined = ~np.isnan(phase)
        cycle = np.searchsorted(np.asarray(hs), trial.counter, side="right")
        for c in np.unique(cycle[defined]):
            ph = phase[defined & (cycle == c)]
            assert np.all(np.diff(ph) > 0), (trial.name, trial.side, c)
        assert trial.masks["steady"].sum() > 0.4 * trial.masks["scored"].sum()
        assert not (trial.masks["scored"] & ~trial.masks["in_trial"]).any()
    with pytest.raises(DatasetError, match="no trial"):
        load_dataset(ipol_dir, trials=["99-1"])


# --------------------------------------------------------------------------- split


def _fake(subject: str, name: str) -> Trial:
    return Trial(subject, name, "L", 100.0, np.arange(3), np.zeros((3, 6), np.float32))


def test_split_by_subject() -> None:
    trials = [_fake(s, f"{s}-{k}") for s in ("1", "2", "3", "10", "11") for k in range(3)]
    folds = split_by_subject(trials, n_folds=3, seed=7)
    assert len(folds) == 3
    seen: list[str] = []
    for train, val in folds:
        tr, va = {t.subject for t in train}, {t.subject for t in val}
        assert not tr & va and tr | va == {"1", "2", "3", "10", "11"}
        assert len(train) + len(val) == len(trials)
        seen += sorted(va)
    assert sorted(seen) == sorted({"1", "2", "3", "10", "11"})  # each subject validated once
    again = split_by_subject(trials, n_folds=3, seed=7)
    assert [[t.name for t in v] for _, v in again] == [[t.name for t in v] for _, v in folds]
    with pytest.raises(DatasetError, match="2 <= n_folds <= 5"):
        split_by_subject(trials, n_folds=6)


def _events_only(path: Path, events: dict, **meta: object) -> Path:
    """A plain NPZ file with 12 s of (flat) IMU at 100 Hz, no target, and these events."""
    n = 1200
    cols = {c: np.zeros(n, np.float32) for c in CHANNEL_COLUMNS}
    info = {"subject": "P1", "side": "L", "sample_rate_hz": 100, "events": events, **meta}
    np.savez(path, meta=np.array(json.dumps(info)), counter=np.arange(n), **cols)
    return path


def test_events_only_files_get_gait_targets_and_must_hold_every_step(tmp_path: Path) -> None:
    hs = list(range(300, 1001, 100))  # a step every second, heel strike 60 samples after
    to = [h - 40 for h in hs]
    t = load_trial(_events_only(tmp_path / "ok.npz", {"heel_strike": hs, "toe_off": to}))
    steps = [[a, b] for a, b in zip(to, hs, strict=True)]
    meta = {"TrialBoundaries": [0, 1199], "LeftFootEvents": steps}
    ref = gait_targets(np.arange(1200), meta, "L")
    np.testing.assert_array_equal(t.targets["phase_cos"], ref.phase_cos)
    np.testing.assert_array_equal(t.targets["stance"], ref.stance)
    assert t.masks["scored"].sum() == 700  # heel strikes 300 … 1000: seven cycles
    # the file's own mask wins over the derived one
    own = tmp_path / "own.npz"
    _events_only(own, {"heel_strike": hs, "toe_off": to})
    with np.load(own) as z:
        cols = {k: z[k] for k in z.files}
    np.savez(own, **cols, mask_scored=np.arange(1200) < 600)
    assert load_trial(own).masks["scored"].sum() == 600

    def fails(events: dict, match: str, **meta: object) -> None:
        with pytest.raises(DatasetError, match=match):
            load_trial(_events_only(tmp_path / "bad.npz", events, **meta))

    fails({"heel_strike": hs}, "only heel_strike events; gait targets need both")
    seconds = [h / 100 + 0.005 for h in hs]
    fails({"heel_strike": seconds, "toe_off": to}, "non-integers.*not seconds")
    fails({"heel_strike": hs, "toe_off": to[:3] + to[4:]}, "two heel strikes in a row at "
          "counters 500 and 600")  # fmt: skip
    gap = [i for i in range(len(hs)) if i != 4]  # a whole step the plates missed
    fails({"heel_strike": [hs[i] for i in gap], "toe_off": [to[i] for i in gap]},
          "counters 600 and 800 are 2.00 s apart.*a step is missing")  # fmt: skip
    fails({"heel_strike": hs, "toe_off": to}, r"1 heel strike\(s\) inside the walk",
          walk=[0, 350])  # fmt: skip
    fails({"heel_strike": hs, "toe_off": to}, "turn is 'x'", turn="x")
    # a long stride across the turn is a turn, not a missing step
    turned = load_trial(_events_only(
        tmp_path / "turn.npz",
        {"heel_strike": [hs[i] for i in gap], "toe_off": [to[i] for i in gap]},
        turn=[650, 750],
    ))  # fmt: skip
    assert not turned.masks["scored"][700]
