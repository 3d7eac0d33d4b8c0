/* ELF identification bytes glibc refuses are refused: an OS ABI other than System V and GNU
 * (0xff: standalone), an ABI version for System V objects or one past glibc's for GNU ones, and
 * nonzero padding. GNU objects with an ABI version glibc knows load. argv[1]: fixture dir. */
#include "elf_file.h"
#include "refused.h"

static const char *dir;
static struct elf_file f;

static char *variant(const char *name, int osabi, int abiversion, int pad)
{
    char *path = strf("%s/hdr_%s.so", dir, name);
    unsigned char saved[EI_NIDENT];
    memcpy(saved, f.eh->e_ident, EI_NIDENT);
    f.eh->e_ident[EI_OSABI] = (unsigned char)osabi;
    f.eh->e_ident[EI_ABIVERSION] = (unsigned char)abiversion;
    f.eh->e_ident[EI_PAD + 3] = (unsigned char)pad;
    write_file_or_die(path, f.data, f.len);
    memcpy(f.eh->e_ident, saved, EI_NIDENT);
    return path;
}

static void loads(const char *path)
{
    rl_handle *h = rl_open(path, RL_NOW);
    CHECK(h != NULL, "rl_open(%s)", path);
    CHECK(SYM(h, int (*)(int), "simple_triple")(3) == 9, "simple_triple");
    CHECK(rl_close(h) == 0, "rl_close");
}

int main(int argc, char **argv)
{
    char *simple;
    dir = fixture_dir(argc, argv);
    simple = strf("%s/libsimple.so", dir);
    elf_read(&f, simple);
    loads(simple);

    loads(variant("gnu", ELFOSABI_GNU, 0, 0));
    loads(variant("gnu_abi3", ELFOSABI_GNU, 3, 0));
    REFUSED_FROM_FILE(variant("standalone", 0xff, 0, 0), "OS ABI");
    REFUSED_FROM_MEMORY(variant("freebsd", ELFOSABI_FREEBSD, 0, 0), "mem-freebsd", "OS ABI");
    REFUSED_FROM_FILE(variant("sysv_abi1", ELFOSABI_SYSV, 1, 0), "ABI version");
    REFUSED_FROM_FILE(variant("gnu_abi200", ELFOSABI_GNU, 200, 0), "ABI version");
    REFUSED_FROM_MEMORY(variant("padding", ELFOSABI_SYSV, 0, 0x41), "mem-padding", "padding");
    free(f.data);
    CHECKS_DONE();
}
