"""Training and evaluation data: gait targets from footstep events, and the per-trial format.

Two layouts are read by :func:`load_dataset`:

**ipol-gait** (a folder holding ``GaitData/``, see ``../shared/data/ipol-gait/README.md``):
both feet of every trial, loaded with :func:`firmware_bridge.sim.walks.load_ipol`, with the
targets ``phase_cos``, ``phase_sin``, ``stance`` and the masks ``in_trial``, ``scored``,
``steady`` computed by :func:`gait_targets` from the hand-checked footstep events.

**Plain per-trial format** (any other folder): one file per trial, ``*.npz`` or ``*.csv``,
found recursively. Both hold the same named columns, one value per sample:

==========================  ==========================================================
column                      meaning
==========================  ==========================================================
``counter``                 sample counter at ``sample_rate_hz`` (int, strictly
                            increasing; a missing value is a lost sample), **or**
``t_s``                     sample time [s] (converted to ``round(t_s * rate)``)
``acc_x_mps2`` …            sensor-frame acceleration [m/s²], gravity included
``acc_z_mps2``
``gyr_x_radps`` …           sensor-frame angular rate [rad/s]
``gyr_z_radps``
``mask_<name>``             a boolean mask (0/1): ``mask_scored``, the samples
                            ``gaitedge evaluate`` scores (default: every sample whose
                            target is defined); gait-phase data also needs
                            ``mask_steady`` and may give ``mask_in_trial`` (the walk,
                            for the phase rules of training). Training learns from every
                            sample whose target is not NaN: put NaN where it must not
anything else               a target column (float; NaN where undefined), e.g.
                            ``phase_cos``, ``stance``, ``knee_angle_deg``: put the unit
                            in the name
==========================  ==========================================================

Metadata: ``subject`` (required: the split is by subject), ``sample_rate_hz`` (required),
``side`` (required, ``"L"`` or ``"R"``), ``name`` (optional, defaults to the file name)
and ``events`` (optional: ``{"heel_strike": [counter, …], "toe_off": […]}``).

Gait events only: a file with no target column but both kinds of ``events`` (say, from
force plates) gets the gait-phase targets and masks from them, as ipol-gait does
(:func:`gait_targets`), so ``gaitedge evaluate`` scores the shipped model on it and
``gaitedge train`` learns from it. The whole recording is the walk unless the metadata
gives ``walk: [start, end]``; ``turn: [start, end]`` marks a turn (not scored). Both in
counter units. The events must hold every step of the walk (toe-offs and heel strikes
alternate; no stride outside the turn over 1.5 times the median): a file that misses
steps is refused with the counters where, since a missed step would be scored as one
long cycle.

- NPZ: one 1-D array per column under the column's name, plus ``meta``: a JSON string
  holding the metadata. Loaded with ``allow_pickle=False``.
- CSV: comma-separated. Metadata first, one ``# key: value`` line each (value as JSON;
  a bare word such as ``# subject: P03`` is read as a string); then one header row of
  column names; then one row per sample. ``nan`` marks an undefined target. Example::

      # subject: "P03"
      # side: "L"
      # sample_rate_hz: 100
      counter,acc_x_mps2,acc_y_mps2,acc_z_mps2,gyr_x_radps,gyr_y_radps,gyr_z_radps,knee_angle_deg
      0,0.12,9.79,0.3,0.01,-0.02,0.0,4.5
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from edge.errors import DatasetError
from edge.model.files import DEVICE_CHANNELS
from firmware_bridge.sim.walks import Recording, load_ipol

__all__ = [
    "CHANNEL_COLUMNS",
    "DatasetError",
    "Targets",
    "Trial",
    "gait_targets",
    "load_dataset",
    "load_trial",
    "save_trial",
    "split_by_subject",
    "subject_key",
    "trial_from_recording",
    "unit_of",
]

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

_SIDE_KEYS = {"L": "LeftFootEvents", "R": "RightFootEvents"}


# --------------------------------------------------------------------------- gait targets


@dataclasses.dataclass(frozen=True, slots=True)
class Targets:
    """Per-sample gait targets of one foot, aligned to the recording's counter.

    A lost sample has no row (the arrays follow ``counter``, not a dense time axis).

    Attributes
    ----------
    counter : ndarray, shape (n,), int64
        The recording's counter [samples at 100 Hz for ipol-gait].
    phase : ndarray, shape (n,), float64
        Gait phase φ [rad] in [0, 2π): 0 at a heel strike, rising linearly with the counter
        to 2π at the next heel strike of the same foot. NaN outside such a cycle.
    phase_cos, phase_sin : ndarray, shape (n,), float32
        cos φ and sin φ; NaN where φ is.
    stance : ndarray, shape (n,), float32
        1 from a heel strike to the next toe-off (foot on the ground), 0 from a toe-off to
        the next heel strike (swing). NaN outside the trial and where the state is unknown
        (see :func:`gait_targets`).
    cycle : ndarray, shape (n,), int64
        Index of the cycle (into ``heel_strikes``: cycle i runs from ``heel_strikes[i]``
        to ``heel_strikes[i + 1]``) a sample belongs to; -1 where φ is NaN.
    in_trial : ndarray, shape (n,), bool
        Inside ``TrialBoundaries`` (both ends included).
    scored : ndarray, shape (n,), bool
        ``in_trial``, outside ``UTurnBoundaries`` (both ends included) and φ defined.
    steady : ndarray, shape (n,), bool
        ``scored`` and in a steady cycle: not the trial's first cycle, not its last
        (stopping) cycle, and not within the turn margin of ``UTurnBoundaries``.
    heel_strikes, toe_offs : ndarray, shape (k,), int64
        The foot's events inside the trial, as counter values, increasing.
    """

    counter: npt.NDArray[np.int64]
    phase: npt.NDArray[np.float64]
    phase_cos: npt.NDArray[np.float32]
    phase_sin: npt.NDArray[np.float32]
    stance: npt.NDArray[np.float32]
    cycle: npt.NDArray[np.int64]
    in_trial: npt.NDArray[np.bool_]
    scored: npt.NDArray[np.bool_]
    steady: npt.NDArray[np.bool_]
    heel_strikes: npt.NDArray[np.int64]
    toe_offs: npt.NDArray[np.int64]

    @property
    def n_cycles(self) -> int:
        """Cycles (heel strike to next heel strike) inside the trial."""
        return max(len(self.heel_strikes) - 1, 0)


def _boundaries(meta: Mapping[str, Any], key: str) -> tuple[int, int] | None:
    value = meta.get(key)
    if value is None:
        return None
    try:
        start, end = (int(v) for v in value)
    except (TypeError, ValueError) as e:
        raise DatasetError(f"{key} is {value!r}; expected [start, end] in counter units") from e
    return start, end


def gait_targets(
    counter: npt.ArrayLike,
    meta: Mapping[str, Any],
    side: Literal["L", "R"],
    *,
    sample_rate_hz: float = 100.0,
    turn_margin_s: float = 0.5,
    events: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
) -> Targets:
    """Gait phase, stance and scoring masks of one foot from its footstep events.

    Parameters
    ----------
    counter : array_like, shape (n,), int
        The recording's sample counter, strictly increasing (gaps are lost samples).
    meta : mapping
        ipol-gait trial metadata: ``TrialBoundaries`` [start, end] (required),
        ``UTurnBoundaries`` [start, end] (optional), ``LeftFootEvents`` /
        ``RightFootEvents``: [toe-off, heel strike] pairs, all in counter units. An
        optional ``Slice`` [first, stop) says the recording was cut from a longer trial
        (the bundled demo slice), with the events cut to match.
    side : {"L", "R"}
        Which foot's events to use.
    sample_rate_hz : float
        Rate of the counter, Hz.
    turn_margin_s : float
        A cycle this close to the turn, or closer, is not steady [s].
    events : (toe_offs, heel_strikes), optional
        The foot's events as two counter lists, instead of ``meta``'s footstep pairs (the
        plain format's ``events``).

    Returns
    -------
    Targets

    Notes
    -----
    Definitions (all intervals in counter values):

    - **Events used**: only toe-offs and heel strikes inside ``TrialBoundaries``; several
      ipol-gait recordings go on past the trial (the subject walks off), and those events
      are dropped. No event pair straddles a boundary in ipol-gait.
    - **Cycle** i: ``heel_strikes[i] <= counter < heel_strikes[i + 1]``, with
      φ = 2π (counter − HS_i) / (HS_i+1 − HS_i). Before the first heel strike of the trial
      (standing, then the first step, which starts with a toe-off) and from the last heel
      strike on, φ is NaN: a cycle needs two heel strikes. Cycles across the turn are
      cycles like any other (their turn samples are not ``scored``).
    - **Stance** is constant between events: 1 after a heel strike, 0 after a toe-off.
      Before the trial's first event it is the state that event ends: a trial starting
      with a toe-off (as every ipol-gait trial does: the subject stands first) has stance
      1 from the trial start; one starting with a heel strike has 0. After the last event
      it stays: 1 after a closing heel strike (the subject stands still). Outside
      ``TrialBoundaries`` it is NaN. Where ``Slice`` cut the trial, stance is NaN
      between the cut and the nearest event (the state there is unknown).
    - **in_trial**: ``start <= counter <= end`` of ``TrialBoundaries``.
    - **scored**: ``in_trial`` and not ``u0 <= counter <= u1`` of ``UTurnBoundaries`` and
      φ defined.
    - **steady**: ``scored`` and the sample's cycle i is none of: the first cycle of the
      trial (i = 0), the last one (the stopping cycle), or near the turn, meaning the gap
      between the cycle [HS_i, HS_i+1] and the turn [u0, u1] is at most
      ``round(turn_margin_s * sample_rate_hz)`` samples (50 at 100 Hz):
      ``max(u0 − HS_i+1, HS_i − u1) <= 50``, which includes every cycle overlapping the
      turn. When ``Slice`` cut the trial short, the cycles next to the cut are not the
      trial's first or last and stay steady.
    """
    counter = np.asarray(counter, dtype=np.int64)
    if counter.ndim != 1 or np.any(np.diff(counter) <= 0):
        raise DatasetError("counter must be 1-D and strictly increasing (sample counter values)")
    if side not in _SIDE_KEYS:
        raise DatasetError(f"side is {side!r}; expected 'L' or 'R'")
    trial = _boundaries(meta, "TrialBoundaries")
    if trial is None:
        raise DatasetError(
            "metadata has no TrialBoundaries; gait targets need [start, end] of the walk "
            "in counter units (ipol-gait JSON)"
        )
    t0, t1 = trial
    turn = _boundaries(meta, "UTurnBoundaries")
    key = _SIDE_KEYS[side] if events is None else "events"
    if events is None:
        pairs = np.asarray(meta.get(key, []), dtype=np.int64).reshape(-1, 2)
        events = (pairs[:, 0], pairs[:, 1])
    toe_offs, heel_strikes = (np.sort(np.asarray(e, dtype=np.int64).reshape(-1)) for e in events)
    toe_offs = toe_offs[(toe_offs >= t0) & (toe_offs <= t1)]
    heel_strikes = heel_strikes[(heel_strikes >= t0) & (heel_strikes <= t1)]
    both = np.concatenate([toe_offs, heel_strikes])
    kinds = np.concatenate([np.zeros(len(toe_offs)), np.ones(len(heel_strikes))])  # 1 = HS
    order = np.argsort(both, kind="stable")
    both, kinds = both[order], kinds[order]
    same = np.flatnonzero(np.diff(both) <= 0)
    if same.size:
        raise DatasetError(f"{key}: two events at counter {both[same[0]]}; fix them")

    cut = _boundaries(meta, "Slice")
    cut_start = cut is not None and cut[0] > t0
    cut_end = cut is not None and cut[1] - 1 < t1

    n = len(counter)
    in_trial = (counter >= t0) & (counter <= t1)

    # phase and cycle index
    phase = np.full(n, np.nan)
    cycle = np.full(n, -1, dtype=np.int64)
    if len(heel_strikes) >= 2:
        i = np.searchsorted(heel_strikes, counter, side="right") - 1
        inside = (i >= 0) & (i < len(heel_strikes) - 1)
        hs0 = heel_strikes[i[inside]]
        hs1 = heel_strikes[i[inside] + 1]
        phase[inside] = 2 * np.pi * (counter[inside] - hs0) / (hs1 - hs0)
        cycle[inside] = i[inside]

    # stance: state after the latest event; before the first, the state that event ends
    stance = np.full(n, np.nan, dtype=np.float32)
    if len(both):
        j = np.searchsorted(both, counter, side="right") - 1
        after = j >= 0
        stance[after] = kinds[j[after]]
        stance[~after] = 1.0 - kinds[0]
        if cut_start:
            stance[~after] = np.nan
        if cut_end:
            stance[counter >= both[-1]] = np.nan
    stance[~in_trial] = np.nan

    # masks
    defined = cycle >= 0
    scored = in_trial & defined
    if turn is not None:
        scored &= ~((counter >= turn[0]) & (counter <= turn[1]))
    n_cycles = max(len(heel_strikes) - 1, 0)
    steady_cycle = np.ones(n_cycles, dtype=bool)
    if n_cycles:
        if not cut_start:
            steady_cycle[0] = False
        if not cut_end:
            steady_cycle[-1] = False
        if turn is not None:
            margin = round(turn_margin_s * sample_rate_hz)
            gap = np.maximum(turn[0] - heel_strikes[1:], heel_strikes[:-1] - turn[1])
            steady_cycle &= gap > margin
    steady = scored.copy()
    steady[defined] &= steady_cycle[cycle[defined]]

    return Targets(
        counter=counter,
        phase=phase,
        phase_cos=np.cos(phase).astype(np.float32),
        phase_sin=np.sin(phase).astype(np.float32),
        stance=stance,
        cycle=cycle,
        in_trial=in_trial,
        scored=scored,
        steady=steady,
        heel_strikes=heel_strikes,
        toe_offs=toe_offs,
    )


# --------------------------------------------------------------------------- trials


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
        if self.side not in _SIDE_KEYS:
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


def trial_from_recording(rec: Recording, *, turn_margin_s: float = 0.5) -> Trial:
    """An ipol-gait :class:`~firmware_bridge.sim.walks.Recording` with its gait targets.

    Targets ``phase_cos``, ``phase_sin``, ``stance``; masks ``in_trial``, ``scored``,
    ``steady``; events ``heel_strike``, ``toe_off`` (see :func:`gait_targets`). The subject
    is ``meta["Subject"]`` as a string (the trial name's part before ``-`` if absent).
    """
    t = gait_targets(
        rec.counter,
        rec.meta,
        rec.side,
        sample_rate_hz=rec.sample_rate_hz,
        turn_margin_s=turn_margin_s,
    )
    subject = str(rec.meta.get("Subject", rec.name.split("-")[0]))
    return Trial(
        subject=subject,
        name=rec.name,
        side=rec.side,
        sample_rate_hz=rec.sample_rate_hz,
        counter=rec.counter,
        imu=rec.imu.astype(np.float32, copy=False),
        targets={"phase_cos": t.phase_cos, "phase_sin": t.phase_sin, "stance": t.stance},
        masks={"in_trial": t.in_trial, "scored": t.scored, "steady": t.steady},
        events={"heel_strike": t.heel_strikes, "toe_off": t.toe_offs},
    )


# --------------------------------------------------------------------------- plain format


def _columns(trial: Trial) -> dict[str, npt.NDArray[Any]]:
    cols: dict[str, npt.NDArray[Any]] = {"counter": trial.counter.astype(np.int64)}
    for k, name in enumerate(CHANNEL_COLUMNS):
        cols[name] = trial.imu[:, k].astype(np.float32)
    reserved = {"counter", "t_s", *CHANNEL_COLUMNS}
    for name, v in trial.targets.items():
        if name in reserved or name.startswith(MASK_PREFIX):
            raise DatasetError(
                f"target name {name!r} clashes with a reserved column; rename it "
                f"(reserved: counter, t_s, {', '.join(CHANNEL_COLUMNS)}, {MASK_PREFIX}*)"
            )
        cols[name] = v.astype(np.float32)
    for name, m in trial.masks.items():
        cols[MASK_PREFIX + name] = m.astype(bool)
    return cols


def _meta(trial: Trial) -> dict[str, Any]:
    return {
        "subject": trial.subject,
        "name": trial.name,
        "side": trial.side,
        "sample_rate_hz": trial.sample_rate_hz,
        "events": {k: [int(x) for x in v] for k, v in trial.events.items()},
    }


def save_trial(path: str | os.PathLike[str], trial: Trial) -> Path:
    """Write one trial in the plain per-trial format (module docstring).

    Parameters
    ----------
    path : path-like
        Ends in ``.npz`` or ``.csv``, which picks the format. Parent folders are created.
    trial : Trial
        What to write; float32 values round-trip exactly in both formats.

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".npz", ".csv"):
        raise DatasetError(f"cannot write {path}: name it *.npz or *.csv")
    cols = _columns(trial)
    meta = _meta(trial)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".npz":
        with path.open("wb") as f:
            np.savez_compressed(f, meta=np.array(json.dumps(meta)), **cols)
        return path
    lines = [f"# {k}: {json.dumps(v)}" for k, v in meta.items()]
    lines.append(",".join(cols))
    formatted = []
    for v in cols.values():
        if v.dtype == bool:
            formatted.append(v.astype(np.int8).astype(str))
        elif v.dtype.kind in "iu":
            formatted.append(v.astype(str))
        else:
            formatted.append(np.char.mod("%.9g", v))
    body = [",".join(row) for row in zip(*formatted, strict=True)] if formatted else []
    path.write_text("\n".join(lines + body) + "\n")
    return path


def _parse_meta_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _read_npz(path: Path) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
    try:
        with np.load(path, allow_pickle=False) as z:
            cols = {k: z[k] for k in z.files}
    except (OSError, ValueError) as e:
        raise DatasetError(f"cannot read {path} as NPZ ({e}); write it with save_trial") from e
    meta_arr = cols.pop("meta", None)
    if meta_arr is None:
        raise DatasetError(
            f"{path} has no 'meta' entry; add a JSON string with subject, side, sample_rate_hz"
        )
    try:
        meta = json.loads(str(meta_arr))
    except json.JSONDecodeError as e:
        raise DatasetError(f"{path}: 'meta' is not valid JSON ({e})") from e
    return meta, cols


def _read_csv(path: Path) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
    meta: dict[str, Any] = {}
    with path.open() as f:
        header: list[str] | None = None
        n_lines = 0
        for line in f:
            n_lines += 1
            s = line.strip()
            if not s:
                continue
            if s.startswith("#"):
                m = re.match(r"#\s*([A-Za-z_][\w]*)\s*:\s*(.*)$", s)
                if m:
                    meta[m.group(1)] = _parse_meta_value(m.group(2).strip())
                continue
            header = [c.strip() for c in s.split(",")]
            break
        if header is None:
            raise DatasetError(f"{path} has no header row; put the column names before the data")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "Empty input": checked below
                table = np.loadtxt(f, delimiter=",", dtype=np.float64, ndmin=2)
        except ValueError as e:
            raise DatasetError(f"{path}: cannot parse the rows after line {n_lines} ({e})") from e
    if table.size == 0:
        raise DatasetError(f"{path} has a header but no rows; add one row per sample")
    if table.shape[1] != len(header):
        raise DatasetError(
            f"{path}: {table.shape[1]} values per row but {len(header)} column names; "
            "make every row match the header"
        )
    return meta, {name: table[:, k] for k, name in enumerate(header)}


def load_trial(path: str | os.PathLike[str]) -> Trial:
    """Read one trial in the plain per-trial format (``.npz`` or ``.csv``; module docstring).

    Raises
    ------
    DatasetError
        Unknown suffix, missing metadata or columns, ragged columns; the message names the
        file and what to add.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        meta, cols = _read_npz(path)
    elif suffix == ".csv":
        meta, cols = _read_csv(path)
    else:
        raise DatasetError(f"cannot read {path}: the plain format is *.npz or *.csv")

    missing_meta = [k for k in ("subject", "side", "sample_rate_hz") if k not in meta]
    if missing_meta:
        raise DatasetError(
            f"{path}: metadata lacks {', '.join(missing_meta)}; add them "
            "(CSV: '# subject: \"P03\"' lines before the header; NPZ: the 'meta' JSON)"
        )
    side = str(meta["side"]).upper()
    if side not in _SIDE_KEYS:
        raise DatasetError(f"{path}: side is {meta['side']!r}; write 'L' or 'R'")
    try:
        rate = float(meta["sample_rate_hz"])
    except (TypeError, ValueError) as e:
        raise DatasetError(f"{path}: sample_rate_hz is {meta['sample_rate_hz']!r}; write Hz") from e

    missing = [c for c in CHANNEL_COLUMNS if c not in cols]
    if "counter" not in cols and "t_s" not in cols:
        missing.insert(0, "counter (or t_s)")
    if missing:
        raise DatasetError(
            f"{path}: missing column(s) {', '.join(missing)}; the plain format needs "
            f"counter or t_s and {', '.join(CHANNEL_COLUMNS)} (SI units)"
        )
    lengths = {k: v.shape for k, v in cols.items()}
    n = len(cols[CHANNEL_COLUMNS[0]])
    ragged = [k for k, s in lengths.items() if s != (n,)]
    if ragged:
        raise DatasetError(f"{path}: column(s) {', '.join(ragged)} are not 1-D of length {n}")

    if "counter" in cols:
        raw = cols["counter"]
        counter = np.rint(raw).astype(np.int64)
        if np.any(counter != raw):
            raise DatasetError(f"{path}: counter holds non-integers; use t_s for times in seconds")
    else:
        counter = np.rint(cols["t_s"] * rate).astype(np.int64)
    if np.any(np.diff(counter) <= 0):
        raise DatasetError(
            f"{path}: counter (or t_s) is not strictly increasing; sort the rows and drop "
            "repeated samples"
        )
    imu = np.stack([cols[c] for c in CHANNEL_COLUMNS], axis=1).astype(np.float32)
    reserved = {"counter", "t_s", *CHANNEL_COLUMNS}
    targets: dict[str, npt.NDArray[np.float32]] = {}
    masks: dict[str, npt.NDArray[np.bool_]] = {}
    for name, v in cols.items():
        if name in reserved:
            continue
        if name.startswith(MASK_PREFIX):
            masks[name[len(MASK_PREFIX) :]] = np.asarray(v).astype(bool)
        else:
            targets[name] = np.asarray(v, dtype=np.float32)
    events_meta = meta.get("events") or {}
    if not isinstance(events_meta, Mapping):
        raise DatasetError(f"{path}: events must map names to counter lists, got {events_meta!r}")
    events = {}
    for k, v in events_meta.items():
        raw = np.asarray(v, dtype=np.float64).reshape(-1)
        if np.any(raw != np.rint(raw)):
            raise DatasetError(
                f"{path}: events {k!r} hold non-integers; events are counter values (samples "
                f"at {rate:g} Hz), not seconds"
            )
        events[str(k)] = raw.astype(np.int64)
    if not targets:
        kinds = {"heel_strike", "toe_off"} & set(events)
        if len(kinds) == 1:
            raise DatasetError(
                f"{path}: no target column and only {kinds.pop()} events; gait targets need "
                "both heel_strike and toe_off events (or give target columns)"
            )
        if kinds:
            targets, derived, events = _gait_from_events(path, counter, side, rate, meta, events)
            masks = {**derived, **masks}  # the file's own masks win
    return Trial(
        subject=str(meta["subject"]),
        name=str(meta.get("name", path.stem)),
        side=side,  # type: ignore[arg-type]
        sample_rate_hz=rate,
        counter=counter,
        imu=imu,
        targets=targets,
        masks=masks,
        events=events,
    )


def _gait_from_events(
    path: Path,
    counter: npt.NDArray[np.int64],
    side: str,
    rate: float,
    meta: Mapping[str, Any],
    events: Mapping[str, npt.NDArray[np.int64]],
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Gait-phase targets, masks and events of a plain trial that has only its events, by
    :func:`gait_targets` (``walk``: the whole recording unless the metadata says).

    The events must describe every step of the walk: toe-offs and heel strikes alternate,
    and no stride is more than 1.5 times the median (a step the plates missed makes a
    "cycle" of two strides); strides across ``turn`` are not checked."""
    try:
        walk = _boundaries(meta, "walk") or (int(counter[0]), int(counter[-1]))
        turn = _boundaries(meta, "turn")
    except DatasetError as e:
        raise DatasetError(f"{path}: {e}") from None
    ipol = {"TrialBoundaries": list(walk), **({"UTurnBoundaries": list(turn)} if turn else {})}
    try:
        t = gait_targets(
            counter, ipol, side, sample_rate_hz=rate,  # type: ignore[arg-type]
            events=(events["toe_off"], events["heel_strike"]),
        )  # fmt: skip
    except DatasetError as e:
        raise DatasetError(f"{path}: {e}") from None
    # the events inside the walk, sorted, as gait_targets kept them
    hs = t.heel_strikes
    if len(hs) < 2:
        raise DatasetError(
            f"{path}: {len(hs)} heel strike(s) inside the walk, counters {walk[0]}–"
            f"{walk[1]}; gait targets need two or more (events are counters at {rate:g} Hz)"
        )
    seq = np.concatenate([t.toe_offs, hs])
    seq_hs = np.concatenate([np.zeros(len(t.toe_offs), bool), np.ones(len(hs), bool)])
    order = np.argsort(seq)
    seq, seq_hs = seq[order], seq_hs[order]
    twice = np.flatnonzero(seq_hs[1:] == seq_hs[:-1])
    if twice.size:
        a, b = seq[twice[0]], seq[twice[0] + 1]
        kind = "heel strikes" if seq_hs[twice[0]] else "toe-offs"
        raise DatasetError(
            f"{path}: two {kind} in a row at counters {a} and {b}; toe-offs and heel strikes "
            "must alternate (a step is missing or doubled)"
        )
    stride = np.diff(hs)
    across = np.zeros(len(stride), bool)
    if turn is not None:
        across = (hs[1:] >= turn[0]) & (hs[:-1] <= turn[1])
    usual = np.median(stride[~across]) if np.any(~across) else np.median(stride)
    long = np.flatnonzero(~across & (stride > 1.5 * usual))
    if long.size:
        a, b = hs[long[0]], hs[long[0] + 1]
        raise DatasetError(
            f"{path}: heel strikes at counters {a} and {b} are {(b - a) / rate:.2f} s apart, "
            f"over 1.5 times the median stride ({usual / rate:.2f} s): a step is missing; give "
            "every step's events, or split the file where the steps were not recorded"
        )
    return (
        {"phase_cos": t.phase_cos, "phase_sin": t.phase_sin, "stance": t.stance},
        {"in_trial": t.in_trial, "scored": t.scored, "steady": t.steady},
        {**events, "heel_strike": t.heel_strikes, "toe_off": t.toe_offs},
    )


# --------------------------------------------------------------------------- data sets


def _ipol_trial_names(gait: Path) -> list[str]:
    def key(name: str) -> tuple[int, ...] | tuple[str]:
        parts = name.split("-")
        return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else (name,)

    names = [p.stem for p in gait.glob("*.json")]
    return sorted(names, key=key)  # type: ignore[arg-type]


def load_dataset(
    data_dir: str | os.PathLike[str], *, trials: Iterable[str] | None = None
) -> list[Trial]:
    """Every trial in a data folder, as :class:`Trial` objects.

    Parameters
    ----------
    data_dir : path-like
        A folder laid out like ipol-gait (holding ``GaitData/``): both feet of every
        trial with gait targets (:func:`trial_from_recording`), ordered by subject, trial,
        then L before R. Any other folder: every ``*.npz`` and ``*.csv`` below it in the
        plain per-trial format (module docstring), in path order.
    trials : iterable of str, optional
        ipol-gait only: load just these trials (names like ``"1-6"``).

    Raises
    ------
    DatasetError
        Missing or empty folder, unknown layout, unreadable trial file.
    """
    root = Path(data_dir)
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder; DATA_DIR must be a folder of trials")
    gait = root / "GaitData"
    if gait.is_dir():
        names = _ipol_trial_names(gait)
        if trials is not None:
            wanted = list(trials)
            unknown = [t for t in wanted if t not in names]
            if unknown:
                raise DatasetError(
                    f"no trial(s) {', '.join(unknown)} in {gait}; names look like "
                    f"{names[0] if names else '1-6'!r}"
                )
            names = wanted
        if not names:
            raise DatasetError(f"{gait} holds no <trial>.json; is it an ipol-gait copy?")
        return [
            trial_from_recording(load_ipol(root, name, side))
            for name in names
            for side in ("L", "R")
        ]
    if trials is not None:
        raise DatasetError(f"trials= only applies to the ipol-gait layout; {root} has no GaitData/")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in (".npz", ".csv"))
    if not files:
        if not any(root.iterdir()):
            raise DatasetError(
                f"{root} is empty; put one *.npz or *.csv per trial in it (see edge.training.data) "
                "or point DATA_DIR at an ipol-gait folder (with GaitData/)"
            )
        raise DatasetError(
            f"unknown layout in {root}: no GaitData/ (ipol-gait) and no *.npz / *.csv trial "
            "files (plain format, see edge.training.data)"
        )
    return [load_trial(p) for p in files]


