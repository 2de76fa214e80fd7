/*
 * gaitedge_insole.h - header-only C99 encoder for the gaitedge insole wire protocol 1.0.
 *
 * Normative text: firmware_bridge/PROTOCOL.md. The numbers below are also in
 * firmware_bridge/spec.py; tests/firmware_bridge/test_c_encoder.py checks that the two agree
 * and that every frame built here is byte-for-byte the frame the Python encoder builds.
 *
 * Device -> host only. A frame on the wire is
 *
 *     COBS( [version u8][type u8][payload ...][crc16 u16 LE] ) 0x00
 *
 * with CRC-16/IBM-3740 over version, type and payload, and basic COBS (Cheshire & Baker).
 * Every multi-byte field is little-endian.
 *
 * Usage (one frame per call, straight into the UART / BLE transmit buffer):
 *
 *     uint8_t frame[GE_FRAME_BUF_LEN];
 *     size_t len = ge_frame_samples(frame, sizeof frame, seq, t_us, 10000u,
 *                                   GE_RANGES(GE_ACCEL_RANGE_16G, GE_GYRO_RANGE_2000DPS),
 *                                   4u, 0u, imu, NULL);
 *     if (len != 0u) uart_write(frame, len);   (frame already ends with its 0x00)
 *     seq += 4u; t_us += 4u * 10000u;           (uint32 arithmetic wraps as the protocol wants)
 *
 * Portability: C99 (also C11 and C++), no heap, no stdio, no globals, no tables; only
 * <stdint.h>, <stddef.h> and <string.h>. Every field is written byte by byte, so the code is
 * independent of the CPU's endianness and of alignment (Cortex-M0 included). Nothing here
 * keeps state: the functions are reentrant and may run in an ISR.
 * Stack use: a few words; a frame is assembled in place inside the caller's buffer.
 */
#ifndef GAITEDGE_INSOLE_H
#define GAITEDGE_INSOLE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ protocol constants */

/** Protocol major version, byte 0 of every packet. */
#define GE_PROTOCOL_MAJOR 1
/** Protocol minor version, carried in DEVICE_INFO (minor versions only append fields). */
#define GE_PROTOCOL_MINOR 0

/** Frame delimiter: every COBS-encoded packet is followed by one such byte. */
#define GE_DELIMITER 0x00
/** Largest packet (header + payload + CRC), bytes, before COBS. */
#define GE_MAX_PACKET_LEN 254
/** Largest COBS-encoded packet without its delimiter, bytes (GE_MAX_PACKET_LEN + 1). */
#define GE_MAX_FRAME_LEN 255
/** Largest frame on the wire including its 0x00 delimiter, bytes: a buffer this big holds
 *  any frame built here. */
#define GE_FRAME_BUF_LEN 256

/** CRC-16/IBM-3740 (a.k.a. CRC-16/CCITT-FALSE): polynomial, initial value, check value
 *  (CRC of the ASCII bytes "123456789"). Not reflected, final XOR 0x0000. */
#define GE_CRC_POLY 0x1021u
#define GE_CRC_INIT 0xFFFFu
#define GE_CRC_CHECK_VALUE 0x29B1u

/* Packet types (byte 1 of every packet). */
/** Who the device is and how to scale its integers; at boot, then at least every 2 s. */
#define GE_TYPE_DEVICE_INFO 0x01
/** One or more consecutive IMU (+ pressure) samples. */
#define GE_TYPE_SAMPLES 0x02
/** Battery, error flags, device-side drop counter; at least every 2 s. */
#define GE_TYPE_STATUS 0x03

/* Sizes, bytes. */
#define GE_HEADER_LEN 2                /* version u8, type u8 */
#define GE_CRC_LEN 2                   /* u16 LE */
#define GE_DEVICE_INFO_PAYLOAD_LEN 41  /* see ge_frame_device_info() */
#define GE_STATUS_PAYLOAD_LEN 14       /* see ge_frame_status() */
#define GE_SAMPLES_HEADER_LEN 13       /* seq, t_us, period_us, ranges, n, p */
#define GE_IMU_RECORD_LEN 12           /* 6 x i16 */
#define GE_PRESSURE_CELL_LEN 2         /* u16 */
#define GE_MAX_PRESSURE_CELLS 16       /* most pressure cells per sample */
#define GE_MODEL_LEN 16                /* DEVICE_INFO.model, char[16], NUL-padded */
/** Header + SAMPLES payload header + CRC, bytes. */
#define GE_SAMPLES_OVERHEAD 17

