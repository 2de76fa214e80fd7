"""Device clock → host clock: drift, jitter, two shoes on one axis."""

from __future__ import annotations

import numpy as np
import pytest

from edge.clock import ClockMap


def _arrivals(
    seconds: float, drift_ppm: float, offset_s: float, rng: np.random.Generator, k: int = 4
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """100 Hz samples in packets of k: device µs of each packet's last sample, the true host
    time of that sample, and its arrival (true + 3 ms floor + BLE-like jitter up to 45 ms)."""
    n = int(seconds * 100) // k
    true_host = offset_s + np.arange(1, n + 1) * k / 100.0  # host time when taken
    t_dev_us = np.round((true_host - offset_s) * (1 + drift_ppm * 1e-6) * 1e6).astype(np.int64)
    t_dev_us += 5_000_000_000  # the device clock started long ago
    delay = 0.003 + rng.exponential(0.012, n).clip(0, 0.045)
    return t_dev_us, true_host, true_host + delay


def test_maps_onto_the_host_axis_despite_drift_and_jitter() -> None:
    rng = np.random.default_rng(1)
    dev, true, arrival = _arrivals(120, drift_ppm=80.0, offset_s=1000.0, rng=rng)
    m = ClockMap()
    for d, a in zip(dev, arrival, strict=True):
        m.observe(int(d), float(a))
    err = m.host_time(dev[-3000:]) - true[-3000:]
    # what is left is the constant part of the delay (3 ms) and a little jitter
    assert np.all(np.abs(err - 0.003) < 0.002), (err.min(), err.max())
    assert m.drift == pytest.approx(-80e-6, abs=10e-6)  # host runs slower than this device


def test_two_shoes_align_within_5_ms() -> None:
    rng = np.random.default_rng(2)
    maps, mapped = [], []
    for drift in (+150.0, -150.0):  # two insoles, clocks 300 ppm apart
        dev, true, arrival = _arrivals(60, drift_ppm=drift, offset_s=50.0, rng=rng)
        m = ClockMap()
        for d, a in zip(dev, arrival, strict=True):
            m.observe(int(d), float(a))
        maps.append(m)
        mapped.append(m.host_time(dev) - true)  # same true instants on both shoes
    late = slice(len(mapped[0]) // 2, None)  # after the first 30 s
    assert np.all(np.abs(mapped[0][late] - mapped[1][late]) < 0.005)


def test_needs_an_arrival_first() -> None:
    with pytest.raises(RuntimeError, match="observe"):
        ClockMap().host_time([0])
    with pytest.raises(ValueError):
        ClockMap(bucket_s=0)


def test_a_late_backlog_after_an_outage_does_not_tilt_the_map() -> None:
    """Mapped causally (each packet as it arrives, as the loop does): 10 s of packets, a
    5 s outage, then the port's backlog read at once (the first packets 20-60 ms late)."""
    rng = np.random.default_rng(3)
    dev, true, arrival = _arrivals(20, drift_ppm=300.0, offset_s=10.0, rng=rng)
    arrival = true + 0.003 + rng.uniform(0.0, 0.001, len(true))  # a wired link: small jitter
    back = (true >= 10.0 + 15.0) & (true < 10.0 + 15.06)  # sent while the port reopened
    arrival[back] = 10.0 + 15.06 + 1e-4 * np.arange(back.sum())
    keep = (true < 10.0 + 10.0) | (true >= 10.0 + 15.0)  # nothing during the outage
    m = ClockMap()
    err = []
    for d, t, a in zip(dev[keep], true[keep], arrival[keep], strict=True):
        m.observe(int(d), float(a))
        err.append(float(m.host_time([d])[0]) - t)
    err_ms = 1e3 * (np.array(err) - 0.003)
    after_first_second = true[keep] >= 10.0 + 1.0
    assert np.abs(err_ms[after_first_second]).max() < 2.0, np.abs(err_ms).max()


@pytest.mark.parametrize("backlog_s", [0.5, 1.2, 2.4])
def test_a_backlog_when_the_port_opens_is_left_out_of_the_fit(backlog_s: float) -> None:
    """The port opens ``backlog_s`` after the device started: everything sent before
    arrives at once. Only those samples are mapped late (nothing better is known when
    they arrive); from the first second after the open on, every sample is on time."""
    t = np.arange(0.0, 20.0, 0.04)  # device = true time, packets of 4 at 100 Hz
    arrival = t + 0.003 + np.random.default_rng(4).uniform(0.0, 0.001, len(t))
    early = t < backlog_s
    arrival[early] = backlog_s + 0.003 + 1e-5 * np.arange(early.sum())
    m = ClockMap()
    err = []
    for td, a in zip(t, arrival, strict=True):
        m.observe(round(td * 1e6), float(a))
        err.append(float(m.host_time([round(td * 1e6)])[0]) - td - 0.003)
    later = t >= backlog_s + 1.0
    assert np.abs(np.array(err)[later]).max() < 0.002
