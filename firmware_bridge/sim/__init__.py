"""Virtual insoles, for demos and tests; the runtime never imports this package.

- :mod:`.walks`: recorded walks (:class:`Recording`, the bundled 14 s, the ipol-gait
  data set) that the simulator streams.
- :mod:`.insole`: :class:`InsoleSimulator` (a recording as the firmware's frames, with
  faults), served on pseudo-terminals (:class:`PtyInsole`) or on the simulated radio.
- :mod:`.ble_radio`: a bleak backend with virtual BLE insoles, passed to bleak through its
  own ``backend=`` argument.
"""
