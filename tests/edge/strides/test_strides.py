"""Stride analytics: synthetic feet with known answers, bad input, and the real recordings."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from edge.strides.analysis import (
    FLOAT_COLUMNS,
    FootRecording,
    StrideTable,
    summarise,
    trial_strides,
    uniform_samples,
)
from edge.strides.geometry import FootGeometry
from edge.strides.spatial import strike_class
from edge.strides.trajectory import ZuptFilter, smoothed_trajectory
from edge.strides.zupt import GRAVITY_MPS2, rest_runs, stance_mask

RATE = 200.0
STRIDE_M = 1.20
TOE_OFF_DEG = -40.0  # pitch at toe-off, toes down
STRIKE_DEG = 20.0  # pitch at heel strike, toes up
REST_S, MOVE_S = 0.4, 0.8
TO_FRAC, HS_FRAC = 0.15, 0.85  # where in the movement toe-off and heel strike fall


def _rot_y(angle: np.ndarray) -> np.ndarray:
    """Rotations about world y, (n, 3, 3); positive turns x towards −z (toes down)."""
    c, s = np.cos(angle), np.sin(angle)
    r = np.zeros((len(angle), 3, 3))
    r[:, 0, 0], r[:, 0, 2], r[:, 1, 1], r[:, 2, 0], r[:, 2, 2] = c, s, 1.0, -s, c
    return r


def _mounting() -> np.ndarray:
    """A sensor turned 30° about z and 10° about x against the foot: sensor → foot."""
    a, b = math.radians(30), math.radians(10)
    rz = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    return rz @ rx


def _pitch_poly() -> np.ndarray:
    """Coefficients (highest first) of the swing's pitch over τ ∈ [0, 1] [rad]."""
    rows, rhs = [], []
    for tau, value in ((0.0, 0.0), (1.0, 0.0), (TO_FRAC, TOE_OFF_DEG), (HS_FRAC, STRIKE_DEG)):
        rows.append([tau**p for p in range(7, -1, -1)])
        rhs.append(math.radians(value))
        rows.append([p * tau ** (p - 1) if p else 0.0 for p in range(7, -1, -1)])
        rhs.append(0.0)
    return np.linalg.solve(np.array(rows), np.array(rhs))


_PITCH_POLY = _pitch_poly()


def synthetic_foot(n_strides: int = 6, *, offset_s: float = 0.0) -> dict[str, np.ndarray]:
    """A foot that rests, then moves STRIDE_M forward with a known pitch, n times; exact IMU.

    Pitch (toes up positive) follows a smooth profile through TOE_OFF_DEG at toe-off and
    STRIKE_DEG at heel strike and is 0 at rest; height a smooth 12 cm bump. Returns the
    imu (n, 6), the true position (n, 3), pitch (n,) [rad], foot→world rotation
    (n, 3, 3) and the event sample indices.
    """
    rest_n, move_n = round(REST_S * RATE), round(MOVE_S * RATE)
    start_n = round(offset_s * RATE)
    n = start_n + n_strides * (rest_n + move_n) + rest_n + 1
    x = np.zeros(n)
    z = np.zeros(n)
    pitch = np.zeros(n)
    hs, to = [], []
    tau_to, tau_hs = TO_FRAC, HS_FRAC
    tau_to, tau_hs = (
        round(TO_FRAC * move_n) / move_n,
        round(HS_FRAC * move_n) / move_n,
    )
    for k in range(n_strides):
        a = start_n + k * (rest_n + move_n) + rest_n
        tau = np.arange(move_n + 1) / move_n
        s = 10 * tau**3 - 15 * tau**4 + 6 * tau**5  # minimum jerk, 0 → 1
        x[a : a + move_n + 1] = k * STRIDE_M + STRIDE_M * s
        x[a + move_n + 1 :] = (k + 1) * STRIDE_M
        z[a : a + move_n + 1] = 0.12 * np.sin(np.pi * tau) ** 2
        # pitch: the degree-7 polynomial through 0 at both ends (flat, with zero rate),
        # TOE_OFF_DEG at toe-off and STRIKE_DEG at heel strike (extrema there): the foot
        # rotates all through swing, as a real one does
        i_to, i_hs = round(tau_to * move_n), round(tau_hs * move_n)
        pitch[a : a + move_n + 1] = np.polyval(_PITCH_POLY, tau)
        to.append(a + i_to)
        hs.append(a + i_hs)
    pos = np.stack([x, np.zeros(n), z], axis=1)
    foot_to_world = _rot_y(-pitch)  # toes up = rotation by −pitch about y
    sensor_to_world = foot_to_world @ _mounting()
    # forward differences: what the strapdown step (x_k+1 from the sample at k) integrates
    # exactly, so the test measures the method, not the test's own discretisation
    vel = np.diff(pos, axis=0, append=pos[-1:]) * RATE
    acc_w = np.diff(vel, axis=0, append=vel[-1:]) * RATE
    acc_w[:, 2] += GRAVITY_MPS2
    acc_s = np.einsum("nji,nj->ni", sensor_to_world, acc_w)  # Rᵀ (a + g)
    rate = np.diff(-pitch, append=-pitch[-1]) * RATE  # about the foot's (and world's) y
    gyr_f = np.stack([np.zeros(n), rate, np.zeros(n)], axis=1)
    gyr_s = gyr_f @ _mounting()  # Mᵀ ω, row vectors
    return {
        "imu": np.concatenate([acc_s, gyr_s], axis=1),
        "position": pos,
        "pitch": pitch,
        "foot_to_world": foot_to_world,
        "heel_strikes": np.array(hs, np.int64),
        "toe_offs": np.array(to, np.int64),
    }