def split_by_subject(
    trials: Sequence[Trial], n_folds: int, seed: int = 0
) -> list[tuple[list[Trial], list[Trial]]]:
    """Leave-subjects-out folds: each subject is validation in exactly one fold.

    Parameters
    ----------
    trials : sequence of Trial
        The data set.
    n_folds : int
        Folds, 2 ≤ n_folds ≤ number of subjects; subjects are shuffled with ``seed`` and
        dealt into folds of sizes differing by at most one.
    seed : int
        Seed of the shuffle; the same seed and trials give the same folds.

    Returns
    -------
    list of (train, val)
        One pair per fold; trial order within each list follows ``trials``. No subject is
        in both lists of a pair.
    """
    subjects = sorted({t.subject for t in trials}, key=subject_key)
    if not 2 <= n_folds <= len(subjects):
        raise DatasetError(
            f"n_folds is {n_folds!r} but there are {len(subjects)} subjects; choose "
            f"2 <= n_folds <= {len(subjects)}"
        )
    order = np.random.default_rng(seed).permutation(len(subjects))
    chunks = np.array_split(order, n_folds)
    folds = []
    for chunk in chunks:
        val_subjects = {subjects[i] for i in chunk}
        train = [t for t in trials if t.subject not in val_subjects]
        val = [t for t in trials if t.subject in val_subjects]
        folds.append((train, val))
    return folds
