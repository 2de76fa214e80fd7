"""SPM on gait-cycle curves: a difference in one part of the cycle is found there only;
without one, a region is found in about 5 % of studies (the family-wise rate)."""

from __future__ import annotations

import numpy as np
import pytest

from edge.compare.spm import paired_spm

PCT = np.arange(101)


def _curves(rng: np.random.Generator, n: int, bump: float) -> tuple[np.ndarray, np.ndarray]:
    own = rng.normal(0, 3.0, (n, 1)) + 10 * np.sin(2 * np.pi * PCT / 100)  # each subject's gait
    noise = lambda: rng.normal(0, 1.0, (n, 101)).cumsum(axis=1) * 0.3  # smooth-ish  # noqa: E731
    a = own + noise()
    b = own + noise() + bump * np.exp(-(((PCT - 50) / 6.0) ** 2))
    return a, b


def test_a_difference_mid_cycle_is_found_there_and_nowhere_else() -> None:
    a, b = _curves(np.random.default_rng(1), 10, bump=4.0)
    r = paired_spm(a, b)
    assert r.n == 10 and len(r.regions) == 1
    start, end, p = r.regions[0]
    assert start <= 50 <= end and start >= 35 and end <= 65
    assert p < 0.05
    np.testing.assert_allclose(r.mean_b - r.mean_a, (b - a).mean(axis=0))


def test_no_difference_finds_a_region_in_about_5_percent_of_studies() -> None:
    rng = np.random.default_rng(2)
    hits = sum(bool(paired_spm(*_curves(rng, 8, bump=0.0)).regions) for _ in range(400))
    assert 0.015 < hits / 400 < 0.085  # 5 % ± 3 binomial SDs (1000 such studies: 3.9 %)


def test_many_subjects_use_random_sign_flips_and_few_give_no_threshold() -> None:
    a, b = _curves(np.random.default_rng(3), 14, bump=4.0)
    assert paired_spm(a, b).regions  # 2**14 patterns: 10 000 random ones instead
    r = paired_spm(a[:2], b[:2])
    assert np.isnan(r.threshold) and r.regions == []
    with pytest.raises(ValueError, match="one shape"):
        paired_spm(a, b[:, :50])
