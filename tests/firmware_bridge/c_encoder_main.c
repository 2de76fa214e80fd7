/*
 * Test driver for firmware_bridge/c/gaitedge_insole.h, built and run by test_c_encoder.py.
 *
 * Prints one line per result, "<kind> <label> <value>", value in hex for byte strings:
 *   crc      <label> <crc as 4 hex digits>
 *   example  <name>  <frame hex>        the worked examples of PROTOCOL.md section 6
 *   cobs     <k>     <encoded hex>      ge_cobs_encode() on COBS_CASES[k]
 *   samples  <k>     <frame hex>        generated SAMPLES frames (inputs: see gen_samples)
 *   devinfo  <k>     <frame hex>        DEVICE_INFO edge cases
 *   status   <k>     <frame hex>        STATUS edge cases
 *   ret      <label> <decimal>          return value of a call that should fail or just fit
 *   intact   <label> <0|1>              1 if a refused call left the buffer beyond cap intact
 *
 * The generator (LCG and the value mapping) is mirrored in test_c_encoder.py; keep in step.
 */
#include <stdio.h>
#include <string.h>

#include "gaitedge_insole.h"

#define GUARD 0xA5u
#define BUF_LEN 700u

static uint32_t lcg_state = 0x12345678u;

static uint32_t lcg_next(void)
{
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return lcg_state;
}

static int16_t as_i16(uint32_t v16)
{
    return (int16_t)(v16 >= 32768u ? (int32_t)v16 - 65536 : (int32_t)v16);
}

/* IMU count: extremes, zero and a zero low byte show up often. */
static int16_t gen_imu(void)
{
    uint32_t r = lcg_next();
    uint32_t v = r >> 16;
    switch ((r >> 8) & 7u) {
    case 0: return -32767 - 1;
    case 1: return 32767;
    case 2: return 0;
    case 3: return as_i16(v & 0xFF00u);
    default: return as_i16(v);
    }
}

/* Pressure count: invalid marker, zero, values with a zero byte, largest valid. */
static uint16_t gen_pressure(void)
{
    uint32_t r = lcg_next();
    uint32_t v = r >> 16;
    switch ((r >> 8) & 7u) {
    case 0: return (uint16_t)GE_PRESSURE_INVALID;
    case 1: return 0u;
    case 2: return (uint16_t)(v & 0xFF00u);
    case 3: return (uint16_t)(v & 0x00FFu);
    case 4: return 0xFFFEu;
    default: return (uint16_t)v;
    }
}

static void print_hex(const char *kind, const char *label, const uint8_t *b, size_t n)
{
    size_t i;
    printf("%s %s ", kind, label);
    for (i = 0; i < n; ++i) {
        printf("%02x", b[i]);
    }
    printf("%s\n", n == 0u ? "-" : "");
}

static void print_ret(const char *label, size_t ret)
{
    printf("ret %s %lu\n", label, (unsigned long)ret);
}

/* 1 if buf[from .. BUF_LEN) still holds the guard byte. */
static int intact(const uint8_t *buf, size_t from)
{
    size_t i;
    for (i = from; i < BUF_LEN; ++i) {
        if (buf[i] != GUARD) {
            return 0;
        }
    }
    return 1;
}

static uint8_t buf[BUF_LEN];
static int16_t imu[20 * 6];
static uint16_t pres[20 * GE_MAX_PRESSURE_CELLS];

/* (n, p) of the generated SAMPLES frames; mirrored in the Python test. */
static const unsigned SAMPLE_CASES[][2] = {
    {1, 0}, {19, 0}, {5, 16}, {4, 0}, {3, 8}, {1, 16}, {13, 3}, {2, 1},
    {7, 2}, {19, 0}, {1, 1}, {6, 13}, {4, 4}, {11, 4}, {9, 7}, {5, 16},
};

/* (length, zero every k-th byte or 0 for none) of the COBS cases; mirrored in Python. */
static const unsigned COBS_CASES[][2] = {
    {0, 0},   {1, 0},   {1, 1},   {2, 1},     {253, 0},   {254, 0},   {255, 0},
    {256, 0}, {508, 0}, {509, 0}, {254, 254}, {255, 255}, {256, 255}, {600, 100},
    {600, 1}, {300, 2},
};

static void cobs_input(uint8_t *dst, unsigned len, unsigned every)
{
    unsigned i;
    for (i = 0; i < len; ++i) {
        dst[i] = (every != 0u && i % every == every - 1u) ? 0u : (uint8_t)((i * 7u) % 255u + 1u);
    }
}

