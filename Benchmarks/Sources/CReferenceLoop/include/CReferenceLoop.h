#ifndef ESSD_CREFERENCELOOP_H
#define ESSD_CREFERENCELOOP_H
#include <stdint.h>

/* Reads `count` holding registers at `address` from unit `unit` at host:port in a tight loop
 * for `seconds`, with plain libmodbus calls. Returns completed reads, or -1 on error. */
long essd_reference_read_loop(const char *host, int port, int unit, int address, int count, double seconds);

/* Sleeps to `n` absolute CLOCK_MONOTONIC deadlines `interval_ms` apart, aligned to the
 * realtime clock, and writes each wake-up's lateness in microseconds to `lateness_us`. */
void essd_reference_sleep_jitter(int n, int interval_ms, int64_t *lateness_us);
#endif
