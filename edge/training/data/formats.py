"""The plain per-trial format (``*.npz`` / ``*.csv``): :func:`save_trial`, :func:`load_trial`.

Two layouts are read by :func:`~edge.training.data.load_dataset`:

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

import json
import os
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.errors import DatasetError
from edge.training.data.targets import gait_targets, read_boundaries
from edge.training.data.trial import CHANNEL_COLUMNS, MASK_PREFIX, SIDES, Trial


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
    cols: dict[str, Any] = _columns(trial)  # Any: np.savez_compressed's stub
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
    if side not in SIDES:
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
        walk = read_boundaries(meta, "walk") or (int(counter[0]), int(counter[-1]))
        turn = read_boundaries(meta, "turn")
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
