"""One foot's recording with per-sample targets (:class:`Trial`), and the column names it
shares with the plain per-trial format (:mod:`edge.training.data.formats`)."""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import numpy as np
import numpy.typing as npt

from edge.errors import DatasetError
from edge.model.files import DEVICE_CHANNELS

#: Unit of a column from its name's suffix (``knee_angle_deg`` is in deg); the IMU
#: columns use the first two.
_UNIT_SUFFIX = {"m/s^2": "mps2", "rad/s": "radps", "deg": "deg", "rad": "rad", "m": "m",
                "m/s": "mps", "N": "N", "kPa": "kPa"}  # fmt: skip


def unit_of(column: str) -> str:
    """The unit a column name carries as its suffix (``knee_angle_deg`` → ``deg``), else ``1``."""
    for unit, suffix in _UNIT_SUFFIX.items():
        if column.endswith("_" + suffix):
            return unit
    return "1"


def subject_key(subject: str) -> tuple[int, str]:
    """Sort key of subject ids: numbers in numeric order (2 before 10), then the rest."""
    return (len(subject), subject) if subject.isdigit() else (1 << 30, subject)


#: Column names of the six IMU channels in the plain format, in ``Trial.imu`` order.
CHANNEL_COLUMNS: tuple[str, ...] = tuple(
    f"{name}_{_UNIT_SUFFIX[unit]}" for name, unit in DEVICE_CHANNELS.items()
)

#: Prefix of a mask column in the plain format.
MASK_PREFIX = "mask_"

#: The two feet, as ``Trial.side`` names them.
SIDES = ("L", "R")


@dataclasses.dataclass(frozen=True, slots=True)
class Trial:
    """One foot's recording with per-sample targets and masks, ready to train or score.

    Attributes
    ----------
    subject : str
        Subject id; the split keeps each subject on one side.
    name : str
        Trial name, e.g. ``"1-6"``.
    side : {"L", "R"}
        Which foot.
    sample_rate_hz : float
        Rate of ``counter``, Hz.
    counter : ndarray, shape (n,), int64
        Sample counter, strictly increasing; a missing value is a lost sample.
    imu : ndarray, shape (n, 6), float32
        acc_x, acc_y, acc_z [m/s², gravity included] then gyr_x, gyr_y, gyr_z [rad/s],
        sensor frame.
    targets : dict of str to ndarray, shape (n,), float32
        What a model learns, NaN where undefined (ipol-gait: ``phase_cos``, ``phase_sin``,
        ``stance``).
    masks : dict of str to ndarray, shape (n,), bool
        Where each applies (ipol-gait: ``in_trial``, ``scored``, ``steady``).
    events : dict of str to ndarray, shape (k,), int64
        Event times as counter values (ipol-gait: ``heel_strike``, ``toe_off``).
    """

    subject: str
    name: str
    side: Literal["L", "R"]
    sample_rate_hz: float
    counter: npt.NDArray[np.int64]
    imu: npt.NDArray[np.float32]
    targets: dict[str, npt.NDArray[np.float32]] = dataclasses.field(default_factory=dict)
    masks: dict[str, npt.NDArray[np.bool_]] = dataclasses.field(default_factory=dict)
    events: dict[str, npt.NDArray[np.int64]] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.counter)
        where = f"trial {self.name!r} (subject {self.subject!r}, side {self.side!r})"
        if self.side not in SIDES:
            raise DatasetError(f"{where}: side is {self.side!r}; expected 'L' or 'R'")
        if not (self.sample_rate_hz > 0 and math.isfinite(self.sample_rate_hz)):
            raise DatasetError(f"{where}: sample_rate_hz is {self.sample_rate_hz!r}; must be > 0")
        if self.imu.shape != (n, 6):
            raise DatasetError(f"{where}: imu has shape {self.imu.shape}; expected ({n}, 6)")
        if np.any(np.diff(self.counter) <= 0):
            raise DatasetError(f"{where}: counter must be strictly increasing")
        for kind, cols in (("target", self.targets), ("mask", self.masks)):
            for k, v in cols.items():
                if v.shape != (n,):
                    raise DatasetError(
                        f"{where}: {kind} {k!r} has shape {v.shape}; expected ({n},)"
                    )

    def __len__(self) -> int:
        return len(self.counter)
