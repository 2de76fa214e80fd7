"""Virtual insoles, for demos and tests; the runtime never imports this package.

- :mod:`.walks`: recorded walks (:class:`Recording`, the bundled 14 s, the ipol-gait
  data set) that the simulator streams.
- :mod:`.insole`: :class:`InsoleSimulator` (a recording as the firmware's frames, with
  faults), :func:`two_shoes`, and :func:`ble_insole` (a simulator on the simulated radio).
- :mod:`.pty`: :class:`PtyInsole`, a simulator served on a pseudo-terminal, as a USB insole.
- :mod:`.ble_radio`: a bleak backend with virtual BLE insoles, passed to bleak through its
  own ``backend=`` argument.
"""
