/* The reference for scripts/bench-daemon.sh: the same Modbus work as essd (N devices, each
 * R holding... input registers read in requests of 125, once per second on the wall-clock
 * boundary, one thread per device) with plain libmodbus and nothing else: no decoding, no
 * store. Its CPU time and memory are the floor any collector pays for the I/O.
 *   reference_poller HOST FIRST_PORT DEVICES REGISTERS SECONDS
 */
#include <modbus/modbus.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <errno.h>
#include <stdint.h>

static const char *host;
static int first_port, registers, seconds;

static int64_t ns(clockid_t c) { struct timespec t; clock_gettime(c, &t); return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec; }

static void *poll_device(void *arg) {
    int port = first_port + (int)(intptr_t)arg;
    modbus_t *ctx = modbus_new_tcp(host, port);
    modbus_set_slave(ctx, 1);
    if (modbus_connect(ctx) == -1) { fprintf(stderr, "connect %d: %s\n", port, modbus_strerror(errno)); return NULL; }
    uint16_t regs[125];
    int64_t offset = ns(CLOCK_REALTIME) - ns(CLOCK_MONOTONIC);
    int64_t next = (ns(CLOCK_REALTIME) / 1000000000LL + 1) * 1000000000LL;
    for (int s = 0; s < seconds; s++) {
        int64_t deadline = next - offset;
        struct timespec ts = { deadline / 1000000000LL, deadline % 1000000000LL };
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {}
        for (int a = 0; a < registers; a += 125) {
            int n = registers - a < 125 ? registers - a : 125;
            modbus_read_input_registers(ctx, a, n, regs);
        }
        next += 1000000000LL;
    }
    modbus_close(ctx);
    modbus_free(ctx);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 6) { fprintf(stderr, "usage: %s HOST FIRST_PORT DEVICES REGISTERS SECONDS\n", argv[0]); return 64; }
    host = argv[1]; first_port = atoi(argv[2]); int devices = atoi(argv[3]); registers = atoi(argv[4]); seconds = atoi(argv[5]);
    pthread_t threads[1024];
    for (int d = 0; d < devices; d++) pthread_create(&threads[d], NULL, poll_device, (void *)(intptr_t)d);
    for (int d = 0; d < devices; d++) pthread_join(threads[d], NULL);
    return 0;
}
