"""``gaitedge compare``: shoe B against shoe A over the subjects who wore both."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from edge.cli._common import reading_store
from firmware_bridge.errors import GaitedgeError


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare",
        help="shoe B vs shoe A: paired differences, CIs, effect sizes, tests, reliability",
        description="Compare two shoes within subjects: per stride parameter, each subject's "
        "mean per shoe (steady strides, trials averaged), the paired difference B - A with "
        "its 95 %% CI, d_z, paired t (Holm-corrected) and Wilcoxon p, and test-retest "
        "reliability (ICC(3,1), SEM, MDC95) from repeated trials of one shoe. Needs the "
        "report extra (scipy, statsmodels).",
    )
    p.add_argument("--shoes", nargs=2, required=True, metavar=("A", "B"), help="the two shoes")
    p.add_argument("--db", type=Path, default=Path("gaitedge-trials.db"), help="the store")
    p.add_argument("--dataset", type=Path, metavar="DIR",
                   help="a study data set (export --dataset) instead of a store")  # fmt: skip
    p.add_argument("--subject", action="append", help="only these subjects (repeat)")
    p.add_argument("--condition", help="only trials of this condition")
    p.add_argument("--since", metavar="DATE", help="only trials from this day on (2026-11-30)")
    p.add_argument("--until", metavar="DATE", help="only trials up to this day")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--mixed", action="store_true",
                   help="also a mixed model on the stride-level data")  # fmt: skip
    p.add_argument("--report", type=Path, metavar="DIR",
                   help="also write report.html (self-contained), its figures and "
                   "comparison.json there, with the gait-cycle curves (SPM)")  # fmt: skip
    p.set_defaults(func=compare)

    r = sub.add_parser(
        "report",
        help="one trial's report: its strides per foot, L/R symmetry, curves, data quality",
        description="A self-contained HTML page for one stored trial (figures inlined): the "
        "summary of each foot's steady strides with the left/right symmetry index, every "
        "stride over time, the gait-cycle curves of each foot, data quality and provenance. "
        "Needs the report extra.",
    )
    r.add_argument("trial_id", type=int, help="the stored trial (see gaitedge trials)")
    r.add_argument("--db", type=Path, default=Path("gaitedge-trials.db"), help="the store")
    r.add_argument("--out", type=Path, help="folder (default: report-trial-N here)")
    r.set_defaults(func=report)


async def compare(args: argparse.Namespace) -> int:
    from edge.compare.design import select_trials
    from edge.compare.stats import compare as paired
    from edge.compare.text import comparison_lines
    from edge.strides.text import json_ready

    a, b = args.shoes
    if args.dataset is not None:
        return _from_dataset(args)
    with reading_store(args.db) as store:
        trials, skipped = select_trials(
            store, shoes=[a, b], subjects=args.subject, condition=args.condition,
            since=args.since, until=args.until, curves=args.report is not None,
        )  # fmt: skip
        if not trials:
            raise GaitedgeError(
                f"no measured trial of shoe {a} or {b} in {args.db} matches; see gaitedge trials"
            )
        result = paired(trials, a, b, mixed=args.mixed)
        if args.report is not None:
            from edge.compare.design import trial_quality
            from edge.compare.report import write_report

            quality = [trial_quality(store, t) for t in trials]
            command = "gaitedge " + " ".join(sys.argv[1:]) if sys.argv[1:] else "gaitedge compare"
            try:
                page = write_report(result, trials, quality, args.report, command=command)
            except OSError as e:
                raise GaitedgeError(f"cannot write the report in {args.report}: {e}") from None
            print(page, file=sys.stderr)
    if args.json:
        doc = {"comparison": result.as_dict(), "trials_skipped": skipped}
        json.dump(json_ready(doc), sys.stdout, indent=1)
        print()
        return 0
    for line in skipped:
        print(line, file=sys.stderr)
    print("\n".join(comparison_lines(result)))
    return 0


def _from_dataset(args: argparse.Namespace) -> int:
    """``compare --dataset DIR``: the same comparison from a study data set (no curves:
    the data set holds strides, not trajectories; --report draws the rest)."""
    from edge.compare.stats import compare as paired
    from edge.compare.text import comparison_lines
    from edge.dataset import dataset_trials
    from edge.strides.text import json_ready

    a, b = args.shoes
    try:
        trials, _ = dataset_trials(
            args.dataset, shoes=[a, b], subjects=args.subject, condition=args.condition,
            since=args.since, until=args.until,
        )  # fmt: skip
    except ValueError as e:
        raise GaitedgeError(str(e)) from None
    if not trials:
        raise GaitedgeError(f"no trial of shoe {a} or {b} in {args.dataset} matches")
    result = paired(trials, a, b, mixed=args.mixed)
    if args.report is not None:
        from edge.compare.report import write_report

        print(
            write_report(result, trials, [], args.report, command=" ".join(sys.argv)),
            file=sys.stderr,
        )
    if args.json:
        json.dump(json_ready({"comparison": result.as_dict()}), sys.stdout, indent=1)
        print()
    else:
        print("\n".join(comparison_lines(result)))
    return 0


async def report(args: argparse.Namespace) -> int:
    from edge.compare.design import StudyTrial, trial_quality
    from edge.compare.report import write_trial_report
    from edge.strides.stored import trial_curves

    out = args.out or Path(f"report-trial-{args.trial_id}")
    with reading_store(args.db) as store:
        rec = store.trial(args.trial_id)
        if rec.status == "recording":
            raise GaitedgeError(f"trial {args.trial_id} is still recording; report it when it ends")
        table = trial_curves(store, args.trial_id)
        trial = StudyTrial(
            str(rec.id), rec.subject, rec.shoe, rec.condition, rec.start_unix_s, table
        )
        quality = trial_quality(store, trial)
    title = f"Trial {rec.id}: subject {rec.subject or '?'}, shoe {rec.shoe or '?'}"
    command = "gaitedge " + " ".join(sys.argv[1:]) if sys.argv[1:] else "gaitedge report"
    try:
        page = write_trial_report(title, table, quality, out, command=command)
    except OSError as e:
        raise GaitedgeError(f"cannot write the report in {out}: {e}") from None
    print(page)
    return 0
