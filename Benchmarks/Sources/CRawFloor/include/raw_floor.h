#ifndef ESSD_RAW_FLOOR_H
#define ESSD_RAW_FLOOR_H
#include <stddef.h>

/* The memory floor of essd's raw tier, for ess-store-bench: what writing rows of the raw
 * tier's shape for one signal (Int64 time, UInt32 sequence, UInt32 checksum, Float64 value,
 * UInt8 quality: 25 bytes) round a ring of `ring_rows` rows costs with nothing else around it.
 * The ring is a MAP_SHARED mapping of a new file at `path` (blocks reserved), every page
 * written and msync'ed first: the steady state of a running writer, pages resident and clean.
 * Then `rows` rows are written and timed. with_crc: each row also gets a CRC32C (the SSE4.2
 * instruction, 8 bytes at a time, one row after the other). Returns nanoseconds per row, or -1
 * (file error, or with_crc on a CPU without SSE4.2). The file is removed. */
double essd_raw_floor_ns(const char *path, size_t ring_rows, size_t rows, int with_crc);
#endif
