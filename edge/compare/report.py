"""The comparison as a report people read: one self-contained HTML page plus its figures.

The page opens from a USB stick on a lab laptop: every figure is a PNG inlined as a data
URI (also written beside it), no script or style from the network. It holds the design
(who, which shoes, how many trials and strides), the summary table, one paired plot per
parameter (a line per subject from shoe A to shoe B), the gait-cycle curves (mean ± SD
per shoe, the SPM regions where they differ shaded), the data quality of every trial,
and how it was made (gaitedge version, models and their hashes, the command).

Figures: matplotlib's object API (``Figure``, rendered by Agg: no display, no global
pyplot state) — the plotting library every lab already has, with aarch64 wheels; nothing
interactive is needed in a printed report.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import io
import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from edge.compare.design import StudyTrial, TrialQuality, subject_means
from edge.compare.stats import ALPHA, Comparison
from edge.strides.analysis import StrideTable
from edge.strides.text import json_ready

__all__ = ["TrialQuality", "write_report", "write_trial_report"]

_CURVE_LABELS = {
    "foot_pitch_deg": "foot pitch [deg] (toes up +)",
    "foot_roll_deg": "foot roll [deg]",
    "sagittal_rate_dps": "sagittal angular rate [deg/s]",
    "acc_norm_mps2": "|acceleration| [m/s²]",
    "stance_prob": "model's stance output [0–1]",
}
_COLORS = {"a": "#1f77b4", "b": "#d62728"}


def _png(fig: Any, path: Path) -> str:
    """Save a figure beside the page and return it as a data URI."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    path.write_bytes(buf.getvalue())
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _fmt(x: float, digits: int = 3) -> str:
    return f"{x:.{digits}g}" if isinstance(x, float | int) and math.isfinite(x) else "—"


def _paired_figure(c: Comparison, trials: Sequence[StudyTrial], out: Path) -> str | None:
    params = [r for r in c.results if r.n > 0]
    if not params:
        return None
    means = subject_means(
        [t for t in trials if t.subject in c.subjects], [r.parameter for r in params]
    )
    cols = 4
    rows = math.ceil(len(params) / cols)
    fig = Figure(figsize=(3.2 * cols, 2.6 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, r in zip(axes.flat, params, strict=False):
        for s in c.subjects:
            ya, yb = (
                means.get((s, c.shoe_a), {}).get(r.parameter),
                means.get((s, c.shoe_b), {}).get(r.parameter),
            )
            if ya is not None and yb is not None and math.isfinite(ya) and math.isfinite(yb):
                ax.plot([0, 1], [ya, yb], "-o", color="0.45", lw=1, ms=3)
        ax.plot([0, 1], [r.mean_a, r.mean_b], "-o", color="k", lw=2.5, ms=5)
        ax.set_xticks([0, 1], [c.shoe_a, c.shoe_b])
        ax.set_xlim(-0.3, 1.3)
        star = " *" if r.significant else ""
        ax.set_title(f"{r.parameter}{star}", fontsize=9)
        ax.tick_params(labelsize=8)
    for ax in list(axes.flat)[len(params) :]:
        ax.set_visible(False)
    fig.suptitle(
        f"each subject's mean in shoe {c.shoe_a} and {c.shoe_b} (* Holm p < {ALPHA})", fontsize=10
    )
    fig.tight_layout()
    return _png(fig, out / "paired.png")


def _curve_figure(c: Comparison, out: Path) -> str | None:
    names = [n for n in _CURVE_LABELS if n in c.curves and c.curves[n].n > 0]
    if not names:
        return None
    fig = Figure(figsize=(8, 2.4 * len(names)))
    axes = fig.subplots(len(names), 1, squeeze=False)
    for ax, name in zip(axes[:, 0], names, strict=True):
        r = c.curves[name]
        x = range(len(r.mean_a))
        for key, mean, sd, shoe in (
            ("a", r.mean_a, r.sd_a, c.shoe_a),
            ("b", r.mean_b, r.sd_b, c.shoe_b),
        ):
            ax.plot(x, mean, color=_COLORS[key], label=f"shoe {shoe}")
            ax.fill_between(x, mean - sd, mean + sd, color=_COLORS[key], alpha=0.15, lw=0)
        for start, end, p in r.regions:
            ax.axvspan(start, end, color="0.5", alpha=0.25, lw=0)
            if end - start >= 4:  # a p over every sliver would be unreadable; the JSON has all
                ax.text((start + end) / 2, 1.0, f"p={p:.3f}", transform=ax.get_xaxis_transform(),
                        ha="center", va="bottom", fontsize=7)  # fmt: skip
        ax.set_ylabel(_CURVE_LABELS[name], fontsize=8)
        ax.tick_params(labelsize=8)
        ax.set_xlim(0, 100)
    axes[-1, 0].set_xlabel("gait cycle [%] (heel strike to heel strike)")
    axes[0, 0].legend(fontsize=8, loc="upper right")
    fig.suptitle(f"mean ± SD over {c.curves[names[0]].n} subjects; shaded: SPM regions where "
                 f"the shoes differ (α = {ALPHA})", fontsize=10)  # fmt: skip
    fig.tight_layout()
    return _png(fig, out / "curves.png")


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], cls: str) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in r) + "</tr>" for r in rows
    )
    return f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


