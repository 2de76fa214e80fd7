"""The causal gait-event detector: true targets in, true events out; noise, gaps, streaming."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from edge.events import GaitEvent, GaitEventDetector, events_to_arrays
from edge.training.data import Targets, gait_targets
from edge.training.metrics import event_scores, scored_intervals
from firmware_bridge.sim.walks import Recording, load_ipol


def _true_outputs(t: Targets) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """True φ and stance as a model would output them: φ extrapolated where undefined.

    Before the first and after the last heel strike the true phase is NaN (a cycle needs
    two heel strikes); a model always outputs a phase, so continue the neighbouring
    cycle's rate there. Undefined stance (outside the trial, after a cut) becomes stance.
    """
    phase = t.phase.copy()
    hs = t.heel_strikes
    if len(hs) >= 2:
        before = t.counter < hs[0]
        phase[before] = 2 * np.pi * (t.counter[before] - hs[0]) / (hs[1] - hs[0])
        after = t.counter >= hs[-1]
        phase[after] = 2 * np.pi * (t.counter[after] - hs[-1]) / (hs[-1] - hs[-2])
    stance = np.nan_to_num(t.stance.astype(np.float64), nan=1.0)
    return np.mod(phase, 2 * np.pi), stance


def _detect(
    t: Targets, counter: npt.NDArray[np.int64] | None = None, **kw: float
) -> list[GaitEvent]:
    phase, stance = _true_outputs(t)
    c = t.counter if counter is None else counter
    keep = np.isin(t.counter, c)
    return GaitEventDetector(**kw).detect(
        t.counter[keep], np.cos(phase[keep]), np.sin(phase[keep]), stance[keep]
    )


@pytest.fixture(scope="module")
def targets_left(walk_left: Recording) -> Targets:
    return gait_targets(walk_left.counter, walk_left.meta, walk_left.side)


def test_true_targets_give_every_true_event_within_one_sample(targets_left: Targets) -> None:
    t = targets_left
    events = _detect(t)
    intervals = scored_intervals(t.counter, t.scored)
    for kind, true in (("HS", t.heel_strikes), ("TO", t.toe_offs)):
        at, rep = events_to_arrays(events, kind)
        s = event_scores(at, rep, true, intervals)
        assert s.n_true >= 8
        assert s.recall == 1.0 and s.precision == 1.0
        assert np.all(s.abs_errors_ms <= 10.0)  # ≤ 1 sample
        # delay: 0 unless the event's own sample was lost (then up to the gap)
        assert np.all(s.delays_ms >= 0)
        assert np.all(s.delays_ms <= 10.0 * np.diff(t.counter).max())
        assert np.median(s.delays_ms) == 0
        # every true event in the recording, not only the scored ones, is found
        for x in true:
            if t.counter[0] < x < t.counter[-1]:
                assert np.min(np.abs(at - x)) <= 1.0
    for e in events:
        k = np.searchsorted(t.counter, e.counter_reported)
        assert 0 <= e.delay_samples <= t.counter[k] - t.counter[k - 1]


def test_delay_is_bounded_and_non_negative(targets_left: Targets) -> None:
    """A stance that creeps across 0.5 is reported max_delay_ms after the crossing."""
    t = targets_left
    phase, stance = _true_outputs(t)
    soft = 0.48 + 0.14 * stance  # swing 0.48: TO never confirmed, HS never armed
    det = GaitEventDetector(hysteresis=0.1, max_delay_ms=40.0)
    events = det.detect(t.counter, np.cos(phase), np.sin(phase), soft)
    assert len(events) > 5 and {e.kind for e in events} == {"TO"}
    gaps = np.diff(t.counter).max()
    for e in events:
        assert 4.0 <= e.delay_samples <= 4.0 + gaps


def test_noisy_phase_and_stance_still_work(targets_left: Targets) -> None:
    t = targets_left
    rng = np.random.default_rng(7)
    phase, stance = _true_outputs(t)
    phase = phase + rng.normal(0, 0.05, phase.shape)  # ≈ 0.8 % of the cycle
    stance = np.clip(stance + rng.normal(0, 0.15, stance.shape), 0, 1)
    det = GaitEventDetector(max_delay_ms=50.0)
    events = det.detect(t.counter, np.cos(phase), np.sin(phase), stance)
    intervals = scored_intervals(t.counter, t.scored)
    gap = np.diff(t.counter).max()
    for kind, true in (("HS", t.heel_strikes), ("TO", t.toe_offs)):
        at, rep = events_to_arrays(events, kind)
        s = event_scores(at, rep, true, intervals)
        assert s.recall == 1.0 and s.precision == 1.0, kind
        assert s.mae_ms <= 20.0, kind
        assert np.all(rep - at <= det.max_delay_samples_ + gap)
        assert np.all(rep - at >= 0)


def test_lost_samples_are_interpolated_not_invented(targets_left: Targets) -> None:
    t = targets_left
    # drop the sample of every true event and the one before a few of them
    drop = np.concatenate([t.heel_strikes, t.toe_offs, t.heel_strikes[::2] - 1])
    kept = t.counter[~np.isin(t.counter, drop)]
    events = _detect(t, kept)
    received = set(kept.tolist())
    for e in events:
        assert e.counter_reported in received
    intervals = scored_intervals(t.counter, t.scored)
    for kind, true in (("HS", t.heel_strikes), ("TO", t.toe_offs)):
        at, rep = events_to_arrays(events, kind)
        s = event_scores(at, rep, true, intervals)
        assert s.recall == 1.0 and s.precision == 1.0
        assert np.all(s.abs_errors_ms <= 10.0)


def test_long_gap_resets_instead_of_bridging(targets_left: Targets) -> None:
    t = targets_left
    hs = int(t.heel_strikes[3])
    gap = (t.counter > hs - 15) & (t.counter < hs + 15)  # 300 ms lost around a heel strike
    events = _detect(t, t.counter[~gap], max_gap_ms=200.0)
    at, _ = events_to_arrays(events, "HS")
    assert np.min(np.abs(at - hs)) > 6  # not interpolated across the 300 ms
    assert np.any(np.abs(at - t.heel_strikes[4]) <= 1)  # and detection resumes after


def test_streaming_equals_detect(targets_left: Targets) -> None:
    t = targets_left
    rng = np.random.default_rng(3)
    phase, stance = _true_outputs(t)
    phase = phase + rng.normal(0, 0.08, phase.shape)
    stance = np.clip(stance + rng.normal(0, 0.2, stance.shape), 0, 1)
    pc, ps = np.cos(phase).astype(np.float32), np.sin(phase).astype(np.float32)
    det = GaitEventDetector(hysteresis=0.2)
    whole = det.detect(t.counter, pc, ps, stance)
    det.reset()
    streamed: list[GaitEvent] = []
    for k in range(len(t.counter)):
        streamed.extend(det.update(int(t.counter[k]), float(pc[k]), float(ps[k]), stance[k]))
    assert streamed == whole and len(whole) > 10


def _feed(det: GaitEventDetector, phases: list[float], stance: list[float]) -> list[GaitEvent]:
    """Phases in fractions of the cycle."""
    return [
        e
        for k, (p, s) in enumerate(zip(phases, stance, strict=True))
        for e in det.update(k, math.cos(2 * math.pi * p), math.sin(2 * math.pi * p), s)
    ]


def test_heel_strike_needs_swing_first_and_phase_near_the_wrap() -> None:
    det = GaitEventDetector(hysteresis=0.1, min_stride_ms=400.0)
    # stance rises from swing near the wrap: one HS at the crossing + 0.5
    out = _feed(det, [0.95, 0.97, 0.99, 0.01, 0.03], [0.1, 0.2, 0.3, 0.7, 0.9])
    assert [e.kind for e in out] == ["HS"]
    assert out[0].counter_at == pytest.approx(2 + 0.5 + 0.5)
    assert out[0].counter_reported == 3  # p_stance 0.7 >= 0.6 confirms at once
    # never in swing (0.4 not reached): not armed, nothing
    det.reset()
    assert not _feed(det, [0.95, 0.97, 0.99, 0.01], [0.45, 0.55, 0.9, 0.9])
    # a rise in mid-cycle is not a heel strike
    det.reset()
    assert not _feed(det, [0.5, 0.52, 0.54, 0.56], [0.1, 0.2, 0.8, 0.9])
    # refractory: a second rise 100 ms later is ignored
    det.reset()
    stance = [0.1, 0.9, 0.1, 0.9, 0.9, 0.1, 0.9]
    out = _feed(det, [0.99, 0.0, 0.99, 0.0, 0.0, 0.99, 0.0], stance)
    assert len(out) == 1


def test_toe_off_needs_hysteresis_and_phase_window() -> None:
    det = GaitEventDetector(hysteresis=0.1, max_delay_ms=50.0)
    phase = 0.6 * 2 * math.pi  # inside the window
    stance = [0.55, 0.45, 0.55, 0.45, 0.3]  # never armed (0.6 not reached): nothing
    c, si = math.cos(phase), math.sin(phase)
    assert not [e for k, s in enumerate(stance) for e in det.update(k, c, si, s)]
    det.reset()
    stance = [0.9, 0.7, 0.45, 0.55, 0.45, 0.35]  # armed; dip cancelled; last crossing wins
    out = [
        e for k, s in enumerate(stance) for e in det.update(k, math.cos(phase), math.sin(phase), s)
    ]
    assert [e.kind for e in out] == ["TO"]
    assert out[0].counter_reported == 5
    assert out[0].counter_at == pytest.approx(3 + 0.5 + 0.5)  # crossing 3.5, offset 0.5
    det.reset()
    phase = 0.1 * 2 * math.pi  # outside the window: not a toe-off
    stance = [0.9, 0.2, 0.1]
    assert not [
        e for k, s in enumerate(stance) for e in det.update(k, math.cos(phase), math.sin(phase), s)
    ]


def test_a_rejected_crossing_disarms() -> None:
    """A rise outside the window, then a wobble inside the hysteresis band: no heel strike."""
    det = GaitEventDetector(hysteresis=0.1)
    out = _feed(det, [0.60, 0.65, 0.70, 0.72, 0.76], [0.1, 0.1, 0.7, 0.45, 0.7])
    assert not [e for e in out if e.kind == "HS"]
    # back in swing, it arms again and the next rise near the wrap counts
    out = _feed(det, [0.60, 0.65, 0.70, 0.72, 0.76, 0.9, 0.97, 0.02],
                [0.1, 0.1, 0.7, 0.45, 0.7, 0.2, 0.3, 0.8])  # fmt: skip
    assert [e.kind for e in out if e.kind == "HS"] == ["HS"]
    assert [e.counter_reported for e in out if e.kind == "HS"] == [7]


def test_toe_off_reported_after_max_delay_without_low_threshold() -> None:
    det = GaitEventDetector(hysteresis=0.2, max_delay_ms=50.0)
    phase = 0.6 * 2 * math.pi
    stance = [0.9, 0.9, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45]
    out = [
        e for k, s in enumerate(stance) for e in det.update(k, math.cos(phase), math.sin(phase), s)
    ]
    assert len(out) == 1
    assert out[0].delay_samples == pytest.approx(5.0, abs=1e-9)


def test_parameters_are_checked() -> None:
    with pytest.raises(ValueError, match="hysteresis"):
        GaitEventDetector(hysteresis=0.6)
    with pytest.raises(ValueError, match="hs_phase_window"):
        GaitEventDetector(hs_phase_window=(0.5, 0.5))
    with pytest.raises(ValueError, match="to_phase_window"):
        GaitEventDetector(to_phase_window=(0.9, 0.2))


def test_ipol_true_targets_recall(ipol_dir: Path) -> None:
    total = {"HS": [0, 0, 0], "TO": [0, 0, 0]}  # n_true, n_matched, n_pred
    for name in ("1-1", "3-2", "7-4", "12-3"):
        for side in ("L", "R"):
            try:
                rec = load_ipol(ipol_dir, name, side)
            except Exception:  # pragma: no cover - a trial absent from this copy
                continue
            t = gait_targets(rec.counter, rec.meta, rec.side)
            events = _detect(t)
            intervals = scored_intervals(t.counter, t.scored)
            for kind, true in (("HS", t.heel_strikes), ("TO", t.toe_offs)):
                at, rep = events_to_arrays(events, kind)
                s = event_scores(at, rep, true, intervals)
                total[kind][0] += s.n_true
                total[kind][1] += s.n_matched
                total[kind][2] += s.n_pred
    for kind, (n_true, n_matched, n_pred) in total.items():
        assert n_true > 20, kind
        assert n_matched / n_true >= 0.99, kind
        assert n_matched / n_pred >= 0.99, kind


def test_median_stride_ignores_a_restarted_counter() -> None:
    """Issue 14: after a device restart the counter starts over; the interval across it was
    negative, a median of 0 s followed and the summary divided by it."""
    from edge.events import median_stride_s

    assert median_stride_s([100, 210, 5, 115, 226], 100.0) == pytest.approx(1.1)
    assert math.isnan(median_stride_s([100, 100], 100.0))
