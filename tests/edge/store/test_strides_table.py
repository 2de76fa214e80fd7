"""The ``strides`` table: migration from version 1, live rows, the offline pass replacing them."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from edge.store import SCHEMA_VERSION, StoreError, TrialInfo, TrialStore
from edge.store.schema import APPLICATION_ID, MIGRATIONS, STRIDE_COLUMNS, STRIDE_FLOAT_COLUMNS
from edge.strides.analysis import FLOAT_COLUMNS


def _version_1_store(path: Path) -> None:
    """A store exactly as gaitedge wrote it before strides: schema 1, one finished trial."""
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in MIGRATIONS[0]:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute(
        "INSERT INTO trials (subject, start_unix_s, end_unix_s, status) "
        "VALUES ('P01', 1.0, 2.0, 'complete')"
    )
    conn.close()


def _row(side: str, start: int, length: float, **kw: object) -> dict[str, object]:
    row: dict[str, object] = {c: math.nan for c in STRIDE_FLOAT_COLUMNS}
    row.update(
        side=side, counter_start=start, counter_end=start + 80, t_start_s=100.0 + start / 100,
        t_end_s=100.8 + start / 100, strike_class="rearfoot", steady=True, turn=False,
        short=False, bout_edge=False, stride_length_m=length,
    )  # fmt: skip
    row.update(kw)
    return row


def test_the_schema_holds_every_stride_parameter() -> None:
    assert STRIDE_FLOAT_COLUMNS == FLOAT_COLUMNS


def test_a_version_1_store_opens_and_upgrades(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _version_1_store(path)
    with pytest.raises(StoreError, match="open it once read-write to upgrade it"):
        TrialStore(path, read_only=True)
    with TrialStore(path) as store:
        (trial,) = store.trials()
        assert (trial.subject, trial.status) == ("P01", "complete")
        rows = store.strides(trial.id)
        assert rows.source is None and len(rows.columns["side"]) == 0
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    with TrialStore(path, read_only=True) as store:  # now it reads
        assert store.strides(trial.id).source is None


def test_live_rows_then_the_offline_pass_replaces_them(tmp_path: Path) -> None:
    with TrialStore(tmp_path / "s.db") as store:
        tid = store.start_trial(TrialInfo(subject="P02"))
        geometry = {"L": {"heel_m": [-0.14, 0, -0.07]}}
        store.append_strides(
            tid, [_row("L", 100, 1.31), _row("R", 150, 1.29, steady=False, turn=True)],
            dropped={"L: lost samples": 0}, geometry=geometry,
        )  # fmt: skip
        store.flush()
        live = store.strides(tid)
        assert live.source == "live" and live.geometry == geometry
        np.testing.assert_allclose(live.columns["stride_length_m"], [1.31, 1.29])
        assert live.columns["turn"].tolist() == [False, True]
        assert np.isnan(live.columns["strike_angle_deg"]).all()  # NaN in, NULL stored, NaN out
        store.finish_trial(tid)
        # after the trial: the smoothed pass replaces every live row
        store.replace_strides(
            tid, [_row("L", 101, 1.33), _row("L", 181, 1.35), _row("R", 151, 1.30)],
            dropped={"L: lost samples": 1}, geometry=geometry,
        )  # fmt: skip
        done = store.strides(tid)
        assert done.source == "offline" and done.dropped == {"L: lost samples": 1}
        assert done.columns["side"].tolist() == ["L", "L", "R"]
        assert done.columns["counter_start"].tolist() == [101, 181, 151]
        np.testing.assert_allclose(done.columns["stride_length_m"], [1.33, 1.35, 1.30])
        assert set(STRIDE_COLUMNS) - {"source"} == set(done.columns)


def test_replacing_strides_of_an_unknown_trial_says_so(tmp_path: Path) -> None:
    with TrialStore(tmp_path / "s.db") as store, pytest.raises(ValueError, match="no trial 7"):
        store.replace_strides(7, [], dropped={}, geometry={})
