// CRC-32C (Castagnoli) with the CPU's own instruction: SSE4.2 `crc32` on x86-64, the ARMv8
// CRC extension on AArch64. Thin: no table fallback here (ESSStore keeps the portable one and
// asks `ccrc32c_hardware_available()` once).
#ifndef CCRC32C_H
#define CCRC32C_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when this CPU has a CRC-32C instruction that `ccrc32c_hardware_update` uses, else 0.
int ccrc32c_hardware_available(void);

/// Continues the raw (not inverted) CRC-32C register `crc` over `count` bytes at `data`.
/// Only valid when `ccrc32c_hardware_available()` returned 1.
uint32_t ccrc32c_hardware_update(uint32_t crc, const void *data, size_t count);

/// `ccrc32c_hardware_update`, also copying the `keep_count` bytes at `keep_offset` of `data` into
/// `keep` exactly as they were loaded for the CRC (so a concurrent writer cannot make the kept
/// bytes differ from the ones the CRC vouched for). Requires keep_offset + keep_count <= count.
uint32_t ccrc32c_hardware_update_keeping(uint32_t crc, const void *data, size_t count, size_t keep_offset,
                                         size_t keep_count, void *keep);

/// Stores the CRC-32C (inverted, as `~update(~0, ...)`) of each of `count` rows laid `row_bytes`
/// apart from `rows`, over every byte of the row except the 4 at `crc_offset`, into those 4
/// bytes (little-endian). Rows are checksummed four at a time, their instruction chains
/// interleaved (the instruction's latency, not its throughput, bounds one row alone).
/// Requires crc_offset + 4 <= row_bytes. Only valid when `ccrc32c_hardware_available()` returned 1.
void ccrc32c_hardware_store_row_checksums(void *rows, size_t row_bytes, size_t count, size_t crc_offset);

#ifdef __cplusplus
}
#endif

#endif
