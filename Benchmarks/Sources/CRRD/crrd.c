#include "CRRD.h"
#include <rrd.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int essd_rrd_create(const char *path, unsigned long step_s, long last_up, int ds_count, unsigned long heartbeat_s,
                    const char *const *rras, int rra_count) {
    int argc = ds_count + rra_count;
    const char **argv = calloc((size_t)argc, sizeof(char *));
    char *names = calloc((size_t)ds_count, 64);
    if (argv == NULL || names == NULL) { free(argv); free(names); return -1; }
    for (int i = 0; i < ds_count; i++) {
        snprintf(names + 64 * i, 64, "DS:v%d:GAUGE:%lu:U:U", i, heartbeat_s);
        argv[i] = names + 64 * i;
    }
    for (int i = 0; i < rra_count; i++) argv[ds_count + i] = rras[i];
    rrd_clear_error();
    int status = rrd_create_r(path, step_s, (time_t)last_up, argc, argv);
    free(argv);
    free(names);
    return status == 0 ? 0 : -1;
}

int essd_rrd_ingest(const char *path, long first_time, long step_s, const double *values, long count, int batch,
                    double *seconds) {
    enum { width = 40 };
    char *text = malloc((size_t)count * width);
    const char **argv = malloc((size_t)count * sizeof(char *));
    if (text == NULL || argv == NULL) { free(text); free(argv); return -1; }
    for (long i = 0; i < count; i++) {
        snprintf(text + i * width, width, "%ld:%.6f", first_time + i * step_s, values[i]);
        argv[i] = text + i * width;
    }
    rrd_clear_error();
    int status = 0;
    double start = now_seconds();
    for (long i = 0; i < count && status == 0; i += batch) {
        long n = count - i < batch ? count - i : batch;
        status = rrd_update_r(path, NULL, (int)n, argv + i);
    }
    *seconds = now_seconds() - start;
    free(argv);
    free(text);
    return status == 0 ? 0 : -1;
}

int essd_rrd_fetch_sum(const char *path, const char *cf, long start, long end, unsigned long step, double *sum,
                       long *rows, long *valid, double *seconds) {
    time_t from = (time_t)start, to = (time_t)end;
    unsigned long ds_count = 0;
    char **names = NULL;
    rrd_value_t *data = NULL;
    rrd_clear_error();
    double clock_start = now_seconds();
    if (rrd_fetch_r(path, cf, &from, &to, &step, &ds_count, &names, &data) != 0) return -1;
    long n = (long)((to - from) / (time_t)step);
    double total = 0;
    long good = 0;
    for (long i = 0; i < n; i++) {
        double v = data[i * (long)ds_count];
        if (!isnan(v)) { total += v; good++; }
    }
    *seconds = now_seconds() - clock_start;
    for (unsigned long i = 0; i < ds_count; i++) rrd_freemem(names[i]);
    rrd_freemem(names);
    rrd_freemem(data);
    *sum = total;
    *rows = n;
    *valid = good;
    return 0;
}

const char *essd_rrd_error(void) {
    const char *text = rrd_get_error();
    return text == NULL ? "" : text;
}
