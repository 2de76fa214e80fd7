"""Progress bars (tqdm) for the long offline jobs: training and replay."""

from __future__ import annotations

from typing import Any

__all__ = ["progress_bar"]


def progress_bar(
    *, total: int = 0, desc: str | None = None, unit: str, disable: bool = False
) -> Any:
    """A tqdm bar that clears itself when done.

    tqdm's monitor thread (it wakes every 10 s to re-tune bars that stall) is switched off:
    these bars are updated often, and a recording process should not carry a stray thread.
    """
    from tqdm import tqdm

    tqdm.monitor_interval = 0
    return tqdm(total=total, desc=desc, unit=unit, leave=False, disable=disable)
