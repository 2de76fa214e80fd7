"""How much seeing past the landing buys: heel strikes against the delay a detector may take.

The heel-strike bars miss on the shipped causal model. This experiment asks whether
they are a matter of the model or of what a causal detector can see by the time it must
report. Same cross-validation split, training settings, seed, detector and scoring as the
shipped model (``gaitedge train --folds 7``); only what the network may see changes:

- ``lag-L``: a causal GRU whose stance output is trained L samples late (its value at a
  sample is the stance of the sample L before it), so it has seen L samples past each
  landing before it must call it; the detector dates the edge back by L samples
  (``stance_offset_samples = 0.5 − L``) and so reports every event L samples later;
- ``bidir``: a bidirectional GRU over the whole recording, past and future, scored
  offline through the same detector (no delay to speak of): what this recipe reaches
  when the future is no object. Trained like the rest, except that the last ``burn_in``
  samples of a window carry no loss either (they have no future).

Run from the repository root, one step per process (folds spread over cores by hand;
each fold model takes 5 min (lag) or 10 min (bidir) on one core here)::

    python scripts/heel_strike_bound.py lag OUT 2 1 2 3 4 5 6 7    # L = 2, folds 1..7
    python scripts/heel_strike_bound.py bidir OUT 1 2 3 4 5 6 7
    python scripts/heel_strike_bound.py score OUT                 # the table

The shipped fold models (``models/gait-phase/cv``) are the ``lag-0`` row. Needs the full
recordings ($GAITEDGE_IPOL_DIR or ../shared/data/ipol-gait) and ``pip install -e '.[train]'``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))  # gait_phase_card: the label audit

import numpy as np  # noqa: E402

from edge.model.files import load_model  # noqa: E402
from edge.model.outputs import activate, make_detector  # noqa: E402
from edge.training.data import Trial, load_dataset, split_by_subject  # noqa: E402
from edge.training.evaluate import model_outputs  # noqa: E402
from edge.training.metrics import phase_from_cos_sin, pooled_scores, score_trial  # noqa: E402
from edge.training.train import TrainConfig, fold_dirs, save_trained, train  # noqa: E402
from firmware_bridge.sim.walks import find_ipol_dir  # noqa: E402

FOLDS = 7
SHIPPED = ROOT / "models" / "gait-phase"
KEYS = ("hs_recall", "hs_precision", "hs_mae_ms", "hs_recall_30ms", "event_delay_p95_ms",
        "to_mae_ms", "phase_rmse_pct")  # fmt: skip


def _trials() -> list[Trial]:
    data = find_ipol_dir()
    if data is None:
        sys.exit(
            "no ipol-gait recordings: set GAITEDGE_IPOL_DIR or put ../shared beside the project"
        )
    return load_dataset(data)


def _splits(trials: list[Trial]) -> list[tuple[list[Trial], list[Trial]]]:
    return split_by_subject(trials, FOLDS, seed=TrainConfig().seed)


def train_lag(out: Path, lag: int, folds: list[int]) -> None:
    """Fold models with the stance target L rows late, into OUT/lag-L/cv/fold-k."""
    if lag < 1:
        sys.exit(f"lag is {lag}; give L >= 1 (the shipped fold models are lag 0)")
    trials = _trials()
    for t in trials:  # the stance of counter c - L at counter c (NaN where that was lost)
        src = np.searchsorted(t.counter, t.counter - lag).clip(0, len(t) - 1)
        late = t.targets["stance"][src].copy()
        late[t.counter[src] != t.counter - lag] = np.nan
        t.targets["stance"] = late
    cfg = TrainConfig()
    splits = _splits(trials)
    for k in folds:
        tr, va = splits[k - 1]
        t0 = time.perf_counter()
        result = train(tr, cfg)
        held = sorted({t.subject for t in va})
        d = out / f"lag-{lag}" / "cv" / f"fold-{k}"
        save_trained(d, result, tr, cfg, name=f"lag-{lag}-fold-{k}", validation_subjects=held)
        # the detector dates each stance edge back by L samples
        meta = json.loads((d / "model.json").read_text())
        meta["detector"]["stance_offset_samples"] = 0.5 - lag
        (d / "model.json").write_text(json.dumps(meta, indent=2) + "\n")
        print(f"lag {lag} fold {k}: {time.perf_counter() - t0:.0f} s", flush=True)


def train_bidir(out: Path, folds: list[int]) -> None:
    """Bidirectional fold models (PyTorch, float); their activated outputs on the held-out
    recordings into OUT/bidir/fold-k.npz (``<trial>|<side>`` → (n, 3))."""
    import torch
    from torch import nn

    from edge.training.train import _TrainStep, _Windows, input_scale, target_kinds

    cfg = TrainConfig()
    splits = _splits(_trials())
    (out / "bidir").mkdir(parents=True, exist_ok=True)
    for k in folds:
        tr, va = splits[k - 1]
        torch.manual_seed(cfg.seed)
        torch.set_num_threads(1)
        names, kinds = target_kinds(tr)
        win = _Windows(tr, names, cfg)
        mean, std = input_scale(win.x, cfg.mirror)
        gru = nn.GRU(6, cfg.hidden, cfg.layers, batch_first=True, bidirectional=True)
        head = nn.Linear(2 * cfg.hidden, len(names))
        step = _TrainStep(gru, head, win, kinds, mean, std, cfg)
        y_mean, y_std = torch.from_numpy(step.y_mean), torch.from_numpy(step.y_std)
        x_mean, x_std = torch.from_numpy(mean), torch.from_numpy(std)
        t0 = time.perf_counter()
        for _ in range(step.total):
            xb, yb = win.batch()
            yb[:, -cfg.burn_in :] = np.nan  # a window's end has no future: no loss there
            step(xb, yb)
        arrays: dict[str, Any] = {}  # Any: np.savez reads ** as its flags
        with torch.no_grad():
            for t in va:
                x = (torch.from_numpy(t.imu.astype(np.float32)) - x_mean) / x_std
                y = (head(gru(x[None])[0])[0] * y_std + y_mean).numpy()
                y = activate(y, ["logit" if kind == "logit" else "1" for kind in kinds])
                arrays[f"{t.name}|{t.side}"] = y[:, [names.index(n) for n in OUTPUTS]]
        np.savez(out / "bidir" / f"fold-{k}.npz", **arrays)
        print(f"bidir fold {k}: {time.perf_counter() - t0:.0f} s", flush=True)


OUTPUTS = ("phase_cos", "phase_sin", "stance")


Run = tuple[Trial, np.ndarray, list]  # a recording, its (n, 3) outputs, its events


def _model_runs(root: Path, trials: list[Trial]) -> list[Run] | None:
    """Each fold model under ``root`` (int8) on its held-out recordings, with its own
    detector settings; None unless all folds are there."""
    dirs = fold_dirs(root)
    if len(dirs) != FOLDS:
        print(f"{root}: {len(dirs)} of {FOLDS} folds; skipped", file=sys.stderr)
        return None
    runs = []
    for m in (load_model(d) for d in dirs):
        held = set(m.meta.validation_subjects)
        mine = [t for t in trials if t.subject in held]
        idx = [[c.name for c in m.outputs].index(n) for n in OUTPUTS]
        for t, y in zip(mine, model_outputs(m, mine, "int8"), strict=True):
            pc, ps, st = y[:, idx].T
            runs.append(
                (t, y[:, idx], make_detector(m, t.sample_rate_hz).detect(t.counter, pc, ps, st))
            )
    return runs


def _bidir_runs(out: Path, trials: list[Trial]) -> list[Run] | None:
    """The bidirectional outputs saved by ``bidir``, through the shipped detector."""
    files = sorted((out / "bidir").glob("fold-*.npz"))
    if len(files) != FOLDS:
        print(f"bidir: {len(files)} of {FOLDS} folds; skipped", file=sys.stderr)
        return None
    shipped = load_model(fold_dirs(SHIPPED)[0])
    by_key = {f"{t.name}|{t.side}": t for t in trials}
    runs = []
    for f in files:
        with np.load(f) as z:
            for key in z.files:
                t, y = by_key[key], z[key]
                ev = make_detector(shipped, t.sample_rate_hz).detect(t.counter, *y.T)
                runs.append((t, y, ev))
    return runs


def _pooled(runs: list[Run]) -> dict:
    return pooled_scores(
        score_trial(
            t.subject,
            t.counter,
            phase_from_cos_sin(y[:, 0], y[:, 1]),
            phase_from_cos_sin(t.targets["phase_cos"], t.targets["phase_sin"]),
            t.masks["scored"],
            t.masks["steady"],
            ev,
            t.events["heel_strike"],
            t.events["toe_off"],
            sample_rate_hz=t.sample_rate_hz,
        )
        for t, y, ev in runs
    )


def _cells(r: dict) -> str:
    return " | ".join(
        "–"
        if np.isnan(r[k])
        else f"{r[k]:.2%}"
        if k in ("hs_recall", "hs_precision", "hs_recall_30ms")
        else f"{r[k]:.2f}"
        if k == "phase_rmse_pct"
        else f"{r[k]:.1f}"
        for k in KEYS
    )


def score(out: Path) -> None:
    """The tables: each complete row (all folds present), pooled over the 14 subjects;
    then the same without the recordings the card's label audit flags, and heel strikes
    missed or > 30 ms off by where they fall in the walk (the card's breakdown)."""
    import gait_phase_card as card

    trials = _trials()
    rows: dict[str, list[Run]] = {}
    lags = sorted(
        (p for p in out.glob("lag-*") if p.name[4:].isdigit()), key=lambda p: int(p.name[4:])
    )
    for name, root in [("lag-0 (shipped, causal)", SHIPPED)] + [(p.name, p) for p in lags]:
        runs = _model_runs(root, trials)
        if runs is not None:
            rows[f"{name}, int8"] = runs
    bidir = _bidir_runs(out, trials)
    if bidir is not None:
        rows["bidir (offline), float"] = bidir
    shipped = next(iter(rows.values()))
    flagged = {(n, side) for n, side, _ in card.label_audit(
        [(t, ev) for t, _, ev in shipped])["flagged"]}  # fmt: skip
    head = ["HS recall", "HS prec.", "HS MAE ms", "HS ≤30 ms", "delay p95 ms", "TO MAE ms",
            "phase RMSE %"]  # fmt: skip
    without = ", ".join(f"{n} {side}" for n, side in sorted(flagged))
    subsets = (("all recordings", lambda t: True),
               (f"without {without}", lambda t: (t.name, t.side) not in flagged))  # fmt: skip
    for title, keep in subsets:
        print(f"\n{title}:\n\n| model | " + " | ".join(head) + " |")
        print("|---|" + "---:|" * len(head))
        for name, runs in rows.items():
            r = _pooled([run for run in runs if keep(run[0])])
            if name.startswith("bidir"):
                r["event_delay_p95_ms"] = float("nan")  # offline: it saw the whole recording
            print(f"| {name} | {_cells(r)} |")
    places = ("first", "last", "turn", "mid")
    print("\nheel strikes missed or > 30 ms off (all recordings), by where they fall:\n")
    print("| model | " + " | ".join(places) + " |")
    print("|---|" + "---:|" * len(places))
    for name, runs in rows.items():
        b = card.heel_strike_breakdown([(t, ev) for t, _, ev in runs])
        print(f"| {name} | " + " | ".join(
            f"{b['bad'].get(w, 0)} of {b['n'].get(w, 0)}" for w in places) + " |")  # fmt: skip


def main() -> None:
    args = sys.argv[1:]
    if len(args) >= 3 and args[0] == "lag":
        train_lag(Path(args[1]), int(args[2]), [int(a) for a in args[3:]] or list(range(1, 8)))
    elif len(args) >= 2 and args[0] == "bidir":
        train_bidir(Path(args[1]), [int(a) for a in args[2:]] or list(range(1, 8)))
    elif len(args) == 2 and args[0] == "score":
        score(Path(args[1]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
