/* LD_LIBRARY_PATH against DT_RUNPATH and DT_RPATH. libpicker_runpath.so has
 * DT_RUNPATH $ORIGIN/a, libpicker_rpath.so DT_RPATH $ORIGIN/a; both NEEDED
 * libpick.so, which exists as a/libpick.so (pick_value() = 1) and
 * b/libpick.so (2). With LD_LIBRARY_PATH=<dir>/b, LD_LIBRARY_PATH comes
 * before DT_RUNPATH but after DT_RPATH; with LD_LIBRARY_PATH=<dir>/empty
 * both find a/. argv[1]: fixture dir, argv[2]: "b" or "empty", the
 * directory LD_LIBRARY_PATH names. */
#include "check.h"

static const char *dir;

/* Opens <dir>/<picker>, checks that libpick.so came from <dir>/<want>/,
 * closes it again. */
static void picks(const char *picker, const char *want, int value)
{
    char *path = strf("%s/%s", dir, picker);
    char *a = strf("%s/a/libpick.so", dir);
    char *b = strf("%s/b/libpick.so", dir);
    char *chosen = strcmp(want, "a") == 0 ? a : b, *other = chosen == a ? b : a;
    rl_handle *h;
    int got;

    CHECK(!is_mapped(a) && !is_mapped(b), "no libpick.so loaded before opening %s", picker);
    h = rl_open(path, RL_NOW);
    CHECK(h != NULL, "rl_open(%s)", path);
    got = SYM(h, int (*)(void), "picker_value")();
    CHECK(got == value, "%s: pick_value() = %d, want %d (%s/libpick.so)", picker, got, value, want);
    CHECK(is_mapped(chosen), "%s: %s mapped", picker, chosen);
    CHECK(!is_mapped(other), "%s: %s not mapped", picker, other);
    CHECK(rl_close(h) == 0, "close");
    CHECK(!is_mapped(chosen), "%s unmapped with %s", chosen, picker);
    free(path);
    free(a);
    free(b);
}

int main(int argc, char **argv)
{
    const char *llp = getenv("LD_LIBRARY_PATH");
    const char *mode = argc > 2 ? argv[2] : "";
    char *want_llp;

    dir = fixture_dir(argc, argv);
    want_llp = strf("%s/%s", dir, mode);
    CHECK(llp != NULL && strcmp(llp, want_llp) == 0, "LD_LIBRARY_PATH=%s, want %s", llp ? llp : "(unset)",
          want_llp);
    if (strcmp(mode, "b") == 0) {
        picks("libpicker_runpath.so", "b", 2);
        picks("libpicker_rpath.so", "a", 1);
        picks("libpicker_runpath.so", "b", 2);
    } else {
        picks("libpicker_runpath.so", "a", 1);
        picks("libpicker_rpath.so", "a", 1);
    }

    CHECKS_DONE();
}