/** Bytes of one SAMPLES record with p pressure cells. */
#define GE_SAMPLES_RECORD_LEN(p) (GE_IMU_RECORD_LEN + GE_PRESSURE_CELL_LEN * (p))
/** Packet length (before COBS) of a SAMPLES packet with n samples of p cells, bytes. */
#define GE_SAMPLES_PACKET_LEN(n, p) (GE_SAMPLES_OVERHEAD + (n) * GE_SAMPLES_RECORD_LEN(p))
/** Most samples in one SAMPLES packet with p pressure cells (a constant expression). */
#define GE_SAMPLES_MAX_N(p) \
    ((GE_MAX_PACKET_LEN - GE_SAMPLES_OVERHEAD) / GE_SAMPLES_RECORD_LEN(p))
/** GE_SAMPLES_MAX_N(0): 19 samples (245-byte packet). */
#define GE_SAMPLES_MAX_N_NO_PRESSURE 19
/** GE_SAMPLES_MAX_N(16): 5 samples. */
#define GE_SAMPLES_MAX_N_FULL_PRESSURE 5
/** Length on the wire (COBS + delimiter) of a packet of packet_len <= GE_MAX_PACKET_LEN
 *  bytes: COBS adds exactly one byte to a packet that short, the delimiter one more. */
#define GE_FRAME_LEN(packet_len) ((packet_len) + 2)
/** Worst-case output of ge_cobs_encode() for len input bytes (no delimiter). */
#define GE_COBS_MAX_ENCODED_LEN(len) ((len) + (len) / 254 + 1)

/** Standard gravity, m/s^2 (accel LSB = full scale in g * this / 32768). */
#define GE_STANDARD_GRAVITY 9.80665

/* Accelerometer full-scale range codes (low nibble of `ranges`). LSB = FS / 32768. */
#define GE_ACCEL_RANGE_2G 0
#define GE_ACCEL_RANGE_4G 1
#define GE_ACCEL_RANGE_8G 2
#define GE_ACCEL_RANGE_16G 3
#define GE_ACCEL_RANGE_32G 4
/** Number of accelerometer range codes (valid codes are 0 .. this - 1). */
#define GE_ACCEL_RANGE_COUNT 5

/* Gyroscope full-scale range codes (high nibble of `ranges`). LSB = FS / 32768. */
#define GE_GYRO_RANGE_125DPS 0
#define GE_GYRO_RANGE_250DPS 1
#define GE_GYRO_RANGE_500DPS 2
#define GE_GYRO_RANGE_1000DPS 3
#define GE_GYRO_RANGE_2000DPS 4
#define GE_GYRO_RANGE_4000DPS 5
/** Number of gyroscope range codes (valid codes are 0 .. this - 1). */
#define GE_GYRO_RANGE_COUNT 6

/** The `ranges` byte of SAMPLES: accel code in bits 0-3, gyro code in bits 4-7.
 *  Gait: GE_RANGES(GE_ACCEL_RANGE_16G, GE_GYRO_RANGE_2000DPS) == 0x43. */
#define GE_RANGES(accel_code, gyro_code) \
    ((uint8_t)(((unsigned)(accel_code) & 0x0Fu) | (((unsigned)(gyro_code) & 0x0Fu) << 4)))

/** Pressure: kPa per count of a cell value (0.1 kPa, so 0 .. 6553.4 kPa). */
#define GE_PRESSURE_LSB_KPA 0.1
/** Pressure cell value meaning "no valid reading". */
#define GE_PRESSURE_INVALID 0xFFFFu

/* DEVICE_INFO.side (ASCII). */
#define GE_SIDE_LEFT 0x4C    /* 'L' */
#define GE_SIDE_RIGHT 0x52   /* 'R' */
#define GE_SIDE_UNKNOWN 0x55 /* 'U' */

/* DEVICE_INFO.axis_frame. */
/** Sensor frame as mounted (the model card says which). */
#define GE_AXIS_FRAME_SENSOR 0
/** Insole frame: x toward the toes, y to the left, z up (right-handed). */
#define GE_AXIS_FRAME_INSOLE 1

/** STATUS.battery_pct meaning "unknown". */
#define GE_BATTERY_UNKNOWN 0xFF
/** STATUS.battery_mv meaning "unknown". */
#define GE_BATTERY_MV_UNKNOWN 0
/** STATUS.temperature_c meaning "unknown". */
#define GE_TEMPERATURE_UNKNOWN (-128)

