"""Scoring: circular phase error, one-to-one event matching, region rules, pooled keys."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edge.events import GaitEvent, GaitEventDetector
from edge.training.data import gait_targets
from edge.training.metrics import (
    POOLED_KEYS,
    EventScores,
    circular_error,
    event_scores,
    inside,
    match_events,
    phase_from_cos_sin,
    phase_rmse_pct,
    pool,
    pooled_scores,
    score_targets,
    score_trial,
    scored_intervals,
    scores_by_subject,
)
from firmware_bridge.sim.walks import Recording
from tests.edge.test_events import _true_outputs

ISSUE_KEYS = {
    "phase_rmse_pct",
    "phase_rmse_steady_pct",
    "hs_recall",
    "hs_precision",
    "hs_mae_ms",
    "hs_recall_30ms",
    "to_recall",
    "to_precision",
    "to_mae_ms",
    "to_recall_30ms",
    "event_delay_p95_ms",
    "n_subjects",
    "n_strides",
}


def test_circular_error_wraps() -> None:
    assert phase_rmse_pct([math.radians(350)], [math.radians(10)]) == pytest.approx(20 / 360 * 100)
    assert phase_rmse_pct([math.radians(10)], [math.radians(350)]) == pytest.approx(5.5556, 1e-4)
    assert circular_error([0.1], [2 * math.pi - 0.1])[0] == pytest.approx(0.2)
    assert circular_error([2 * math.pi - 0.1], [0.1])[0] == pytest.approx(-0.2)


def test_phase_rmse_uses_mask_and_skips_nan() -> None:
    pred = np.array([0.0, 0.0, 0.0, 1.0])
    true = np.array([0.0, np.nan, math.pi / 2, 0.0])
    mask = np.array([True, True, True, False])
    # samples 0 and 2 count: errors 0 and π/2 (25 % of the cycle) → RMSE 25/√2 %
    assert phase_rmse_pct(pred, true, mask) == pytest.approx(25 / math.sqrt(2))
    assert math.isnan(phase_rmse_pct(pred, true, np.zeros(4, bool)))


def test_phase_from_cos_sin_is_in_0_2pi() -> None:
    phi = np.array([0.0, 1.0, 3.0, 4.0, 6.2])
    assert np.allclose(phase_from_cos_sin(np.cos(phi), np.sin(phi)), phi)


def test_matching_is_one_to_one() -> None:
    m = match_events([99.0, 101.5], [100], tolerance_samples=6)
    assert m.pairs.tolist() == [[0, 0]]  # the nearer one
    assert m.false_alarms.tolist() == [1]
    assert m.missed.tolist() == []
    assert m.errors.tolist() == [-1.0]
    m = match_events([100.0], [98, 103], tolerance_samples=6)
    assert m.pairs.tolist() == [[0, 0]] and m.missed.tolist() == [1]
    m = match_events([10.0, 200.0], [100], tolerance_samples=6)  # outside tolerance
    assert len(m.pairs) == 0 and m.missed.tolist() == [0] and m.false_alarms.tolist() == [0, 1]
    m = match_events([], [], tolerance_samples=6)
    assert m.pairs.shape == (0, 2)


def test_tolerance_is_inclusive() -> None:
    assert len(match_events([106.0], [100], 6.0).pairs) == 1
    assert len(match_events([106.5], [100], 6.0).pairs) == 0


def test_event_scores_known_answer() -> None:
    true = [100, 200, 300, 400]
    at = [101.0, 199.0, 203.0, 304.0, 350.0]  # 304: 40 ms; 203 double; 350 false; 400 missed
    rep = [102, 199, 204, 306, 351]
    s = event_scores(at, rep, true)
    assert (s.n_true, s.n_pred, s.n_matched) == (4, 5, 3)
    assert s.recall == 0.75 and s.precision == 0.6
    assert s.mae_ms == pytest.approx((10 + 10 + 40) / 3)
    assert s.recall_30ms == 0.5
    assert sorted(s.delays_ms.tolist()) == pytest.approx([-10.0, 20.0, 60.0])


def test_region_rules() -> None:
    counter = np.array([0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12])  # sample 4 lost
    scored = np.array([0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0], dtype=bool)
    iv = scored_intervals(counter, scored)
    # run 1..6 (closing sample 7), run 9..10 (closing 11)
    assert iv.tolist() == [[1, 7], [9, 11]]
    assert inside([0.5, 1, 4, 7, 7.5, 9, 11, 12], iv).tolist() == [
        False,
        True,
        True,
        True,
        False,
        True,
        True,
        False,
    ]
    # to the end of the recording: the run closes at its last sample
    assert scored_intervals([0, 1, 2], [False, True, True]).tolist() == [[1, 2]]
    # a true event outside does not count; a prediction matched to it does not either;
    # an unmatched prediction outside is no false alarm; one inside is
    s = event_scores([7.5, 12.0, 3.0, 10.0], [8, 12, 3, 10], [8, 3], iv, tolerance_ms=10)
    assert (s.n_true, s.n_matched, s.n_pred) == (1, 1, 2)
    assert s.recall == 1.0 and s.precision == 0.5


def test_event_scores_add() -> None:
    a = EventScores(2, 2, 1, 1, np.array([5.0]), np.array([10.0]))
    b = EventScores(3, 1, 1, 0, np.array([40.0]), np.array([50.0]))
    c = a + b
    assert (c.n_true, c.n_pred, c.n_matched, c.n_within_30ms) == (5, 3, 2, 1)
    assert c.recall == 0.4 and c.mae_ms == 22.5
    assert math.isnan(EventScores().recall)


def test_pooled_dict_has_exactly_the_issue_keys(walk_left: Recording) -> None:
    assert set(POOLED_KEYS) == ISSUE_KEYS and len(POOLED_KEYS) == len(ISSUE_KEYS)
    t = gait_targets(walk_left.counter, walk_left.meta, walk_left.side)
    phase, stance = _true_outputs(t)
    events = GaitEventDetector().detect(t.counter, np.cos(phase), np.sin(phase), stance)
    pred = np.mod(phase + 0.1, 2 * np.pi)  # constant 0.1 rad error
    ts = score_trial(
        "1",
        t.counter,
        pred,
        t.phase,
        t.scored,
        t.steady,
        events,
        t.heel_strikes,
        t.toe_offs,
    )
    ts2 = score_trial(
        "2", t.counter, t.phase, t.phase, t.scored, t.steady, [], t.heel_strikes, t.toe_offs
    )
    pooled = pooled_scores([ts, ts2])
    assert set(pooled) == ISSUE_KEYS
    assert pooled["n_subjects"] == 2
    # 9 cycles; HS 1602 lies in the turn (1494–1651), so 1465→1602 and 1602→1725 are not
    # whole strides inside the scored region
    assert pooled["n_strides"] == 2 * 7
    # RMSE pooled over samples: half the samples have 0.1 rad error
    assert pooled["phase_rmse_pct"] == pytest.approx(0.1 / math.sqrt(2) / (2 * math.pi) * 100)
    assert pooled["hs_recall"] == pytest.approx(0.5) and pooled["hs_precision"] == 1.0
    assert pooled["event_delay_p95_ms"] >= 0
    per = scores_by_subject([ts, ts2])
    assert list(per) == ["1", "2"] and all(set(d) == ISSUE_KEYS for d in per.values())
    assert per["1"]["hs_recall"] == 1.0 and per["1"]["n_subjects"] == 1
    assert per["1"]["phase_rmse_steady_pct"] == pytest.approx(0.1 / (2 * math.pi) * 100)
    assert math.isnan(per["2"]["hs_precision"])  # no predictions
    assert math.isnan(pooled_scores([])["phase_rmse_pct"])
    assert isinstance(events[0], GaitEvent)


def test_plain_targets_pool_errors_over_samples() -> None:
    """RMSE and MAE in the target's unit, over defined samples inside mask_scored."""
    true = {"knee_angle_deg": np.array([10.0, 20.0, np.nan, 40.0])}
    a = score_targets("A", {"knee_angle_deg": np.array([12.0, 20.0, 99.0, 37.0])}, true)
    assert a.n == {"knee_angle_deg": 3}  # the NaN truth is not scored
    b = score_targets(
        "B",
        {"knee_angle_deg": np.array([10.0, 24.0, 0.0, 0.0])},
        true,
        scored=np.array([True, True, True, False]),
    )
    assert b.n == {"knee_angle_deg": 2}
    pooled = pool([a, b])
    errors = np.array([2.0, 0.0, -3.0, 0.0, 4.0])  # a: 2, 0, -3; b: 0, 4
    assert pooled["knee_angle_deg_rmse"] == pytest.approx(np.sqrt(np.mean(errors**2)))
    assert pooled["knee_angle_deg_mae"] == pytest.approx(np.mean(np.abs(errors)))
    assert pooled["n_subjects"] == 2 and pooled["n_samples"] == 5
    assert scores_by_subject([a, b])["B"]["knee_angle_deg_mae"] == pytest.approx(2.0)