static void examples(void)
{
    /* 6.1 */
    static const int16_t ex_imu[2 * 6] = {2048, 0, 0, 0, 0, 16, 2047, -1, 1, 256, -256, 0};
    ge_device_info_t info;
    ge_status_t st;
    size_t n = ge_frame_samples(buf, sizeof buf, 1000u, 4294967000u, 10000u,
                                GE_RANGES(GE_ACCEL_RANGE_16G, GE_GYRO_RANGE_2000DPS), 2u, 0u,
                                ex_imu, NULL);
    print_hex("example", "samples", buf, n);

    /* 6.2 */
    memset(&info, 0, sizeof info);
    info.device_id = 0x0000C0FFEE0000A1u;
    info.side = GE_SIDE_LEFT;
    info.sample_rate_mhz = 100000u;
    info.accel_range = GE_ACCEL_RANGE_16G;
    info.gyro_range = GE_GYRO_RANGE_2000DPS;
    info.n_pressure = 0;
    info.samples_per_packet = 4;
    info.boot_id = 0x1234u;
    info.fw_major = 1;
    info.axis_frame = GE_AXIS_FRAME_SENSOR;
    memcpy(info.model, "GE-IMU-1", 8);
    n = ge_frame_device_info(buf, sizeof buf, &info);
    print_hex("example", "device_info", buf, n);

    /* 6.3 */
    memset(&st, 0, sizeof st);
    st.t_us = 123456u;
    st.battery_pct = 87;
    st.battery_mv = 3950;
    st.temperature_c = 31;
    n = ge_frame_status(buf, sizeof buf, &st);
    print_hex("example", "status", buf, n);
}

static void gen_samples(void)
{
    uint32_t seq = 0xFFFFFFFFu - 60u;
    uint32_t t_us = 0xFFFFFFFFu - 250000u;
    size_t k;
    char label[16];
    for (k = 0; k < sizeof SAMPLE_CASES / sizeof SAMPLE_CASES[0]; ++k) {
        size_t n = SAMPLE_CASES[k][0];
        size_t p = SAMPLE_CASES[k][1];
        uint16_t period = (uint16_t)(2500u + 3700u * k);
        uint8_t ranges = GE_RANGES(k % 5u, k % 6u);
        size_t i;
        size_t len;
        for (i = 0; i < n * 6u; ++i) {
            imu[i] = gen_imu();
        }
        for (i = 0; i < n * p; ++i) {
            pres[i] = gen_pressure();
        }
        len = ge_frame_samples(buf, sizeof buf, seq, t_us, period, ranges, n, p, imu,
                               p == 0u ? NULL : pres);
        sprintf(label, "%lu", (unsigned long)k);
        print_hex("samples", label, buf, len);
        seq += (uint32_t)n;
        t_us += (uint32_t)n * period;
    }
}

static void gen_device_info(void)
{
    ge_device_info_t d[4];
    size_t k;
    char label[16];
    memset(d, 0, sizeof d);
    d[0].side = GE_SIDE_UNKNOWN;
    d[0].sample_rate_mhz = 1u;
    d[0].samples_per_packet = 1;

    d[1].fw_major = 255;
    d[1].fw_minor = 255;
    d[1].fw_patch = 65535u;
    d[1].device_id = 0xFFFFFFFFFFFFFFFFu;
    d[1].side = GE_SIDE_RIGHT;
    d[1].sample_rate_mhz = 0xFFFFFFFFu;
    d[1].accel_range = GE_ACCEL_RANGE_32G;
    d[1].gyro_range = GE_GYRO_RANGE_4000DPS;
    d[1].n_pressure = GE_MAX_PRESSURE_CELLS;
    d[1].samples_per_packet = GE_SAMPLES_MAX_N_FULL_PRESSURE;
    d[1].boot_id = 0xFFFFu;
    d[1].axis_frame = GE_AXIS_FRAME_INSOLE;
    memcpy(d[1].model, "ABCDEFGHIJKLMNOP", GE_MODEL_LEN); /* all 16 bytes, no NUL */

    d[2].fw_major = 2;
    d[2].fw_minor = 7;
    d[2].fw_patch = 513;
    d[2].device_id = 0x0100000000000001u;
    d[2].side = GE_SIDE_LEFT;
    d[2].sample_rate_mhz = 104000u;
    d[2].accel_range = GE_ACCEL_RANGE_8G;
    d[2].gyro_range = GE_GYRO_RANGE_1000DPS;
    d[2].n_pressure = 8;
    d[2].samples_per_packet = 3;
    d[2].boot_id = 0xABCDu;
    d[2].axis_frame = GE_AXIS_FRAME_INSOLE;
    memcpy(d[2].model, "insole-\xc3\xbc-X", 11); /* UTF-8 */

    d[3].fw_minor = 1;
    d[3].device_id = 0x00000000FFFFFFFFu;
    d[3].side = GE_SIDE_LEFT;
    d[3].sample_rate_mhz = 100000u;
    d[3].accel_range = GE_ACCEL_RANGE_16G;
    d[3].gyro_range = GE_GYRO_RANGE_2000DPS;
    d[3].samples_per_packet = 4;
    d[3].boot_id = 0x0100u;
    memcpy(d[3].model, "AB\0CDEFGHIJKLMN", GE_MODEL_LEN); /* bytes after the NUL: sent as 0 */

    for (k = 0; k < 4u; ++k) {
        size_t len = ge_frame_device_info(buf, sizeof buf, &d[k]);
        sprintf(label, "%lu", (unsigned long)k);
        print_hex("devinfo", label, buf, len);
    }
}

