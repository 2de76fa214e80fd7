"""Wire constants of the gaitedge insole protocol, version 1 (normative text: PROTOCOL.md).

Everything here is a number an insole firmware also has in ``c/gaitedge_insole.h``;
a test keeps the two in step. All multi-byte fields are little-endian.
"""

from __future__ import annotations

import struct
from typing import Final

#: Protocol major version, byte 0 of every packet. A frame with another major is counted
#: as ``unsupported`` and not decoded.
PROTOCOL_MAJOR: Final = 1
#: Protocol minor version, carried in DEVICE_INFO. Minor versions only append fields.
PROTOCOL_MINOR: Final = 0

#: Frame delimiter on the wire: every COBS-encoded packet is followed by one 0x00 byte.
DELIMITER: Final = b"\x00"
#: Largest decoded packet (header + payload + CRC), bytes. COBS adds one byte to a packet of
#: up to 254 bytes, so a frame on the wire is at most 255 bytes plus its delimiter.
MAX_PACKET_LEN: Final = 254
#: Largest COBS-encoded frame without its delimiter, bytes.
MAX_FRAME_LEN: Final = MAX_PACKET_LEN + 1

#: CRC-16/IBM-3740 (also called CRC-16/CCITT-FALSE): poly 0x1021, init 0xFFFF, no
#: reflection, xorout 0x0000. Check value over ASCII "123456789".
CRC_INIT: Final = 0xFFFF
CRC_CHECK_VALUE: Final = 0x29B1

# Packet types (byte 1 of every packet).
#: Who the device is and how to scale its integers. Sent at boot and at least every 2 s.
TYPE_DEVICE_INFO: Final = 0x01
#: One or more consecutive IMU (+ pressure) samples.
TYPE_SAMPLES: Final = 0x02
#: Battery, error flags, device-side drop counter. Sent at least every 2 s.
TYPE_STATUS: Final = 0x03

#: Packet header: protocol major (u8), packet type (u8).
HEADER: Final = struct.Struct("<BB")
#: CRC trailer: u16, little-endian, over header and payload.
CRC: Final = struct.Struct("<H")

#: DEVICE_INFO payload: protocol_minor u8, fw major u8, fw minor u8, fw patch u16,
#: device_id u64, side u8 (ASCII), sample_rate_mhz u32, accel_range u8, gyro_range u8,
#: n_pressure u8, samples_per_packet u8, boot_id u16, axis_frame u8, model char[16].
DEVICE_INFO: Final = struct.Struct("<BBBHQBIBBBBHB16s")
#: SAMPLES payload header: seq u32, t_us u32, period_us u16, ranges u8, n_samples u8,
#: n_pressure u8; then n_samples records.
SAMPLES_HEADER: Final = struct.Struct("<IIHBBB")
#: STATUS payload: t_us u32, battery_pct u8, battery_mv u16, error_flags u16,
#: temperature_c i8, device_dropped u32.
STATUS: Final = struct.Struct("<IBHHbI")

#: Bytes of one IMU record: acc_x, acc_y, acc_z, gyr_x, gyr_y, gyr_z as int16.
IMU_RECORD_LEN: Final = 12
#: Bytes of one pressure cell value (uint16, 0.1 kPa per count).
PRESSURE_CELL_LEN: Final = 2
#: Most pressure cells per sample.
MAX_PRESSURE_CELLS: Final = 16

#: Packet overhead of a SAMPLES packet: header + payload header + CRC, bytes.
SAMPLES_OVERHEAD: Final = HEADER.size + SAMPLES_HEADER.size + CRC.size

#: Standard gravity, m/s^2, used to turn g into SI.
STANDARD_GRAVITY: Final = 9.80665

#: Accelerometer full-scale range codes (low nibble of ``ranges``): code -> ±g.
ACCEL_RANGES_G: Final = {0: 2.0, 1: 4.0, 2: 8.0, 3: 16.0, 4: 32.0}
#: Gyroscope full-scale range codes (high nibble of ``ranges``): code -> ±deg/s.
GYRO_RANGES_DPS: Final = {0: 125.0, 1: 250.0, 2: 500.0, 3: 1000.0, 4: 2000.0, 5: 4000.0}

