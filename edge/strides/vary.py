"""A recorded walk made into another walker's: faster or slower, longer or shorter strides.

For a simulated study (many subjects, two shoes) from one real recording. The foot's
motion is kept and re-timed: its orientation history is played ``tempo`` times faster,
and its path is stretched by ``scale``. With ``R(t)`` the foot's orientation (the smoothed
trajectory of :mod:`edge.strides.trajectory`), gravity seen by the sensor is
``g_s = R(t)ᵀ g`` and the rest of the specific force is the path's acceleration
``a_s(t) − g_s``; the new walk at time ``t' = t / tempo`` has

    gyro'(t') = tempo · gyro(t),   acc'(t') = g_s(t) + scale · tempo² · (acc(t) − g_s(t)),

which is exactly the IMU of a rigid foot that turns the same way, ``tempo`` times faster,
along the same path scaled by ``scale`` (so stride length × scale, cadence × tempo, gait
speed × scale·tempo, foot angles unchanged). The new walk is sampled at the old rate on a
contiguous counter (lost samples are filled, not reproduced).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from edge.strides.analysis import uniform_samples
from edge.strides.trajectory import smoothed_trajectory
from edge.strides.zupt import GRAVITY_MPS2, stance_mask

__all__ = ["varied_walk"]


def varied_walk(
    counter: npt.ArrayLike,
    imu: npt.ArrayLike,
    rate_hz: float,
    *,
    tempo: float = 1.0,
    scale: float = 1.0,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """The walk ``tempo`` times faster with strides ``scale`` times longer (module docstring).

    Parameters
    ----------
    counter : array_like, shape (n,), int
        Sample counter (gaps are lost samples).
    imu : array_like, shape (n, 6)
        acc [m/s²] then gyro [rad/s].
    rate_hz : float
    tempo, scale : float
        > 0.

    Returns
    -------
    counter : ndarray, shape (m,), int64
        Contiguous, from the first counter.
    imu : ndarray, shape (m, 6), float32
    """
    if not (tempo > 0 and scale > 0):
        raise ValueError(f"tempo {tempo!r} and scale {scale!r} must be > 0")
    c = np.asarray(counter, np.int64)
    x, _ = uniform_samples(c, imu)
    rest = stance_mask(x, rate_hz)
    rot = smoothed_trajectory(x, rate_hz, rest).rotation
    first = int(np.argmax(np.isfinite(rot[:, 0, 0])))
    rot[:first] = rot[first]  # before the first rest: as at it (the walk starts standing)
    g_s = rot[:, 2, :] * GRAVITY_MPS2  # world z in sensor coordinates, times g
    dyn = x[:, :3] - g_s
    n = len(x)
    m = int(np.floor((n - 1) / tempo)) + 1
    src = np.arange(m) * tempo  # source sample of each new one
    grid = np.arange(n)

    def at(y: np.ndarray) -> np.ndarray:
        return np.stack([np.interp(src, grid, y[:, j]) for j in range(y.shape[1])], axis=1)

    g_new = at(g_s)
    g_new *= GRAVITY_MPS2 / np.linalg.norm(g_new, axis=1, keepdims=True)
    acc = g_new + scale * tempo**2 * at(dyn)
    gyr = tempo * at(x[:, 3:])
    out = np.concatenate([acc, gyr], axis=1).astype(np.float32)
    return c[0] + np.arange(m, dtype=np.int64), out
