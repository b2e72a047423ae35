#include "CReferenceLoop.h"
#include <modbus/modbus.h>
#include <time.h>
#include <errno.h>

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

long essd_reference_read_loop(const char *host, int port, int unit, int address, int count, double seconds) {
    modbus_t *ctx = modbus_new_tcp(host, port);
    if (ctx == NULL) return -1;
    modbus_set_slave(ctx, unit);
    modbus_set_response_timeout(ctx, 1, 0);
    if (modbus_connect(ctx) == -1) { modbus_free(ctx); return -1; }
    uint16_t regs[125];
    long reads = 0;
    double end = now_seconds() + seconds;
    while (now_seconds() < end) {
        if (modbus_read_registers(ctx, address, count, regs) != count) { reads = -1; break; }
        reads++;
    }
    modbus_close(ctx);
    modbus_free(ctx);
    return reads;
}

static int64_t ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void essd_reference_sleep_jitter(int n, int interval_ms, int64_t *lateness_us) {
    int64_t interval = (int64_t)interval_ms * 1000000LL;
    int64_t offset = ns(CLOCK_REALTIME) - ns(CLOCK_MONOTONIC);
    int64_t next_wall = (ns(CLOCK_REALTIME) / interval + 1) * interval;
    for (int i = 0; i < n; i++) {
        int64_t deadline = next_wall - offset;
        struct timespec ts = { .tv_sec = deadline / 1000000000LL, .tv_nsec = deadline % 1000000000LL };
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {}
        lateness_us[i] = (ns(CLOCK_MONOTONIC) - deadline) / 1000;
        next_wall += interval;
    }
}
