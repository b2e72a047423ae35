// CRC-32C with the CPU's instruction; the runtime check decides whether it may be called.
#include "CCRC32C.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

int ccrc32c_hardware_available(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    return (ecx & bit_SSE4_2) ? 1 : 0;
}

__attribute__((target("sse4.2")))
uint32_t ccrc32c_hardware_update(uint32_t crc, const void *data, size_t count) {
    const unsigned char *p = (const unsigned char *)data;
#if defined(__x86_64__)
    uint64_t crc64 = crc;
    while (count >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        crc64 = __builtin_ia32_crc32di(crc64, word);
        p += 8;
        count -= 8;
    }
    crc = (uint32_t)crc64;
#endif
    while (count >= 4) {
        uint32_t word;
        memcpy(&word, p, 4);
        crc = __builtin_ia32_crc32si(crc, word);
        p += 4;
        count -= 4;
    }
    while (count > 0) {
        crc = __builtin_ia32_crc32qi(crc, *p);
        p += 1;
        count -= 1;
    }
    return crc;
}

__attribute__((target("sse4.2")))
uint32_t ccrc32c_hardware_update_keeping(uint32_t crc, const void *data, size_t count, size_t keep_offset,
                                         size_t keep_count, void *keep) {
    const unsigned char *p = (const unsigned char *)data;
    unsigned char *out = (unsigned char *)keep;
    size_t keep_end = keep_offset + keep_count;
    size_t index = 0;
#if defined(__x86_64__)
    uint64_t crc64 = crc;
    while (count - index >= 8) {
        uint64_t word;
        memcpy(&word, p + index, 8);
        crc64 = __builtin_ia32_crc32di(crc64, word);
        if (index + 8 > keep_offset && index < keep_end) {
            size_t from = index < keep_offset ? keep_offset : index;
            size_t to = index + 8 < keep_end ? index + 8 : keep_end;
            memcpy(out + (from - keep_offset), (const unsigned char *)&word + (from - index), to - from);
        }
        index += 8;
    }
    crc = (uint32_t)crc64;
#endif
    while (index < count) {
        unsigned char byte = p[index];
        crc = __builtin_ia32_crc32qi(crc, byte);
        if (index >= keep_offset && index < keep_end) out[index - keep_offset] = byte;
        index += 1;
    }
    return crc;
}

#elif defined(__aarch64__)
#if defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7)
#endif
int ccrc32c_hardware_available(void) { return (getauxval(AT_HWCAP) & HWCAP_CRC32) ? 1 : 0; }
#elif defined(__APPLE__)
int ccrc32c_hardware_available(void) { return 1; }  // every Apple arm64 CPU has ARMv8 CRC

#else
int ccrc32c_hardware_available(void) { return 0; }
#endif

__attribute__((target("crc")))
uint32_t ccrc32c_hardware_update(uint32_t crc, const void *data, size_t count) {
    const unsigned char *p = (const unsigned char *)data;
    while (count >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        crc = __builtin_arm_crc32cd(crc, word);
        p += 8;
        count -= 8;
    }
    while (count > 0) {
        crc = __builtin_arm_crc32cb(crc, *p);
        p += 1;
        count -= 1;
    }
    return crc;
}

__attribute__((target("crc")))
uint32_t ccrc32c_hardware_update_keeping(uint32_t crc, const void *data, size_t count, size_t keep_offset,
                                         size_t keep_count, void *keep) {
    const unsigned char *p = (const unsigned char *)data;
    unsigned char *out = (unsigned char *)keep;
    size_t keep_end = keep_offset + keep_count;
    size_t index = 0;
    while (count - index >= 8) {
        uint64_t word;
        memcpy(&word, p + index, 8);
        crc = __builtin_arm_crc32cd(crc, word);
        if (index + 8 > keep_offset && index < keep_end) {
            size_t from = index < keep_offset ? keep_offset : index;
            size_t to = index + 8 < keep_end ? index + 8 : keep_end;
            memcpy(out + (from - keep_offset), (const unsigned char *)&word + (from - index), to - from);
        }
        index += 8;
    }
    while (index < count) {
        unsigned char byte = p[index];
        crc = __builtin_arm_crc32cb(crc, byte);
        if (index >= keep_offset && index < keep_end) out[index - keep_offset] = byte;
        index += 1;
    }
    return crc;
}

#else
int ccrc32c_hardware_available(void) { return 0; }
uint32_t ccrc32c_hardware_update(uint32_t crc, const void *data, size_t count) {
    (void)data;
    (void)count;
    return crc;
}
uint32_t ccrc32c_hardware_update_keeping(uint32_t crc, const void *data, size_t count, size_t keep_offset,
                                         size_t keep_count, void *keep) {
    (void)data;
    (void)count;
    (void)keep_offset;
    (void)keep_count;
    (void)keep;
    return crc;
}
#endif

// Row checksums, four rows interleaved. One segment of `len` bytes at `off` in four rows
// (the same layout, so one loop drives four independent chains).
#if defined(__x86_64__)
#define CCRC_TARGET __attribute__((target("sse4.2")))
#define CCRC_U64(c, w) ((uint32_t)__builtin_ia32_crc32di((c), (w)))
#define CCRC_U32(c, w) __builtin_ia32_crc32si((c), (w))
#define CCRC_U8(c, w) __builtin_ia32_crc32qi((c), (w))
#define CCRC_HAVE_ROWS 1
#elif defined(__aarch64__) && (defined(__linux__) || defined(__APPLE__))
#define CCRC_TARGET __attribute__((target("crc")))
#define CCRC_U64(c, w) __builtin_arm_crc32cd((c), (w))
#define CCRC_U32(c, w) __builtin_arm_crc32cw((c), (w))
#define CCRC_U8(c, w) __builtin_arm_crc32cb((c), (w))
#define CCRC_HAVE_ROWS 1
#endif

