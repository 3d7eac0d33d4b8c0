/* object_nopic.o, compiled -fno-pic, reaches its own symbols by 32-bit absolute addresses
 * (R_RISCV_HI20 and LO12): relink places its unit below 2 GiB, where they fit. argv[1]: the
 * object's directory. */
#include "check.h"

int main(int argc, char **argv)
{
    const char *path = strf("%s/object_nopic.o", fixture_dir(argc, argv));
    char buf[32];
    void *base = NULL;
    rl_handle *h = rl_open(path, RL_NOW);
    CHECK(h != NULL, "rl_open(%s)", path);
    CHECK(rl_info(h, NULL, &base, NULL) == 0 && (uintptr_t)base < 0x80000000u, "%s: placed below 2 GiB (%p)", path, base);
    CHECK(SYM(h, int (*)(void), "nopic_bump")() == 6 && SYM(h, int (*)(void), "nopic_bump")() == 7, "%s: static data", path);
    CHECK(SYM(h, int (*)(int, int), "nopic_apply")(6, 7) == 13, "%s: a function pointer's initial value", path);
    SYM(h, void (*)(int), "nopic_select")(1);
    CHECK(SYM(h, int (*)(int, int), "nopic_apply")(6, 7) == 42, "%s: a function's address stored", path);
    CHECK(SYM(h, int (*)(char *, size_t, int), "nopic_format")(buf, sizeof buf, 2) == 6 && strcmp(buf, "two 13") == 0,
          "%s: a table of strings, exported data and snprintf (%s)", path, buf);
    CHECK(SYM(h, int *, "nopic_table")[2] == 13, "%s: exported data seen from the host", path);
    {
        int (*p)(const char *) = SYM(h, int (*(*)(void))(const char *), "nopic_puts")();
        CHECK(p != NULL && (uintptr_t)p < 0x80000000u && p("object_nopic: puts through its absolute address") >= 0,
              "%s: the address of a libc function (%p)", path, (void *)p);
    }
    CHECK(rl_close(h) == 0, "close %s", path);
    CHECKS_DONE();
}
