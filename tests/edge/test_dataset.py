"""The study data set: appended trials read back in place by DuckDB and Dask, the same
trial exported twice is one trial, and a crash's leftovers are invisible."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.cli import main
from edge.dataset import partition_value
from edge.store import TrialStore
from tests.conftest import capture_of
from tests.edge.compare.test_compare_cli import make_study


@pytest.fixture(scope="module")
def store_path(tmp_path_factory, walk_left, walk_right) -> Path:  # type: ignore[no-untyped-def]
    """A store with 33 strides-only trials (8 subjects x 2 shoes x 2 + 1) and one real
    recorded trial (samples, events, model outputs)."""
    tmp = tmp_path_factory.mktemp("ds")
    db = tmp / "trials.db"
    make_study(db)
    urls = [capture_of(tmp / f"{r.side}.gecap", r) for r in (walk_left, walk_right)]
    assert main(["run", "--left", urls[0], "--right", urls[1], "--db", str(db),
                 "--subject", "P 01/../x", "--shoe", "A"]) == 0  # fmt: skip
    return db


# dask 2026.8 calls a pandas 3.1 method with a keyword pandas now deprecates: theirs, not ours
@pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.reset_index")
def test_duckdb_and_dask_read_the_data_set_in_place(
    store_path: Path, tmp_path: Path, capsys
) -> None:
    import dask.dataframe as dd
    import duckdb

    root = tmp_path / "study"
    assert (
        main(["export", "--db", str(store_path), "--dataset", str(root), "--study", "pilot"]) == 0
    )
    capsys.readouterr()
    with TrialStore(store_path, read_only=True) as store:
        trials = store.trials()
        n_strides = sum(len(store.strides(t.id).columns["side"]) for t in trials)
        real = trials[-1]
        n_samples = sum(len(store.samples(real.id, s).counter) for s in "LR")
    con = duckdb.connect()
    q = lambda table: f"read_parquet('{root}/{table}/**/*.parquet', hive_partitioning=true)"  # noqa: E731
    assert con.execute(f"SELECT count(*) FROM {q('trials')}").fetchone()[0] == len(trials)
    assert con.execute(f"SELECT count(*) FROM {q('strides')}").fetchone()[0] == n_strides
    assert con.execute(f"SELECT count(*) FROM {q('samples')}").fetchone()[0] == n_samples
    # the summary query of the README: mean stride length per shoe over steady strides
    rows = con.execute(
        f"SELECT shoe, avg(stride_length_m) FROM {q('strides')} WHERE steady "
        "GROUP BY shoe ORDER BY shoe"
    ).fetchall()
    assert [r[0] for r in rows] == ["A", "B"] and rows[1][1] > rows[0][1]  # B: 5 cm longer
    study, subject, model = con.execute(
        f"SELECT DISTINCT study, subject, model_name FROM {q('samples')}"
    ).fetchone()
    assert (study, subject, model) == ("pilot", partition_value("P 01/../x"), real.model_name)
    strides = dd.read_parquet(root / "strides")
    assert len(strides) == n_strides
    assert {"study", "shoe", "subject", "trial", "stride_length_m", "condition"} <= set(
        strides.columns
    )
    assert set(strides["shoe"].unique().compute()) == {"A", "B"}


def test_the_same_trial_twice_is_one_and_crash_leftovers_are_invisible(
    store_path: Path, tmp_path: Path, capsys
) -> None:
    import duckdb

    root = tmp_path / "study"
    argv = ["export", "1", "2", "--db", str(store_path), "--dataset", str(root)]
    assert main(argv) == 0
    junk = root / "_incoming" / "deadbeef" / "strides" / "part-0.parquet"
    junk.parent.mkdir(parents=True)
    junk.write_bytes(b"PAR1 half a file")  # what a power cut mid-write leaves
    assert main(argv) == 0  # again: replaces, does not add
    capsys.readouterr()
    con = duckdb.connect()
    n = con.execute(
        f"SELECT count(DISTINCT trial), count(*) FROM read_parquet('{root}/trials/**/*.parquet', "
        "hive_partitioning=true)"
    ).fetchone()
    assert n == (2, 2)
    # the half file in _incoming is outside every table's tree: a reader never opens it
    # (DuckDB would fail on it), and the tables hold the two trials' strides once
    strides = con.execute(
        f"SELECT count(*) FROM read_parquet('{root}/strides/**/*.parquet', hive_partitioning=true)"
    ).fetchone()[0]
    with TrialStore(store_path, read_only=True) as store:
        assert strides == sum(len(store.strides(t).columns["side"]) for t in (1, 2))
    assert main(["export", "--db", str(store_path)]) == 2
    assert "give the TRIAL id(s)" in capsys.readouterr().err


def test_partition_values_cannot_escape_the_folder() -> None:
    assert partition_value("../../etc") == ".._.._etc"
    assert partition_value("..") == "_"
    assert partition_value("") == "_"
    assert "/" not in partition_value("a/b\\c d")


def test_compare_reads_the_data_set_as_it_reads_a_store(
    store_path: Path, tmp_path: Path, capsys
) -> None:
    import json

    root = tmp_path / "study"
    assert main(["export", "--db", str(store_path), "--dataset", str(root)]) == 0
    capsys.readouterr()
    results = []
    for source in (["--db", str(store_path)], ["--dataset", str(root)]):
        assert main(["compare", "--shoes", "A", "B", *source, "--json"]) == 0
        results.append(json.loads(capsys.readouterr().out)["comparison"])
    from_store, from_dataset = results
    assert from_dataset["subjects"] == from_store["subjects"]
    a = {r["parameter"]: r for r in from_store["results"]}["stride_length_m"]
    b = {r["parameter"]: r for r in from_dataset["results"]}["stride_length_m"]
    assert b["diff"] == pytest.approx(a["diff"]) and b["p_t"] == pytest.approx(a["p_t"])
    assert main(["compare", "--shoes", "A", "B", "--dataset", str(tmp_path / "none")]) == 2
    assert "is it a gaitedge data set" in capsys.readouterr().err


def test_strides_of_a_data_set_trial(store_path: Path, tmp_path: Path, capsys) -> None:
    import json

    root = tmp_path / "study"
    assert main(["export", "1", "--db", str(store_path), "--dataset", str(root)]) == 0
    capsys.readouterr()
    assert main(["strides", "--dataset", str(root), "--json"]) == 0
    (trial,) = json.loads(capsys.readouterr().out)["trials"]
    with TrialStore(store_path, read_only=True) as store:
        assert len(trial["strides"]) == len(store.strides(1).columns["side"])
    assert main(["strides", "--dataset", str(root), "--trial", "nope"]) == 2
    assert "no trial nope" in capsys.readouterr().err
