#!/usr/bin/env bash
# Prove the runtime installs from aarch64 wheels and decodes the simulator's stream on
# Raspberry Pi OS Bookworm's Python 3.11 (arm64, under qemu), using ../shared/tools/pi-python.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pi=${PI_PYTHON:-$root/../shared/tools/pi-python}
site=$(mktemp -d)
trap 'rm -rf "$site"' EXIT
"$pi" setup
"$pi" install "$site" -- numpy pyserial bleak "cobs>=1.2.0"
"$pi" run "$site" -- - <<PY
import platform, sys
sys.path.insert(0, "$root")
import numpy as np, serial, bleak
from firmware_bridge.codec import SampleBlock, StreamDecoder
from firmware_bridge.framing import using_cobs_c_core
from firmware_bridge.recording import bundled_recording
from firmware_bridge.simulator import InsoleSimulator
rec = bundled_recording("L")
dec = StreamDecoder()
data = b"".join(f for _, f in InsoleSimulator(rec).frames())
blocks = [b for i in range(0, len(data), 20) for b in dec.feed(data[i : i + 20]) if isinstance(b, SampleBlock)]
got = SampleBlock.concat(blocks)
assert np.array_equal(got.seq, rec.counter) and dec.stats.lost_samples == rec.lost_samples
print(f"ok: {platform.machine()} Python {sys.version.split()[0]}, numpy {np.__version__}, "
      f"cobs C core {using_cobs_c_core()}: {len(got)} samples, "
      f"{dec.stats.lost_samples} lost in {dec.stats.gaps} gaps, as recorded")
PY
