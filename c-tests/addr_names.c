/* rl_addr names symbols as glibc's dladdr does, and only with strings inside the object: absolute
 * symbols (the version names VER_1 and VER_2 of libver.so) are never the nearest symbol, and a
 * symbol whose name lies past DT_STRSZ is skipped rather than named by a pointer outside the
 * string table. argv[1]: fixture dir. */
#include "elf_file.h"

/* Is `s` NULL, or a NUL-terminated string inside [base, base + size)? */
static int name_inside(const char *s, const char *base, size_t size)
{
    if (s == NULL)
        return 1;
    if (s < base || s >= base + size)
        return 0;
    return memchr(s, 0, (size_t)(base + size - s)) != NULL;
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *ver = strf("%s/libver.so", dir);
    char *simple = strf("%s/libsimple.so", dir);
    struct elf_file f;
    rl_addr_info ai;
    void *base;
    Elf64_Xword strsz = 0;
    Elf64_Sym *sym;
    Elf64_Addr triple, bump;
    rl_handle *h;

    /* simple_triple's name moved past the end of the string table. */
    elf_read(&f, simple);
    CHECK(elf_dyn(&f, DT_STRSZ, &strsz), "DT_STRSZ");
    sym = (Elf64_Sym *)elf_dynsym(&f, "simple_triple");
    triple = sym->st_value;
    bump = elf_dynsym(&f, "simple_bump")->st_value;
    sym->st_name = (Elf64_Word)strsz + 16;
    h = rl_open_mem(f.data, f.len, "bad-name", RL_NOW);
    CHECK(h != NULL, "rl_open_mem of the copy");
    CHECK(rl_info(h, NULL, &base, NULL) == 0, "rl_info");
    memset(&ai, 0x55, sizeof ai);
    CHECK(rl_addr((char *)base + triple, &ai) != 0, "rl_addr on simple_triple");
    CHECK(name_inside(ai.sname, base, 1 << 20), "sname %p is not a string of the object at %p", (const void *)ai.sname, base);
    CHECK(ai.sname == NULL || strcmp(ai.sname, "simple_triple") != 0, "the renamed symbol");
    if (ai.sname != NULL)
        printf("  nearest named symbol below simple_triple: %s\n", ai.sname);
    memset(&ai, 0, sizeof ai);
    CHECK(rl_addr((char *)base + bump, &ai) != 0 && ai.sname != NULL && strcmp(ai.sname, "simple_bump") == 0,
          "simple_bump keeps its name: %s", ai.sname ? ai.sname : "(null)");
    CHECK(rl_close(h) == 0, "rl_close");
    /* Version names are absolute symbols at 0: the ELF header has no symbol at or below it. */
    h = rl_open(ver, RL_NOW);
    CHECK(h != NULL, "rl_open(%s)", ver);
    CHECK(rl_info(h, NULL, &base, NULL) == 0, "rl_info");
    memset(&ai, 0x55, sizeof ai);
    CHECK(rl_addr(base, &ai) != 0, "rl_addr on the base");
    CHECK(ai.sname == NULL && ai.saddr == NULL, "nearest symbol of the ELF header: %s at %p (absolute symbols count)",
          ai.sname ? ai.sname : "(null)", ai.saddr);
    memset(&ai, 0, sizeof ai);
    CHECK(rl_addr((char *)SYM(h, void *, "bar") + 1, &ai) != 0 && ai.sname != NULL && strcmp(ai.sname, "bar") == 0,
          "rl_addr inside bar: %s", ai.sname ? ai.sname : "(null)");
    CHECK(rl_close(h) == 0, "rl_close");

    free(f.data);
    CHECKS_DONE();
}
