/* Relocations relink does not apply in a shared object are refused with a
 * message naming the file and the relocation type, through rl_open and
 * rl_open_mem, with nothing left mapped: an unknown type (50) in .rela.dyn
 * and in .rela.plt, and R_X86_64_COPY. The variants are copies of
 * libreloc_victim.so with one entry's type patched. argv[1]: fixture dir. */
#include "elf_file.h"
#include "refused.h"

#define R_UNKNOWN 50

static const char *dir;

/* Writes <dir>/<out>: the victim with the entry of `type` against `sym` in
 * `table` turned into `new_type`. Returns the path. */
static char *patched(struct elf_file *f, const char *out, Elf64_Sxword table, Elf64_Xword type, const char *sym,
                     Elf64_Xword new_type)
{
    char *path = strf("%s/%s", dir, out);
    Elf64_Rela *r = elf_find_rela(f, table, type, sym);
    CHECK(r != NULL, "%s has a relocation of type %lu against %s", f->path, (unsigned long)type, sym);
    elf_set_rela_type(r, new_type);
    write_file_or_die(path, f->data, f->len);
    elf_set_rela_type(r, type);
    return path;
}

static void refused(const char *path, const char *needle)
{
    char *mem_name = strf("mem-%s", strrchr(path, '/') + 1);
    REFUSED_FROM_FILE(path, needle, "relocation");
    REFUSED_FROM_MEMORY(path, mem_name, needle, "relocation");
    CHECK(rl_open(path, RL_NOW | RL_NOLOAD) == NULL, "%s not left loaded", path);
    CHECK(rl_error() == NULL, "an RL_NOLOAD miss is no error");
    free(mem_name);
}

int main(int argc, char **argv)
{
    struct elf_file f;
    char *victim, *glob_dat, *jump_slot, *copy64, *copy_got;
    rl_handle *h;

    dir = fixture_dir(argc, argv);
    victim = strf("%s/libreloc_victim.so", dir);
    elf_read(&f, victim);

    /* The unpatched library loads and its relocations are right. */
    h = rl_open(victim, RL_NOW);
    CHECK(h != NULL, "rl_open(%s)", victim);
    CHECK(SYM(h, int (*)(void), "victim_get")() == 5, "GLOB_DAT victim_var");
    CHECK(*SYM(h, int **, "victim_ptr") == SYM(h, int *, "victim_var"), "R_X86_64_64 victim_ptr = &victim_var");
    CHECK(SYM(h, int (*)(int), "victim_twice")(21) == 42, "JUMP_SLOT victim_add");
    CHECK(rl_close(h) == 0, "close");
    CHECK(!is_mapped(victim), "unmapped after close");

    glob_dat = patched(&f, "libreloc_got50.so", DT_RELA, R_X86_64_GLOB_DAT, "victim_var", R_UNKNOWN);
    jump_slot = patched(&f, "libreloc_plt50.so", DT_JMPREL, R_X86_64_JUMP_SLOT, "victim_add", R_UNKNOWN);
    copy64 = patched(&f, "libreloc_copy64.so", DT_RELA, R_X86_64_64, "victim_var", R_X86_64_COPY);
    copy_got = patched(&f, "libreloc_copygot.so", DT_RELA, R_X86_64_GLOB_DAT, "victim_var", R_X86_64_COPY);

    refused(glob_dat, "type 50");
    refused(jump_slot, "type 50");
    refused(copy64, "R_X86_64_COPY");
    refused(copy_got, "R_X86_64_COPY");

    /* Refusals leave nothing behind that stops the good library from loading. */
    h = rl_open(victim, RL_NOW);
    CHECK(h != NULL, "rl_open(%s) after the refusals", victim);
    CHECK(SYM(h, int (*)(int), "victim_twice")(5) == 10, "works");
    CHECK(rl_close(h) == 0, "close");

    free(f.data);
    CHECKS_DONE();
}
