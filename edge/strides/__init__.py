"""Stride analytics: every stride of every foot measured from the shoe's IMU.

- :mod:`~edge.strides.zupt`: zero-velocity (foot flat) detection, stances.
- :mod:`~edge.strides.trajectory`: orientation, velocity, position (ZUPT Kalman filter,
  RTS smoother offline; the forward filter alone live).
- :mod:`~edge.strides.geometry`: heel and toe seen from the sensor, from the shoe size.
- :mod:`~edge.strides.spatial`: per-stride spatial, angular, impact, pressure parameters.
- :mod:`~edge.strides.analysis`: a trial's stride table (both feet, temporal parameters,
  steady-walking rules) and its summary.
- :mod:`~edge.strides.live`: the same, forward only, while a trial records.
- :mod:`~edge.strides.stored`: a stored trial in, its strides stored back.
- :mod:`~edge.strides.text`: tables and summaries for people.
"""
