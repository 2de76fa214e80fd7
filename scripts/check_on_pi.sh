#!/usr/bin/env bash
# Prove the runtime installs from aarch64 wheels and decodes the simulator's stream on
# Raspberry Pi OS Bookworm's Python 3.11 (arm64, under qemu), using ../shared/tools/pi-python;
# then that the whole streaming runtime runs there: `gaitedge demo` (simulator -> real
# pseudo-terminals -> pyserial -> decoder -> NumPy GRU -> events -> SQLite trial store).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pi=${PI_PYTHON:-$root/../shared/tools/pi-python}
site=$(mktemp -d)
trap 'rm -rf "$site"' EXIT
"$pi" setup
pi_root=${PI_ROOT:-/var/tmp/pi-bookworm-arm64}  # pi-python's root (same default)
# exactly the runtime dependencies of pyproject.toml (read by the Pi's Python: tomllib)
mapfile -t deps < <("$pi" run "$site" -- -c \
  'import sys, tomllib; print(*tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"], sep="\n")' \
  "$root/pyproject.toml")
[ ${#deps[@]} -gt 0 ] || { echo "FAIL: no dependencies read from pyproject.toml" >&2; exit 1; }
echo "installing for aarch64: ${deps[*]}"
"$pi" install "$site" -- "${deps[@]}"
"$pi" run "$site" -- - <<PY
import platform, sys
sys.path.insert(0, "$root")
import numpy as np, serial, bleak
from firmware_bridge import SampleBlock, StreamDecoder
from firmware_bridge.framing import using_cobs_c_core
from firmware_bridge.sim.walks import bundled_recording
from firmware_bridge.sim.insole import InsoleSimulator
rec = bundled_recording("L")
dec = StreamDecoder()
data = b"".join(f for _, f in InsoleSimulator(rec).frames())
blocks = [b for i in range(0, len(data), 20) for b in dec.feed(data[i : i + 20]) if isinstance(b, SampleBlock)]
got = SampleBlock.concat(blocks)
assert np.array_equal(got.seq, rec.counter) and dec.stats.lost_samples == rec.lost_samples
# the NumPy GRU engine (the Pi's default backend): step over streams equals run
from edge.model.gru import GRU, GRUWeights
from edge.model.quant import weights_from_arrays, weights_to_arrays
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

# The whole runtime: `gaitedge demo` as the README runs it (python -m edge demo from the
# repository root), the bundled 14 s two-shoe walk sent as fast as possible (--speed 0: the
# shortest run the demo allows; the same samples are sent, pacing means nothing under qemu).
# models/ is installed as the package gaitedge_models; the site dir gets the same mapping.
ln -s "$root/models" "$site/gaitedge_models"
# qemu-user's -L prefix maps every absolute path that exists under the root to the root's
# copy, so the guest's open("/dev/ptmx") opens $pi_root/dev/ptmx, a bare device node with no
# devpts beside it, and the kernel refuses it (ENODEV: os.openpty fails). As on a real Pi,
# devpts must be mounted at the root's /dev/pts: bind the host's there, in a private mount
# namespace that ends with the demo (nothing is left mounted). Needs root, as setup does.
set +e
(cd "$root" && unshare --mount --propagation private \
  sh -c 'mount --bind /dev/pts "$1/dev/pts" && shift && exec "$@"' sh "$pi_root" \
  "$pi" run "$site" -- -m edge demo --speed 0 --db "$site/demo.db") 2>&1 | tee "$site/demo.out"
status=${PIPESTATUS[0]}
set -e
[ "$status" -eq 0 ] || { echo "FAIL: gaitedge demo on aarch64 exited with status $status" >&2; exit 1; }
python3 - "$site/demo.out" <<'CHECK'
import re, sys
out = open(sys.argv[1], encoding="utf-8").read()
blocks = {m[1]: m[2] for m in re.finditer(r"^(L|R) shoe: id .*?\n(.*?)(?=\n\n)", out, re.M | re.S)}
trial = re.search(r"^trial (\d+): complete,", out, re.M)
stored = dict(re.findall(r"^  (L|R): (\d+) samples stored", out, re.M))
bad = []
if not trial:
    bad.append("no completed trial in the summary")
for side in "LR":
    block = blocks.get(side, "")
    sent = re.search(r"samples delivered\s+(\d+)", block)
    n = int(stored.get(side, 0))
    if "check              OK: every sample and every gap as recorded" not in block:
        bad.append(f"{side}: no 'check OK' (every sample and gap as recorded) in its summary")
    if not n or not sent or n != int(sent[1]):
        bad.append(f"{side}: {n} samples stored, {sent[1] if sent else 'none'} delivered")
if bad:
    sys.exit("FAIL: gaitedge demo on aarch64: " + "; ".join(bad))
print(f"ok: gaitedge demo on aarch64: trial {trial[1]} complete; L {stored['L']}, "
      f"R {stored['R']} samples stored, each shoe every sample and gap as recorded")
CHECK