def _record(foot: dict[str, np.ndarray], side: str = "L", **kw: object) -> FootRecording:
    n = len(foot["imu"])
    return FootRecording(
        side=side,  # type: ignore[arg-type]
        rate_hz=RATE,
        counter=np.arange(n, dtype=np.int64),
        imu=foot["imu"],
        heel_strikes=foot["heel_strikes"],
        toe_offs=foot["toe_offs"],
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def left() -> dict[str, np.ndarray]:
    return synthetic_foot()


def test_the_detector_finds_each_rest_and_no_swing(left: dict[str, np.ndarray]) -> None:
    rest = stance_mask(left["imu"], RATE)
    first, _ = rest_runs(rest, RATE)
    assert len(first) == 7  # 6 strides between 7 stances
    speed = np.linalg.norm(np.gradient(left["position"], axis=0), axis=1) * RATE
    assert not (rest & (speed > 0.05)).any()  # never at rest while faster than 5 cm/s


@pytest.mark.parametrize("smooth", [True, False])
def test_a_foot_moved_1_20_m_comes_out_at_1_20_m_and_its_pitch(
    left: dict[str, np.ndarray], smooth: bool
) -> None:
    table = trial_strides([_record(left)], smooth=smooth)
    c = table.columns
    assert len(table) == 6
    np.testing.assert_allclose(c["stride_length_m"], STRIDE_M, atol=0.01)
    np.testing.assert_allclose(c["strike_angle_deg"], STRIKE_DEG, atol=0.5)
    np.testing.assert_allclose(c["toe_off_angle_deg"], TOE_OFF_DEG, atol=0.5)
    np.testing.assert_allclose(c["turning_angle_deg"], 0.0, atol=0.5)
    np.testing.assert_allclose(c["lateral_excursion_m"], 0.0, atol=0.01)
    assert set(c["strike_class"]) == {"rearfoot"}
    # temporal: heel strike to heel strike is rest + movement
    np.testing.assert_allclose(c["stride_time_s"][1:], REST_S + MOVE_S, atol=1 / RATE)
    stance = (1 - HS_FRAC) * MOVE_S + REST_S + TO_FRAC * MOVE_S
    np.testing.assert_allclose(c["stance_time_s"][1:], stance, atol=1 / RATE)
    np.testing.assert_allclose(c["cadence_spm"][1:], 120 / (REST_S + MOVE_S), rtol=0.01)
    assert table.smoothed is smooth


def test_clearances_follow_the_geometry(left: dict[str, np.ndarray]) -> None:
    geo = FootGeometry(heel_m=(-0.12, 0.0, -0.06), toe_m=(0.14, 0.0, -0.06))
    table = trial_strides([_record(left)], geometry=geo)
    # the truth: each point of the foot frame carried by the known motion
    sensor = left["position"]
    rot = left["foot_to_world"]
    heel = sensor + rot @ np.array(geo.heel_m)
    toe = sensor + rot @ np.array(geo.toe_m)
    for i, (a, b) in enumerate(zip(left["toe_offs"], left["heel_strikes"], strict=True)):
        np.testing.assert_allclose(
            table.columns["max_toe_clearance_m"][i],
            (toe[a : b + 1, 2] - toe[0, 2]).max(),
            atol=0.005,
        )
        np.testing.assert_allclose(
            table.columns["max_heel_clearance_m"][i],
            (heel[a : b + 1, 2] - heel[0, 2]).max(),
            atol=0.005,
        )


def test_shoe_size_geometry() -> None:
    g = FootGeometry.from_shoe_size(42, "dorsum")
    default = FootGeometry()  # EU 42 on the dorsum
    assert g.heel_m == pytest.approx(default.heel_m, abs=1e-3)
    assert g.toe_m == pytest.approx(default.toe_m, abs=1e-3)
    assert g.toe_m[0] - g.heel_m[0] == pytest.approx((42 * 2 / 3 - 1.5) / 100)
    with pytest.raises(ValueError, match="EU 30–55"):
        FootGeometry.from_shoe_size(9, "dorsum")  # a UK size
    with pytest.raises(ValueError, match="unknown mounting"):
        FootGeometry.from_shoe_size(42, "ankle")
    with pytest.raises(ValueError, match="ahead of the heel"):
        FootGeometry(heel_m=(0.1, 0, 0), toe_m=(-0.1, 0, 0))


def test_strike_classes_at_the_published_thresholds() -> None:
    assert strike_class(8.1) == "rearfoot"
    assert strike_class(8.0) == "midfoot"
    assert strike_class(-1.5) == "midfoot"
    assert strike_class(-1.7) == "forefoot"
    assert strike_class(math.nan) == ""


def test_two_feet_give_step_time_double_support_and_symmetry() -> None:
    half = (REST_S + MOVE_S) / 2
    lf, rf = synthetic_foot(), synthetic_foot(offset_s=half)
    table = trial_strides([_record(lf, "L"), _record(rf, "R")])
    c = table.columns
    right = c["side"] == "R"
    # right heel strikes half a stride after the left ones
    np.testing.assert_allclose(c["step_time_s"][right][1:], half, atol=1 / RATE)
    # double support: stance minus swing-free overlap, from the event times
    stance = (1 - HS_FRAC) * MOVE_S + REST_S + TO_FRAC * MOVE_S
    swing = REST_S + MOVE_S - stance
    expected_ds = stance - swing  # two double-support phases per stride in symmetric gait
    np.testing.assert_allclose(c["double_support_time_s"][right][1:], expected_ds, atol=2 / RATE)
    s = summarise(table)
    assert abs(s["symmetry_index_pct"]["stride_length_m"]) < 1.0
    assert s["n_steady"]["L"] == 4  # 6 strides minus the first and the last of the bout


def test_the_forward_filter_is_the_offline_filter_unsmoothed(left: dict[str, np.ndarray]) -> None:
    """The live filter fed one sample at a time ends where the offline forward pass does."""
    imu = left["imu"]
    rest = stance_mask(imu, RATE)
    offline = smoothed_trajectory(imu, RATE, rest, smooth=False)
    first = int(np.argmax(rest))
    end = first + int(np.argmin(rest[first:]))
    kf = ZuptFilter(RATE, imu[first:end, :3].mean(axis=0))
    for k in range(1, len(imu)):
        kf.step(imu[k - 1, :3], imu[k - 1, 3:], bool(rest[k]))
    np.testing.assert_allclose(kf.position, offline.position[-1], atol=1e-9)


def test_pressure_peak_and_stance_impulse(left: dict[str, np.ndarray]) -> None:
    n = len(left["imu"])
    p = np.full((n, 3), np.nan)
    hs, to = left["heel_strikes"], left["toe_offs"]
    for h, t in zip(hs[:-1], to[1:], strict=True):  # stance: heel strike to next toe-off
        p[h : t + 1] = [100.0, 200.0, 300.0]
    table = trial_strides([_record(left, pressure=p)])
    c = table.columns
    ok = np.isfinite(c["peak_pressure_kpa"])
    assert ok.sum() == 5  # the first stride has no heel strike before it
    np.testing.assert_allclose(c["peak_pressure_kpa"][ok], 300.0)
    stance_s = (to[1:] - hs[:-1] + 1) / RATE
    np.testing.assert_allclose(c["stance_impulse_kpa_s"][ok], 200.0 * stance_s, rtol=1e-9)
    assert np.isnan(trial_strides([_record(left)]).columns["peak_pressure_kpa"]).all()


# ---------------------------------------------------------------------------- bad input


def test_standing_only_gives_no_strides_and_a_summary_that_says_so() -> None:
    n = 2000
    imu = np.zeros((n, 6))
    imu[:, 2] = GRAVITY_MPS2
    imu += np.random.default_rng(1).normal(0, 0.01, imu.shape)
    rec = FootRecording(side="L", rate_hz=RATE, counter=np.arange(n), imu=imu)
    table = trial_strides([rec])
    assert len(table) == 0
    s = summarise(table)
    assert s["n_strides"] == {} and s["symmetry_index_pct"] == {}


def test_a_foot_that_never_rests_is_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="never rests"):
        smoothed_trajectory(np.ones((100, 6)), RATE, np.zeros(100, bool))


