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
# the NumPy GRU engine (the Pi's default backend): step over streams equals run
from edge.gru import GRU, GRUWeights
from edge.quant import weights_from_arrays, weights_to_arrays
w = weights_from_arrays(weights_to_arrays(GRUWeights.random(6, 64, 3, seed=1), "int8"))
x = ((got.imu - got.imu.mean(0)) / got.imu.std(0))[:300, None, :].repeat(2, axis=1)
ref, _ = GRU(w).run(x)
g = GRU(w)
g.add_stream("L"); g.add_stream("R")
stepped = np.stack([g.step(xt).copy() for xt in x])
assert np.abs(stepped - ref).max() < 1e-5, np.abs(stepped - ref).max()
print(f"ok: {platform.machine()} Python {sys.version.split()[0]}, numpy {np.__version__}, "
      f"cobs C core {using_cobs_c_core()}: {len(got)} samples, "
      f"{dec.stats.lost_samples} lost in {dec.stats.gaps} gaps, as recorded; GRU step == run")
PY