/* STATUS.error_flags bits (bits 6-15 reserved, send 0). */
#define GE_ERR_IMU_FAULT 0x0001u       /* IMU did not answer or failed its self-test */
#define GE_ERR_PRESSURE_FAULT 0x0002u  /* a pressure cell is open or shorted */
#define GE_ERR_FIFO_OVERFLOW 0x0004u   /* sample FIFO overflowed (see device_dropped) */
#define GE_ERR_LOW_BATTERY 0x0008u     /* battery below the firmware's warning level */
#define GE_ERR_TX_BACKPRESSURE 0x0010u /* radio/USB could not keep up; packets dropped */
#define GE_ERR_CLOCK 0x0020u           /* device clock adjusted or not trustworthy */

/* Bluetooth LE GATT. */
/** Primary service, advertised. */
#define GE_BLE_SERVICE_UUID "7f3e0001-5c2a-4b8e-9d41-6a1e2b3c4d5e"
/** Notify characteristic carrying the same byte stream as serial. */
#define GE_BLE_DATA_CHAR_UUID "7f3e0002-5c2a-4b8e-9d41-6a1e2b3c4d5e"
/** Advertised local name: GE_BLE_NAME_PREFIX "-<side>-<last 4 hex digits of device_id>",
 *  e.g. "GaitEdge-L-00A1". */
#define GE_BLE_NAME_PREFIX "GaitEdge"

/* ------------------------------------------------------------------ types */

/** Content of a DEVICE_INFO packet (protocol_minor is always GE_PROTOCOL_MINOR). */
typedef struct ge_device_info {
    uint8_t fw_major;           /**< firmware version, major */
    uint8_t fw_minor;           /**< firmware version, minor */
    uint16_t fw_patch;          /**< firmware version, patch */
    uint64_t device_id;         /**< unique per insole (factory BLE address, MCU id) */
    uint8_t side;               /**< GE_SIDE_LEFT / GE_SIDE_RIGHT / GE_SIDE_UNKNOWN */
    uint32_t sample_rate_mhz;   /**< nominal output data rate, millihertz (100 Hz = 100000) */
    uint8_t accel_range;        /**< GE_ACCEL_RANGE_* code */
    uint8_t gyro_range;         /**< GE_GYRO_RANGE_* code */
    uint8_t n_pressure;         /**< pressure cells per sample, 0 .. GE_MAX_PRESSURE_CELLS */
    uint8_t samples_per_packet; /**< samples per SAMPLES packet (nominal) */
    uint16_t boot_id;           /**< random value drawn at every power-up */
    uint8_t axis_frame;         /**< GE_AXIS_FRAME_SENSOR or GE_AXIS_FRAME_INSOLE */
    char model[GE_MODEL_LEN];   /**< hardware model, UTF-8; bytes after the first NUL are
                                     sent as NUL; need not be NUL-terminated if 16 bytes */
} ge_device_info_t;

/** Content of a STATUS packet. */
typedef struct ge_status {
    uint32_t t_us;           /**< device clock when taken, us (same clock as SAMPLES) */
    uint8_t battery_pct;     /**< state of charge, %, 0..100; GE_BATTERY_UNKNOWN */
    uint16_t battery_mv;     /**< battery voltage, mV; GE_BATTERY_MV_UNKNOWN (0) */
    uint16_t error_flags;    /**< bit set of GE_ERR_* */
    int8_t temperature_c;    /**< board temperature, degC; GE_TEMPERATURE_UNKNOWN (-128) */
    uint32_t device_dropped; /**< samples lost inside the device since boot (wraps) */
} ge_status_t;

/* ------------------------------------------------------------------ little-endian puts */

/** Write v at p as 1 byte; return p + 1. */
static inline uint8_t *ge_put_u8(uint8_t *p, uint8_t v)
{
    p[0] = v;
    return p + 1;
}

/** Write v at p as u16 little-endian; return p + 2. */
static inline uint8_t *ge_put_u16le(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)(v >> 8);
    return p + 2;
}

/** Write v at p as i16 little-endian (two's complement); return p + 2. */
static inline uint8_t *ge_put_i16le(uint8_t *p, int16_t v)
{
    /* int -> unsigned conversion is defined (modulo 2^16) in C, unlike the reverse. */
    return ge_put_u16le(p, (uint16_t)v);
}

