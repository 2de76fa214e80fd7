"""Stride tables and summaries as text for people (the CLI's ``strides`` and ``trials N``),
and as JSON-ready values for programs (``--json``, the export's metadata)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from edge.strides.analysis import FLOAT_COLUMNS, StrideTable

__all__ = ["json_ready", "summary_lines", "table_lines"]

#: The columns of the per-stride text table: (column, header, scale, digits).
_TABLE = (
    ("stride_length_m", "len m", 1.0, 2),
    ("gait_speed_mps", "m/s", 1.0, 2),
    ("stride_time_s", "T s", 1.0, 2),
    ("stance_pct", "st %", 1.0, 0),
    ("cadence_spm", "/min", 1.0, 0),
    ("strike_angle_deg", "HS °", 1.0, 0),
    ("toe_off_angle_deg", "TO °", 1.0, 0),
    ("max_toe_clearance_m", "toe cm", 100.0, 1),
    ("min_toe_clearance_m", "MTC cm", 100.0, 1),
    ("max_heel_clearance_m", "heel cm", 100.0, 1),
    ("turning_angle_deg", "turn °", 1.0, 0),
    ("roll_range_deg", "roll °", 1.0, 0),
    ("impact_peak_acc_mps2", "imp g", 1 / 9.80665, 1),
)


def _num(v: float, scale: float, digits: int, width: int) -> str:
    return f"{v * scale:{width}.{digits}f}" if math.isfinite(v) else f"{'—':>{width}}"


def table_lines(table: StrideTable) -> list[str]:
    """One line per stride, both feet, with a header; ``*`` marks a steady stride."""
    c = table.columns
    if not len(table):
        return ["no strides"]
    t0 = float(np.min(c["t_start_s"]))
    head = f"{'':1} {'side':>4} {'t s':>6} " + " ".join(f"{h:>7}" for _, h, _, _ in _TABLE)
    lines = [head + "  class"]
    for i in range(len(table)):
        cells = " ".join(_num(float(c[k][i]), s, d, 7) for k, _, s, d in _TABLE)
        mark = "*" if c["steady"][i] else " "
        t = c["t_start_s"][i] - t0
        lines.append(f"{mark} {c['side'][i]:>4} {t:6.1f} {cells}  {c['strike_class'][i]}")
    lines.append("* steady: not a turn, a shuffle, or the first/last stride of a walk")
    return lines


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """Mean ± SD (CV %) per parameter and foot over steady strides, and the symmetry index."""
    sides = [s for s in ("L", "R") if s in summary]
    if not sides:
        return ["no strides: nothing to summarise (standing only, or too few samples)"]
    counts = ", ".join(
        f"{s}: {summary['n_steady'][s]} steady of {summary['n_strides'][s]}" for s in sides
    )
    dropped = {k: v for k, v in summary.get("dropped", {}).items() if v}
    lines = [
        f"strides ({'smoothed' if summary.get('smoothed') else 'live, forward only'}): {counts}"
    ]
    if dropped:
        lines.append("left out: " + ", ".join(f"{k} {v}" for k, v in dropped.items()))
    si = summary.get("symmetry_index_pct", {})
    head = f"{'parameter':<26}" + "".join(f"{s + ' mean ± SD (CV)':>28}" for s in sides)
    lines.append(head + (f"{'SI %':>8}" if si else ""))
    for col in FLOAT_COLUMNS:
        cells = []
        for s in sides:
            st = summary[s][col]
            if st["n"] == 0:
                cells.append(f"{'—':>28}")
                continue
            cv = f" ({100 * st['cv']:.0f} %)" if math.isfinite(st["cv"]) else ""
            sd = f" ± {st['sd']:.3g}" if math.isfinite(st["sd"]) else ""
            cells.append(f"{st['mean']:.3g}{sd}{cv}".rjust(28))
        if all(c.strip() == "—" for c in cells):
            continue
        sym = si.get(col, math.nan)
        tail = (f"{sym:8.1f}" if math.isfinite(sym) else f"{'—':>8}") if si else ""
        lines.append(f"{col:<26}" + "".join(cells) + tail)
    return lines


def json_ready(x: Any) -> Any:
    """``x`` with NaN and ±inf as None and NumPy scalars and arrays as Python's,
    recursively (dicts, lists, tuples): JSON has no NaN."""
    if isinstance(x, np.ndarray):
        x = x.tolist()
    if isinstance(x, dict):
        return {k: json_ready(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [json_ready(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x
