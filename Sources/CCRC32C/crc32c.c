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