#: Pressure: kPa per count of the uint16 cell value.
PRESSURE_LSB_KPA: Final = 0.1
#: Pressure cell value meaning "no valid reading" (decoded as NaN).
PRESSURE_INVALID: Final = 0xFFFF

#: Side codes (ASCII).
SIDE_LEFT: Final = ord("L")
SIDE_RIGHT: Final = ord("R")
SIDE_UNKNOWN: Final = ord("U")

#: Axis frame codes of DEVICE_INFO.axis_frame.
AXIS_FRAME_SENSOR: Final = 0  #: as mounted; the model card says what that is
AXIS_FRAME_INSOLE: Final = 1  #: x toward the toes, y to the left, z up (right-handed)

#: STATUS.battery_pct meaning "unknown".
BATTERY_UNKNOWN: Final = 0xFF
#: STATUS.temperature_c meaning "unknown".
TEMPERATURE_UNKNOWN: Final = -128

# STATUS.error_flags bits.
ERR_IMU_FAULT: Final = 1 << 0  #: IMU did not answer or failed its self-test
ERR_PRESSURE_FAULT: Final = 1 << 1  #: a pressure cell is open or shorted
ERR_FIFO_OVERFLOW: Final = 1 << 2  #: the device's sample FIFO overflowed (see device_dropped)
ERR_LOW_BATTERY: Final = 1 << 3  #: battery below the firmware's warning level
ERR_TX_BACKPRESSURE: Final = 1 << 4  #: the radio/USB could not keep up; packets were dropped
ERR_CLOCK: Final = 1 << 5  #: the device clock was adjusted or is not trustworthy

#: Sequence numbers and device timestamps are uint32 and wrap at this modulus.
WRAP: Final = 1 << 32

# Bluetooth LE GATT (128-bit UUIDs, generated for gaitedge).
#: Primary service advertised by a gaitedge insole.
BLE_SERVICE_UUID: Final = "7f3e0001-5c2a-4b8e-9d41-6a1e2b3c4d5e"
#: Notify characteristic carrying the byte stream (frames may span notifications).
BLE_DATA_CHAR_UUID: Final = "7f3e0002-5c2a-4b8e-9d41-6a1e2b3c4d5e"
#: Advertised local name prefix, followed by the side and the last 4 hex digits of the id.
BLE_NAME_PREFIX: Final = "GaitEdge"


def error_names(flags: int) -> list[str]:
    """Names of the ``ERR_*`` bits set in a STATUS packet's ``error_flags`` (without
    ``ERR_``), lowest bit first; an unknown bit shows as ``bit<N>``."""
    names = {v: k[4:] for k, v in globals().items() if k.startswith("ERR_")}
    return [names.get(1 << i, f"bit{i}") for i in range(32) if flags >> i & 1]


def accel_lsb_mps2(code: int) -> float:
    """m/s^2 per count for accelerometer range ``code``; ValueError for an unknown code."""
    try:
        return ACCEL_RANGES_G[code] * STANDARD_GRAVITY / 32768.0
    except KeyError:
        raise ValueError(
            f"unknown accelerometer range code {code!r}; expected one of {sorted(ACCEL_RANGES_G)}"
        ) from None


def gyro_lsb_radps(code: int) -> float:
    """rad/s per count for gyroscope range ``code``; ValueError for an unknown code."""
    try:
        return GYRO_RANGES_DPS[code] * (3.141592653589793 / 180.0) / 32768.0
    except KeyError:
        raise ValueError(
            f"unknown gyroscope range code {code!r}; expected one of {sorted(GYRO_RANGES_DPS)}"
        ) from None


def max_samples_per_packet(n_pressure: int) -> int:
    """Most samples one SAMPLES packet can carry with ``n_pressure`` cells per sample."""
    return (MAX_PACKET_LEN - SAMPLES_OVERHEAD) // (IMU_RECORD_LEN + PRESSURE_CELL_LEN * n_pressure)
