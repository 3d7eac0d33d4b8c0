/* /etc/ld.so.cache is unmapped at the end of an open that used it, also when a
 * constructor of that open calls rl_open for a library that is loaded already
 * (which does not use the cache). libcache_opener.so needs libz.so.1, found
 * through the cache; its constructor opens OPENER_TARGET. argv[1]: fixture dir. */
#include "check.h"

static int close_reports = -1;

void opener_report_close(int rc, const char *err)
{
    (void)err;
    close_reports = rc;
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *opener = strf("%s/libcache_opener.so", dir);
    rl_handle *h, *z;

    CHECK(setenv("OPENER_TARGET", "libc.so.6", 1) == 0, "setenv");
    CHECK(!is_mapped("/etc/ld.so.cache"), "no cache mapped before any open");
    h = rl_open(opener, RL_NOW);
    CHECK(h != NULL, "rl_open(%s): %s", opener, rl_error());
    z = rl_open("libz.so.1", RL_NOW | RL_NOLOAD);
    CHECK(z != NULL, "libz.so.1 loaded as a dependency");
    CHECK(SYM(h, void *(*)(void), "opener_inner_handle")() != NULL, "the constructor's rl_open(libc.so.6) worked");
    CHECK(!is_mapped("/etc/ld.so.cache"), "cache unmapped at the end of the open that used it");
    CHECK(rl_close(z) == 0, "close libz");
    CHECK(rl_close(h) == 0, "close the opener");
    CHECK(close_reports == 0, "the destructor's rl_close succeeded");
    CHECKS_DONE();
}
