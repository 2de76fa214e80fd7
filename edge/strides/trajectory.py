"""The foot's orientation, velocity and position from its IMU: strapdown integration with
zero-velocity updates in an error-state Kalman filter, smoothed backwards (RTS) offline.

Method: the ZUPT-aided inertial navigation of Skog et al. (2010, IEEE TBME 57(11)) and
Foxlin (2005, "Pedestrian tracking with shoe-mounted inertial sensors", IEEE CG&A 25(6)),
with the Rauch–Tung–Striebel smoother over the whole walk as in gaitmap's ``RtsKalman``
(Küderle et al.; after Rampp et al. 2015 and Skog et al.). The state is the nominal
orientation ``R`` (sensor → world), velocity ``v`` and position ``p``; the filter tracks
the error ``δx = (δp, δv, δθ)`` (9 values; ``δθ`` a small rotation in the world frame,
``R_true = (I + [δθ]×) R``). Every sample: ``v ← v + (R exp([ω dt/2]×) a − g) dt`` (the
specific force turned to the middle of the interval: at 700 °/s in swing, turning it with
the rotation at the interval's start put stride lengths 1 cm shorter on gaitmap-example),
``R ← R · exp([ω dt]×)``, ``p ← p + v dt``; ``P ← F P Fᵀ + Q``. At rest (a zero-velocity
sample from :mod:`edge.strides.zupt`) the measurement ``v = 0`` corrects all nine (through
``F``'s coupling of attitude into velocity, the pitch and roll too; heading is not
observable and drifts freely, which stride parameters do not need). The smoother then
carries each correction back over the samples before it, so a stride's drift is spread
over the stride instead of landing at its end.

Level ground: at rest the foot is also on the floor, so a second measurement ``p_z = 0``
(standard deviation ``floor_noise_m``) holds the height, as gaitmap's ``level_walking``
option does. Without it the height drifts by ±5 cm a stride on gaitmap-example, and the toe
clearance with it; pass ``floor_noise_m=None`` for stairs and ramps.

World frame: z up (gravity along −z), x the sensor's x at the first rest projected on the
horizontal; the position starts at 0.

:class:`ZuptFilter` is the forward filter, one foot, one sample per call (what the live loop
runs, one stride of latency); :func:`smoothed_trajectory` runs it over a whole recording
and smooths it. The loop touches only 3×3 and 9×9 arrays and builds small rotations and
the 3×3 inverse from Python floats: NumPy's ``linalg`` calls cost 5–40 µs each on arrays
this small, which made the first version 5× slower (measured: 0.88 s against 0.15 s for
7928 samples).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from edge.strides.zupt import GRAVITY_MPS2

__all__ = ["Trajectory", "ZuptFilter", "initial_orientation", "smoothed_trajectory"]

F64 = npt.NDArray[np.float64]
_G = np.array([0.0, 0.0, GRAVITY_MPS2])
# Noise settings (per sample): accelerometer [m/s²], gyroscope [rad/s], the zero-velocity
# measurement [m/s]; checked on gaitmap-example's motion capture (benchmarks/spatial.py).
_ACC_NOISE = 0.5
_GYR_NOISE = 0.01
_ZUPT_NOISE = 0.01
_FLOOR_NOISE = 0.01


def _process_noise(dt: float, acc_noise: float, gyr_noise: float) -> F64:
    """Q over (δp, δv, δθ), (9, 9); a tiny position term keeps P invertible for the smoother."""
    return np.diag([1e-12] * 3 + [(acc_noise * dt) ** 2] * 3 + [(gyr_noise * dt) ** 2] * 3)


def _initial_cov() -> F64:
    """P at a (re)start at rest, (9, 9)."""
    return np.diag([1e-8] * 3 + [1e-4] * 3 + [1e-4] * 3)


class Trajectory(NamedTuple):
    """A foot's path, one row per sample.

    Attributes
    ----------
    rotation : ndarray, shape (n, 3, 3), float64
        Sensor → world rotation (world z up).
    velocity : ndarray, shape (n, 3), float64
        World frame [m/s].
    position : ndarray, shape (n, 3), float64
        World frame [m], 0 at the first rest.

    Samples before the first rest are NaN: nothing anchors them.
    """

    rotation: F64
    velocity: F64
    position: F64


def _exp_so3(phi: F64) -> F64:
    """``exp([φ]×)`` of (..., 3) rotation vectors [rad], (..., 3, 3) (Rodrigues), vectorised."""
    angle = np.linalg.norm(phi, axis=-1)[..., None, None]
    x, y, z = phi[..., 0], phi[..., 1], phi[..., 2]
    k = np.zeros((*phi.shape[:-1], 3, 3))
    k[..., 0, 1], k[..., 0, 2], k[..., 1, 2] = -z, y, -x
    k[..., 1, 0], k[..., 2, 0], k[..., 2, 1] = z, -y, x
    small = angle < 1e-8
    safe = np.where(small, 1.0, angle)
    a = np.where(small, 1.0, np.sin(safe) / safe)
    b = np.where(small, 0.5, (1.0 - np.cos(safe)) / safe**2)
    return np.eye(3) + a * k + b * (k @ k)


def _rotation(x: float, y: float, z: float) -> F64:
    """``exp([φ]×)`` of one rotation vector φ = (x, y, z) [rad], (3, 3) (Rodrigues, in floats)."""
    a2 = x * x + y * y + z * z
    if a2 < 1e-16:
        s, c = 1.0, 0.5
    else:
        a = math.sqrt(a2)
        s, c = math.sin(a) / a, (1.0 - math.cos(a)) / a2
    return np.array(
        [
            [1.0 - c * (y * y + z * z), c * x * y - s * z, c * x * z + s * y],
            [c * x * y + s * z, 1.0 - c * (x * x + z * z), c * y * z - s * x],
            [c * x * z - s * y, c * y * z + s * x, 1.0 - c * (x * x + y * y)],
        ]
    )


def _inv_sym3(m: F64) -> F64:
    """Inverse of a symmetric positive-definite (3, 3) matrix, by cofactors."""
    (a, b, c), (_, d, e), (_, _, f) = m.tolist()
    c00, c01, c02 = d * f - e * e, c * e - b * f, b * e - c * d
    c11, c12, c22 = a * f - c * c, b * c - a * e, a * d - b * b
    det = a * c00 + b * c01 + c * c02
    return np.array([[c00, c01, c02], [c01, c11, c12], [c02, c12, c22]]) / det


def initial_orientation(acc_at_rest: npt.ArrayLike) -> F64:
    """Sensor → world rotation(s) that put the mean specific force at rest on +z.

    Parameters
    ----------
    acc_at_rest : array_like, shape (..., 3)
        Accelerometer at rest [m/s²] (measures +g upwards).

    Returns
    -------
    ndarray, shape (..., 3, 3)
        Heading: the sensor's x axis, projected on the horizontal, is world x (the
        sensor's y where x is near vertical).
    """
    a = np.asarray(acc_at_rest, dtype=np.float64)
    up = a / np.linalg.norm(a, axis=-1, keepdims=True)  # world z in sensor coordinates
    ref = np.where(np.abs(up[..., :1]) < 0.9, [1.0, 0.0, 0.0], [0.0, 1.0, 0.0])
    x = ref - np.sum(ref * up, axis=-1, keepdims=True) * up
    x /= np.linalg.norm(x, axis=-1, keepdims=True)
    y = np.cross(up, x)
    return np.stack([x, y, up], axis=-2)  # rows: world axes in sensor coordinates


class ZuptFilter:
    """Forward strapdown + zero-velocity-update Kalman filter for one foot.

    Parameters
    ----------
    rate_hz : float
        Sample rate [Hz].
    acc_at_rest : array_like, shape (3,)
        Mean accelerometer over the first rest [m/s²]: the initial orientation.
    acc_noise_mps2, gyr_noise_radps : float
        Process noise per sample: accelerometer [m/s²], gyroscope [rad/s].
    zupt_noise_mps : float
        Standard deviation of the zero-velocity measurement [m/s].
    floor_noise_m : float or None
        Standard deviation of the level-ground measurement [m]; ``None``: no such
        measurement (stairs, ramps).

    Attributes
    ----------
    rotation : ndarray, shape (3, 3)
        Sensor → world, after the last sample.
    velocity, position : ndarray, shape (3,)
        World frame [m/s], [m]; the position starts at 0.
    cov : ndarray, shape (9, 9)
        Error covariance over (δp, δv, δθ).
    transition : ndarray, shape (9, 9)
        The last step's error-state transition ``F`` (the smoother needs it).
    update : ndarray, shape (9,) or None
        The last step's error-state correction, ``None`` when the foot was not at rest.
    """

    def __init__(
        self,
        rate_hz: float,
        acc_at_rest: npt.ArrayLike,
        *,
        acc_noise_mps2: float = _ACC_NOISE,
        gyr_noise_radps: float = _GYR_NOISE,
        zupt_noise_mps: float = _ZUPT_NOISE,
        floor_noise_m: float | None = _FLOOR_NOISE,
    ) -> None:
        if not rate_hz > 0:
            raise ValueError(f"rate_hz is {rate_hz!r}; give the sample rate in Hz (> 0)")
        self.dt = dt = 1.0 / rate_hz
        self.rotation = initial_orientation(acc_at_rest)
        self.velocity = np.zeros(3)
        self.position = np.zeros(3)
        self.cov = _initial_cov()
        self._q = _process_noise(dt, acc_noise_mps2, gyr_noise_radps)
        self._r = np.eye(3) * zupt_noise_mps**2
        self._r_floor = None if floor_noise_m is None else floor_noise_m**2
        self.transition = np.eye(9)
        self.transition[:3, 3:6] = np.eye(3) * dt
        self.update: F64 | None = None

    def step(self, acc: F64, gyr: F64, rest: bool) -> None:
        """Take in one sample.

        Parameters
        ----------
        acc : ndarray, shape (3,)
            Accelerometer [m/s², gravity included], sensor frame.
        gyr : ndarray, shape (3,)
            Gyroscope [rad/s], sensor frame.
        rest : bool
            The foot is at rest at this sample (:func:`~edge.strides.zupt.stance_mask`).
        """
        dt = self.dt
        r = self.rotation
        wx, wy, wz = gyr.tolist()
        aw = r @ (_rotation(0.5 * wx * dt, 0.5 * wy * dt, 0.5 * wz * dt) @ acc)
        r = r @ _rotation(wx * dt, wy * dt, wz * dt)
        lin = aw - _G
        self.position = self.position + self.velocity * dt + (0.5 * dt * dt) * lin
        v = self.velocity + lin * dt
        # F's attitude → velocity block, −[a_w]× dt, set element by element
        ax, ay, az = aw.tolist()
        ax, ay, az = ax * dt, ay * dt, az * dt
        f = self.transition
        f[3, 7], f[3, 8], f[4, 6], f[4, 8], f[5, 6], f[5, 7] = az, -ay, -az, ax, ay, -ax
        cov = f @ self.cov @ f.T + self._q
        self.update = None
        if rest:
            hp = cov[3:6]  # H P, (3, 9)
            gain = hp.T @ _inv_sym3(cov[3:6, 3:6] + self._r)  # P Hᵀ S⁻¹, (9, 3)
            dx = gain @ -v
            cov = cov - gain @ hp
            if self._r_floor is not None:  # then p_z = 0, a scalar update after it
                k_z = cov[2] / (cov[2, 2] + self._r_floor)
                dx = dx + k_z * -(self.position[2] + dx[2])
                cov = cov - np.outer(k_z, cov[2])
            cov = 0.5 * (cov + cov.T)
            self.position = self.position + dx[:3]
            v = v + dx[3:6]
            r = _rotation(*dx[6:9].tolist()) @ r
            self.update = dx
        self.rotation, self.velocity, self.cov = r, v, cov


def smoothed_trajectory(
    imu: npt.ArrayLike,
    rate_hz: float,
    rest: npt.ArrayLike,
    *,
    smooth: bool = True,
    acc_noise_mps2: float = _ACC_NOISE,
    gyr_noise_radps: float = _GYR_NOISE,
    zupt_noise_mps: float = _ZUPT_NOISE,
    floor_noise_m: float | None = _FLOOR_NOISE,
) -> Trajectory:
    """The trajectory of one foot over a whole recording, forward-filtered then smoothed.

    Parameters
    ----------
    imu : array_like, shape (n, 6)
        acc [m/s²] then gyro [rad/s], sensor frame, uniformly sampled (interpolate lost
        samples first).
    rate_hz : float
        Sample rate [Hz].
    rest : array_like, shape (n,), bool
        Zero-velocity samples; the first rest gives the initial orientation.
    smooth : bool
        ``False``: the forward filter alone (what a live stream has).
    acc_noise_mps2, gyr_noise_radps, zupt_noise_mps, floor_noise_m : float
        As :class:`ZuptFilter`.

    Returns
    -------
    Trajectory

    Raises
    ------
    ValueError
        The foot never rests (nothing anchors the integration), or ``rate_hz`` ≤ 0.
    """
    x = np.asarray(imu, dtype=np.float64)
    at_rest = np.asarray(rest, dtype=bool)
    n = len(x)
    if not at_rest.any():
        raise ValueError("the foot never rests (no zero-velocity sample): nothing anchors it")
    first = int(np.argmax(at_rest))
    end = first + int(np.argmin(at_rest[first:])) if not at_rest[first:].all() else n
    kf = ZuptFilter(
        rate_hz,
        x[first:end, :3].mean(axis=0),
        acc_noise_mps2=acc_noise_mps2,
        gyr_noise_radps=gyr_noise_radps,
        zupt_noise_mps=zupt_noise_mps,
        floor_noise_m=floor_noise_m,
    )
    rot = np.full((n, 3, 3), np.nan)
    vel = np.full((n, 3), np.nan)
    pos = np.full((n, 3), np.nan)
    m = n - first  # the filter starts at the first rest: nothing anchors what comes before
    p_post = np.empty((m, 9, 9))
    trans = np.empty((m, 9, 9))
    upd = np.zeros((m, 9))
    r_, v_, p_ = rot[first:], vel[first:], pos[first:]  # views
    r_[0], v_[0], p_[0], p_post[0] = kf.rotation, kf.velocity, kf.position, kf.cov
    acc, gyr, flags = x[first:, :3], x[first:, 3:], at_rest[first:].tolist()
    for k in range(1, m):
        kf.step(acc[k - 1], gyr[k - 1], flags[k])
        r_[k], v_[k], p_[k], p_post[k] = kf.rotation, kf.velocity, kf.position, kf.cov
        trans[k - 1] = kf.transition
        if kf.update is not None:
            upd[k] = kf.update
    if not smooth or m < 2:
        return Trajectory(rot, vel, pos)
    # P_pred(k+1) = F_k P_post(k) F_kᵀ + Q, recovered without storing it per step
    fp = trans[:-1] @ p_post[:-1]
    p_pred = fp @ trans[:-1].transpose(0, 2, 1) + kf._q
    # gains G_k = P_post(k) F_kᵀ P_pred(k+1)⁻¹, all at once
    gains = np.linalg.solve(p_pred, fp).transpose(0, 2, 1)
    # e(k) = G_k (e(k+1) + u(k+1)): the smoothed correction of the forward state
    e = np.zeros((m, 9))
    carry = np.zeros(9)
    for k in range(m - 2, -1, -1):
        carry = gains[k] @ (carry + upd[k + 1])
        e[k] = carry
    p_ += e[:, :3]
    v_ += e[:, 3:6]
    r_[:] = _exp_so3(e[:, 6:9]) @ r_
    return Trajectory(rot, vel, pos)
