"""Make firmware_bridge/data/demo_walk.npz: a 14 s slice of real walking, both feet.

Source: ipol-gait trial 1-6 (Voisard et al., IPOL 2023), from 2 s before the walk starts to
12 s into it: standing, then about 10 strides per foot, with the link's real lost samples
(about 60 per foot) left as gaps in the counter. Run from the project root:

    python scripts/make_demo_recording.py [IPOL_DIR]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from firmware_bridge.sim.walks import find_ipol_dir, load_ipol

TRIAL = "1-6"
BEFORE_S, AFTER_S = 2.0, 12.0


def main() -> None:
    data_dir = find_ipol_dir(sys.argv[1] if len(sys.argv) > 1 else None)
    if data_dir is None:
        sys.exit("ipol-gait not found: pass its folder, or set GAITEDGE_IPOL_DIR")
    out = Path(__file__).resolve().parent.parent / "firmware_bridge" / "data" / "demo_walk.npz"
    arrays: dict[str, np.ndarray] = {}
    for side in ("L", "R"):
        rec = load_ipol(data_dir, TRIAL, side)
        start = rec.meta["TrialBoundaries"][0]
        first, stop = start - int(BEFORE_S * 100), start + int(AFTER_S * 100)
        part = rec.window(first, stop)
        arrays[f"{side.lower()}_counter"] = part.counter.astype(np.int32)
        arrays[f"{side.lower()}_imu"] = part.imu
        print(f"{side}: {len(part)} samples, {part.gaps} gaps, {part.lost_samples} lost")
    meta = dict(rec.meta)
    for key in ("LeftFootEvents", "RightFootEvents"):
        meta[key] = [e for e in meta[key] if first <= e[0] and e[1] < stop]
    meta["Slice"] = [first, stop]
    np.savez_compressed(
        out, meta=np.array(json.dumps(meta)), sample_rate_hz=np.array(100.0), **arrays
    )
    print(f"wrote {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
