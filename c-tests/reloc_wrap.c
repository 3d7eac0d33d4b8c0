/* A relocation whose place is in the last bytes of the address space (bias + r_offset wraps
 * around) is refused, not written: the range check must not wrap with it. The fixture keeps a
 * relocation table in writable data (wrap_table, which DT_RELA or DT_JMPREL is pointed at); a
 * relocation callback, run on its first entry, learns the load bias from the place it is shown
 * and aims the second entry at 2^64 - 4. The second entry is RELATIVE (the fast path), R_X86_64_64,
 * GLOB_DAT, or a PLT slot bound lazily or eagerly (GOT words at 2^64 - 8: they must be aligned).
 * argv[1]: fixture dir. */
#include "elf_file.h"

static struct elf_file f;
static Elf64_Addr slot_vaddr, table_vaddr;
static uint64_t target = 0xfffffffffffffffcull;
static int aimed;

static int aim(void *user, rl_reloc *r)
{
    (void)user;
    if (!aimed && strcmp(r->name, "wrap_value") == 0 && r->r_type == R_X86_64_64) {
        uintptr_t bias = (uintptr_t)r->place - slot_vaddr;
        Elf64_Rela *table = (Elf64_Rela *)(bias + table_vaddr);
        table[1].r_offset = target - bias;
        aimed = 1;
    }
    return 0;
}

static void variant(const char *name, Elf64_Xword type, int plt, int flags, uint64_t at)
{
    size_t value = elf_dynsym_index(&f, "wrap_value");
    Elf64_Rela *table = elf_at(&f, table_vaddr, 2 * sizeof(Elf64_Rela));
    rl_open_opts o;
    rl_handle *h;
    char *copy = malloc(f.len);

    CHECK(table != NULL && copy != NULL, "wrap_table in the file");
    table[0].r_offset = slot_vaddr;
    table[0].r_info = ELF64_R_INFO(value, R_X86_64_64);
    table[0].r_addend = 0;
    table[1].r_offset = slot_vaddr;
    table[1].r_info = ELF64_R_INFO(type == R_X86_64_RELATIVE ? 0 : value, type);
    table[1].r_addend = 0;
    if (plt) {
        elf_dyn_set(&f, DT_RELA, table_vaddr);
        elf_dyn_set(&f, DT_RELASZ, sizeof(Elf64_Rela));
        elf_dyn_set(&f, DT_JMPREL, table_vaddr + sizeof(Elf64_Rela));
        elf_dyn_set(&f, DT_PLTRELSZ, sizeof(Elf64_Rela));
    } else {
        elf_dyn_set(&f, DT_RELA, table_vaddr);
        elf_dyn_set(&f, DT_RELASZ, 2 * sizeof(Elf64_Rela));
    }
    memcpy(copy, f.data, f.len);
    memset(&o, 0, sizeof o);
    o.size = sizeof o;
    o.on_relocation = aim;
    aimed = 0;
    target = at;
    h = rl_open_ex(NULL, copy, f.len, flags, &o);
    CHECK(aimed, "%s: the callback saw the first entry", name);
    CHECK(h == NULL, "%s: a relocation at %#llx must be refused", name, (unsigned long long)at);
    printf("  %s: ", name);
    EXPECT_ERROR_SHOW("outside the writable segments");
    free(copy);
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *lib = strf("%s/libreloc_wrap.so", dir);
    Elf64_Xword v;
    rl_handle *h;

    h = rl_open(lib, RL_NOW);
    CHECK(h != NULL, "rl_open(%s)", lib);
    CHECK(SYM(h, int (*)(void), "wrap_value")() == 7 && SYM(h, size_t (*)(const char *), "wrap_len")("abc") == 3, "works");
    CHECK(rl_close(h) == 0, "rl_close");

    elf_read(&f, lib);
    CHECK(elf_dyn(&f, DT_RELA, &v) && elf_dyn(&f, DT_JMPREL, &v), "%s has DT_RELA and DT_JMPREL", lib);
    slot_vaddr = elf_dynsym(&f, "wrap_slot")->st_value;
    table_vaddr = elf_dynsym(&f, "wrap_table")->st_value;

    variant("RELATIVE", R_X86_64_RELATIVE, 0, RL_NOW, 0xfffffffffffffffcull);
    variant("R_X86_64_64", R_X86_64_64, 0, RL_NOW, 0xfffffffffffffffcull);
    variant("GLOB_DAT", R_X86_64_GLOB_DAT, 0, RL_NOW, 0xfffffffffffffff8ull);

    variant("JUMP_SLOT, RL_NOW", R_X86_64_JUMP_SLOT, 1, RL_NOW, 0xfffffffffffffff8ull);
    variant("JUMP_SLOT, RL_LAZY", R_X86_64_JUMP_SLOT, 1, RL_LAZY, 0xfffffffffffffff8ull);

    /* Nothing was left behind. */
    h = rl_open(lib, RL_NOW);
    CHECK(h != NULL && SYM(h, int (*)(void), "wrap_value")() == 7, "the intact library still loads");
    CHECK(rl_close(h) == 0, "rl_close");
    free(f.data);
    CHECKS_DONE();
}
