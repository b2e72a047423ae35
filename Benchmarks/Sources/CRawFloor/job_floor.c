#define _GNU_SOURCE
#include "raw_floor.h"
#include "floor_common.h"

#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
/* CRC32C (Castagnoli) of `n` bytes, 8 at a time, one stream. */
__attribute__((target("sse4.2"))) static uint32_t crc32c(const unsigned char *p, size_t n) {
    uint64_t c = 0xffffffffu;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        c = _mm_crc32_u64(c, w);
    }
    uint32_t c32 = (uint32_t)c;
    for (; i < n; i++) c32 = _mm_crc32_u8(c32, p[i]);
    return ~c32;
}
/* CRC32C of a 12-byte slot (bytes 0..11). */
__attribute__((target("sse4.2"))) static uint32_t slot_crc(const unsigned char *s) {
    uint64_t a;
    uint32_t b;
    memcpy(&a, s, 8);
    memcpy(&b, s + 8, 4);
    uint32_t c = (uint32_t)_mm_crc32_u64(0xffffffffu, a);
    return ~_mm_crc32_u32(c, b);
}
#else
static uint32_t crc32c(const unsigned char *p, size_t n) { (void)p; (void)n; return 0; }
static uint32_t slot_crc(const unsigned char *s) { (void)s; return 0; }
#endif

/* A new store file: created (truncated), unlinked at once, blocks reserved, mapped shared;
 * no page touched. */
typedef struct {
    int fd;
    size_t bytes;
    unsigned char *map;
} mapped;

static int map_new(mapped *m, const char *prefix, const char *suffix, size_t bytes) {
    char path[4096];
    m->fd = -1;
    m->map = NULL;
    m->bytes = bytes;
    if (snprintf(path, sizeof path, "%s%s", prefix, suffix) >= (int)sizeof path) return -1;
    m->fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (m->fd < 0) return -1;
    unlink(path);
    if (posix_fallocate(m->fd, 0, (off_t)bytes) != 0) return -1;
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
    if (p == MAP_FAILED) return -1;
    m->map = p;
    return 0;
}

static int sync_file(const mapped *m) {
    if (msync(m->map, m->bytes, MS_SYNC) != 0) return -1;
    return fdatasync(m->fd);
}

static void unmap(mapped *m) {
    if (m->map) munmap(m->map, m->bytes);
    if (m->fd >= 0) close(m->fd);
}

enum { raw_row = 12, block_rows = 64, slot_bytes = 16, minute_slots = 576000, hour_slots = 87600 };
static const int64_t first_ms = 1700000000000;

static void put_row(unsigned char *row, uint32_t offset, double value) {
    memcpy(row, &offset, 4);
    memcpy(row + 4, &value, 8);
}

/* Variant 0: the raw rows alone. */
static double raw_only(const mapped *raw, size_t ring_rows, size_t rows) {
    unsigned char *const ring = raw->map;
    double start = now_s();
    uint32_t offset = 0;
    /* Values 0, 0.25, ..., 100, 0, ... (starting at 50), made from an integer step: no
     * floating-point dependency from one sample to the next. */
    uint32_t step = 200;
    double value = 50.0;
    size_t at = 0;
    for (size_t i = 0; i < rows; i++) {
        put_row(ring + at * raw_row, offset, value);
        offset += 1000;
        if (++step == 401) step = 0;
        value = 0.25 * (double)step;
        if (++at == ring_rows) at = 0;
    }
    if (sync_file(raw) != 0) return -1;
    return now_s() - start;
}

static void put_slot(unsigned char *s, float a, float b, float c) {
    memcpy(s, &a, 4);
    memcpy(s + 4, &b, 4);
    memcpy(s + 8, &c, 4);
    uint32_t crc = slot_crc(s);
    memcpy(s + 12, &crc, 4);
}

/* Variant 1: raw rows + a CRC32C per block of 64 rows + closed 1-min and 1-h slots. The loop
 * runs in stretches that end where a block, a minute or the run ends, so nothing but the
 * stretch's bound is tested per sample. */
