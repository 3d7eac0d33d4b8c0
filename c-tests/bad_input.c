/* Malformed or unsuitable files, through rl_open and rl_open_mem: each must
 * fail with NULL and an rl_error() naming the file, leaving no mapping or
 * descriptor behind. argv[1]: fixture dir holding libsimple.so, elf32.so,
 * exe_nopie, exe_pie, libneeds_missing.so (its libghost.so was deleted),
 * libunresolved.so, libunresolved_data.so, notelf.so (text), adir.so/ (a
 * directory). The other bad files are made here. */
#include <elf.h>

#include "check.h"

#define LIBZ "/usr/lib/x86_64-linux-gnu/libz.so.1"

static const char *dir;

static const char *base(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* rl_open(path) fails naming the file (and `also`, if given). */
static void open_fails(const char *name, int flags, const char *also)
{
    char *path = strf("%s/%s", dir, name);
    rl_handle *h = rl_open(path, flags);
    CHECK(h == NULL, "rl_open(%s) must fail", path);
    EXPECT_ERROR_SHOW(base(path), also);
    CHECK(!is_mapped(path), "%s left mapped after the failure", path);
    free(path);
}

/* rl_open_mem of the file's bytes fails naming the given name (and `also`). */
static void open_mem_fails(const char *name, int flags, const char *also)
{
    char *path = strf("%s/%s", dir, name);
    char *mem_name = strf("mem-%s", name);
    size_t len;
    char *image = read_file_or_die(path, &len);
    rl_handle *h = rl_open_mem(image, len, mem_name, flags);
    memset(image, 0xcc, len);
    free(image);
    CHECK(h == NULL, "rl_open_mem(%s) must fail", name);
    EXPECT_ERROR_SHOW(mem_name, also);
    free(mem_name);
    free(path);
}

static void both_fail(const char *name, const char *also)
{
    open_fails(name, RL_NOW, also);
    open_mem_fails(name, RL_NOW, also);
}

static void make_variants(void)
{
    size_t len;
    char *libz = read_file_or_die(LIBZ, &len);
    char *simple = read_file_or_die(strf("%s/libsimple.so", dir), &len);
    Elf64_Ehdr *eh = (Elf64_Ehdr *)simple;
    Elf64_Phdr *ph;
    int i, patched = -1;

    write_file_or_die(strf("%s/trunc100.so", dir), libz, 100);
    write_file_or_die(strf("%s/trunc4k.so", dir), libz, 4096);
    write_file_or_die(strf("%s/empty.so", dir), "", 0);

    eh->e_machine = EM_AARCH64;
    write_file_or_die(strf("%s/aarch64.so", dir), simple, len);
    eh->e_machine = EM_X86_64;

    ph = (Elf64_Phdr *)(simple + eh->e_phoff);
    for (i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && ph[i].p_filesz > 0)
            patched = i;
    CHECK(patched >= 0, "libsimple.so has a PT_LOAD with file contents");
    ph[patched].p_offset += 0x40000000; /* keeps p_offset % p_align == p_vaddr % p_align */
    write_file_or_die(strf("%s/badoffset.so", dir), simple, len);

    free(libz);
    free(simple);
}

int main(int argc, char **argv)
{
    int fds_before, fds_after;
    rl_handle *h;
    char *simple;
    char one = 0;

    dir = fixture_dir(argc, argv);
    simple = strf("%s/libsimple.so", dir);
    make_variants();
    fds_before = count_fds();

    open_fails("does_not_exist.so", RL_NOW, NULL);
    open_fails("adir.so", RL_NOW, NULL);

    both_fail("notelf.so", NULL);
    both_fail("empty.so", NULL);
    both_fail("trunc100.so", NULL);
    both_fail("trunc4k.so", NULL);
    both_fail("elf32.so", NULL);
    both_fail("aarch64.so", NULL);
    both_fail("badoffset.so", NULL);
    both_fail("exe_nopie", NULL);
    both_fail("exe_pie", NULL);

    both_fail("libneeds_missing.so", "libghost.so");
    CHECK(!is_mapped(simple), "libsimple.so (loaded as a dependency before the failure) unmapped again");
    CHECK(rl_open(simple, RL_NOW | RL_NOLOAD) == NULL, "libsimple.so not left loaded");
    rl_error();

    open_fails("libunresolved.so", RL_NOW, "undefined_function_xyz");
    open_mem_fails("libunresolved.so", RL_NOW, "undefined_function_xyz");
    open_fails("libunresolved_data.so", RL_LAZY, "undefined_data_xyz");
    open_mem_fails("libunresolved_data.so", RL_LAZY, "undefined_data_xyz");

    CHECK(rl_open_mem(NULL, 4096, "null-image.so", RL_NOW) == NULL, "NULL image");
    EXPECT_ERROR_SHOW("null-image.so");
    CHECK(rl_open_mem(&one, 0, "zero-length.so", RL_NOW) == NULL, "zero length");
    EXPECT_ERROR_SHOW("zero-length.so");

    fds_after = count_fds();
    CHECK(fds_after == fds_before, "descriptors leaked by failed opens: %d before, %d after", fds_before,
          fds_after);

    h = rl_open(simple, RL_NOW);
    CHECK(h != NULL, "a good library still loads after all the failures");
    CHECK(SYM(h, int (*)(int), "simple_triple")(2) == 6, "and works");
    CHECK(rl_close(h) == 0, "close");
    CHECK(count_fds() == fds_before, "no descriptor left after a good open/close either");

    CHECKS_DONE();
}
