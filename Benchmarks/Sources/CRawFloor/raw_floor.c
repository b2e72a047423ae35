#define _GNU_SOURCE
#include "raw_floor.h"
#include "floor_common.h"

#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
__attribute__((target("sse4.2"))) static uint32_t row_crc(const unsigned char *row) {
    /* The 21 bytes other than the checksum field (bytes 12..15). */
    uint64_t a, b;
    memcpy(&a, row, 8);
    uint32_t c = _mm_crc32_u64(~0u, a);
    uint32_t s;
    memcpy(&s, row + 8, 4);
    c = _mm_crc32_u32(c, s);
    memcpy(&b, row + 16, 8);
    c = (uint32_t)_mm_crc32_u64(c, b);
    c = _mm_crc32_u8(c, row[24]);
    return ~c;
}
#else
static uint32_t row_crc(const unsigned char *row) { (void)row; return 0; }
#endif

double essd_raw_floor_ns(const char *path, size_t ring_rows, size_t rows, int with_crc) {
    enum { row_bytes = 25 };
    if (with_crc && !have_crc()) return -1;
    size_t bytes = ring_rows * row_bytes;
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) return -1;
    unlink(path);
    if (posix_fallocate(fd, 0, (off_t)bytes) != 0) {
        close(fd);
        return -1;
    }
    unsigned char *ring = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (ring == MAP_FAILED) {
        close(fd);
        return -1;
    }
    memset(ring, 0, bytes);
    msync(ring, bytes, MS_SYNC);
    int64_t t = 1700000000000;
    uint32_t sequence = 0;
    double value = 50.0;
    size_t at = 0;
    double start = now_s();
    for (size_t i = 0; i < rows; i++) {
        unsigned char *row = ring + at * row_bytes;
        t += 1000;
        sequence++;
        value += 0.25;
        memcpy(row, &t, 8);
        memcpy(row + 8, &sequence, 4);
        memcpy(row + 16, &value, 8);
        row[24] = 0;
        uint32_t crc = with_crc ? row_crc(row) : 0;
        memcpy(row + 12, &crc, 4);
        if (++at == ring_rows) at = 0;
    }
    double elapsed = now_s() - start;
    munmap(ring, bytes);
    close(fd);
    return elapsed / (double)rows * 1e9;
}