/** Write v at p as u32 little-endian; return p + 4. */
static inline uint8_t *ge_put_u32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)((v >> 8) & 0xFFu);
    p[2] = (uint8_t)((v >> 16) & 0xFFu);
    p[3] = (uint8_t)(v >> 24);
    return p + 4;
}

/** Write v at p as u64 little-endian; return p + 8. */
static inline uint8_t *ge_put_u64le(uint8_t *p, uint64_t v)
{
    ge_put_u32le(p, (uint32_t)(v & 0xFFFFFFFFu));
    return ge_put_u32le(p + 4, (uint32_t)(v >> 32));
}

/* ------------------------------------------------------------------ CRC-16/IBM-3740 */

/*
 * Bitwise, no table: a 256-entry table would cost 512 bytes of flash in every translation
 * unit that includes this header (static data in a header is not shared). The loop costs
 * about 8 shift/xor steps per byte; at 100 Hz that is ~1.5 kB/s of packets, i.e. a few
 * thousand cycles per second on a Cortex-M4: negligible next to the radio.
 */

/** Continue a CRC-16/IBM-3740 over len bytes at data (data may be NULL if len == 0).
 *  Start with crc = GE_CRC_INIT; the result needs no final XOR. */
static inline uint16_t ge_crc16_update(uint16_t crc, const uint8_t *data, size_t len)
{
    size_t i;
    unsigned bit;
    for (i = 0; i < len; ++i) {
        crc = (uint16_t)(crc ^ ((uint16_t)data[i] << 8));
        for (bit = 0; bit < 8u; ++bit) {
            if (crc & 0x8000u) {
                crc = (uint16_t)((crc << 1) ^ GE_CRC_POLY);
            } else {
                crc = (uint16_t)(crc << 1);
            }
        }
    }
    return crc;
}

/** CRC-16/IBM-3740 of len bytes at data: poly 0x1021, init 0xFFFF, not reflected,
 *  xorout 0. ge_crc16("123456789", 9) == GE_CRC_CHECK_VALUE (0x29B1). */
static inline uint16_t ge_crc16(const uint8_t *data, size_t len)
{
    return ge_crc16_update((uint16_t)GE_CRC_INIT, data, len);
}

/* ------------------------------------------------------------------ COBS */

/**
 * Basic COBS (Cheshire & Baker 1999; not COBS/R, not ZPE): encode len bytes at src into
 * dst, which has room for cap bytes. No delimiter is written. A run of 254 non-zero bytes
 * that ends the input gets no extra trailing block (same as the Python `cobs` package).
 *
 * Returns the encoded length (len + 1 for len <= 254; at most GE_COBS_MAX_ENCODED_LEN(len)),
 * or 0 if dst is NULL, cap is too small, or src is NULL with len > 0.
 * src and dst must not overlap.
 */
static inline size_t ge_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap)
{
    size_t i;
    size_t code_pos = 0; /* where the code byte of the current block goes */
    size_t out = 1;      /* next data byte goes here */
    uint8_t code = 1;    /* 1 + data bytes in the current block */
    if (dst == NULL || cap < 1u || (src == NULL && len > 0u)) {
        return 0;
    }
    for (i = 0; i < len; ++i) {
        if (src[i] == 0u) {
            dst[code_pos] = code;
            code_pos = out;
            code = 1;
            if (out >= cap) {
                return 0;
            }
            ++out;
        } else {
            if (out >= cap) {
                return 0;
            }
            dst[out++] = src[i];
            ++code;
            if (code == 0xFFu && i + 1u < len) { /* full block, more input follows */
                dst[code_pos] = code;
                code_pos = out;
                code = 1;
                if (out >= cap) {
                    return 0;
                }
                ++out;
            }
        }
    }
    dst[code_pos] = code;
    return out;
}

/*
 * Internal: finish a frame assembled in place. The packet (header + payload, without CRC)
 * is at buf[1 .. 1 + body_len); buf has room for body_len + 4 bytes. Appends the CRC,
 * COBS-encodes in place and appends the delimiter. Returns the frame length, body_len + 4.
 *
 * In-place COBS works because a packet of at most 254 bytes has no 254-byte block that
 * needs splitting: every data byte stays where it is (one byte after buf[0]) and each
 * 0x00 becomes the code byte of the block that follows it; buf[0] is the first code byte.
 */
