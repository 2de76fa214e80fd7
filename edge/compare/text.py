"""A :class:`~edge.compare.stats.Comparison` as text for people (``gaitedge compare``)."""

from __future__ import annotations

import math

from edge.compare.stats import ALPHA, Comparison

__all__ = ["comparison_lines"]


def _g(x: float, digits: int = 3) -> str:
    return f"{x:.{digits}g}" if math.isfinite(x) else "—"


def comparison_lines(c: Comparison) -> list[str]:
    """The design, then one line per parameter: means, B − A with its 95 % CI, d_z, p."""
    lines = [
        f"shoe {c.shoe_b} vs shoe {c.shoe_a}: {len(c.subjects)} subject(s) wore both "
        f"({', '.join(c.subjects) or 'none'}); trials {c.n_trials[c.shoe_a]} + "
        f"{c.n_trials[c.shoe_b]}, steady strides {c.n_strides[c.shoe_a]} + "
        f"{c.n_strides[c.shoe_b]}",
        *c.left_out,
        *c.notes,
        "",
        f"{'parameter':<26}{'A':>9}{'B':>9}{'B − A':>9}{'95 % CI':>20}{'d_z':>7}"
        f"{'p (t)':>8}{'p Holm':>8}{'MDC95':>8}  flags",
    ]
    for r in c.results:
        if r.n == 0:
            continue
        ci = f"[{_g(r.ci_low)}, {_g(r.ci_high)}]" if math.isfinite(r.ci_low) else "—"
        flags = []
        if r.significant:
            flags.append("significant")
        if r.within_noise:
            flags.append("< MDC95")
        if r.disagree:
            flags.append("Wilcoxon disagrees")
        lines.append(
            f"{r.parameter:<26}{_g(r.mean_a):>9}{_g(r.mean_b):>9}{_g(r.diff):>9}{ci:>20}"
            f"{_g(r.d_z, 2):>7}{_g(r.p_t, 2):>8}{_g(r.p_holm, 2):>8}{_g(r.mdc95, 2):>8}  "
            f"{', '.join(flags)}"
        )
    mixed = [r for r in c.results if math.isfinite(r.mm_diff)]
    if mixed:
        lines += ["", f"{'mixed model (strides)':<26}{'B − A':>9}{'95 % CI':>20}{'p':>8}"]
        for r in mixed:
            ci = f"[{_g(r.mm_ci_low)}, {_g(r.mm_ci_high)}]"
            lines.append(f"{r.parameter:<26}{_g(r.mm_diff):>9}{ci:>20}{_g(r.mm_p, 2):>8}")
    lines.append(
        f"paired t-test (its CI and d_z), Holm-corrected over the parameters, α = {ALPHA}; "
        "Wilcoxon signed-rank as a check; MDC95 from repeated trials of one shoe"
    )
    return lines