def test_one_shoe_only(left: dict[str, np.ndarray]) -> None:
    table = trial_strides([_record(left, "R")])
    assert set(table.columns["side"]) == {"R"}
    s = summarise(table)
    assert "L" not in s and s["symmetry_index_pct"] == {}
    assert np.isnan(table.columns["step_time_s"]).all()  # no other foot to step against


def test_a_long_gap_drops_the_strides_across_it_and_counts_them(
    left: dict[str, np.ndarray],
) -> None:
    n = len(left["imu"])
    lost = np.zeros(n, bool)
    a = left["toe_offs"][2]
    lost[a : a + round(0.3 * RATE)] = True  # 0.3 s lost in the third swing
    rec = FootRecording(
        side="L",
        rate_hz=RATE,
        counter=np.arange(n)[~lost],
        imu=left["imu"][~lost],
        heel_strikes=left["heel_strikes"],
        toe_offs=left["toe_offs"],
    )
    table = trial_strides([rec])
    assert len(table) == 5
    assert table.dropped["L: lost samples"] == 1
    np.testing.assert_allclose(table.columns["stride_length_m"], STRIDE_M, atol=0.01)


def test_uniform_samples_fills_lost_values() -> None:
    filled, received = uniform_samples([10, 11, 14], [[0.0], [1.0], [4.0]])
    np.testing.assert_allclose(filled[:, 0], [0, 1, 2, 3, 4])
    assert received.tolist() == [True, True, False, False, True]


