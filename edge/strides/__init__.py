"""Stride analytics: every stride of every foot measured from the shoe's IMU.

- :mod:`~edge.strides.zupt`: zero-velocity (foot flat) detection, mid-stances.
- :mod:`~edge.strides.trajectory`: orientation, velocity, position (ZUPT Kalman, RTS).
"""
