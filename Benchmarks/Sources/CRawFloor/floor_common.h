#ifndef ESSD_FLOOR_COMMON_H
#define ESSD_FLOOR_COMMON_H
/* What both floor loops share: the monotonic clock and the check for the CPU's CRC32C. */
#include <time.h>

static inline double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

#if defined(__x86_64__)
static inline int have_crc(void) { return __builtin_cpu_supports("sse4.2"); }
#else
static inline int have_crc(void) { return 0; }
#endif
#endif
