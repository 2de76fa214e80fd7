"""Model cards: CARD.md from model.json (architecture, storage, metrics, training, limits).

The metric tables are the ones ``gaitedge evaluate`` prints (:func:`result_tables`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from edge.model.meta import ModelMeta, parse_meta

__all__ = ["metric_table", "model_card", "pooled_key", "result_tables", "write_card"]


def pooled_key(variant: str) -> str:
    """Result key of a variant's pooled scores: ``pooled`` (int8) or ``pooled_<variant>``."""
    return "pooled" if variant == "int8" else f"pooled_{variant}"


#: Columns of the metric tables: (key, header, format).
_METRIC_COLUMNS = (
    ("phase_rmse_pct", "phase RMSE %", "{:.2f}"),
    ("phase_rmse_steady_pct", "steady %", "{:.2f}"),
    ("hs_recall", "HS recall", "{:.2%}"),
    ("hs_precision", "HS prec.", "{:.2%}"),
    ("hs_mae_ms", "HS MAE ms", "{:.1f}"),
    ("hs_recall_30ms", "HS ≤30 ms", "{:.2%}"),
    ("to_recall", "TO recall", "{:.2%}"),
    ("to_precision", "TO prec.", "{:.2%}"),
    ("to_mae_ms", "TO MAE ms", "{:.1f}"),
    ("to_recall_30ms", "TO ≤30 ms", "{:.2%}"),
    ("event_delay_p95_ms", "delay p95 ms", "{:.0f}"),
    ("n_strides", "strides", "{:d}"),
)


def _columns(row: Mapping[str, Any]) -> tuple[tuple[str, str, str], ...]:
    """The table's columns: the gait metrics, or each target's RMSE and MAE."""
    if "phase_rmse_pct" in row or not row:
        return _METRIC_COLUMNS
    heads = {"_rmse": " RMSE", "_mae": " MAE"}
    cols = [(k, k.removesuffix(e) + h, "{:.4g}") for k in row for e, h in heads.items()
            if k.endswith(e)]  # fmt: skip
    return (*cols, ("n_samples", "samples", "{:d}"))


def metric_table(rows: Mapping[str, Mapping[str, Any]], first: str) -> list[str]:
    """Markdown table lines, one row per entry of ``rows`` (gait metrics, or each target's
    RMSE and MAE in its unit; missing: –)."""
    columns = _columns(next(iter(rows.values()), {}))
    head = [first] + [h for _, h, _ in columns]
    out = ["| " + " | ".join(head) + " |", "|---" + "|---:" * len(columns) + "|"]
    for label, r in rows.items():
        cells = []
        for key, _, fmt in columns:
            v = r.get(key)
            cells.append("–" if v is None or v != v else fmt.format(v))
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    return out


def result_tables(results: Mapping[str, Any]) -> list[str]:
    """Markdown lines of :func:`evaluate`'s result: pooled per variant, then per subject."""
    variants = list(results.get("subjects", {}))
    pooled = {v: results[pooled_key(v)] for v in variants if pooled_key(v) in results}
    n_subj = next(iter(pooled.values()))["n_subjects"] if pooled else 0
    lines = [f"Pooled over {n_subj} subjects:", "", *metric_table(pooled, "weights")]
    for variant, subjects in results.get("subjects", {}).items():
        lines += ["", f"Per subject ({variant}):", "", *metric_table(subjects, "subject")]
    return lines


def model_card(meta: ModelMeta) -> str:
    """A model card from model.json alone (training data and metrics when it has them)."""
    arch = meta.architecture
    lines = [
        f"# {meta.name}",
        "",
        f"GRU, {arch.layers} layer(s), hidden {arch.hidden}, {arch.parameters} "
        f"parameters; {arch.inputs} inputs at {meta.sample_rate_hz:g} Hz, "
        f"{arch.outputs} outputs. Weights stored as {meta.weights.storage}.",
        "",
        "## Inputs",
        "",
        *[f"- `{c.name}` [{c.unit}]" for c in meta.inputs],
        "",
        "## Outputs",
        "",
        *[f"- `{c.name}` [{c.unit}]" for c in meta.outputs],
        "",
    ]
    if meta.quantization:
        lines += [
            "## Storage",
            "",
            "| storage | bytes | max abs output error | RMSE (vs float32) |",
            "|---|---:|---:|---:|",
            *[
                f"| {k} | {v['bytes']:.0f} | {v['max_abs_error']:.2e} | {v['rmse']:.2e} |"
                for k, v in meta.quantization.items()
            ],
            "",
        ]
    if meta.metrics:
        method = str(meta.metrics.get("method", ""))
        lines += ["## Metrics", "", method, "", *result_tables(meta.metrics), ""]
    if meta.training:
        lines += ["## Training", "", "```json", json.dumps(meta.training, indent=2), "```", ""]
    if meta.limits:
        lines += ["## Known limits", "", *[f"- {x}" for x in meta.limits], ""]
    if meta.citation:
        lines += ["## Data citation", "", meta.citation, ""]
    return "\n".join(lines)


def write_card(directory: str | os.PathLike[str], extra: str = "") -> Path:
    """(Re)write ``CARD.md`` from the directory's model.json, plus ``extra`` markdown."""
    d = Path(directory)
    meta_path = d / "model.json"
    meta = parse_meta(json.loads(meta_path.read_text()), meta_path)
    path = d / "CARD.md"
    path.write_text(model_card(meta) + (("\n" + extra) if extra else ""))
    return path