_STYLE = """
body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;font-size:12px;margin:1em 0}
td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}
td:first-child,th:first-child{text-align:left} img{max-width:100%}
.flag{color:#b00} .note{color:#555}
"""
# Runs in the browser that opens the page (no network): marks whether every figure
# decoded, so a headless check can read it from the DOM.
_CHECK = """
window.addEventListener('load', function () {
  var imgs = document.images, ok = 0;
  for (var i = 0; i < imgs.length; i++) if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++;
  document.body.setAttribute('data-figures', ok + '/' + imgs.length);
});
"""


def _made(quality: Sequence[TrialQuality], command: str) -> str:
    """How a report was made: versions, models and their hashes, the command (HTML)."""
    from edge.store.writer import gaitedge_version

    models = sorted({(q.model, q.model_sha256) for q in quality})
    versions = sorted({q.gaitedge_version for q in quality if q.gaitedge_version})
    return (
        f"gaitedge {html.escape(gaitedge_version() or '?')} on "
        f"{time.strftime('%Y-%m-%d %H:%M')}; command: <code>{html.escape(command)}</code>; "
        f"trials recorded with gaitedge {html.escape(', '.join(versions) or '?')}; models: "
        + ("; ".join(f"{html.escape(m)} (sha256 {html.escape(h[:16])}…)" for m, h in models)
           or "?")
    )  # fmt: skip


def _page(title: str, lead: str, sections: Sequence[tuple[str, str]]) -> str:
    """A whole self-contained page: title, lead paragraph(s), then (heading, html) sections."""
    body = "".join(f"<h2>{html.escape(h)}</h2>\n{content}\n" for h, content in sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style>"
        f"<script>{_CHECK}</script></head>\n<body>\n<h1>{html.escape(title)}</h1>\n"
        f"{lead}\n{body}</body></html>\n"
    )


