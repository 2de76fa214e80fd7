"""Finish models/gait-phase after ``gaitedge train``: what it reports, bars, gaitmap, limits.

``gaitedge train ../shared/data/ipol-gait --out models/gait-phase --folds 7 --jobs 2`` writes
the weights, the fold models and the cross-validated metrics (model.json ``metrics``, from
the same code as ``gaitedge evaluate``). This script adds the descriptive parts to
model.json (``reports``, ``limits``, ``citation``) and re-renders CARD.md with the data and
split, the accuracy bars (met or not; also over the subjects no design choice looked at),
where heel strikes go wrong, what the model does outside ``TrialBoundaries``, and the
gaitmap comparison from ``benchmarks/results/gaitmap_compare.json`` (made by
``benchmarks/gaitmap_compare.py``). Every number is computed here from the fold models and
the recordings ($GAITEDGE_IPOL_DIR or ../shared/data/ipol-gait). Run it from the
repository root::

    python scripts/gait_phase_card.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from edge.events import GaitEvent, events_to_arrays  # noqa: E402
from edge.model.card import metric_table, write_card  # noqa: E402
from edge.model.files import Model, load_model  # noqa: E402
from edge.model.outputs import make_detector  # noqa: E402
from edge.training.data import Trial, load_dataset, subject_key  # noqa: E402
from edge.training.evaluate import evaluate, model_outputs  # noqa: E402
from edge.training.metrics import EventScores, event_scores, inside, match_events, scored_intervals  # noqa: E402
from edge.training.train import IPOL_CITATION, fold_dirs  # noqa: E402
from firmware_bridge.sim.walks import find_ipol_dir  # noqa: E402

MODEL = ROOT / "models" / "gait-phase"
GAITMAP = ROOT / "benchmarks" / "results" / "gaitmap_compare.json"

REPORTS = [
    "phase_cos, phase_sin: (cos φ, sin φ) of the foot's gait phase, φ = 0 at heel strike "
    "rising linearly to 2π at the next; read φ = atan2(sin, cos). While the subject stands "
    "the model shrinks the vector towards (0, 0) (trained so: from the trial start to the "
    "first toe-off and from 0.3 cycle after the last heel strike): a length under 0.5 means "
    "'not walking' and the event detector ignores the phase there. Through turns the phase "
    "keeps running (trained, not scored).",
    "stance: logit of the probability that the foot is on the ground; σ(stance) is the "
    "probability (edge.model.outputs.activate).",
    "Events: edge.events.GaitEventDetector with model.json's detector settings: heel strike = "
    "stance rising through 0.5 with φ within 25 % of the wrap, toe-off = stance falling "
    "through 0.5 with φ in 35–90 % of the cycle, both timed at the interpolated crossing and "
    "reported at most 50 ms later (plus the gap, when the samples after it were lost).",
]

LIMITS = [
    "Trained on 14 healthy adults walking 10 m, turning and walking back on level ground in "
    "their own shoes, sensor (Xsens MTw) on the dorsum of the shoe: other mountings (insole, "
    "heel), pathological gait, running, stairs and slopes are untested.",
    "The input frame is ipol-gait's: y mediolateral, z up from the dorsum; an insole whose "
    "axes differ must be rotated to it first (small mounting differences, up to ~8°, were "
    "augmented; either foot works: mirrored in training).",
    "100 Hz only; another rate must be resampled (the model counts samples, not seconds).",
    "Events are scored within 60 ms against hand-checked labels at 10 ms resolution; the "
    "labelled heel-strike instant sits differently in each recording's signal (an offset "
    "that holds within a recording but not across a subject's recordings), and in two "
    "recordings well after the detector's heel strike ('Where it goes wrong': moved by "
    "that offset in hindsight, the labels would be timed under the 7 ms bar).",
    "Heel strikes miss issue 4's bars (see Bars). A causal model trained to see 20 or 40 ms "
    "past the landing (which the 25 ms delay bar does not allow) does not reach them "
    "either; a bidirectional model that sees the whole walk (offline, one run) reaches "
    "recall, precision and MAE, and the 30 ms bar only without the two recordings whose "
    "labels sit late: scripts/heel_strike_bound.py, its table in the README.",
    "The closing step of a walk carries the most heel-strike errors ('Where it goes wrong') "
    "and, with the first step, most of the phase error.",
    "Design choices (hidden size, epochs, detector rule) were made looking at fold 1's "
    "held-out subjects; all folds then ran once with the same settings. 'Where it goes "
    "wrong' gives the cross-validation without those subjects too.",
]

#: The accuracy bars on the pooled int8 cross-validation: (key, op, bar, text).
BARS = [
    ("phase_rmse_pct", "<=", 3.5, "gait phase RMSE ≤ 3.5 %"),
    ("phase_rmse_steady_pct", "<=", 2.3, "steady-walking phase RMSE ≤ 2.3 %"),
    ("hs_recall", ">=", 0.993, "heel-strike recall ≥ 99.3 %"),
    ("hs_precision", ">=", 0.993, "heel-strike precision ≥ 99.3 %"),
    ("hs_recall_30ms", ">=", 0.975, "heel-strike recall within 30 ms ≥ 97.5 %"),
    ("hs_mae_ms", "<=", 7.0, "heel-strike MAE ≤ 7 ms"),
    ("to_recall", ">=", 0.993, "toe-off recall ≥ 99.3 %"),
    ("to_precision", ">=", 0.993, "toe-off precision ≥ 99.3 %"),
    ("to_recall_30ms", ">=", 0.975, "toe-off recall within 30 ms ≥ 97.5 %"),
    ("to_mae_ms", "<=", 7.0, "toe-off MAE ≤ 7 ms"),
    ("event_delay_p95_ms", "<=", 25.0, "detection delay p95 ≤ 25 ms"),
]


def bar_lines(metrics: dict) -> list[str]:
    pooled, flt = metrics["pooled"], metrics["pooled_float"]
    lines = ["| bar (issue 4, int8, pooled CV) | value | met |", "|---|---:|:---:|"]
    for key, op, bar, text in BARS:
        v = pooled[key]
        ok = v <= bar if op == "<=" else v >= bar
        shown = f"{v:.2%}" if bar < 1 else f"{v:.2f}"
        lines.append(f"| {text} | {shown} | {'yes' if ok else 'NO'} |")
    cost = pooled["phase_rmse_pct"] - flt["phase_rmse_pct"]
    met = "yes" if cost <= 0.05 else "NO"
    lines.append(f"| int8 costs ≤ 0.05 pp of phase RMSE | {cost:+.3f} pp | {met} |")
    return lines


def gaitmap_lines(metrics: dict) -> list[str]:
    if not GAITMAP.is_file():
        return ["(run benchmarks/gaitmap_compare.py to add the gaitmap comparison)"]
    g = json.loads(GAITMAP.read_text())
    rows = {"gaitedge gait-phase (int8, causal, CV)": metrics["pooled"]}
    for name, r in g["pipelines"].items():
        rows[f"gaitmap {name} (offline)"] = r
    return [
        f"Same trials, same scoring (60 ms, one to one, scored region; "
        f"`benchmarks/gaitmap_compare.py`, gaitmap {g['gaitmap']}, gaitmap-mad "
        f"{g['gaitmap_mad']}, defaults). gaitmap sees the whole signal offline; gaitedge "
        "reports each event causally within 50 ms. Its template segmentation found "
        f"{g['n_dtw_strides']} strides, {g['n_short_strides']} of them half-strides, and no "
        "stride at all over about a quarter of the true heel strikes.",
        "",
        *metric_table(rows, "method"),
    ]


def fold_models() -> list[Model]:
    """The cross-validation's fold models, in fold order."""
    return [load_model(d) for d in fold_dirs(MODEL)]


