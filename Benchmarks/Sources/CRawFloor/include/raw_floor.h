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

/* The floor of the ingest job itself, for ess-store-bench: what a plain C loop doing less than
 * essd's store does costs, end to end in a new store, for one series of `rows` samples 1 s
 * apart (times from 1700000000000 ms, a value that changes with each sample). Each call makes
 * new files named `path_prefix` + a suffix (open O_CREAT|O_TRUNC, unlinked at once,
 * posix_fallocate, MAP_SHARED mapping, no page touched before the clock starts: like a new
 * store); timed: the loop and a final msync(MS_SYNC) + fdatasync of every file.
 * variant 0, raw rows only: rows of 12 bytes (UInt32 ms since the first sample, Float64 value)
 *   round a ring of `ring_rows` rows; no checksum, no quality, no consolidation.
 * variant 1, minimal job: the same raw rows; a CRC32C (SSE4.2 instruction, one stream) of each
 *   block of 64 rows as it fills, stored in a side file (UInt32 per block; the block being
 *   filled at the end is also checksummed); 1-min slots in a file of 576,000 × 16 bytes
 *   (Float32 mean, min, max, CRC32C of those 12 bytes; slot = minute % 576,000) and 1-h slots in
 *   a file of 87,600 × 16 bytes (Float32 mean, 8 zero bytes, CRC32C), each written once its
 *   last sample is in (the loop runs in stretches up to the next block or minute boundary, not
 *   testing or dividing per sample); the mean is the plain mean of the samples (no time
 *   weighting), nothing else is kept (no count, coverage, first/last, gaps or quality).
 * Returns nanoseconds per sample, or -1 (file error, or variant 1 on a CPU without SSE4.2). */
double essd_job_floor_ns(const char *path_prefix, size_t ring_rows, size_t rows, int variant);
#endif
