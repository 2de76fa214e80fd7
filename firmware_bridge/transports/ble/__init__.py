"""A wireless insole over Bluetooth LE, through bleak's public ``BleakScanner`` and ``BleakClient``.

Built around what breaks with bleak on a Raspberry Pi (FIELD-NOTES.md section 1):

* One process owns the adapter, and every scan and every connect of that process goes
  through one lock (:func:`adapter_lock`): BlueZ answers overlapping scan/connect requests
  with ``org.bluez.Error.InProgress`` or hangs.
* Clients are always made from a :class:`~bleak.backends.device.BLEDevice` found by our own
  scan, never from a bare address (which makes bleak scan again by itself). Every device a
  scan sees is remembered, so :func:`scan_insoles` once before a trial lets each shoe
  connect without scanning again.
* The notification callback only puts bytes on the transport's chunk queue, which
  :meth:`BleTransport.read` awaits; no work runs in it.
* After a drop, each reconnect attempt uses a new :class:`~bleak.BleakClient`, within a
  wall-clock budget with exponential backoff. The cached ``BLEDevice`` is tried first;
  only if BlueZ has forgotten the device is there a scan, for that one address. A
  disconnect reported by an old client is ignored.
* Every step that waits on BlueZ (the adapter lock, starting, listening and stopping a
  scan, connecting, subscribing) has a time limit: BlueZ sometimes never answers.
* One task per transport connects, then reconnects after drops: a caller that gives up
  waiting (``wait_for(read(), ...)``) does not cancel a connect half-way.
* The ATT payload size (MTU - 3) is logged, never relied on: frames may span
  notifications, and bytes are delivered as they come.

bleak-retry-connector is not used: it reuses one client across its attempts, its
``max_attempts`` does not bound the time it takes, and its extras talk to BlueZ over D-Bus
directly, so a simulated backend would not run the code a Pi runs.

:mod:`.adapter` holds the lock, the backend choice and the devices scans saw;
:mod:`.scan` listens for insoles; :mod:`.transport` is :class:`BleTransport`.
"""

from firmware_bridge.transports.ble.adapter import BleBackend, adapter_lock
from firmware_bridge.transports.ble.scan import InsoleAdvert, scan_insoles
from firmware_bridge.transports.ble.transport import ALLOW_ENV, BleTransport

__all__ = [
    "ALLOW_ENV",
    "BleBackend",
    "BleTransport",
    "InsoleAdvert",
    "adapter_lock",
    "scan_insoles",
]
