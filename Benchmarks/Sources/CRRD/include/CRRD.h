#ifndef ESSD_CRRD_H
#define ESSD_CRRD_H
#include <stdint.h>

/* The librrd side of ess-store-bench: plain librrd calls, nothing of essd in them.
 * Every function returns 0 on success, -1 on failure (essd_rrd_error() says why). */

/* rrd_create_r: `ds_count` GAUGE data sources named v0, v1, ... with `heartbeat_s`, step
 * `step_s`, last update `last_up`, and the given RRA definitions ("RRA:AVERAGE:0.5:60:1440"). */
int essd_rrd_create(const char *path, unsigned long step_s, long last_up, int ds_count, unsigned long heartbeat_s,
                    const char *const *rras, int rra_count);

/* rrd_update_r of one data source: `count` samples, value i at first_time + i * step_s, `batch`
 * "time:value" strings per call. The strings are formatted before the clock starts; only the
 * rrd_update_r calls are timed, into *seconds. */
int essd_rrd_ingest(const char *path, long first_time, long step_s, const double *values, long count, int batch,
                    double *seconds);

/* rrd_fetch_r of `cf` over [start, end], then the sum and count of the non-NaN values of data
 * source 0; the whole call and the sum are timed, into *seconds. */
int essd_rrd_fetch_sum(const char *path, const char *cf, long start, long end, unsigned long step, double *sum,
                       long *rows, long *valid, double *seconds);

/* rrd_get_error(), or "" when there is none. */
const char *essd_rrd_error(void);
#endif
