"""Where the heel and the toe are, seen from the sensor: a foot geometry from the shoe size.

The IMU moves with the shoe but is neither at the heel nor at the toe, so heel and toe
clearance and a heel-based stride length need the two points' offsets from the sensor.
They are given in the FOOT frame, origin at the sensor: x forward along the foot (heel to
toe), y to the left, z up, with the foot flat; metres.

:meth:`FootGeometry.from_shoe_size` estimates them from the EU (Paris point) shoe size and
the mounting. The shoe's inside length is ``size × 2/3`` cm (one Paris point is 2/3 cm) and
the foot is about 1.5 cm shorter (the toe allowance of ISO/TS 19407 sizing guides); the
heel point is at the back of the sole, the toe point at the tip, both at sole level. The
sensor's place along the foot and height above the sole per mounting are this module's
estimates (:data:`MOUNTINGS`): a lab that measured its own insole passes ``heel_m`` and
``toe_m`` instead. Errors of 1–2 cm in these offsets change clearances by well under
1 cm: with the foot flat at the start of a stride, only the offsets' rotation in swing
matters.
"""

from __future__ import annotations

import dataclasses
import math

__all__ = ["MOUNTINGS", "FootGeometry"]

#: Per mounting: (sensor's distance from the heel as a fraction of foot length, sensor
#: height above the sole [m]). ``dorsum``: on the laces over the midfoot (ipol-gait);
#: ``lateral``: on the outer side below the ankle (gaitmap-example's NilsPod);
#: ``insole``: in the sole under the arch.
MOUNTINGS: dict[str, tuple[float, float]] = {
    "dorsum": (0.55, 0.07),
    "lateral": (0.35, 0.04),
    "insole": (0.45, 0.01),
}


@dataclasses.dataclass(frozen=True, slots=True)
class FootGeometry:
    """Heel and toe points relative to the sensor, in the foot frame (module docstring).

    Attributes
    ----------
    heel_m, toe_m : tuple of 3 float
        (forward, left, up) offsets from the sensor [m].
    """

    heel_m: tuple[float, float, float] = (-0.14575, 0.0, -0.07)  # EU 42 on the dorsum
    toe_m: tuple[float, float, float] = (0.11925, 0.0, -0.07)

    def __post_init__(self) -> None:
        for name in ("heel_m", "toe_m"):
            v = getattr(self, name)
            if len(v) != 3 or not all(math.isfinite(x) for x in v):
                raise ValueError(f"{name} is {v!r}; give three finite offsets in metres")
        if not self.toe_m[0] > self.heel_m[0]:
            raise ValueError(
                f"the toe ({self.toe_m[0]} m) must be ahead of the heel ({self.heel_m[0]} m) "
                "along the foot (x forward)"
            )

    @classmethod
    def from_shoe_size(cls, eu_size: float = 42.0, mounting: str = "dorsum") -> FootGeometry:
        """The geometry for a shoe size and mounting (module docstring).

        Parameters
        ----------
        eu_size : float
            EU (Paris point) shoe size, 30–55.
        mounting : {"dorsum", "lateral", "insole"}
            Where the IMU sits (:data:`MOUNTINGS`).
        """
        if not 30.0 <= eu_size <= 55.0:
            raise ValueError(f"shoe size {eu_size!r} is outside EU 30–55; give the EU size")
        if mounting not in MOUNTINGS:
            raise ValueError(f"unknown mounting {mounting!r}; use one of {', '.join(MOUNTINGS)}")
        foot_m = (eu_size * 2.0 / 3.0 - 1.5) / 100.0
        along, height = MOUNTINGS[mounting]
        back = along * foot_m
        return cls(heel_m=(-back, 0.0, -height), toe_m=(foot_m - back, 0.0, -height))