def held_out(m: Model) -> list[str]:
    return list(m.meta.validation_subjects)


def split_lines(folds: list[Model], trials: list[Trial]) -> list[str]:
    subjects = sorted({t.subject for t in trials}, key=subject_key)
    numbered = enumerate(folds, 1)
    n_samples = sum(len(t) for t in trials)
    return [
        f"ipol-gait (Voisard et al., IPOL 2023; citation below): subjects {subjects[0]}–"
        f"{subjects[-1]} ({len(subjects)} healthy adults), {len(trials) // 2} trials of "
        f"10 m walk, U-turn, walk back, both feet: {len(trials)} recordings, "
        f"{n_samples:,} samples at 100 Hz. The shipped model is trained on all of them.",
        "",
        f"Leave-subjects-out cross-validation, {len(folds)} folds; each fold model is trained "
        "without its held-out subjects and scored on them only:",
        "",
        *[f"- fold {k}: held out subjects {', '.join(held_out(m))}" for k, m in numbered],
    ]


def untouched(folds: list[Model], trials: list[Trial]) -> tuple[list[str], dict]:
    """Design subjects (fold 1's, looked at for design choices) and the pooled int8 CV
    over every other subject: the figure no choice was tuned on."""
    design = held_out(folds[0])
    res = evaluate(folds[1:], trials, variants=("int8",), held_out=True)["pooled"]
    return design, res