def write_report(
    c: Comparison,
    trials: Sequence[StudyTrial],
    quality: Sequence[TrialQuality],
    out_dir: str | Path,
    *,
    command: str,
) -> Path:
    """Write ``report.html``, its PNG figures and ``comparison.json`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figures = [f for f in (_paired_figure(c, trials, out), _curve_figure(c, out)) if f]
    rows = []
    for r in c.results:
        if r.n == 0:
            continue
        flags = ", ".join(
            f for f, on in (("significant", r.significant), ("< MDC95", r.within_noise),
                            ("Wilcoxon disagrees", r.disagree)) if on
        )  # fmt: skip
        ci = f"[{_fmt(r.ci_low)}, {_fmt(r.ci_high)}]" if math.isfinite(r.ci_low) else "—"
        rows.append([
            r.parameter, str(r.n), _fmt(r.mean_a), _fmt(r.mean_b), _fmt(r.diff), ci,
            _fmt(r.d_z, 2), _fmt(r.p_t, 2), _fmt(r.p_holm, 2), _fmt(r.p_wilcoxon, 2),
            _fmt(r.icc, 2), _fmt(r.mdc95, 2), flags,
        ])  # fmt: skip
    summary = _table(
        ["parameter", "n", f"shoe {c.shoe_a}", f"shoe {c.shoe_b}", "B − A", "95 % CI", "d_z",
         "p (t)", "p Holm", "p Wilcoxon", "ICC(3,1)", "MDC95", "flags"],
        rows, "summary",
    )  # fmt: skip
    qrows = [
        [q.trial, q.subject, q.shoe, q.status, _fmt(q.lost_pct, 2), str(q.gaps), str(q.strides),
         str(q.steady), str(q.dropped)]
        for q in quality
    ]  # fmt: skip
    quality_table = _table(
        ["trial", "subject", "shoe", "status", "lost %", "gaps", "strides", "steady", "left out"],
        qrows, "quality",
    )  # fmt: skip
    made = _made(quality, command)
    notes = "".join(f'<p class="note">{html.escape(n)}</p>' for n in (*c.left_out, *c.notes))
    imgs = "".join(f'<p><img src="{src}" alt="figure"></p>' for src in figures)
    design = (
        f"{len(c.subjects)} subject(s) wore both shoes ({html.escape(', '.join(c.subjects))}); "
        f"trials {c.n_trials[c.shoe_a]} in {html.escape(c.shoe_a)}, {c.n_trials[c.shoe_b]} in "
        f"{html.escape(c.shoe_b)}; steady strides {c.n_strides[c.shoe_a]} and "
        f"{c.n_strides[c.shoe_b]}."
    )
    intro = (
        "<p>Per parameter, each subject's mean over its steady strides (trials averaged); "
        "the paired difference B − A with its 95 % confidence interval and effect size "
        "d<sub>z</sub>; the paired t-test (reported, Holm-corrected over the parameters) and "
        "Wilcoxon's signed-rank test as a check; ICC(3,1) and MDC95 from repeated trials of "
        "one shoe (a difference below MDC95 is within the measurement's own day-to-day "
        "scatter).</p>"
    )
    title = f"Shoe {c.shoe_b} vs shoe {c.shoe_a}"
    page = _page(title, f"<p>{design}</p>{notes}", [
        ("Summary", intro + summary), ("Figures", imgs), ("Data quality", quality_table),
        ("How this was made", f'<p class="note">{made}</p>'),
    ])  # fmt: skip
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    doc = {"comparison": c.as_dict(), "quality": [dataclasses.asdict(q) for q in quality],
           "command": command}  # fmt: skip
    (out / "comparison.json").write_text(json.dumps(json_ready(doc), indent=1))
    return path


_SIDE_COLORS = {"L": "#1f77b4", "R": "#d62728"}


def _over_time_figure(table: StrideTable, out: Path) -> str | None:
    """Stride length, speed and cadence of every stride against time, L and R."""
    c = table.columns
    if not len(table):
        return None
    t0 = float(np.nanmin(c["t_start_s"]))
    keys = (("stride_length_m", "stride length [m]"), ("gait_speed_mps", "gait speed [m/s]"),
            ("cadence_spm", "cadence [steps/min]"))  # fmt: skip
    fig = Figure(figsize=(8, 6))
    axes = fig.subplots(len(keys), 1, sharex=True)
    for ax, (key, label) in zip(axes, keys, strict=True):
        for side in ("L", "R"):
            mine = c["side"] == side
            steady = mine & c["steady"]
            ax.plot(c["t_start_s"][mine] - t0, c[key][mine], "o", mfc="none", ms=4,
                    color=_SIDE_COLORS[side], alpha=0.5)  # fmt: skip
            ax.plot(c["t_start_s"][steady] - t0, c[key][steady], "o", ms=4,
                    color=_SIDE_COLORS[side], label=f"{side} (filled: steady)")  # fmt: skip
        ax.set_ylabel(label, fontsize=8)
        ax.tick_params(labelsize=8)
    axes[0].legend(fontsize=8)
    axes[-1].set_xlabel("time in the trial [s]")
    return _png(fig, out / "strides.png")


def _side_curves_figure(table: StrideTable, out: Path) -> str | None:
    """The gait-cycle curves, mean ± SD over each foot's steady strides."""
    c = table.columns
    names = [n for n in _CURVE_LABELS if n in table.curves]
    if not names:
        return None
    fig = Figure(figsize=(8, 2.2 * len(names)))
    axes = fig.subplots(len(names), 1, squeeze=False)
    for ax, name in zip(axes[:, 0], names, strict=True):
        for side in ("L", "R"):
            x = table.curves[name][(c["side"] == side) & c["steady"]]
            x = x[np.isfinite(x).all(axis=1)]
            if not len(x):
                continue
            m, sd = x.mean(axis=0), x.std(axis=0)
            ax.plot(m, color=_SIDE_COLORS[side], label=f"{side} ({len(x)} strides)")
            ax.fill_between(
                range(len(m)), m - sd, m + sd, color=_SIDE_COLORS[side], alpha=0.15, lw=0
            )
        ax.set_ylabel(_CURVE_LABELS[name], fontsize=8)
        ax.set_xlim(0, 100)
        ax.tick_params(labelsize=8)
    axes[0, 0].legend(fontsize=8, loc="upper right")
    axes[-1, 0].set_xlabel("gait cycle [%] (heel strike to heel strike)")
    return _png(fig, out / "curves.png")


