/* A library relink loads reaches the program's own thread-local variables, initial-exec and
 * general-dynamic, at the addresses the program uses (TLS of the host: glibc's static TLS area,
 * the thread pointer's layout of the machine, and its DTV offset). */
#include "check.h"

__thread long host_ie = 11;
__thread long host_gd = 12;

int main(int argc, char **argv)
{
    const char *path = strf("%s/libcross_host_tls.so", fixture_dir(argc, argv));
    rl_handle *h = rl_open(path, RL_NOW);
    CHECK(h != NULL, "rl_open(%s)", path);
    long *(*ie)(void) = SYM(h, long *(*)(void), "host_ie_addr");
    long *(*gd)(void) = SYM(h, long *(*)(void), "host_gd_addr");
    CHECK(ie() == &host_ie, "initial-exec: the library's %p is the program's %p", (void *)ie(), (void *)&host_ie);
    CHECK(gd() == &host_gd, "general dynamic: the library's %p is the program's %p", (void *)gd(), (void *)&host_gd);
    CHECK(*ie() == 11 && *gd() == 12, "values %ld %ld", *ie(), *gd());
    CHECK(rl_close(h) == 0, "rl_close");
    CHECKS_DONE();
}