def fold_events(folds: list[Model], trials: list[Trial]) -> list[tuple[Trial, list[GaitEvent]]]:
    """Each fold model (int8) on its held-out subjects: every recording with the events the
    streaming detector reports on it."""
    runs = []
    for m in folds:
        mine = [t for t in trials if t.subject in held_out(m)]
        names = [c.name for c in m.outputs]
        for t, y in zip(mine, model_outputs(m, mine, "int8"), strict=True):
            pc, ps, st = (y[:, names.index(k)] for k in ("phase_cos", "phase_sin", "stance"))
            runs.append((t, make_detector(m, t.sample_rate_hz).detect(t.counter, pc, ps, st)))
    return runs


def heel_strike_breakdown(runs: list[tuple[Trial, list[GaitEvent]]]) -> dict:
    """Heel strikes missed or > 30 ms off, by where they fall ("first" / "last" scored heel
    strike of a trial, "turn" within 1.5 s of where a scored run meets the turn, "mid"),
    and per subject the mean signed error."""
    n: dict[str, int] = {}
    bad: dict[str, int] = {}
    signed: dict[str, list[float]] = {}
    for t, ev in runs:
        hs, _ = events_to_arrays(ev, "HS")
        true = t.events["heel_strike"].astype(float)
        iv = scored_intervals(t.counter, t.masks["scored"])
        tin = inside(true, iv)
        idx = np.flatnonzero(tin)
        match = match_events(hs, true, 6)
        err = dict(zip(match.pairs[:, 1].tolist(), match.errors.tolist(), strict=True))
        for j in idx:
            pos = int(np.searchsorted(idx, j))
            # scored runs end at the turn (or a long gap) inside a trial: the walk's own
            # start and end are "first" and "last" steps, not the turn
            k = np.searchsorted(iv[:, 0], true[j], side="right") - 1
            near_turn = (k > 0 and true[j] - iv[k, 0] < 150) or (
                k < len(iv) - 1 and iv[k, 1] - true[j] < 150
            )
            where = ("first" if pos == 0 else "last" if pos == len(idx) - 1
                     else "turn" if near_turn else "mid")  # fmt: skip
            n[where] = n.get(where, 0) + 1
            e = err.get(int(j))
            if e is None or abs(e) * 10 > 30:
                bad[where] = bad.get(where, 0) + 1
            if e is not None:
                signed.setdefault(t.subject, []).append(e * 10)
    means = {s: float(np.mean(v)) for s, v in signed.items()}
    return {"n": n, "bad": bad, "mean_error_ms": means}


def _offsets(pred: np.ndarray, true: np.ndarray, reach: float = 15.0) -> np.ndarray:
    """Per true event, (nearest prediction − event) [samples]; NaN where no prediction
    lies within ``reach`` samples."""
    if not len(pred):
        return np.full(len(true), np.nan)
    d = pred[np.argmin(np.abs(pred[None, :] - true[:, None]), axis=1)] - true
    return np.where(np.abs(d) <= reach, d, np.nan)