def write_trial_report(
    title: str,
    table: StrideTable,
    quality: TrialQuality,
    out_dir: str | Path,
    *,
    command: str,
) -> Path:
    """One trial's report (``gaitedge report TRIAL``): its summary per foot with the
    left/right symmetry, every stride over time, the gait-cycle curves of each foot, its
    data quality and provenance. Writes ``report.html``, the PNGs and ``strides.json``."""
    from edge.strides.analysis import FLOAT_COLUMNS, summarise

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = summarise(table)
    sides = [s for s in ("L", "R") if s in summary]
    rows = []
    for col in FLOAT_COLUMNS:
        cells = []
        for side in sides:
            st = summary[side][col]
            cells.append(f"{_fmt(st['mean'])} ± {_fmt(st['sd'], 2)}" if st["n"] else "—")
            cells.append(_fmt(100 * st["cv"], 2) if math.isfinite(st["cv"]) else "—")
        if all(x == "—" for x in cells):
            continue
        rows.append([col, *cells, _fmt(summary["symmetry_index_pct"].get(col, math.nan), 2)])
    head = ["parameter"] + [h for s in sides for h in (f"{s} mean ± SD", f"{s} CV %")] + ["SI %"]
    counts = ", ".join(f"{s}: {summary['n_steady'][s]} steady of {summary['n_strides'][s]}"
                       for s in sides)  # fmt: skip
    figures = [f for f in (_over_time_figure(table, out), _side_curves_figure(table, out)) if f]
    imgs = "".join(f'<p><img src="{src}" alt="figure"></p>' for src in figures)
    q = quality
    lead = (
        f"<p>Subject {html.escape(q.subject)}, shoe {html.escape(q.shoe)}, trial "
        f"{html.escape(q.trial)} ({html.escape(q.status)}); strides {html.escape(counts)}.</p>"
    )
    quality_table = _table(
        ["lost %", "gaps", "strides", "steady", "left out"],
        [[_fmt(q.lost_pct, 2), str(q.gaps), str(q.strides), str(q.steady), str(q.dropped)]],
        "quality",
    )
    page = _page(title, lead, [
        ("Summary", "<p>Mean ± SD and CV over each foot's steady strides; SI: the "
                    "left/right symmetry index, 100 · (L − R) / mean of both.</p>"
                    + _table(head, rows, "summary")),
        ("Figures", imgs), ("Data quality", quality_table),
        ("How this was made", f'<p class="note">{_made([q], command)}</p>'),
    ])  # fmt: skip
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    doc = {"summary": summary, "strides": table.rows(), "quality": dataclasses.asdict(q)}
    (out / "strides.json").write_text(json.dumps(json_ready(doc), indent=1))
    return path
