"""``gaitedge``: the command line; the only module that configures logging.

One module per group of commands, each adding its own sub-commands and importing what they
need when they run (so ``gaitedge run`` loads neither training code nor the simulator):

- :mod:`.simulate`: ``demo``, ``sim`` (virtual insoles).
- :mod:`.link`: ``listen``, ``scan`` (links and devices, without the model).
- :mod:`.trials`: ``run``, ``trials``, ``replay``, ``export`` (recording, the store).
- :mod:`.strides`: ``strides`` (every stride measured, a stored trial or a data folder).
- :mod:`.compare`: ``compare`` (shoe B against shoe A, paired over subjects), ``report``
  (one trial's report).
- :mod:`.models`: ``train``, ``evaluate`` (offline).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from edge.cli import compare, link, models, simulate, strides, trials
from firmware_bridge.errors import GaitedgeError

log = logging.getLogger("gaitedge")

EPILOG = """\
examples:
  gaitedge demo                         two simulated shoes through real ptys, then stats
  gaitedge demo --speed 1 --drop 0.02 --corrupt 0.01 --disconnect 5:2
  gaitedge sim                          serve two simulated shoes on ptys until Ctrl-C
  gaitedge listen serial:///dev/serial/by-id/usb-...-if00 --capture walk.gecap
  gaitedge listen replay://walk.gecap   decode a capture again
  gaitedge run --left serial:///dev/serial/by-id/usb-...-L-if00 --right ble://AA:BB:... \
               --subject P07 --shoe A --condition treadmill --db /data/trials.db
  gaitedge scan --probe 2               which ports and BLE devices are insoles
  gaitedge trials --db /data/trials.db  list the recorded trials (and: gaitedge trials 3)
  gaitedge replay 3 --db /data/trials.db --model models/my-model    re-run trial 3
  gaitedge export 3 --db /data/trials.db --out exports/ --format csv,parquet
  gaitedge strides 3 --db /data/trials.db      every stride of trial 3, and its summary
  gaitedge strides --data ../shared/data/ipol-gait --trial 1-1 --json
  gaitedge compare --shoes A B --db /data/trials.db    does shoe B change how people walk?
  gaitedge report 3 --db /data/trials.db      trial 3's strides, symmetry and curves as HTML
  gaitedge train ../shared/data/ipol-gait --out models/my-model --folds 7
  gaitedge evaluate models/gait-phase MY_DATA_DIR

protocol: see firmware_bridge/PROTOCOL.md (frames, packets, scales, BLE UUIDs)
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gaitedge`` console script; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG
        if args.verbose > 1
        else logging.INFO
        if args.verbose
        else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(asyncio.run(args.func(args)) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into head & co.: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except (GaitedgeError, FileNotFoundError, ValueError) as e:
        print(f"gaitedge: error: {e}", file=sys.stderr)
        return 2
    except ImportError as e:  # an optional extra that is not installed
        print(f"gaitedge: error: {e} (is the extra installed? see README)", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gaitedge",
        description="Edge runtime for instrumented shoes: decode insole streams on a Pi.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("-v", "--verbose", action="count", default=0, help="-v info, -vv debug logs")
    sub = p.add_subparsers(title="commands", required=True, metavar="COMMAND")

    for group in (simulate, link, trials, strides, compare, models):
        group.add_commands(sub)
    return p