def test_empty_table_has_every_column() -> None:
    table = trial_strides([])
    assert isinstance(table, StrideTable) and len(table) == 0
    assert set(FLOAT_COLUMNS) <= set(table.columns)


# ---------------------------------------------------------------------------- real data


def _gaitmap_dir() -> Path:
    env = os.environ.get("GAITEDGE_GAITMAP_DIR")
    root = Path(__file__).resolve().parents[3]
    for c in (env, root.parent / "shared" / "data" / "gaitmap-example"):
        if c and (Path(c) / "mocap_sample.csv").is_file():
            return Path(c)
    pytest.skip(
        "gaitmap-example not found: set GAITEDGE_GAITMAP_DIR or put ../shared beside the "
        "project (CI has it)"
    )


@pytest.fixture(scope="module")
def spatial_benchmark():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
    import spatial  # type: ignore[import-not-found]

    return spatial


def test_motion_capture_figures_hold(spatial_benchmark) -> None:  # type: ignore[no-untyped-def]
    """Measured here (benchmarks/spatial.py): 4.3 cm, 1.7°, 3.0°, 1.0 cm; guards with slack."""
    result = spatial_benchmark.run_mocap(_gaitmap_dir())
    s = result["stats"]
    assert s["stride_length_m"]["n"] == result["n_reference_straight"] == 53
    assert s["stride_length_m"]["mae"] < 0.05
    assert s["strike_angle_deg"]["mae"] < 2.5
    assert s["toe_off_angle_deg"]["mae"] < 3.5
    assert s["max_toe_clearance_m"]["mae"] < 0.015


