"""How much seeing past the landing buys: heel strikes against the delay a detector may take.

Issue 4's heel-strike bars miss on the shipped causal model. This experiment asks whether
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from edge.dataset import Trial, load_dataset, split_by_subject  # noqa: E402
from edge.evaluate import evaluate, make_detector  # noqa: E402
from edge.metrics import phase_from_cos_sin, pooled_scores, score_trial  # noqa: E402
from edge.model_file import load_model  # noqa: E402
from edge.train import TrainConfig, fold_dirs, save_trained, train  # noqa: E402
from firmware_bridge.recording import find_ipol_dir  # noqa: E402

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
        d = save_trained(out / f"lag-{lag}" / "cv" / f"fold-{k}", result, tr, cfg,
                         name=f"lag-{lag}-fold-{k}", validation_subjects=held)  # fmt: skip
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

    from edge.train import _steps_per_epoch, _target_scale, _Windows, input_scale, target_kinds

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
        params = list(gru.parameters()) + list(head.parameters())
        opt = torch.optim.Adam(params, lr=cfg.lr)
        total = _steps_per_epoch(win.n_samples, cfg) * cfg.epochs
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, total, eta_min=0.05 * cfg.lr)
        is_logit = torch.tensor([kind == "logit" for kind in kinds])
        y_mean, y_std = (torch.from_numpy(a) for a in _target_scale(win.y, kinds))
        x_mean, x_std = torch.from_numpy(mean), torch.from_numpy(std)
        t0 = time.perf_counter()
        for _ in range(total):
            xb, yb = win.batch()
            yb[:, -cfg.burn_in :] = np.nan  # a window's end has no future: no loss there
            x = (torch.from_numpy(xb) - x_mean) / x_std
            y = (torch.from_numpy(yb) - y_mean) / y_std
            out_ = head(gru(x)[0])
            have = ~torch.isnan(y)
            y0 = torch.nan_to_num(y)
            bce = nn.functional.binary_cross_entropy_with_logits(out_, y0, reduction="none")
            per = torch.where(is_logit, bce, (out_ - y0) ** 2) * have
            loss = per.sum() / have.sum().clamp(min=1)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
        arrays = {}
        with torch.no_grad():
            for t in va:
                x = (torch.from_numpy(t.imu.astype(np.float32)) - x_mean) / x_std
                y = (head(gru(x[None])[0])[0] * y_std + y_mean).numpy().copy()
                for i, kind in enumerate(kinds):
                    if kind == "logit":
                        y[:, i] = 1.0 / (1.0 + np.exp(-y[:, i]))
                arrays[f"{t.name}|{t.side}"] = y[:, [names.index(n) for n in OUTPUTS]]
        np.savez(out / "bidir" / f"fold-{k}.npz", **arrays)
        print(f"bidir fold {k}: {time.perf_counter() - t0:.0f} s", flush=True)


OUTPUTS = ("phase_cos", "phase_sin", "stance")


def _bidir_scores(out: Path, trials: list[Trial]) -> dict | None:
    files = sorted((out / "bidir").glob("fold-*.npz"))
    if len(files) != FOLDS:
        print(f"bidir: {len(files)} of {FOLDS} folds; skipped", file=sys.stderr)
        return None
    shipped = load_model(fold_dirs(SHIPPED)[0])  # the shipped detector settings
    by_key = {f"{t.name}|{t.side}": t for t in trials}
    scored = []
    for f in files:
        with np.load(f) as z:
            for key in z.files:
                t, (pc, ps, st) = by_key[key], z[key].T
                detector = make_detector(shipped, t.sample_rate_hz)
                scored.append(score_trial(
                    t.subject, t.counter, phase_from_cos_sin(pc, ps),
                    phase_from_cos_sin(t.targets["phase_cos"], t.targets["phase_sin"]),
                    t.masks["scored"], t.masks["steady"],
                    detector.detect(t.counter, pc, ps, st),
                    t.events["heel_strike"], t.events["toe_off"],
                    sample_rate_hz=t.sample_rate_hz,
                ))  # fmt: skip
    return pooled_scores(scored)


def score(out: Path) -> None:
    """The table: each complete row (all folds present), pooled over the 14 subjects."""
    trials = _trials()
    rows: dict[str, dict] = {}
    lags = sorted(
        (p for p in out.glob("lag-*") if p.name[4:].isdigit()), key=lambda p: int(p.name[4:])
    )
    for name, root in [("lag-0 (shipped, causal)", SHIPPED)] + [(p.name, p) for p in lags]:
        dirs = fold_dirs(root)
        if len(dirs) != FOLDS:
            print(f"{name}: {len(dirs)} of {FOLDS} folds; skipped", file=sys.stderr)
            continue
        models = [load_model(d) for d in dirs]
        rows[f"{name}, int8"] = evaluate(models, trials, variants=("int8",), held_out=True)[
            "pooled"
        ]
    bidir = _bidir_scores(out, trials)
    if bidir is not None:
        bidir["event_delay_p95_ms"] = float("nan")  # offline: it saw the whole recording
        rows["bidir (offline), float"] = bidir
    head = ["HS recall", "HS prec.", "HS MAE ms", "HS ≤30 ms", "delay p95 ms", "TO MAE ms",
            "phase RMSE %"]  # fmt: skip
    print("| model | " + " | ".join(head) + " |")
    print("|---|" + "---:|" * len(head))
    for name, r in rows.items():
        cells = [
            "–" if np.isnan(r[k])
            else f"{r[k]:.2%}" if k in ("hs_recall", "hs_precision", "hs_recall_30ms")
            else f"{r[k]:.2f}" if k == "phase_rmse_pct"
            else f"{r[k]:.1f}"
            for k in KEYS
        ]  # fmt: skip
        print(f"| {name} | " + " | ".join(cells) + " |")


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