def _median(v: np.ndarray) -> float:
    v = v[np.isfinite(v)]
    return float(np.median(v)) if v.size else float("nan")


def impact_offset(t: Trial) -> float:
    """Model-free: median over the trial's scored heel-strike labels of (the sharpest
    acceleration change within ±100 ms − the label) [ms]: where the landing's impact sits
    against the label in the raw signal (windows with a lost sample skipped)."""
    true = t.events["heel_strike"]
    true = true[inside(true, scored_intervals(t.counter, t.masks["scored"]))]
    out = []
    for h in true:
        k = int(np.searchsorted(t.counter, h))
        if k < 10 or k + 10 >= len(t) or t.counter[k + 10] - t.counter[k - 10] != 20:
            continue
        jump = np.linalg.norm(np.diff(t.imu[k - 10 : k + 11, :3], axis=0), axis=1)
        out.append(t.counter[k - 10] + int(np.argmax(jump)) + 0.5 - h)
    return float(np.median(out)) * 10 if out else float("nan")


def label_audit(runs: list[tuple[Trial, list[GaitEvent]]]) -> dict:
    """Where the heel-strike labels sit against the detector.

    Per recording, the median offset (detector − label) of its scored heel strikes and of
    its toe-offs [ms]; the recordings whose heel-strike labels as a whole sit ≥ 40 ms from
    the detector while their toe-off labels agree with it (≤ 10 ms), with the pooled
    heel-strike scores without them; and the heel-strike timing (MAE [ms], share within
    30 ms) if each label were first moved by an offset learnt in hindsight from *other*
    events: the median offset of its recording's other heel strikes ("recording"), or
    of the same subject's other recordings ("subject")."""
    per: dict[tuple[str, str], tuple[float, float]] = {}
    kept, every = EventScores(), EventScores()
    flagged = []
    rec = []
    for t, ev in runs:
        hs_at, hs_rep = events_to_arrays(ev, "HS")
        to_at, _ = events_to_arrays(ev, "TO")
        iv = scored_intervals(t.counter, t.masks["scored"])
        true_hs, true_to = t.events["heel_strike"], t.events["toe_off"]
        true_in = true_hs[inside(true_hs, iv)].astype(float)
        d = _offsets(hs_at, true_in)
        hs_off = _median(d)
        to_off = _median(_offsets(to_at, true_to[inside(true_to, iv)].astype(float)))
        per[(t.name, t.side)] = (hs_off * 10, to_off * 10)
        rec.append((t, hs_at, true_in, d))
        scores = event_scores(hs_at, hs_rep, true_hs, iv)
        every += scores
        if abs(hs_off) >= 4 and abs(to_off) <= 1:
            flagged.append((t.name, t.side, t.subject))
        else:
            kept += scores
    hindsight = {}
    for kind in ("recording", "subject"):
        errors, n = [], 0
        for t, hs_at, true_in, d in rec:
            if kind == "recording":
                shift = np.array([_median(np.delete(d, i)) for i in range(len(d))])
            else:
                mates = [v[0] / 10 for k, v in per.items()
                         if k[0].split("-")[0] == t.subject and k != (t.name, t.side)]  # fmt: skip
                shift = np.full(len(d), _median(np.array(mates)))
            shift = np.nan_to_num(shift)
            n += len(true_in)
            errors.append(match_events(hs_at, true_in + shift, 6).errors * 10)
        e = np.abs(np.concatenate(errors))
        hindsight[kind] = {"mae_ms": float(e.mean()), "within_30ms": float(np.sum(e <= 30) / n)}
    impact = {(t.name, t.side): impact_offset(t) for t, _ in runs}
    done = {(n, side) for n, side, _ in flagged}
    same_subject = {
        f: [v[0] for k, v in per.items() if k[0].split("-")[0] == f[2] and k not in done]
        for f in flagged
    }
    return {"per": per, "flagged": flagged, "same_subject": same_subject, "impact": impact,
            "all": every, "kept": kept, "hindsight": hindsight}  # fmt: skip


