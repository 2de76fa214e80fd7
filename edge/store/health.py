"""Whether a store is still recording, as a value the loop can act on."""

from __future__ import annotations

import enum

from edge.store.schema import TrialStatus

__all__ = ["StoreHealth"]


class StoreHealth(enum.Enum):
    """The store's health; its value is the status a recording trial ends with.

    ``OK``: writing. ``DISK_FULL``: stopped below ``min_free_bytes`` or on "disk full".
    ``WRITE_ERROR``: stopped on any other write error. Once stopped, a store stays so.
    """

    OK = "ok"
    DISK_FULL = "disk_full"
    WRITE_ERROR = "error"

    @property
    def trial_status(self) -> TrialStatus:
        """The status a trial still recording ends with: ``complete`` while OK."""
        return _TRIAL_STATUS[self]


_TRIAL_STATUS: dict[StoreHealth, TrialStatus] = {
    StoreHealth.OK: "complete",
    StoreHealth.DISK_FULL: "disk_full",
    StoreHealth.WRITE_ERROR: "error",
}
