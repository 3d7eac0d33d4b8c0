/* libopener.so's constructor calls rl_open/rl_sym on libsimple.so and its
 * destructor calls rl_close. argv[1]: fixture dir. */
#include "check.h"

static int close_reports = -1;
static char close_error[256];

void opener_report_close(int rc, const char *err)
{
    close_reports = rc;
    snprintf(close_error, sizeof close_error, "%s", err ? err : "");
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *opener = strf("%s/libopener.so", dir);
    char *simple = strf("%s/libsimple.so", dir);
    rl_handle *h, *inner, *again;
    int round;

    CHECK(setenv("OPENER_TARGET", simple, 1) == 0, "setenv");
    for (round = 0; round < 3; round++) {
        close_reports = -1;
        h = rl_open(opener, RL_NOW);
        CHECK(h != NULL, "rl_open(%s) whose constructor calls rl_open (round %d)", opener, round);
        CHECK(is_mapped(simple), "the constructor's rl_open loaded %s", simple);
        CHECK(SYM(h, int (*)(int), "opener_call")(5) == 15, "function obtained by the constructor works");
        inner = SYM(h, rl_handle * (*)(void), "opener_inner_handle")();
        CHECK(inner != NULL, "constructor got a handle");
        again = rl_open(simple, RL_NOW | RL_NOLOAD);
        CHECK(again == inner, "RL_NOLOAD finds the library opened by the constructor");
        CHECK(rl_close(again) == 0, "close the extra reference");

        CHECK(rl_close(h) == 0, "rl_close(opener): its destructor calls rl_close");
        CHECK(close_reports == 0, "rl_close inside the destructor returned %d: %s", close_reports, close_error);
        CHECK(!is_mapped(opener), "opener unmapped");
        CHECK(!is_mapped(simple), "library closed by the destructor unmapped");
    }
    CHECKS_DONE();
}
