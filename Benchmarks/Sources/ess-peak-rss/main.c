// ess-peak-rss PROGRAM ARGS...: runs PROGRAM (stdout and stderr inherited), then prints
// "peak_rss_kb=N seconds=S status=C" on stderr: N is the child's peak resident set (wait4's
// ru_maxrss, the kernel's VmHWM at exit).
//
// Why a separate, tiny process: Linux carries the peak RSS of the memory a process had before
// execve into ru_maxrss, and posix_spawn (vfork) from a large parent starts the child in the
// parent's memory, so the child's ru_maxrss is at least the parent's RSS. This launcher is a
// few hundred KiB, so the maximum it reports is the program's own.
#include <errno.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: ess-peak-rss PROGRAM ARGS...\n");
        return 64;
    }
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    pid_t pid = fork();
    if (pid < 0) {
        perror("ess-peak-rss: fork");
        return 71;
    }
    if (pid == 0) {
        execv(argv[1], argv + 1);
        perror("ess-peak-rss: execv");
        _exit(127);
    }
    int status = 0;
    struct rusage usage;
    while (wait4(pid, &status, 0, &usage) < 0) {
        if (errno != EINTR) {
            perror("ess-peak-rss: wait4");
            return 71;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    double seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    fprintf(stderr, "peak_rss_kb=%ld seconds=%.3f status=%d\n", usage.ru_maxrss, seconds, code);
    return code;
}
