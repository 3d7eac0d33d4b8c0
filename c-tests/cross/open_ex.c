/* rl_open_ex, the one export with five arguments (on Arm and i386 the last is on the stack,
 * and the caller's return address goes after it): the options arrive whole (a lookup hook with
 * its user pointer is asked about the library's symbols), and a bare name is found through the
 * calling program's RUNPATH, as the caller's own search path. */
#include "check.h"

static void *count_lookups(void *user, const char *name, const char *version, const char *requester)
{
    (void)name, (void)version, (void)requester;
    ++*(int *)user;
    return NULL;
}

int main(void)
{
    int asked = 0;
    rl_open_opts opts = {.size = sizeof opts, .before = count_lookups, .before_user = &asked};
    rl_handle *h = rl_open_ex("libcross_lazy.so", NULL, 0, RL_NOW, &opts);
    CHECK(h != NULL, "rl_open_ex(libcross_lazy.so) through the program's RUNPATH");
    CHECK(asked > 0, "the options' hook was asked (%d lookups)", asked);
    double (*call_mix)(long, double, long, double, long, double, long, double, long, double, long, double, long,
                       double, long, double, long, double, long, double) =
        SYM(h, double (*)(long, double, long, double, long, double, long, double, long, double, long, double, long,
                          double, long, double, long, double, long, double),
            "call_mix");
    CHECK(call_mix(1, 0.5, 2, 1.5, 3, 2.5, 4, 3.5, 5, 4.5, 6, 5.5, 7, 6.5, 8, 7.5, 9, 8.5, 10, 9.5) == 11330,
          "call_mix");
    CHECK(rl_close(h) == 0, "rl_close");
    CHECK(rl_open_ex("libcross_no_such.so", NULL, 0, RL_NOW, &opts) == NULL, "a missing library");
    EXPECT_ERROR("libcross_no_such.so");
    CHECKS_DONE();
}