def outside_trial(model: Model, trials: list[Trial], data: Path) -> dict:
    """The shipped model's events outside TrialBoundaries, how many lie within 60 ms of a
    labelled footstep event (ipol-gait JSON, inside or outside), and how many footstep
    events the data labels outside."""
    ys = model_outputs(model, trials, "int8")
    names = [c.name for c in model.outputs]
    n_out = n_near = n_labelled = 0
    for t, y in zip(trials, ys, strict=True):
        meta = json.loads((data / "GaitData" / f"{t.name}.json").read_text())
        t0, t1 = meta["TrialBoundaries"]
        key = "LeftFootEvents" if t.side == "L" else "RightFootEvents"
        labelled = np.asarray(meta[key], dtype=float).reshape(-1)
        n_labelled += int(np.sum((labelled < t0) | (labelled > t1)))
        pc, ps, st = (y[:, names.index(k)] for k in ("phase_cos", "phase_sin", "stance"))
        for e in make_detector(model, t.sample_rate_hz).detect(t.counter, pc, ps, st):
            if t0 <= e.counter_at <= t1:
                continue
            n_out += 1
            n_near += bool(len(labelled)) and np.min(np.abs(labelled - e.counter_at)) <= 6
    return {"events": n_out, "near_label": n_near, "labelled": n_labelled}


def _hs(s: EventScores) -> str:
    return (f"recall {s.recall:.2%}, precision {s.precision:.2%}, MAE {s.mae_ms:.1f} ms, "
            f"{s.recall_30ms:.2%} within 30 ms")  # fmt: skip


def audit_lines(audit: dict) -> list[str]:
    per, flagged, impact = audit["per"], audit["flagged"], audit["impact"]
    every, kept, hind = audit["all"], audit["kept"], audit["hindsight"]
    done = {(n, side) for n, side, _ in flagged}
    others = [v[0] for k, v in per.items() if k not in done]
    lines = [
        f"- Where the labels sit. Per recording, the median offset (detector − label) of its "
        f"heel strikes lies between {np.nanmin(others):+.1f} and {np.nanmax(others):+.1f} ms "
        f"in {len(others)} of the {len(per)} recordings."
    ]
    if flagged:
        names = ", ".join(f"{n} {side}" for n, side, _ in flagged)
        hs = ", ".join(f"{per[(n, side)][0]:+.0f}" for n, side, _ in flagged)
        to = ", ".join(f"{per[(n, side)][1]:+.0f}" for n, side, _ in flagged)
        imp = ", ".join(f"{impact[(n, side)]:+.0f}" for n, side, _ in flagged)
        rest = np.array([v for k, v in impact.items() if k not in done])
        as_low = int(np.sum(rest <= max(impact[k] for k in done)))
        mates = [v for f in flagged for v in audit["same_subject"][f]]
        missed = every.n_true - every.n_matched - (kept.n_true - kept.n_matched)
        lines[0] += (
            f" In {names} the heel-strike labels sit later than the detector's heel "
            f"strikes (median {hs} ms), while the same recordings' toe-off labels agree "
            f"with the detector ({to} ms) and so do the same subject's other recordings' "
            f"heel strikes ({min(mates):+.0f} … {max(mates):+.0f} ms). In the raw signal the "
            f"sharpest acceleration change (the landing's impact) lies {imp} ms from those "
            f"labels against a median {np.nanmedian(rest):+.0f} ms in the other recordings, "
            f"but {as_low} other recordings are as low: the signal alone does not single "
            f"them out. Of the {every.n_true - every.n_matched} missed heel strikes, "
            f"{missed} are in {names}; the bars above count them; without {names}, heel "
            f"strikes: {_hs(kept)}."
        )
    rec, subj = hind["recording"], hind["subject"]
    lines.append(
        f"- Heel-strike timing if each label were first moved by the median offset of its "
        f"recording's other heel strikes (hindsight no live detector has): MAE "
        f"{rec['mae_ms']:.1f} ms, {rec['within_30ms']:.2%} within 30 ms (as shipped: "
        f"{every.mae_ms:.1f} ms, {every.recall_30ms:.2%}); by the median of the same "
        f"subject's other recordings instead: {subj['mae_ms']:.1f} ms, "
        f"{subj['within_30ms']:.2%}. Much of the timing error above the 7 ms bar is an "
        "offset that holds within a recording but not across a subject's recordings; what "
        "stays missed are single steps more than 60 ms off."
    )
    return lines


