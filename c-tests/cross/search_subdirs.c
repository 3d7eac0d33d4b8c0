/* The capability subdirectories of the library search on the target machine: copies of
 * libwhich.so sit in several subdirectories of the LD_LIBRARY_PATH directory given in the
 * environment, and rl_open must pick the copy the system loader's dlopen picks. */
#include <dlfcn.h>

#include "check.h"

int main(void)
{
    /* relink first: it would reuse a library the system loader has loaded already. */
    rl_handle *h = rl_open("libwhich.so", RL_NOW);
    CHECK(h != NULL, "rl_open(libwhich.so)");
    const char *(*r_which)(void) = SYM(h, const char *(*)(void), "which");
    void *g = dlopen("libwhich.so", RTLD_NOW);
    CHECK(g != NULL, "dlopen: %s", dlerror());
    const char *(*g_which)(void) = (const char *(*)(void))dlsym(g, "which");
    CHECK((void *)g_which != (void *)r_which, "two copies loaded");
    CHECK(strcmp(r_which(), g_which()) == 0, "relink loaded the copy in \"%s\", glibc the one in \"%s\"", r_which(),
          g_which());
    printf("both picked the copy in \"%s\"\n", r_which());
    CHECK(rl_close(h) == 0, "rl_close");
    CHECKS_DONE();
}