static void gen_status(void)
{
    ge_status_t s[3];
    size_t k;
    char label[16];
    memset(s, 0, sizeof s);
    s[0].battery_mv = 1;
    s[0].temperature_c = -127;

    s[1].t_us = 0xFFFFFFFFu;
    s[1].battery_pct = GE_BATTERY_UNKNOWN;
    s[1].battery_mv = GE_BATTERY_MV_UNKNOWN;
    s[1].error_flags = GE_ERR_IMU_FAULT | GE_ERR_PRESSURE_FAULT | GE_ERR_FIFO_OVERFLOW |
                       GE_ERR_LOW_BATTERY | GE_ERR_TX_BACKPRESSURE | GE_ERR_CLOCK;
    s[1].temperature_c = GE_TEMPERATURE_UNKNOWN;
    s[1].device_dropped = 0xFFFFFFFFu;

    s[2].t_us = 0x00010000u;
    s[2].battery_pct = 100;
    s[2].battery_mv = 65535u;
    s[2].error_flags = GE_ERR_LOW_BATTERY | GE_ERR_CLOCK;
    s[2].temperature_c = 127;
    s[2].device_dropped = 256u;

    for (k = 0; k < 3u; ++k) {
        size_t len = ge_frame_status(buf, sizeof buf, &s[k]);
        sprintf(label, "%lu", (unsigned long)k);
        print_hex("status", label, buf, len);
    }
}

static void gen_cobs(void)
{
    static uint8_t in[BUF_LEN];
    size_t k;
    char label[16];
    for (k = 0; k < sizeof COBS_CASES / sizeof COBS_CASES[0]; ++k) {
        size_t len;
        cobs_input(in, COBS_CASES[k][0], COBS_CASES[k][1]);
        len = ge_cobs_encode(in, COBS_CASES[k][0], buf, sizeof buf);
        sprintf(label, "%lu", (unsigned long)k);
        print_hex("cobs", label, buf, len);
        /* one byte short must fail without writing at or past cap */
        memset(buf, GUARD, sizeof buf);
        sprintf(label, "cobs_short_%lu", (unsigned long)k);
        print_ret(label, ge_cobs_encode(in, COBS_CASES[k][0], buf, len - 1u));
        printf("intact %s %d\n", label, intact(buf, len - 1u));
        sprintf(label, "cobs_exact_%lu", (unsigned long)k);
        print_ret(label, ge_cobs_encode(in, COBS_CASES[k][0], buf, len));
    }
    print_ret("cobs_null_dst", ge_cobs_encode(in, 3u, NULL, 10u));
    print_ret("cobs_null_src", ge_cobs_encode(NULL, 3u, buf, 10u));
    print_ret("cobs_null_src_empty", ge_cobs_encode(NULL, 0u, buf, 10u));
}