def found_lines(design: list[str], rest: dict, hs: dict, audit: dict, out: dict) -> list[str]:
    n, bad = hs["n"], hs["bad"]
    means = hs["mean_error_ms"]
    lo, hi = min(means, key=means.get), max(means, key=means.get)
    places = (("first", "first steps"), ("last", "closing steps"), ("turn", "next to the turn"),
              ("mid", "mid-walk"))  # fmt: skip
    cells = ", ".join(f"{bad.get(w, 0)} of {n.get(w, 0)} {text}" for w, text in places)
    return [
        f"- Without the subjects design choices looked at ({', '.join(design)}, fold 1's), "
        f"the pooled int8 CV over the other {rest['n_subjects']} subjects: phase RMSE "
        f"{rest['phase_rmse_pct']:.2f} % (steady {rest['phase_rmse_steady_pct']:.2f} %), heel "
        f"strikes recall {rest['hs_recall']:.2%}, precision {rest['hs_precision']:.2%}, "
        f"{rest['hs_recall_30ms']:.2%} within 30 ms, MAE {rest['hs_mae_ms']:.1f} ms; toe-offs "
        f"recall {rest['to_recall']:.2%}, precision {rest['to_precision']:.2%}, "
        f"{rest['to_recall_30ms']:.2%} within 30 ms, MAE {rest['to_mae_ms']:.1f} ms; delay p95 "
        f"{rest['event_delay_p95_ms']:.0f} ms.",
        f'- Heel strikes missed or more than 30 ms off, by where they fall: {cells} ("turn": '
        "within 1.5 s of the U-turn). Mean signed error per subject "
        f"(detector − label) from {means[lo]:+.1f} ms (subject {lo}) to {means[hi]:+.1f} ms "
        f"(subject {hi}).",
        *audit_lines(audit),
        f"- Outside TrialBoundaries (no targets there: nothing trained or scored) the model "
        f"runs as everywhere else. The data labels {out['labelled']} footstep events there "
        f"(subjects step before and after the timed walk); the detector reported "
        f"{out['events']} events there, {out['near_label']} of them within 60 ms of a "
        "labelled footstep event: events outside the timed walk are not vetted.",
    ]


def main() -> int:
    meta_path = MODEL / "model.json"
    meta = json.loads(meta_path.read_text())
    if "metrics" not in meta:
        print(f"{meta_path} has no metrics: run gaitedge train --folds N first", file=sys.stderr)
        return 2
    data = find_ipol_dir()
    if data is None:
        print("no ipol-gait recordings: set GAITEDGE_IPOL_DIR or put ../shared beside the "
              "project", file=sys.stderr)  # fmt: skip
        return 2
    trials = load_dataset(data)
    folds = fold_models()
    design, rest = untouched(folds, trials)
    runs = fold_events(folds, trials)
    found = found_lines(
        design,
        rest,
        heel_strike_breakdown(runs),
        label_audit(runs),
        outside_trial(load_model(MODEL), trials, data),
    )
    meta["reports"] = REPORTS
    meta["limits"] = LIMITS
    meta["citation"] = IPOL_CITATION
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    extra = [
        "## Data and split",
        "",
        *split_lines(folds, trials),
        "",
        "## What it reports",
        "",
        *[f"- {r}" for r in REPORTS],
        "",
        "## Bars",
        "",
        *bar_lines(meta["metrics"]),
        "",
        "## Where it goes wrong",
        "",
        *found,
        "",
        "## Compared with gaitmap",
        "",
        *gaitmap_lines(meta["metrics"]),
        "",
    ]
    write_card(MODEL, "\n".join(extra))
    print(f"wrote {MODEL / 'CARD.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
