/* A library whose .gnu.hash hashes no symbol (it exports nothing, and
 * imports setenv and a few weak symbols) loads: from its file (eagerly, and
 * lazily from a copy), from memory, and from memory with its section headers
 * removed or pointing nowhere. argv[1]: fixture dir holding libctor_only.so
 * and its copy libctor_only_lazy.so. */
#include <elf.h>

#include "check.h"

static void ran(const char *how)
{
    const char *v = getenv("CTOR_ONLY_RAN");
    CHECK(v != NULL && strcmp(v, "1") == 0, "%s: the constructor ran once (CTOR_ONLY_RAN=%s)", how,
          v ? v : "(unset)");
    unsetenv("CTOR_ONLY_RAN");
}

static void loads(rl_handle *h, const char *name, const char *how)
{
    CHECK(h != NULL, "%s: %s loads", how, name);
    ran(how);
    CHECK(rl_sym(h, "ctor_only_init") == NULL, "%s: nothing is exported", how);
    EXPECT_ERROR("ctor_only_init", name);
    CHECK(rl_close(h) == 0, "%s: close", how);
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *path = strf("%s/libctor_only.so", dir);
    char *lazy = strf("%s/libctor_only_lazy.so", dir);
    size_t len;
    char *image = read_file_or_die(path, &len);
    Elf64_Ehdr *eh = (Elf64_Ehdr *)image;

    unsetenv("CTOR_ONLY_RAN");
    loads(rl_open(path, RL_NOW), "libctor_only.so", "rl_open RL_NOW");
    CHECK(!is_mapped(path), "unmapped after close");
    loads(rl_open(lazy, RL_LAZY), "libctor_only_lazy.so", "rl_open RL_LAZY");

    loads(rl_open_mem(image, len, "ctor-only-mem.so", RL_NOW), "ctor-only-mem.so", "rl_open_mem");

    /* Section headers are optional: without them the relocations tell how
     * many symbols there are. */
    eh->e_shoff = 0;
    eh->e_shnum = 0;
    eh->e_shstrndx = 0;
    loads(rl_open_mem(image, len, "ctor-only-noshdr.so", RL_NOW), "ctor-only-noshdr.so",
          "rl_open_mem without section headers");

    /* Section headers pointing past the image are ignored, as the system
     * loader ignores them. */
    eh->e_shoff = (Elf64_Off)len + 4096;
    eh->e_shnum = 30;
    loads(rl_open_mem(image, len, "ctor-only-badshdr.so", RL_LAZY), "ctor-only-badshdr.so",
          "rl_open_mem with section headers outside the image");

    free(image);
    CHECKS_DONE();
}