static inline size_t ge_priv_finish_frame(uint8_t *buf, size_t body_len)
{
    size_t packet_len = body_len + (size_t)GE_CRC_LEN;
    size_t i;
    size_t code_pos = 0;
    uint8_t code = 1;
    ge_put_u16le(buf + 1 + body_len, ge_crc16(buf + 1, body_len));
    for (i = 1; i <= packet_len; ++i) {
        if (buf[i] == 0u) {
            buf[code_pos] = code;
            code_pos = i;
            code = 1;
        } else {
            ++code; /* at most 1 + 254 = 0xFF, since packet_len <= 254 */
        }
    }
    buf[code_pos] = code;
    buf[packet_len + 1u] = (uint8_t)GE_DELIMITER;
    return GE_FRAME_LEN(packet_len);
}

/* ------------------------------------------------------------------ packet builders */

/**
 * Build a complete DEVICE_INFO frame (COBS(packet + CRC) + 0x00) into out[0 .. cap).
 *
 * The payload (41 bytes) is: protocol_minor u8 (= GE_PROTOCOL_MINOR), fw_major u8,
 * fw_minor u8, fw_patch u16, device_id u64, side u8, sample_rate_mhz u32 (millihertz),
 * accel_range u8, gyro_range u8, n_pressure u8, samples_per_packet u8, boot_id u16,
 * axis_frame u8, model char[16].
 *
 * Returns the frame length (always 47 bytes), or 0 if out or info is NULL, cap < 47, a
 * range code is unknown, sample_rate_mhz is 0 (the host would drop such a packet) or
 * n_pressure > GE_MAX_PRESSURE_CELLS.
 */
static inline size_t ge_frame_device_info(uint8_t *out, size_t cap, const ge_device_info_t *info)
{
    const size_t body_len = (size_t)GE_HEADER_LEN + (size_t)GE_DEVICE_INFO_PAYLOAD_LEN;
    uint8_t *p;
    size_t i;
    int ended = 0;
    if (out == NULL || info == NULL || cap < GE_FRAME_LEN(body_len + (size_t)GE_CRC_LEN) ||
        info->accel_range >= GE_ACCEL_RANGE_COUNT || info->gyro_range >= GE_GYRO_RANGE_COUNT ||
        info->sample_rate_mhz == 0u || info->n_pressure > GE_MAX_PRESSURE_CELLS) {
        return 0;
    }
    p = out + 1;
    p = ge_put_u8(p, (uint8_t)GE_PROTOCOL_MAJOR);
    p = ge_put_u8(p, (uint8_t)GE_TYPE_DEVICE_INFO);
    p = ge_put_u8(p, (uint8_t)GE_PROTOCOL_MINOR);
    p = ge_put_u8(p, info->fw_major);
    p = ge_put_u8(p, info->fw_minor);
    p = ge_put_u16le(p, info->fw_patch);
    p = ge_put_u64le(p, info->device_id);
    p = ge_put_u8(p, info->side);
    p = ge_put_u32le(p, info->sample_rate_mhz);
    p = ge_put_u8(p, info->accel_range);
    p = ge_put_u8(p, info->gyro_range);
    p = ge_put_u8(p, info->n_pressure);
    p = ge_put_u8(p, info->samples_per_packet);
    p = ge_put_u16le(p, info->boot_id);
    p = ge_put_u8(p, info->axis_frame);
    for (i = 0; i < (size_t)GE_MODEL_LEN; ++i) { /* NUL-pad after the first NUL */
        if (info->model[i] == '\0') {
            ended = 1;
        }
        p[i] = ended ? 0u : (uint8_t)info->model[i];
    }
    return ge_priv_finish_frame(out, body_len);
}

/**
 * Build a complete SAMPLES frame (COBS(packet + CRC) + 0x00) into out[0 .. cap).
 *
 * seq        sample counter of the first sample; sample i has counter seq + i (wraps 2^32).
 * t_us       device clock at the first sample, microseconds (wraps 2^32).
 * period_us  spacing of the samples in this packet, microseconds (10000 at 100 Hz);
 *            sample i was taken at t_us + i * period_us. Samples must be consecutive:
 *            after a hole in the device FIFO, start a new packet.
 * ranges     GE_RANGES(accel code, gyro code); the counts below are in these units
 *            (accel LSB = full scale [g] * 9.80665 / 32768 m/s^2, gravity included;
 *            gyro LSB = full scale [deg/s] * pi / 180 / 32768 rad/s).
 * n          samples in this packet, 1 .. GE_SAMPLES_MAX_N(p) (19 with p = 0, 5 with p = 16).
 * p          pressure cells per sample, 0 .. GE_MAX_PRESSURE_CELLS. A firmware without a
 *            pressure calibration must send p = 0, never raw ADC counts.
 * imu        n x 6 int16 counts, sample-major, oldest first: imu[6 * i + k] with
 *            k = acc_x, acc_y, acc_z, gyr_x, gyr_y, gyr_z. An `int16_t a[n][6]` array is
 *            passed as &a[0][0].
 * pressure   n x p uint16, sample-major: pressure[p * i + j], 0.1 kPa per count,
 *            GE_PRESSURE_INVALID (0xFFFF) for no valid reading. May be NULL when p == 0.
 *
 * Returns the frame length, GE_FRAME_LEN(GE_SAMPLES_PACKET_LEN(n, p)) = 19 + n * (12 + 2p)
 * bytes, or 0 if out or imu is NULL, pressure is NULL with p > 0, n == 0, p > 16, the packet
 * would exceed GE_MAX_PACKET_LEN, a range code in `ranges` is unknown (the host would drop
 * the packet), or cap is smaller than the frame.
 */
