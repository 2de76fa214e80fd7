"""LSL output over loopback, read by a real inlet: values, channels and timestamps."""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
import pytest

from edge.events import GaitEvent
from edge.store import StoreHealth

lsl = pytest.importorskip("mne_lsl.lsl", reason="the lsl extra (mne-lsl) is not installed")


class _Kept:
    """An inner sink that keeps what it is given."""

    trial_id = 7
    health = StoreHealth.OK
    status = "ok"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return lambda *a, **k: self.calls.append(name)


def _inlet(name: str) -> Any:
    (info,) = lsl.resolve_streams(timeout=5.0, name=name, minimum=1)
    inlet = lsl.StreamInlet(info)
    inlet.open_stream(timeout=5.0)
    return inlet, info


def _pull(inlet: Any, n: int) -> tuple[Any, np.ndarray]:
    data, ts = [], []
    deadline = time.monotonic() + 5.0
    while sum(len(t) for t in ts) < n and time.monotonic() < deadline:
        d, t = inlet.pull_chunk(timeout=0.5)
        if len(t):
            data.append(d)
            ts.append(t)
    return data, np.concatenate(ts) if ts else np.zeros(0)


def test_samples_outputs_and_events_reach_an_inlet_with_their_host_times() -> None:
    from edge.runtime.lsl import LslSink

    prefix = f"gaitedge-test-{os.getpid()}"
    inner = _Kept()
    sink = LslSink(inner, ["phase_cos", "phase_sin", "stance"], prefix=prefix)
    sink.device("L", device_id=42, firmware="1.0", sample_rate_hz=100.0, channels=["acc_x"],
                units=["m/s^2"], transport="serial://x")  # fmt: skip
    imu_in, imu_info = _inlet(f"{prefix}-L-imu")
    model_in, _ = _inlet(f"{prefix}-L-model")
    ev_in, _ = _inlet(f"{prefix}-events")
    assert imu_info.n_channels == 6 and imu_info.sfreq == 100.0
    assert imu_info.source_id == f"{prefix}-L-42"
    time.sleep(0.3)
    host = time.time() - 1.0 + np.arange(50) / 100.0  # measured a second ago
    imu = np.arange(300, dtype=np.float32).reshape(50, 6)
    sink.samples("L", np.arange(1000, 1050), host, np.zeros(50, np.int64), imu, None)
    sink.predictions("L", np.arange(1000, 1050), np.full((50, 3), 0.5, np.float32))
    sink.event("L", GaitEvent("HS", 1010.5, 1030), float(host[30]))
    data, ts = _pull(imu_in, 50)
    np.testing.assert_array_equal(np.concatenate(data), imu)
    np.testing.assert_allclose(ts, host - sink.offset, atol=1e-6)  # when measured
    _, mts = _pull(model_in, 50)
    np.testing.assert_allclose(mts, host - sink.offset, atol=1e-6)
    marks, ets = _pull(ev_in, 1)
    assert marks[0][0] == ["L HS"]
    assert ets[0] == pytest.approx(host[10] + 0.005 - sink.offset, abs=1e-6)  # counter 1010.5
    assert {"device", "samples", "predictions", "event"} <= set(inner.calls)  # still stored
    sink.finish("complete")
    assert "finish" in inner.calls
