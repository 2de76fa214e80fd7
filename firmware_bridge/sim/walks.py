"""Recorded foot-IMU gait that the simulator streams: the ipol-gait data set and its bundled slice.

Data source: Voisard et al., "A Reference Data Set for the Study of Healthy Subject Gait
with Inertial Measurements Units", IPOL 2023, https://www.ipol.im/pub/art/2023/497/
(Xsens MTw Awinda on the dorsum of each shoe, 100 Hz). The bundled slice
(``data/demo_walk.npz``) is made by ``scripts/make_demo_recording.py``; see
``data/README.md`` for its licence.
"""

from __future__ import annotations

import dataclasses
import json
import os
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

__all__ = ["Recording", "bundled_recording", "find_ipol_dir", "load_ipol"]

#: Environment variable naming an ipol-gait folder (the one holding ``GaitData/``).
IPOL_ENV = "GAITEDGE_IPOL_DIR"


@dataclasses.dataclass(frozen=True, slots=True)
class Recording:
    """One foot's IMU recording.

    Attributes
    ----------
    name : str
        Trial name, e.g. ``"1-6"``.
    side : {"L", "R"}
        Which foot.
    counter : ndarray, shape (n,), int64
        Sample counter at ``sample_rate_hz``; a missing value is a sample the link lost.
        Strictly increasing.
    imu : ndarray, shape (n, 6), float32
        acc_x, acc_y, acc_z [m/s², gravity included] then gyr_x, gyr_y, gyr_z [rad/s],
        sensor frame as mounted (dorsum of the shoe).
    sample_rate_hz : float
        Rate of the counter, Hz.
    meta : dict
        The trial's metadata (ipol JSON: boundaries and footstep events, in counter units).
    """

    name: str
    side: Literal["L", "R"]
    counter: npt.NDArray[np.int64]
    imu: npt.NDArray[np.float32]
    sample_rate_hz: float = 100.0
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.counter)

    @property
    def lost_samples(self) -> int:
        """Samples missing from the counter between its first and last value."""
        return int(self.counter[-1] - self.counter[0] + 1 - len(self.counter))

    @property
    def gaps(self) -> int:
        """Places where the counter skips one or more values."""
        return int(np.count_nonzero(np.diff(self.counter) > 1))

    def window(self, first: int, stop: int) -> Recording:
        """The samples with ``first <= counter < stop``."""
        keep = (self.counter >= first) & (self.counter < stop)
        return dataclasses.replace(self, counter=self.counter[keep], imu=self.imu[keep])


def find_ipol_dir(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """Where the full ipol-gait recordings are; None if not there.

    ``explicit`` if given (and nowhere else: a wrong path is an error, not a fallback);
    otherwise $GAITEDGE_IPOL_DIR, then ``../shared/data/ipol-gait`` beside the project.
    A folder qualifies when it holds ``GaitData/``.
    """
    here = Path(__file__).resolve().parents[2]  # the project root
    candidates = (
        [explicit]
        if explicit is not None
        else [os.environ.get(IPOL_ENV), here.parent / "shared" / "data" / "ipol-gait"]
    )
    for c in candidates:
        if c and (Path(c) / "GaitData").is_dir():
            return Path(c)
    return None


def load_ipol(data_dir: str | os.PathLike[str], trial: str, side: Literal["L", "R"]) -> Recording:
    """Load one foot of one ipol-gait trial (``trial`` like ``"1-6"``).

    A counter value that repeats (one place in the data set, 11-1 at 308, before the walk)
    keeps its first sample, so the counter is strictly increasing.
    """
    gait = Path(data_dir) / "GaitData"
    path = gait / f"{trial}_{side.lower()}f.txt"
    if not path.is_file():
        raise FileNotFoundError(
            f"no recording {path}; DATA_DIR must hold GaitData/ as ipol-gait does "
            f"(trial names like '1-6', side L or R)"
        )
    table = np.loadtxt(path, skiprows=2, dtype=np.float64)
    counter = table[:, 0].astype(np.int64)
    keep = np.concatenate([[True], np.diff(counter) > 0])
    meta_path = gait / f"{trial}.json"
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    return Recording(
        name=trial,
        side=side,
        counter=counter[keep],
        imu=table[keep, 1:7].astype(np.float32),
        sample_rate_hz=100.0,
        meta=meta,
    )


def bundled_recording(side: Literal["L", "R"]) -> Recording:
    """The small slice of real walking shipped with gaitedge (trial 1-6, both feet)."""
    ref = resources.files("firmware_bridge") / "data" / "demo_walk.npz"
    with resources.as_file(ref) as path, np.load(path, allow_pickle=False) as z:
        key = side.lower()
        meta = json.loads(str(z["meta"]))
        return Recording(
            name=meta["Filename"],
            side=side,
            counter=z[f"{key}_counter"].astype(np.int64),
            imu=z[f"{key}_imu"].astype(np.float32),
            sample_rate_hz=float(z["sample_rate_hz"]),
            meta=meta,
        )