static inline size_t ge_frame_samples(uint8_t *out, size_t cap, uint32_t seq, uint32_t t_us,
                                      uint16_t period_us, uint8_t ranges, size_t n, size_t p,
                                      const int16_t *imu, const uint16_t *pressure)
{
    size_t body_len;
    size_t i;
    size_t k;
    uint8_t *w;
    if (out == NULL || imu == NULL || (pressure == NULL && p > 0u) || n == 0u ||
        p > (size_t)GE_MAX_PRESSURE_CELLS || n > (size_t)GE_SAMPLES_MAX_N(p) ||
        (ranges & 0x0Fu) >= GE_ACCEL_RANGE_COUNT || (ranges >> 4) >= GE_GYRO_RANGE_COUNT) {
        return 0;
    }
    body_len = (size_t)GE_SAMPLES_PACKET_LEN(n, p) - (size_t)GE_CRC_LEN;
    if (cap < GE_FRAME_LEN(body_len + (size_t)GE_CRC_LEN)) {
        return 0;
    }
    w = out + 1;
    w = ge_put_u8(w, (uint8_t)GE_PROTOCOL_MAJOR);
    w = ge_put_u8(w, (uint8_t)GE_TYPE_SAMPLES);
    w = ge_put_u32le(w, seq);
    w = ge_put_u32le(w, t_us);
    w = ge_put_u16le(w, period_us);
    w = ge_put_u8(w, ranges);
    w = ge_put_u8(w, (uint8_t)n);
    w = ge_put_u8(w, (uint8_t)p);
    for (i = 0; i < n; ++i) {
        for (k = 0; k < 6u; ++k) {
            w = ge_put_i16le(w, imu[6u * i + k]);
        }
        for (k = 0; k < p; ++k) {
            w = ge_put_u16le(w, pressure[p * i + k]);
        }
    }
    return ge_priv_finish_frame(out, body_len);
}

/**
 * Build a complete STATUS frame (COBS(packet + CRC) + 0x00) into out[0 .. cap).
 *
 * The payload (14 bytes) is: t_us u32 (us), battery_pct u8 (%), battery_mv u16 (mV),
 * error_flags u16 (GE_ERR_*), temperature_c i8 (degC), device_dropped u32 (samples).
 *
 * Returns the frame length (always 20 bytes), or 0 if out or status is NULL or cap < 20.
 */
static inline size_t ge_frame_status(uint8_t *out, size_t cap, const ge_status_t *status)
{
    const size_t body_len = (size_t)GE_HEADER_LEN + (size_t)GE_STATUS_PAYLOAD_LEN;
    uint8_t *p;
    if (out == NULL || status == NULL || cap < GE_FRAME_LEN(body_len + (size_t)GE_CRC_LEN)) {
        return 0;
    }
    p = out + 1;
    p = ge_put_u8(p, (uint8_t)GE_PROTOCOL_MAJOR);
    p = ge_put_u8(p, (uint8_t)GE_TYPE_STATUS);
    p = ge_put_u32le(p, status->t_us);
    p = ge_put_u8(p, status->battery_pct);
    p = ge_put_u16le(p, status->battery_mv);
    p = ge_put_u16le(p, status->error_flags);
    p = ge_put_u8(p, (uint8_t)status->temperature_c);
    (void)ge_put_u32le(p, status->device_dropped);
    return ge_priv_finish_frame(out, body_len);
}

#ifdef __cplusplus
}
#endif

#endif /* GAITEDGE_INSOLE_H */
