from __future__ import annotations

import numpy as np
import pytest

from edge.model.gru import GRU, GRUWeights
from edge.model.quant import (
    dequantize_int8,
    quantize_int8,
    storage_error,
    weights_from_arrays,
    weights_to_arrays,
)


def test_int8_is_symmetric_per_output_channel() -> None:
    w = np.array([[0.5, -1.0, 0.25], [0.0, 0.0, 0.0], [3.0, 1.5, -0.03]], dtype=np.float32)
    q, scale = quantize_int8(w)
    assert q.dtype == np.int8 and scale.dtype == np.float32
    np.testing.assert_allclose(scale, [1 / 127, 1.0, 3 / 127], rtol=1e-6)
    assert q[0, 1] == -127 and q[2, 0] == 127 and not q[1].any()
    err = np.abs(dequantize_int8(q, scale) - w)
    assert np.all(err <= scale[:, None] / 2 + 1e-7)


@pytest.mark.parametrize("storage", ["float32", "float16", "int8"])
def test_round_trip_through_arrays(storage) -> None:
    w = GRUWeights.random(6, 32, 3, n_layers=2, seed=1)
    arrays = weights_to_arrays(w, storage)
    assert all(arrays[k].dtype == np.float32 for k in arrays if ".bias" in k)  # biases float32
    back = weights_from_arrays(arrays)
    tol = {"float32": 0.0, "float16": 1e-3, "int8": 0.01}[storage]
    for a, b in zip(back.w_hh, w.w_hh, strict=True):
        assert np.abs(a - b).max() <= tol


def test_storage_error_report_on_real_gait(walk_left) -> None:
    x = walk_left.imu[:800]
    x = ((x - x.mean(0)) / x.std(0))[:, None, :].astype(np.float32)
    report = storage_error(GRUWeights.random(6, 64, 3, seed=4), x)
    assert report["float32"]["max_abs_error"] == 0.0
    assert report["int8"]["bytes"] < report["float16"]["bytes"] < report["float32"]["bytes"]
    assert 0 < report["float16"]["rmse"] < report["int8"]["rmse"] < 2e-3
    assert report["int8"]["max_abs_error"] < 0.01


def test_missing_or_wrong_arrays_are_named() -> None:
    arrays = weights_to_arrays(GRUWeights.random(6, 16, 2), "int8")
    with pytest.raises(ValueError, match=r"has no gru\.weight_hh_l0\.scale"):
        weights_from_arrays({k: v for k, v in arrays.items() if k != "gru.weight_hh_l0.scale"})
    with pytest.raises(ValueError, match=r"'head\.bias' is missing"):
        weights_from_arrays({k: v for k, v in arrays.items() if k != "head.bias"})
    with pytest.raises(ValueError, match="not a gaitedge GRU weight file"):
        weights_from_arrays({"x": np.zeros(3)})
    arrays["head.weight"] = arrays["head.weight"].astype(np.int32)
    with pytest.raises(ValueError, match="is int32; expected"):
        weights_from_arrays(arrays)
    assert GRU(weights_from_arrays(weights_to_arrays(GRUWeights.random(6, 16, 2)))).n_outputs == 2
