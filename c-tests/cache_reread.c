/* ldconfig rewrites /etc/ld.so.cache while the program runs (a directory was added): the next
 * open reads the new file and finds a library only it lists. Run in a mount namespace where a
 * scratch directory is bind-mounted on /etc, holding a cache made without that directory;
 * argv[2] is the ldconfig configuration that adds it. argv[1]: fixture dir. */
#include "check.h"

#include <sys/stat.h>

int main(int argc, char **argv)
{
    CHECK(argc == 3, "usage: cache_reread DIR LDCONFIG_CONF");
    struct stat before, after;
    CHECK(stat("/etc/ld.so.cache", &before) == 0 && stat(strf("%s/etc/ld.so.cache", argv[1]), &after) == 0 &&
              before.st_ino == after.st_ino && before.st_dev == after.st_dev,
          "/etc is the scratch directory");

    rl_handle *h = rl_open("libcache_late.so.1", RL_NOW);
    CHECK(h == NULL, "not found before the cache lists it");
    EXPECT_ERROR("libcache_late.so.1");
    rl_handle *z = rl_open("libz.so.1", RL_NOW);
    CHECK(z != NULL, "a library of the system directories opens");

    CHECK(system(strf("ldconfig -X -f %s", argv[2])) == 0, "ldconfig -f %s", argv[2]);
    CHECK(stat("/etc/ld.so.cache", &after) == 0 && after.st_ino != before.st_ino, "ldconfig wrote a new file");

    h = rl_open("libcache_late.so.1", RL_NOW);
    CHECK(h != NULL, "found once the cache lists it");
    CHECK(SYM(h, int (*)(void), "cache_late_value")() == 4242, "and it is that library");
    const char *path;
    CHECK(rl_info(h, &path, NULL, NULL) == 0 && strstr(path, "/late/libcache_late.so.1") != NULL,
          "from the directory the cache names: %s", path);
    CHECK(rl_close(h) == 0 && rl_close(z) == 0, "rl_close");
    CHECKS_DONE();
}
