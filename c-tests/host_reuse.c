/* An object the system loader maps after relink has looked at the host is
 * seen and reused: after rl_open(NULL), dlopen("libz.so.1", RTLD_NOW |
 * RTLD_GLOBAL), then rl_open of libzuser.so (NEEDED libz.so.1) binds to the
 * glibc-loaded libz instead of mapping a second copy. This program does not
 * link zlib itself. argv[1]: fixture dir. */
#include <dlfcn.h>

#include "check.h"

/* Mappings of the start of a libz file (one per loaded copy). */
static int libz_copies(void)
{
    char *maps = read_maps(), *save = NULL, *line;
    int n = 0;
    for (line = strtok_r(maps, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        unsigned long off;
        if (strstr(line, "/libz.so.1") && sscanf(line, "%*x-%*x %*s %lx", &off) == 1 && off == 0)
            n++;
    }
    free(maps);
    return n;
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *path = strf("%s/libzuser.so", dir);
    const char *text = "relink reuses the system loader's libz, relink reuses the system loader's libz";
    rl_handle *global, *h;
    void *z, *zlib_version;
    long packed;

    CHECK(libz_copies() == 0, "libz is not loaded at start");
    global = rl_open(NULL, RL_NOW);
    CHECK(global != NULL, "rl_open(NULL)");
    CHECK(rl_sym(global, "zlibVersion") == NULL, "zlibVersion is not in the global scope yet");
    EXPECT_ERROR("zlibVersion");

    z = dlopen("libz.so.1", RTLD_NOW | RTLD_GLOBAL);
    CHECK(z != NULL, "dlopen(libz.so.1): %s", dlerror());
    zlib_version = dlsym(z, "zlibVersion");
    CHECK(zlib_version != NULL, "dlsym(zlibVersion)");
    CHECK(libz_copies() == 1, "one copy of libz after dlopen: %d", libz_copies());

    h = rl_open(path, RL_NOW);
    CHECK(h != NULL, "rl_open(%s)", path);
    CHECK(libz_copies() == 1, "libz is mapped once after rl_open of a library that needs it: %d", libz_copies());
    CHECK(SYM(h, const void *(*)(void), "zuser_zlib_version_address")() == zlib_version,
          "libzuser binds zlibVersion to the glibc-loaded copy");
    CHECK(rl_sym(h, "zlibVersion") == zlib_version, "rl_sym through libzuser's handle finds that copy");
    CHECK(rl_sym(global, "zlibVersion") == zlib_version, "the global scope now has libz (RTLD_GLOBAL)");
    CHECK(strcmp(SYM(h, const char *(*)(void), "zuser_zlib_version")(), ((const char *(*)(void))zlib_version)()) == 0,
          "zlibVersion() through libzuser");
    packed = SYM(h, long (*)(const char *), "zuser_roundtrip")(text);
    CHECK(packed > 0 && packed < (long)strlen(text), "compress/uncompress round trip through libzuser: %ld", packed);

    CHECK(rl_close(h) == 0, "close");
    CHECK(!is_mapped(path), "libzuser.so unmapped");
    CHECK(libz_copies() == 1, "the glibc copy of libz stays mapped");
    CHECK(dlclose(z) == 0, "dlclose");
    CHECK(rl_close(global) == 0, "close the global handle");

    CHECKS_DONE();
}
