"""Decode throughput: bytes -> SI samples, one process, one thread.

Streams real gait (the bundled walk, or every ipol-gait trial with --data) through the
encoder once, then times StreamDecoder.feed over the bytes in chunks as a serial port
(4096 B) and a BLE link without MTU exchange (20 B) deliver them, for 1, 4 and 19 samples
per packet; then end to end from a capture file of 20-byte notifications through
ReplayTransport (as fast as possible) into the decoder, the path of re-analysing a
trial. Goal: >= 200,000 samples/s. Also prints what one frame costs in COBS and
CRC alone, so the split between library and our code is visible.

    python benchmarks/decode.py [--data DIR] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import tempfile
import time
import timeit
from pathlib import Path

import numpy as np

from firmware_bridge import SampleBlock, StreamDecoder
from firmware_bridge.framing import crc16, decode_frame, using_cobs_c_core
from firmware_bridge.sim.insole import InsoleSimulator
from firmware_bridge.sim.walks import bundled_recording, find_ipol_dir, load_ipol
from firmware_bridge.transports.capture import CaptureWriter
from firmware_bridge.transports.replay import ReplayTransport

GOAL = 200_000


def _recordings(data: str | None):
    if data is None:
        return [bundled_recording("L"), bundled_recording("R")]
    d = find_ipol_dir(data)
    if d is None:
        sys.exit(f"--data {data!r}: no GaitData/ inside")
    names = sorted({p.name.split("_")[0] for p in (d / "GaitData").glob("*_lf.txt")})
    return [load_ipol(d, n, s) for n in names for s in ("L", "R")]


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", help="ipol-gait folder (default: the bundled walk)")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    recs = _recordings(args.data)
    print(f"python {platform.python_version()} on {platform.machine()}, numpy {np.__version__}, "
          f"cobs C core: {'yes' if using_cobs_c_core() else 'no (pure Python)'}")  # fmt: skip
    print(f"{len(recs)} recordings, {sum(len(r) for r in recs)} samples\n")
    print(f"{'samples/packet':>14} {'chunk B':>8} {'samples/s':>12} {'us/frame':>9} {'x goal':>7}")
    for spp in (1, 4, 19):
        streams = [
            b"".join(f for _, f in InsoleSimulator(r, samples_per_packet=spp).frames())
            for r in recs
        ]
        n_samples = sum(len(r) for r in recs)
        n_frames = sum(s.count(0) for s in streams)
        for chunk in (4096, 20):
            pieces = [[s[i : i + chunk] for i in range(0, len(s), chunk)] for s in streams]
            times = []
            for _ in range(args.rounds):
                t0 = time.perf_counter()
                got = 0
                for stream_pieces in pieces:
                    d = StreamDecoder()
                    for p in stream_pieces:
                        for item in d.feed(p):
                            if type(item) is SampleBlock:
                                got += len(item)
                times.append(time.perf_counter() - t0)
                assert got == n_samples, (got, n_samples)
            t = statistics.median(times)
            rate = n_samples / t
            print(
                f"{spp:>14} {chunk:>8} {rate:>12,.0f} {t / n_frames * 1e6:>9.2f}"
                f" {rate / GOAL:>7.1f}"
            )
    print("\nreplay of a capture of 20-byte notifications, as fast as possible:")
    for spp in (1, 4):
        with tempfile.TemporaryDirectory() as tmp:
            paths = []
            for i, r in enumerate(recs):
                stream = b"".join(f for _, f in InsoleSimulator(r, samples_per_packet=spp).frames())
                w = CaptureWriter(Path(tmp) / f"{i}.gecap", source="bench")
                for j in range(0, len(stream), 20):
                    w.write(stream[j : j + 20])
                w.close()
                paths.append(w.path)
            n_samples = sum(len(r) for r in recs)
            t = statistics.median(
                asyncio.run(_replay(paths, n_samples)) for _ in range(args.rounds)
            )
            rate = n_samples / t
            print(f"{spp:>14} {'capture':>8} {rate:>12,.0f} {'':>9} {rate / GOAL:>7.1f}")
    frame = next(f for _, f in InsoleSimulator(recs[0]).frames() if len(f) > 60)[:-1]
    body = decode_frame(frame)
    n = 20000
    cobs_us = timeit.timeit(lambda: decode_frame(frame), number=n) / n * 1e6
    crc_us = timeit.timeit(lambda: crc16(body), number=n) / n * 1e6
    print(
        f"\none 4-sample frame ({len(frame)} B): COBS+CRC check {cobs_us:.2f} us,"
        f" CRC alone {crc_us:.2f} us"
    )


async def _replay(paths: list[Path], n_samples: int) -> float:
    t0 = time.perf_counter()
    got = 0
    for path in paths:
        d = StreamDecoder()
        async with ReplayTransport(path) as link:
            while chunk := await link.read():
                for item in d.feed(chunk):
                    if type(item) is SampleBlock:
                        got += len(item)
    assert got == n_samples, (got, n_samples)
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
