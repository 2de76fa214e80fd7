"""``gaitedge compare`` on a store: subjects × shoes × repeats, an injected effect found."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from edge.cli import main
from edge.store import TrialInfo, TrialStore
from edge.store.schema import STRIDE_FLOAT_COLUMNS


def _rows(rng: np.random.Generator, length_m: float, n: int = 20) -> list[dict[str, object]]:
    rows = []
    for i in range(n):
        row: dict[str, object] = {c: math.nan for c in STRIDE_FLOAT_COLUMNS}
        row.update(
            side="LR"[i % 2], counter_start=100 * i, counter_end=100 * i + 80,
            t_start_s=float(i), t_end_s=i + 0.8, strike_class="rearfoot", steady=True,
            turn=False, short=False, bout_edge=False,
            stride_length_m=length_m + rng.normal(0, 0.03),
            cadence_spm=105 + rng.normal(0, 2.0),
        )  # fmt: skip
        rows.append(row)
    return rows


def make_study(db: Path, *, effect_m: float = 0.05, subjects: int = 8) -> None:
    rng = np.random.default_rng(4)
    with TrialStore(db) as store:
        for s in range(subjects):
            own = 1.30 + rng.normal(0, 0.1)
            for shoe in ("B", "A", "A", "B"):  # any order, two trials a shoe
                tid = store.start_trial(TrialInfo(subject=f"P{s:02d}", shoe=shoe, condition="lab"))
                store.finish_trial(tid)
                day = own + (effect_m if shoe == "B" else 0.0) + rng.normal(0, 0.01)
                store.replace_strides(tid, _rows(rng, day), dropped={}, geometry={})
        tid = store.start_trial(TrialInfo(subject="P99", shoe="A", condition="lab"))
        store.finish_trial(tid)
        store.replace_strides(tid, _rows(rng, 1.3), dropped={}, geometry={})


def test_compare_finds_the_longer_stride_of_shoe_b(tmp_path: Path, capsys) -> None:
    db = tmp_path / "study.db"
    make_study(db)
    assert main(["compare", "--shoes", "A", "B", "--db", str(db), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)["comparison"]
    assert doc["subjects"] == [f"P{s:02d}" for s in range(8)]
    assert doc["left_out"] == ["subject P99: only shoe A"]
    assert doc["n_trials"] == {"A": 16, "B": 16}
    res = {r["parameter"]: r for r in doc["results"]}
    sl = res["stride_length_m"]
    assert sl["significant"] and sl["ci_low"] < 0.05 < sl["ci_high"]
    assert not res["cadence_spm"]["significant"]
    assert res["strike_angle_deg"]["n"] == 0  # not in these trials: nothing claimed
    assert main(["compare", "--shoes", "A", "B", "--db", str(db), "--mixed"]) == 0
    text = capsys.readouterr().out
    assert "shoe B vs shoe A: 8 subject(s) wore both" in text
    assert "mixed model (strides)" in text
    assert "stride_length_m" in text and "significant" in text


def test_compare_refuses_what_cannot_be_compared(tmp_path: Path, capsys) -> None:
    db = tmp_path / "study.db"
    make_study(db, subjects=2)
    assert main(["compare", "--shoes", "A", "B", "--db", str(db)]) == 0
    assert "a comparison needs at least 3" in capsys.readouterr().out
    assert main(["compare", "--shoes", "A", "C", "--db", str(db), "--subject", "nobody"]) == 2
    assert "no measured trial of shoe A or C" in capsys.readouterr().err
    assert main(["compare", "--shoes", "A", "B", "--db", str(db), "--since", "yesterday"]) == 2
    assert "give a date like" in capsys.readouterr().err
