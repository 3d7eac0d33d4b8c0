/* libcross_variant_cc.so (RISC-V): a function marked with the vector calling convention
 * (.variant_cc: the object gets DT_RISCV_VARIANT_CC and the symbol STO_RISCV_VARIANT_CC) and
 * an ordinary one, both called through the PLT. */
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <string.h>

__asm__(".globl vector_cc\n"
        ".type vector_cc, @function\n"
        ".variant_cc vector_cc\n"
        "vector_cc:\n"
        "    li a0, 42\n"
        "    ret\n"
        ".size vector_cc, . - vector_cc\n");

int vector_cc(void);
int plain(void);

int plain(void)
{
    return 7;
}

int call_vector_cc(void)
{
    return vector_cc();
}

int call_plain(void)
{
    return plain();
}

extern ElfW(Dyn) _DYNAMIC[];
extern const char __ehdr_start[] __attribute__((visibility("hidden")));

/* For a function this object defines and calls through its PLT: 0 when the PLT slot of
 * `name` holds the function's address (bound), 1 when it holds something else (the PLT code
 * that binds it), -1 when there is no such slot. */
int slot_unbound(const char *name)
{
    uintptr_t base = (uintptr_t)__ehdr_start, jmprel = 0, relsz = 0, symtab = 0, strtab = 0;
    for (ElfW(Dyn) *d = _DYNAMIC; d->d_tag != DT_NULL; d++) {
        if (d->d_tag == DT_JMPREL)
            jmprel = d->d_un.d_ptr;
        else if (d->d_tag == DT_PLTRELSZ)
            relsz = d->d_un.d_val;
        else if (d->d_tag == DT_SYMTAB)
            symtab = d->d_un.d_ptr;
        else if (d->d_tag == DT_STRTAB)
            strtab = d->d_un.d_ptr;
    }
    if (jmprel < base)
        jmprel += base;
    if (symtab < base)
        symtab += base;
    if (strtab < base)
        strtab += base;
    const ElfW(Rela) *r = (const ElfW(Rela) *)jmprel;
    for (size_t i = 0; i < relsz / sizeof *r; i++) {
        const ElfW(Sym) *s = (const ElfW(Sym) *)symtab + ELF64_R_SYM(r[i].r_info);
        if (strcmp((const char *)strtab + s->st_name, name) != 0)
            continue;
        return *(const uintptr_t *)(base + r[i].r_offset) != base + s->st_value;
    }
    return -1;
}