def test_ipol_strides_match_the_checked_events(ipol_dir: Path) -> None:
    """One real trial: strides found where the labelled footsteps are, at a walking pace."""
    from edge.training.data.feet import load_feet

    feet = load_feet(ipol_dir, trials=["1-1"])
    table = trial_strides(next(iter(feet.values())))
    c = table.columns
    steady = c["steady"]
    assert steady.sum() >= 10
    assert 1.0 < np.nanmedian(c["stride_length_m"][steady]) < 1.7
    assert 0.9 < np.nanmedian(c["gait_speed_mps"][steady]) < 1.6
    assert 55 < np.nanmedian(c["stance_pct"][steady]) < 65
    assert np.isfinite(c["double_support_pct"][steady]).all()


# ---------------------------------------------------------------------------- live


def test_live_strides_close_once_each_with_the_offline_answers(left: dict[str, np.ndarray]) -> None:
    from edge.strides.live import LiveStrides

    live = LiveStrides()
    live.device("L", RATE)
    imu = left["imu"]
    n = len(imu)
    events = sorted(
        [(int(h), "HS") for h in left["heel_strikes"]] + [(int(t), "TO") for t in left["toe_offs"]]
    )
    rows = []
    for a in range(0, n, 10):  # packets of 10 samples, a poll every second
        b = min(n, a + 10)
        live.samples("L", np.arange(a, b), 1000.0 + np.arange(a, b) / RATE, imu[a:b])
        for c, kind in events:
            if a <= c + 5 < b:  # the model reports an event a few samples late
                live.event("L", kind, c)
        if b % round(RATE) == 0 or b == n:
            rows += live.poll()
    assert [r["counter_end"] for r in rows] == sorted({r["counter_end"] for r in rows})
    assert len(rows) == 6
    np.testing.assert_allclose([r["stride_length_m"] for r in rows], STRIDE_M, atol=0.01)
    np.testing.assert_allclose([r["strike_angle_deg"] for r in rows], STRIKE_DEG, atol=0.5)
    assert live.status()["L"] is rows[-1]
    assert all(r["bout_edge"] is False for r in rows)


def test_live_strides_start_over_after_a_device_restart(left: dict[str, np.ndarray]) -> None:
    from edge.strides.live import LiveStrides

    live = LiveStrides()
    live.device("L", RATE)
    imu = left["imu"]
    live.samples("L", np.arange(600), np.arange(600) / RATE, imu[:600])
    first = live.poll()
    live.samples("L", np.arange(600), 10 + np.arange(600) / RATE, imu[:600])  # counter again
    again = live.poll()
    assert first  # the same strides, reported again: the restarted shoe's are new ones
    assert [r["counter_end"] for r in again] == [r["counter_end"] for r in first]


