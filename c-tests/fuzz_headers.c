/* Corrupted copies of a real library never crash relink: each child gets a copy of the image
 * with a few random bytes changed in its structural parts (the ranges given: headers, hash and
 * version tables, the dynamic section), opens it with rl_open_mem and must either load it or
 * fail with an error message. A corruption that is still in bounds can make the image's own code
 * wrong (a segment's file size cut short, an initializer moved inside the code, a RELRO range
 * grown over data): running that code may crash, as it would under any loader. So a child that
 * faults reports where: in relink's code (a failure) or elsewhere (the image's code).
 * argv: library path, iterations, seed, then pairs of file offsets [lo, hi) to corrupt. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/wait.h>
#include <unistd.h>

#include "fault_exit.h"

enum { CHILD_LOADED = 3, CHILD_SILENT = 2 };

int main(int argc, char **argv)
{
    size_t n;
    char *img;
    int iters, nranges, crashes = 0, image_faults = 0, silent = 0, loaded = 0, it, total = 0, r;
    int lo[8], hi[8];

    CHECK(argc >= 6 && argc % 2 == 0 && argc <= 4 + 2 * 8, "usage: fuzz_headers LIB ITERATIONS SEED LO HI [LO HI]...");
    img = read_file_or_die(argv[1], &n);
    iters = atoi(argv[2]);
    srand((unsigned)atoi(argv[3]));
    nranges = (argc - 4) / 2;
    for (r = 0; r < nranges; r++) {
        lo[r] = atoi(argv[4 + 2 * r]);
        hi[r] = atoi(argv[5 + 2 * r]);
        CHECK(0 <= lo[r] && lo[r] < hi[r] && (size_t)hi[r] <= n, "range %d..%d within the image (%zu bytes)", lo[r], hi[r], n);
        total += hi[r] - lo[r];
    }
    for (it = 0; it < iters; it++) {
        int k = 1 + rand() % 8, offs[8], vals[8], j, st;
        pid_t p;

        for (j = 0; j < k; j++) {
            int at = rand() % total;

            for (r = 0; at >= hi[r] - lo[r]; r++)
                at -= hi[r] - lo[r];
            offs[j] = lo[r] + at;
            vals[j] = rand() & 0xff;
        }
        fflush(stdout);
        p = fork();
        CHECK(p >= 0, "fork");
        if (p == 0) {
            char *copy = malloc(n);
            rl_handle *h;

            exit_on_fault();

            memcpy(copy, img, n);
            for (j = 0; j < k; j++)
                copy[offs[j]] = (char)vals[j];
            h = rl_open_mem(copy, n, "corrupted", RL_NOW);
            if (h)
                _exit(rl_close(h) == 0 ? CHILD_LOADED : 4);
            _exit(rl_error() != NULL ? 0 : CHILD_SILENT);
        }
        CHECK(waitpid(p, &st, 0) == p, "waitpid");
        if (WIFSIGNALED(st) || (WIFEXITED(st) && WEXITSTATUS(st) == CRASH_IN_RELINK)) {
            crashes++;
            fprintf(stderr, "iteration %d: relink crashed (%s %d); bytes changed at", it,
                    WIFSIGNALED(st) ? "signal" : "fault in relink, status", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
            for (j = 0; j < k; j++)
                fprintf(stderr, " %#x=%#x", offs[j], vals[j]);
            fprintf(stderr, "\n");
        } else if (WEXITSTATUS(st) == CRASH_ELSEWHERE) {
            image_faults++;
        } else if (WEXITSTATUS(st) == CHILD_LOADED) {
            loaded++;
        } else if (WEXITSTATUS(st) != 0) {
            silent++;
        }
    }
    printf("%d corrupted images: %d loaded, %d refused, %d faulted in their own code, %d relink crashes, %d without a message\n",
           iters, loaded, iters - loaded - image_faults - crashes - silent, image_faults, crashes, silent);
    CHECK(crashes == 0, "%d corrupted images crashed relink", crashes);
    CHECK(silent == 0, "%d failures came without an rl_error() message", silent);
    CHECK(loaded < iters, "the corruption refused at least some images");
    free(img);
    CHECKS_DONE();
}
