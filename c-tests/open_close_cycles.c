/* rl_open/rl_close of libsqlite3.so.0 many times (argv[1], default 1000):
 * no mapping, descriptor or heap memory may accumulate. The state before the
 * first open must come back after the last close (file mappings, fds); the
 * state halfway through (one-time caches are filled by then) must equal the
 * state after the last cycle (all mappings, fds, heap bytes in use). */
#include <malloc.h>
#include <time.h>

#include "leak_check.h"

#define LIBSQLITE "/usr/lib/x86_64-linux-gnu/libsqlite3.so.0"
#define HEAP_SLACK (16 * 1024) /* room for one-time cache growth; a leak of 33+ bytes per cycle exceeds it */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cycle(void)
{
    rl_handle *h = rl_open("libsqlite3.so.0", RL_NOW);
    int (*ver)(void);
    int v;
    CHECK(h != NULL, "rl_open(libsqlite3.so.0)");
    ver = SYM(h, int (*)(void), "sqlite3_libversion_number");
    v = ver();
    CHECK(rl_close(h) == 0, "rl_close");
    return v;
}

int main(int argc, char **argv)
{
    int cycles = argc > 1 ? atoi(argv[1]) : 1000;
    struct lines paths0, fds0, lines1, fds1, lines2, fds2, paths2;
    size_t heap1, heap2;
    int v0, i, half = cycles / 2;
    double t0, t1;

    CHECK(cycles >= 100, "at least 100 cycles");
    CHECK(!is_mapped(LIBSQLITE), "not loaded by the host");
    paths0 = maps_lines(1);
    fds0 = fd_lines();

    t0 = now();
    v0 = cycle();
    CHECK(v0 >= 3000000, "sqlite3_libversion_number = %d", v0);
    for (i = 1; i < half; i++)
        if (cycle() != v0)
            CHECK(0, "cycle %d gave another version", i);
    lines1 = maps_lines(0);
    fds1 = fd_lines();
    heap1 = mallinfo2().uordblks; /* after the snapshots, which stay allocated */

    for (i = half; i < cycles; i++)
        if (cycle() != v0)
            CHECK(0, "cycle %d gave another version", i);
    t1 = now();

    heap2 = mallinfo2().uordblks; /* before the snapshots */
    lines2 = maps_lines(0);
    fds2 = fd_lines();
    paths2 = maps_lines(1);

    printf("%d cycles in %.2f s (%.3f ms each); heap in use after %d cycles %zu, after %d cycles %zu bytes\n",
           cycles, t1 - t0, (t1 - t0) * 1000 / cycles, half, heap1, cycles, heap2);

    CHECK(!is_mapped(LIBSQLITE), "libsqlite3 unmapped after the last close");
    CHECK(same("fds (before first open vs after last close)", &fds0, &fds2, NULL),
          "open descriptors differ (see above)");
    CHECK(same("mapped files (before first open vs after last close)", &paths0, &paths2, "/etc/ld.so.cache"),
          "mapped files differ (see above)");
    CHECK(same("maps (halfway vs after the last cycle)", &lines1, &lines2, NULL),
          "mappings accumulated over %d cycles (see above)", cycles - half);
    CHECK(same("fds (halfway vs after the last cycle)", &fds1, &fds2, NULL), "fds accumulated");
    CHECK(heap2 <= heap1 + HEAP_SLACK, "heap in use grew by %zu bytes over %d cycles: a leak", heap2 - heap1,
          cycles - half);

    CHECKS_DONE();
}