/* Calls that must fail, and the boundary calls that must just succeed. */
static void refusals(void)
{
    ge_device_info_t info;
    ge_status_t st;
    size_t i;
#define TRY(label, call)                                  \
    do {                                                  \
        memset(buf, GUARD, sizeof buf);                   \
        print_ret(label, (call));                         \
        printf("intact %s %d\n", label, intact(buf, 0u)); \
    } while (0)
    for (i = 0; i < 20u * 6u; ++i) {
        imu[i] = (int16_t)i;
    }
    for (i = 0; i < 20u * GE_MAX_PRESSURE_CELLS; ++i) {
        pres[i] = (uint16_t)i;
    }
    TRY("samples_n20_p0", ge_frame_samples(buf, sizeof buf, 0, 0, 1, 0x43, 20, 0, imu, NULL));
    TRY("samples_n6_p16", ge_frame_samples(buf, sizeof buf, 0, 0, 1, 0x43, 6, 16, imu, pres));
    TRY("samples_n0", ge_frame_samples(buf, sizeof buf, 0, 0, 1, 0x43, 0, 0, imu, NULL));
    TRY("samples_n300", ge_frame_samples(buf, sizeof buf, 0, 0, 1, 0x43, 300, 0, imu, NULL));
    TRY("samples_p17", ge_frame_samples(buf, sizeof buf, 0, 0, 1, 0x43, 1, 17, imu, pres));
    TRY("samples_imu_null", ge_frame_samples(buf, sizeof buf, 0, 0, 1, 0x43, 1, 0, NULL, NULL));
    TRY("samples_pres_null", ge_frame_samples(buf, sizeof buf, 0, 0, 1, 0x43, 1, 1, imu, NULL));
    TRY("samples_out_null", ge_frame_samples(NULL, 256, 0, 0, 1, 0x43, 1, 0, imu, NULL));
    TRY("samples_accel5", ge_frame_samples(buf, sizeof buf, 0, 0, 1, 0x45, 1, 0, imu, NULL));
    TRY("samples_gyro6", ge_frame_samples(buf, sizeof buf, 0, 0, 1, 0x63, 1, 0, imu, NULL));
    TRY("samples_cap0", ge_frame_samples(buf, 0, 0, 0, 1, 0x43, 1, 0, imu, NULL));
    TRY("samples_n19_cap_short",
        ge_frame_samples(buf, GE_FRAME_LEN(GE_SAMPLES_PACKET_LEN(19, 0)) - 1u, 0, 0, 1, 0x43,
                         19, 0, imu, NULL));
    TRY("samples_n5_p16_cap_short",
        ge_frame_samples(buf, GE_FRAME_LEN(GE_SAMPLES_PACKET_LEN(5, 16)) - 1u, 0, 0, 1, 0x43, 5,
                         16, imu, pres));
    print_ret("samples_n19_cap_exact",
              ge_frame_samples(buf, GE_FRAME_LEN(GE_SAMPLES_PACKET_LEN(19, 0)), 0, 0, 1, 0x54, 19,
                               0, imu, NULL));
    print_ret("samples_n5_p16_cap_exact",
              ge_frame_samples(buf, GE_FRAME_LEN(GE_SAMPLES_PACKET_LEN(5, 16)), 0, 0, 1, 0x00, 5,
                               16, imu, pres));
    print_ret("samples_max_n_p0", (size_t)GE_SAMPLES_MAX_N(0));
    print_ret("samples_max_n_p16", (size_t)GE_SAMPLES_MAX_N(16));
    print_ret("frame_buf_fits_largest", (size_t)(GE_FRAME_BUF_LEN >= GE_MAX_FRAME_LEN + 1));

    memset(&info, 0, sizeof info);
    info.sample_rate_mhz = 100000u;
    info.accel_range = 3;
    info.gyro_range = 4;
    TRY("devinfo_cap_short", ge_frame_device_info(buf, 46, &info));
    print_ret("devinfo_cap_exact", ge_frame_device_info(buf, 47, &info));
    TRY("devinfo_null", ge_frame_device_info(buf, sizeof buf, NULL));
    TRY("devinfo_out_null", ge_frame_device_info(NULL, sizeof buf, &info));
    info.accel_range = 5;
    TRY("devinfo_accel5", ge_frame_device_info(buf, sizeof buf, &info));
    info.accel_range = 3;
    info.gyro_range = 6;
    TRY("devinfo_gyro6", ge_frame_device_info(buf, sizeof buf, &info));
    info.gyro_range = 4;
    info.sample_rate_mhz = 0;
    TRY("devinfo_rate0", ge_frame_device_info(buf, sizeof buf, &info));
    info.sample_rate_mhz = 1;
    info.n_pressure = 17;
    TRY("devinfo_p17", ge_frame_device_info(buf, sizeof buf, &info));

    memset(&st, 0, sizeof st);
    TRY("status_cap_short", ge_frame_status(buf, 19, &st));
    print_ret("status_cap_exact", ge_frame_status(buf, 20, &st));
    TRY("status_null", ge_frame_status(buf, sizeof buf, NULL));
    TRY("status_out_null", ge_frame_status(NULL, sizeof buf, &st));
#undef TRY
}

int main(void)
{
    static const uint8_t check[] = "123456789";
    printf("crc check %04x\n", ge_crc16(check, 9));
    printf("crc empty %04x\n", ge_crc16(NULL, 0));
    examples();
    gen_samples();
    gen_device_info();
    gen_status();
    gen_cobs();
    refusals();
    return 0;
}
