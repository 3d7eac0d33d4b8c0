/* The program headers are read together with the ELF header when they follow it (as every
 * linker writes them); anywhere else in the file they are read where e_phoff says. A copy of
 * libsimple.so with its program headers moved past the first kilobyte (appended at the end of
 * the file, e_phoff pointing there) loads and works like the original.
 * argv[1]: fixture dir. */
#include "elf_file.h"

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *simple = strf("%s/libsimple.so", dir);
    char *moved = strf("%s/libsimple_phdrs_at_end.so", dir);
    struct elf_file f;
    size_t size, end;
    char *copy;
    rl_handle *h;

    elf_read(&f, simple);
    CHECK(elf_phdr(&f, PT_PHDR) == NULL, "libsimple.so has no PT_PHDR (which would have to move too)");
    size = (size_t)f.eh->e_phnum * sizeof(Elf64_Phdr);
    end = (f.len + 7) & ~(size_t)7;
    CHECK(end >= 1024, "the file is larger than the first read");
    copy = calloc(1, end + size);
    CHECK(copy != NULL, "calloc");
    memcpy(copy, f.data, f.len);
    memcpy(copy + end, f.data + f.eh->e_phoff, size);
    ((Elf64_Ehdr *)copy)->e_phoff = end;
    write_file_or_die(moved, copy, end + size);

    h = rl_open(moved, RL_NOW);
    CHECK(h != NULL, "rl_open(%s): %s", moved, rl_error());
    CHECK(SYM(h, int (*)(int), "simple_triple")(5) == 15, "simple_triple");
    CHECK(rl_close(h) == 0, "rl_close");
    free(copy);
    free(f.data);
    CHECKS_DONE();
}