static double minimal_job(const mapped *raw, const mapped *blocks, const mapped *minutes, const mapped *hours,
                          size_t ring_rows, size_t rows) {
    /* Locals (the stores through these byte pointers could alias the structs). */
    unsigned char *const ring = raw->map, *const sums = blocks->map;
    unsigned char *const minute_map = minutes->map, *const hour_map = hours->map;
    double start = now_s();
    int64_t t = first_ms;
    uint32_t step = 200;
    size_t at = 0;
    /* The open minute: its number, samples left in it (times step 1000 ms), sum/min/max/n. */
    int64_t minute = t / 60000;
    size_t minute_left = (size_t)(((minute + 1) * 60000 - t + 999) / 1000);
    double m_sum = 0, m_min = INFINITY, m_max = -INFINITY;
    uint32_t m_n = 0;
    /* The open hour: its number, sum and n of its closed minutes. */
    int64_t hour = t / 3600000;
    double h_sum = 0;
    uint32_t h_n = 0;
    size_t done = 0;
    while (done < rows) {
        size_t block_end = (at | (block_rows - 1)) + 1;
        if (block_end > ring_rows) block_end = ring_rows;
        size_t n = block_end - at;
        if (n > minute_left) n = minute_left;
        if (n > rows - done) n = rows - done;
        uint32_t offset = (uint32_t)(t - first_ms);
        unsigned char *row = ring + at * raw_row;
        for (size_t k = 0; k < n; k++) {
            double value = 0.25 * (double)step;
            put_row(row, offset, value);
            m_sum += value;
            m_min = value < m_min ? value : m_min;
            m_max = value > m_max ? value : m_max;
            row += raw_row;
            offset += 1000;
            if (++step == 401) step = 0;
        }
        at += n;
        done += n;
        t += (int64_t)n * 1000;
        m_n += (uint32_t)n;
        minute_left -= n;
        if (at == block_end) {
            size_t first = (at - 1) & ~(size_t)(block_rows - 1);
            uint32_t crc = crc32c(ring + first * raw_row, (at - first) * raw_row);
            memcpy(sums + (first / block_rows) * 4, &crc, 4);
            if (at == ring_rows) at = 0;
        }
        if (minute_left == 0) {
            put_slot(minute_map + (size_t)(minute % minute_slots) * slot_bytes, (float)(m_sum / m_n), (float)m_min,
                     (float)m_max);
            h_sum += m_sum;
            h_n += m_n;
            m_sum = 0;
            m_min = INFINITY;
            m_max = -INFINITY;
            m_n = 0;
            minute = t / 60000;
            minute_left = (size_t)(((minute + 1) * 60000 - t + 999) / 1000);
            if (t / 3600000 != hour) {
                put_slot(hour_map + (size_t)(hour % hour_slots) * slot_bytes, (float)(h_sum / h_n), 0.0f, 0.0f);
                h_sum = 0;
                h_n = 0;
                hour = t / 3600000;
            }
        }
    }
    /* The block being filled, checksummed as it stands. A minute or hour still open is not
     * written: slots are written when their last sample is in. */
    if (at & (block_rows - 1)) {
        size_t first = at & ~(size_t)(block_rows - 1);
        uint32_t crc = crc32c(ring + first * raw_row, (at - first) * raw_row);
        memcpy(sums + (first / block_rows) * 4, &crc, 4);
    }
    if (sync_file(raw) != 0 || sync_file(blocks) != 0 || sync_file(minutes) != 0 || sync_file(hours) != 0) return -1;
    return now_s() - start;
}

double essd_job_floor_ns(const char *path_prefix, size_t ring_rows, size_t rows, int variant) {
    if (ring_rows == 0 || rows == 0 || (variant != 0 && variant != 1)) return -1;
    if (variant == 1 && !have_crc()) return -1;
    mapped raw, blocks, minutes, hours;
    mapped *all[] = {&raw, &blocks, &minutes, &hours};
    for (int i = 0; i < 4; i++) all[i]->fd = -1, all[i]->map = NULL;
    double elapsed = -1;
    if (map_new(&raw, path_prefix, ".raw", ring_rows * raw_row) != 0) goto done;
    if (variant == 0) {
        elapsed = raw_only(&raw, ring_rows, rows);
        goto done;
    }
    size_t block_count = (ring_rows + block_rows - 1) / block_rows;
    if (map_new(&blocks, path_prefix, ".blocks", block_count * 4) != 0 ||
        map_new(&minutes, path_prefix, ".1m", (size_t)minute_slots * slot_bytes) != 0 ||
        map_new(&hours, path_prefix, ".1h", (size_t)hour_slots * slot_bytes) != 0)
        goto done;
    elapsed = minimal_job(&raw, &blocks, &minutes, &hours, ring_rows, rows);
done:
    for (int i = 0; i < 4; i++) unmap(all[i]);
    return elapsed < 0 ? -1 : elapsed / (double)rows * 1e9;
}