def test_live_strides_carry_pressure(left: dict[str, np.ndarray]) -> None:
    from edge.strides.live import LiveStrides

    n = len(left["imu"])
    p = np.full((n, 2), np.nan)
    for h, t in zip(left["heel_strikes"][:-1], left["toe_offs"][1:], strict=True):
        p[h : t + 1] = [150.0, 250.0]
    live = LiveStrides()
    live.device("L", RATE, n_pressure=2)
    events = sorted(
        [(int(h), "HS") for h in left["heel_strikes"]] + [(int(t), "TO") for t in left["toe_offs"]]
    )
    rows = []
    for a in range(0, n, 20):
        b = min(n, a + 20)
        live.samples("L", np.arange(a, b), np.arange(a, b) / RATE, left["imu"][a:b], p[a:b])
        for c, kind in events:
            if a <= c < b:
                live.event("L", kind, c)
        rows += live.poll()
    with_p = [r for r in rows if np.isfinite(r["peak_pressure_kpa"])]
    assert len(with_p) >= 4
    assert all(r["peak_pressure_kpa"] == 250.0 for r in with_p)
    assert all(r["stance_impulse_kpa_s"] > 0 for r in with_p)


def test_gait_cycle_curves_run_heel_strike_to_heel_strike(left: dict[str, np.ndarray]) -> None:
    from edge.strides.analysis import CURVE_POINTS, CURVES

    n = len(left["imu"])
    stance = np.zeros(n)
    for h, t in zip(left["heel_strikes"][:-1], left["toe_offs"][1:], strict=True):
        stance[h:t] = 1.0
    rec = FootRecording(
        side="L", rate_hz=RATE, counter=np.arange(n), imu=left["imu"],
        heel_strikes=left["heel_strikes"], toe_offs=left["toe_offs"], stance_prob=stance,
    )  # fmt: skip
    table = trial_strides([rec], curves=True)
    assert set(table.curves) == set(CURVES)
    pitch = table.curves["foot_pitch_deg"]
    assert pitch.shape == (len(table), CURVE_POINTS)
    ok = np.isfinite(pitch[:, 0])
    assert ok.sum() == 5  # the first stride has no heel strike before it
    np.testing.assert_allclose(pitch[ok, 0], STRIKE_DEG, atol=0.5)  # both ends: heel strikes
    np.testing.assert_allclose(pitch[ok, -1], STRIKE_DEG, atol=0.5)
    assert (pitch[ok].min(axis=1) < TOE_OFF_DEG + 1).all()  # toe-off inside the cycle
    stance_curve = table.curves["stance_prob"][ok]
    assert (stance_curve[:, 5] == 1.0).all() and (stance_curve[:, -5] == 0.0).all()
    assert trial_strides([rec]).curves == {}


def test_a_varied_walk_has_the_asked_stride_length_and_tempo(walk_left, walk_right) -> None:  # type: ignore[no-untyped-def]
    """The bundled walk made 10 % faster with 5 % longer strides (edge.strides.vary)."""
    from edge.strides.vary import varied_walk

    def measure(tempo: float, scale: float) -> dict[str, float]:
        feet = []
        for r in (walk_left, walk_right):
            c, x = varied_walk(r.counter, r.imu, r.sample_rate_hz, tempo=tempo, scale=scale)
            feet.append(FootRecording(side=r.side, rate_hz=r.sample_rate_hz, counter=c, imu=x))
        cols = trial_strides(feet).columns
        st = cols["steady"]
        keys = ("stride_length_m", "gait_speed_mps", "max_toe_clearance_m")
        return {k: float(np.mean(cols[k][st])) for k in keys}

    base, varied = measure(1.0, 1.0), measure(1.1, 1.05)
    assert varied["stride_length_m"] / base["stride_length_m"] == pytest.approx(1.05, abs=0.01)
    assert varied["gait_speed_mps"] / base["gait_speed_mps"] == pytest.approx(1.155, abs=0.03)
    assert varied["max_toe_clearance_m"] / base["max_toe_clearance_m"] == pytest.approx(
        1.05, abs=0.02
    )
    with pytest.raises(ValueError, match="must be > 0"):
        varied_walk(walk_left.counter, walk_left.imu, 100.0, tempo=0.0)
