/* The host's objects keep their names: a library whose SONAME is libc.so.6 does not stand in
 * for the C library (rl_open("libc.so.6") and libz's DT_NEEDED get the host's), and an object
 * whose SONAME equals one of its own DT_NEEDED does not depend on itself (so it is unmapped
 * when closed). argv[1]: fixture dir. */
#include "check.h"

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *shadow = strf("%s/libshadow_libc.so", dir);
    char *shadow_full = strf("%s/libshadow_libc_full.so", dir);
    char *selfneed = strf("%s/libselfneed.so", dir);
    const char *path = NULL;
    size_t len;
    char *image;
    rl_handle *hs, *hz, *hc, *hm, *h;

    hs = rl_open(shadow, RL_NOW | RL_GLOBAL);
    CHECK(hs != NULL, "rl_open(%s)", shadow);
    CHECK(SYM(hs, int (*)(void), "shadow_value")() == 77, "shadow_value");
    image = read_file_or_die(shadow, &len);
    hm = rl_open_mem(image, len, "libc.so.6", RL_NOW);
    CHECK(hm != NULL, "rl_open_mem of it named libc.so.6");
    free(image);

    /* libz needs libc.so.6 with GLIBC_2.x versions: the host's C library provides them. */
    hz = rl_open("libz.so.1", RL_NOW);
    CHECK(hz != NULL, "rl_open(libz.so.1) with a plugin named libc.so.6 loaded");
    CHECK(strcmp(SYM(hz, const char *(*)(void), "zlibVersion")(), "1.") > 0, "zlibVersion");

    hc = rl_open("libc.so.6", RL_NOW);
    CHECK(hc != NULL, "rl_open(libc.so.6)");
    CHECK(rl_info(hc, &path, NULL, NULL) == 0, "rl_info");
    CHECK(strstr(path, "shadow") == NULL && strcmp(path, "libc.so.6") != 0, "libc.so.6 is the host's, not %s", path);
    CHECK(rl_sym(hc, "shadow_value") == NULL, "the C library does not define shadow_value");
    EXPECT_ERROR("shadow_value");
    CHECK(rl_sym(hc, "strlen") != NULL, "the C library defines strlen");

    CHECK(rl_close(hc) == 0 && rl_close(hz) == 0 && rl_close(hm) == 0 && rl_close(hs) == 0, "rl_close");
    CHECK(!is_mapped(shadow), "%s unmapped", shadow);

    /* Named libc.so.6 and needing libc.so.6 (with versions): it needs the host's. */
    h = rl_open(shadow_full, RL_NOW);
    CHECK(h != NULL, "rl_open(%s)", shadow_full);
    CHECK(SYM(h, int (*)(void), "shadow_value")() == 77, "shadow_value");
    CHECK(rl_close(h) == 0, "rl_close");
    CHECK(!is_mapped(shadow_full), "%s unmapped", shadow_full);

    /* DT_NEEDED naming its own SONAME (and found again through $ORIGIN). */
    h = rl_open(selfneed, RL_NOW);
    CHECK(h != NULL, "rl_open(%s)", selfneed);
    CHECK(SYM(h, int (*)(void), "selfneed_value")() == 5, "selfneed_value");
    CHECK(rl_close(h) == 0, "rl_close");
    CHECK(!is_mapped(selfneed), "%s still mapped after its last close: it holds itself", selfneed);
    CHECK(rl_open(selfneed, RL_NOW | RL_NOLOAD) == NULL, "not loaded any more");
    CHECK(rl_error() == NULL, "an RL_NOLOAD miss is no error");
    CHECKS_DONE();
}
