"""A model over a whole study data set in parallel: local processes and a Dask cluster give
the same trials, and the model a trial was recorded with gives back its recorded outputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge.archive import replay_dataset, trial_dirs
from edge.cli import main
from edge.model.files import default_model_dir
from tests.conftest import capture_of


def _read(root: Path, table: str) -> dict[str, np.ndarray]:
    import pyarrow.dataset as pads

    t = pads.dataset(root / table, format="parquet", partitioning="hive").to_table()
    t = t.sort_by([("subject", "ascending"), ("side", "ascending"), ("counter", "ascending")]
                  if table == "samples" else [("subject", "ascending")])  # fmt: skip
    return {n: t.column(n).to_numpy(zero_copy_only=False) for n in t.column_names}


@pytest.fixture(scope="module")
def study(tmp_path_factory, walk_left, walk_right) -> Path:  # type: ignore[no-untyped-def]
    """Two recorded trials (the bundled walk, twice through the loop) as a data set."""
    tmp = tmp_path_factory.mktemp("arch")
    db = tmp / "trials.db"
    urls = [capture_of(tmp / f"{r.side}.gecap", r) for r in (walk_left, walk_right)]
    for subject, shoe in (("P01", "A"), ("P02", "B")):
        assert main(["run", "--left", urls[0], "--right", urls[1], "--db", str(db),
                     "--subject", subject, "--shoe", shoe]) == 0  # fmt: skip
    root = tmp / "study"
    assert main(["export", "--db", str(db), "--dataset", str(root), "--study", "s1"]) == 0
    return root


def test_processes_replay_every_trial_and_give_back_the_recorded_outputs(
    study: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "replayed"
    argv = ["replay", "--dataset", str(study), "--out", str(out), "--jobs", "2", "--quiet"]
    assert main(argv) == 0
    assert "2 trial(s) replayed" in capsys.readouterr().out
    assert len(trial_dirs(out)) == 2
    before, after = _read(study, "samples"), _read(out, "samples")
    np.testing.assert_array_equal(after["counter"], before["counter"])
    for name in ("phase_cos", "phase_sin", "stance"):  # the same model: the same outputs
        np.testing.assert_allclose(after[name], before[name], atol=1e-6)
    s0, s1 = _read(study, "strides"), _read(out, "strides")
    assert len(s1["side"]) == len(s0["side"])
    np.testing.assert_allclose(s1["stride_length_m"], s0["stride_length_m"], atol=1e-9)
    trials = _read(out, "trials")
    assert set(trials["replay_of"]) == {p[-1].removeprefix("trial=") for p in trial_dirs(study)}


# dask 2026.8 calls a pandas 3.1 method with a keyword pandas now deprecates: theirs, not ours
@pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.reset_index")
def test_a_dask_cluster_gives_the_same_trials(study: Path, tmp_path: Path) -> None:
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, processes=False, threads_per_worker=1,
                      dashboard_address=None) as cluster:  # fmt: skip
        done = replay_dataset(study, default_model_dir(), tmp_path / "dask",
                              scheduler=cluster.scheduler_address)  # fmt: skip
    assert len(done) == 2
    local = replay_dataset(study, default_model_dir(), tmp_path / "local", jobs=1)
    assert [Path(p).relative_to(tmp_path / "local") for p in local] == [
        Path(p).relative_to(tmp_path / "dask") for p in done
    ]
    a, b = _read(tmp_path / "dask", "strides"), _read(tmp_path / "local", "strides")
    np.testing.assert_array_equal(a["stride_length_m"], b["stride_length_m"])


def test_replay_of_a_data_set_refuses_bad_arguments(study: Path, capsys) -> None:
    assert main(["replay", "--dataset", str(study)]) == 2
    assert "needs --out DST" in capsys.readouterr().err
    assert main(["replay", "--dataset", str(study), "--out", str(study)]) == 2
    assert "another folder" in capsys.readouterr().err
    assert main(["replay", "--dataset", str(study.parent / "none"), "--out", "x"]) == 2
    assert "is it a gaitedge data set" in capsys.readouterr().err
