/* rl_open expands the dynamic string tokens $ORIGIN, $LIB and $PLATFORM
 * (also written ${ORIGIN} ...) in a path, as dlopen does: called from the
 * program, $ORIGIN is the program's directory. The program lives in the
 * fixture dir (argv[1]), which holds libdst.so (value 1),
 * lib/x86_64-linux-gnu/libdst_lib.so (2), and <platform>/libdst_plat.so
 * plus a copy libdst_plat_dl.so for the system loader, for the platforms
 * x86_64 (10), haswell (11) and xeon_phi (12). */
#include "check.h"

#include <dlfcn.h>

static int value(rl_handle *h)
{
    return SYM(h, int (*)(void), "dst_value")();
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *want = canonical(strf("%s/libdst.so", dir));
    const char *path = NULL;
    rl_handle *h, *h2;

    h = rl_open("$ORIGIN/libdst.so", RL_NOW);
    CHECK(h != NULL, "rl_open($ORIGIN/libdst.so)");
    CHECK(value(h) == 1, "libdst.so");
    CHECK(rl_info(h, &path, NULL, NULL) == 0 && strcmp(canonical(path), want) == 0,
          "loaded from the program's directory: %s", path ? path : "(null)");
    h2 = rl_open("${ORIGIN}/libdst.so", RL_LAZY);
    CHECK(h2 == h, "${ORIGIN} is the same directory");
    CHECK(rl_open("$ORIGIN/libdst.so", RL_NOW | RL_NOLOAD) == h, "RL_NOLOAD finds it by the same spelling");
    CHECK(rl_close(h) == 0 && rl_close(h2) == 0 && rl_close(h) == 0, "close");
    CHECK(!is_mapped(want), "unmapped");

    h = rl_open("$ORIGIN/$LIB/libdst_lib.so", RL_NOW);
    CHECK(h != NULL && value(h) == 2, "$LIB is lib/x86_64-linux-gnu");
    CHECK(rl_open("${ORIGIN}/${LIB}/libdst_lib.so", RL_NOW) == h, "${LIB} too");
    CHECK(rl_close(h) == 0 && rl_close(h) == 0, "close");

    h = rl_open("$ORIGIN/$PLATFORM/libdst_plat.so", RL_NOW);
    CHECK(h != NULL, "rl_open($ORIGIN/$PLATFORM/libdst_plat.so)");
    void *dh = dlopen("$ORIGIN/$PLATFORM/libdst_plat_dl.so", RTLD_NOW);
    CHECK(dh != NULL, "the system loader: %s", dlerror());
    int (*dl_value)(void) = (int (*)(void))dlsym(dh, "dst_value");
    CHECK(value(h) == dl_value(), "$PLATFORM is the system loader's: %d vs %d", value(h), dl_value());
    printf("$PLATFORM led to the library returning %d\n", value(h));
    CHECK(rl_open("${ORIGIN}/${PLATFORM}/libdst_plat.so", RL_NOW) == h, "${PLATFORM} too");
    CHECK(rl_close(h) == 0 && rl_close(h) == 0, "close");
    dlclose(dh);

    /* Not a token: kept as it is, so no such file, in glibc's words. */
    CHECK(rl_open("$ORIGINAL/libdst.so", RL_NOW) == NULL, "$ORIGINAL is no token");
    char *rl = strdup(rl_error());
    CHECK(dlopen("$ORIGINAL/libdst.so", RTLD_NOW) == NULL, "nor for the system loader");
    const char *dl = dlerror();
    CHECK(strncmp(rl, dl, strlen(dl)) == 0, "relink: %s\n  glibc: %s", rl, dl);
    free(rl);
    CHECKS_DONE();
}
