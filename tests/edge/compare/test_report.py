"""The report: a self-contained page whose figures load and whose table has the rows it
should, checked by rendering it in headless Chromium."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from edge.cli import main
from edge.compare.design import StudyTrial, TrialQuality
from edge.compare.report import write_report
from edge.compare.stats import compare
from edge.strides.analysis import CURVE_POINTS, CURVES, StrideTable
from tests.edge.compare.test_compare_cli import make_study
from tests.edge.compare.test_stats import PARAMS, study


def _with_curves(trials: list[StudyTrial], rng: np.random.Generator) -> list[StudyTrial]:
    """The trials with gait-cycle curves: shoe B's pitch 3° higher around 60–75 %."""
    pct = np.arange(CURVE_POINTS)
    out = []
    for t in trials:
        k = len(t.strides)
        own = rng.normal(0, 2.0)
        bump = 3.0 * np.exp(-(((pct - 68) / 5.0) ** 2)) if t.shoe == "B" else 0.0
        curves = {
            name: np.tile(20 * np.sin(2 * np.pi * pct / 100) + own + bump, (k, 1))
            + rng.normal(0, 1.0, (k, CURVE_POINTS))
            for name in CURVES
        }
        table = StrideTable(t.strides.columns, t.strides.dropped, True, curves)
        out.append(StudyTrial(t.trial, t.subject, t.shoe, t.condition, t.start_unix_s, table))
    return out


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip(
            "headless Chromium not installed (Debian: apt-get install chromium; .ci/run does)"
        )
    return exe


def _rendered(exe: str, page: Path) -> str:
    """The page's DOM after headless Chromium loaded it and ran its figure check."""
    return subprocess.run(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip


def test_the_report_renders_with_every_figure_and_row(tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    trials = _with_curves(study(rng, subjects=8, effect={"stride_length_m": 0.05}), rng)
    c = compare(trials, "A", "B", PARAMS)
    assert c.curves["foot_pitch_deg"].regions  # the bump is found
    quality = [
        TrialQuality(t.trial, t.subject, t.shoe, "complete", 0.5, 1, len(t.strides),
                     len(t.strides), 0, "gait-phase", "ab" * 32, "0.1.0")
        for t in trials
    ]  # fmt: skip
    page = write_report(c, trials, quality, tmp_path / "rep", command="gaitedge compare …")
    text = page.read_text()
    assert "http://" not in text and "https://" not in text  # nothing from the network
    assert (tmp_path / "rep" / "paired.png").is_file() and (
        tmp_path / "rep" / "curves.png"
    ).is_file()
    doc = json.loads((tmp_path / "rep" / "comparison.json").read_text())
    assert doc["comparison"]["curves"]["foot_pitch_deg"]["regions"]
    exe = _chromium()
    dom = _rendered(exe, page)
    assert 'data-figures="2/2"' in dom  # both figures decoded in the browser
    summary = dom.split('class="summary"')[1].split("</table>")[0]
    assert summary.count("<tr>") == 1 + len(PARAMS)  # header + one row per parameter
    quality_rows = dom.split('class="quality"')[1].split("</table>")[0]
    assert quality_rows.count("<tr>") == 1 + len(trials)
    shot = tmp_path / "rep" / "screenshot.png"
    subprocess.run(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1200,2400",
         f"--screenshot={shot}", page.as_uri()],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    assert shot.stat().st_size > 20_000  # a page with figures, not a blank one


def test_compare_writes_the_report_from_a_store(tmp_path: Path, capsys) -> None:
    db = tmp_path / "study.db"
    make_study(db)
    out = tmp_path / "report"
    assert main(["compare", "--shoes", "A", "B", "--db", str(db), "--report", str(out)]) == 0
    captured = capsys.readouterr()
    assert str(out / "report.html") in captured.err
    text = (out / "report.html").read_text()
    assert "stride_length_m" in text and "Data quality" in text and "P07" in text
    assert (out / "paired.png").is_file()


@pytest.mark.slow  # 16 trials through the whole loop: ~10 s
def test_a_newcomers_study_simulated_recorded_compared_and_reported(tmp_path: Path, capsys) -> None:
    """gaitedge demo --study: simulated subjects x two shoes through ptys into a store;
    gaitedge compare finds shoe B's 5 % longer strides and writes the report."""
    db = tmp_path / "study.db"
    assert main(["demo", "--study", "4", "--repeats", "2", "--speed", "0", "--db", str(db)]) == 0
    assert "gaitedge compare --shoes A B" in capsys.readouterr().out
    out = tmp_path / "report"
    assert main(["compare", "--shoes", "A", "B", "--db", str(db), "--json",
                 "--report", str(out)]) == 0  # fmt: skip
    doc = json.loads(capsys.readouterr().out)["comparison"]
    assert doc["n_trials"] == {"A": 8, "B": 8}
    res = {r["parameter"]: r for r in doc["results"]}
    sl, cad = res["stride_length_m"], res["cadence_spm"]
    assert sl["ci_low"] > 0 and 0.04 < sl["diff"] / sl["mean_a"] < 0.06  # B: +5 %
    assert cad["ci_low"] < 0 < cad["ci_high"]  # the tempo is the subject's, not the shoe's
    assert math.isfinite(sl["icc"])  # two trials a shoe: reliability
    assert doc["curves"]["foot_pitch_deg"]["n"] == 4
    assert (out / "report.html").is_file() and (out / "curves.png").is_file()


def test_one_trials_report(tmp_path: Path, walk_left, walk_right, capsys) -> None:
    """gaitedge report TRIAL: a recorded trial's page, rendered: figures load, one summary
    row per parameter the trial has."""
    from tests.conftest import capture_of

    urls = [capture_of(tmp_path / f"{r.side}.gecap", r) for r in (walk_left, walk_right)]
    db = tmp_path / "t.db"
    assert main(["run", "--left", urls[0], "--right", urls[1], "--db", str(db),
                 "--subject", "P07", "--shoe", "A"]) == 0  # fmt: skip
    capsys.readouterr()
    out = tmp_path / "rep"
    assert main(["report", "1", "--db", str(db), "--out", str(out)]) == 0
    page = Path(capsys.readouterr().out.strip())
    assert page == out / "report.html"
    doc = json.loads((out / "strides.json").read_text())
    assert doc["summary"]["n_steady"]["L"] >= 5
    assert doc["summary"]["L"]["min_toe_clearance_m"]["cv"] is None  # crosses zero: no CV
    exe = _chromium()
    dom = _rendered(exe, page)
    assert 'data-figures="2/2"' in dom and "Trial 1: subject P07, shoe A" in dom
    assert main(["report", "9", "--db", str(db)]) == 2
    assert "no trial 9" in capsys.readouterr().err