#ifdef CCRC_HAVE_ROWS
static inline CCRC_TARGET uint64_t ccrc_load64(const unsigned char *p) {
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}
static inline CCRC_TARGET uint32_t ccrc_load32(const unsigned char *p) {
    uint32_t w;
    memcpy(&w, p, 4);
    return w;
}

static inline __attribute__((always_inline)) CCRC_TARGET void ccrc_segment4(uint32_t c[4], const unsigned char *r0, size_t stride, size_t off,
                                             size_t len) {
    const unsigned char *p0 = r0 + off, *p1 = p0 + stride, *p2 = p1 + stride, *p3 = p2 + stride;
    uint32_t c0 = c[0], c1 = c[1], c2 = c[2], c3 = c[3];
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        c0 = CCRC_U64(c0, ccrc_load64(p0 + i));
        c1 = CCRC_U64(c1, ccrc_load64(p1 + i));
        c2 = CCRC_U64(c2, ccrc_load64(p2 + i));
        c3 = CCRC_U64(c3, ccrc_load64(p3 + i));
    }
    if (i + 4 <= len) {
        c0 = CCRC_U32(c0, ccrc_load32(p0 + i));
        c1 = CCRC_U32(c1, ccrc_load32(p1 + i));
        c2 = CCRC_U32(c2, ccrc_load32(p2 + i));
        c3 = CCRC_U32(c3, ccrc_load32(p3 + i));
        i += 4;
    }
    for (; i < len; i++) {
        c0 = CCRC_U8(c0, p0[i]);
        c1 = CCRC_U8(c1, p1[i]);
        c2 = CCRC_U8(c2, p2[i]);
        c3 = CCRC_U8(c3, p3[i]);
    }
    c[0] = c0, c[1] = c1, c[2] = c2, c[3] = c3;
}

static inline CCRC_TARGET uint32_t ccrc_segment1(uint32_t c, const unsigned char *p, size_t len) {
    size_t i = 0;
    for (; i + 8 <= len; i += 8) c = CCRC_U64(c, ccrc_load64(p + i));
    if (i + 4 <= len) {
        c = CCRC_U32(c, ccrc_load32(p + i));
        i += 4;
    }
    for (; i < len; i++) c = CCRC_U8(c, p[i]);
    return c;
}

static inline void ccrc_store_le32(unsigned char *p, uint32_t v) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, 4);
#else
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
#endif
}

// Raw rows (CRC at 12: Int64 time, UInt32 sequence): the 12 bytes before the CRC in two
// instructions per row, no loop.
static inline CCRC_TARGET void ccrc_head12x4(uint32_t c[4], const unsigned char *r0, size_t stride) {
    const unsigned char *p1 = r0 + stride, *p2 = p1 + stride, *p3 = p2 + stride;
    uint32_t c0 = CCRC_U64(~0u, ccrc_load64(r0));
    uint32_t c1 = CCRC_U64(~0u, ccrc_load64(p1));
    uint32_t c2 = CCRC_U64(~0u, ccrc_load64(p2));
    uint32_t c3 = CCRC_U64(~0u, ccrc_load64(p3));
    c[0] = CCRC_U32(c0, ccrc_load32(r0 + 8));
    c[1] = CCRC_U32(c1, ccrc_load32(p1 + 8));
    c[2] = CCRC_U32(c2, ccrc_load32(p2 + 8));
    c[3] = CCRC_U32(c3, ccrc_load32(p3 + 8));
}

CCRC_TARGET
void ccrc32c_hardware_store_row_checksums(void *rows, size_t row_bytes, size_t count, size_t crc_offset) {
    unsigned char *r = (unsigned char *)rows;
    size_t tail = row_bytes - crc_offset - 4;
    size_t row = 0;
    for (; row + 4 <= count; row += 4) {
        unsigned char *r0 = r + row * row_bytes;
        uint32_t c[4] = {~0u, ~0u, ~0u, ~0u};
        if (crc_offset == 12) {
            ccrc_head12x4(c, r0, row_bytes);
        } else {
            ccrc_segment4(c, r0, row_bytes, 0, crc_offset);
        }
        ccrc_segment4(c, r0, row_bytes, crc_offset + 4, tail);
        for (int k = 0; k < 4; k++) ccrc_store_le32(r0 + k * row_bytes + crc_offset, ~c[k]);
    }
    for (; row < count; row++) {
        unsigned char *p = r + row * row_bytes;
        uint32_t c = ccrc_segment1(~0u, p, crc_offset);
        c = ccrc_segment1(c, p + crc_offset + 4, tail);
        ccrc_store_le32(p + crc_offset, ~c);
    }
}
#else
void ccrc32c_hardware_store_row_checksums(void *rows, size_t row_bytes, size_t count, size_t crc_offset) {
    (void)rows;
    (void)row_bytes;
    (void)count;
    (void)crc_offset;
}
#endif
