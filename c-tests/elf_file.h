/* Reading (and patching) an ELF64 shared object held in memory, for test
 * programs that compare what relink did with what the file asks for.
 *
 *   elf_read(&f, path)               read the whole file; exits on a bad header
 *   elf_phdr(&f, PT_x)               first program header of a type, or NULL
 *   elf_at(&f, vaddr, len)           the file bytes behind [vaddr, vaddr + len), or NULL
 *   elf_dyn(&f, DT_x, &val)          value of a dynamic tag (1 if present)
 *   elf_dynsym(&f, name)             the .dynsym entry of a defined symbol, or NULL
 *   elf_rela_sym_name(&f, r)         name of the symbol a RELA entry refers to
 *   elf_find_rela(&f, DT_RELA, type, name)
 *                                    an entry of that type against that symbol in the
 *                                    table of DT_RELA or DT_JMPREL, or NULL
 *   elf_section(&f, ".got")          section header by name, or NULL
 *   elf_dyn_set(&f, DT_x, val)       change the value of a dynamic tag (which must be present)
 *   elf_dynsym_index(&f, name)       .dynsym index of a defined symbol (exits if missing)
 *   elf_section_data(&f, ".x", &sh)  the file bytes of a section (exits if missing)
 */
#ifndef RELINK_ELF_FILE_H
#define RELINK_ELF_FILE_H

#include "check.h"

#include <elf.h>

struct elf_file {
    const char *path;
    char *data;
    size_t len;
    Elf64_Ehdr *eh;
    Elf64_Phdr *ph;
};

static inline void elf_read(struct elf_file *f, const char *path)
{
    f->path = path;
    f->data = read_file_or_die(path, &f->len);
    f->eh = (Elf64_Ehdr *)f->data;
    if (f->len < sizeof *f->eh || memcmp(f->eh->e_ident, ELFMAG, SELFMAG) != 0 ||
        f->eh->e_ident[EI_CLASS] != ELFCLASS64 || f->eh->e_phentsize != sizeof(Elf64_Phdr) ||
        f->eh->e_phoff + (size_t)f->eh->e_phnum * sizeof(Elf64_Phdr) > f->len) {
        fprintf(stderr, "%s: not an ELF64 file this test can read\n", path);
        exit(1);
    }
    f->ph = (Elf64_Phdr *)(f->data + f->eh->e_phoff);
}

static inline const Elf64_Phdr *elf_phdr(const struct elf_file *f, Elf64_Word type)
{
    int i;
    for (i = 0; i < f->eh->e_phnum; i++)
        if (f->ph[i].p_type == type)
            return &f->ph[i];
    return NULL;
}

static inline void *elf_at(const struct elf_file *f, Elf64_Addr vaddr, size_t len)
{
    int i;
    for (i = 0; i < f->eh->e_phnum; i++) {
        const Elf64_Phdr *p = &f->ph[i];
        if (p->p_type == PT_LOAD && vaddr >= p->p_vaddr && vaddr + len <= p->p_vaddr + p->p_filesz &&
            p->p_offset + (vaddr - p->p_vaddr) + len <= f->len)
            return f->data + p->p_offset + (vaddr - p->p_vaddr);
    }
    return NULL;
}

static inline int elf_dyn(const struct elf_file *f, Elf64_Sxword tag, Elf64_Xword *val)
{
    const Elf64_Phdr *dp = elf_phdr(f, PT_DYNAMIC);
    Elf64_Dyn *d;
    size_t i, n;
    if (dp == NULL || dp->p_offset + dp->p_filesz > f->len)
        return 0;
    d = (Elf64_Dyn *)(f->data + dp->p_offset);
    n = dp->p_filesz / sizeof *d;
    for (i = 0; i < n && d[i].d_tag != DT_NULL; i++)
        if (d[i].d_tag == tag) {
            *val = d[i].d_un.d_val;
            return 1;
        }
    return 0;
}

static inline void elf_dyn_set(struct elf_file *f, Elf64_Sxword tag, Elf64_Xword val)
{
    const Elf64_Phdr *dp = elf_phdr(f, PT_DYNAMIC);
    Elf64_Dyn *d;
    size_t i, n;
    if (dp == NULL || dp->p_offset + dp->p_filesz > f->len) {
        fprintf(stderr, "%s: no dynamic section\n", f->path);
        exit(1);
    }
    d = (Elf64_Dyn *)(f->data + dp->p_offset);
    n = dp->p_filesz / sizeof *d;
    for (i = 0; i < n && d[i].d_tag != DT_NULL; i++)
        if (d[i].d_tag == tag) {
            d[i].d_un.d_val = val;
            return;
        }
    fprintf(stderr, "%s: no dynamic tag %ld\n", f->path, (long)tag);
    exit(1);
}

static inline const Elf64_Shdr *elf_section(const struct elf_file *f, const char *name)
{
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(f->data + f->eh->e_shoff);
    const char *names;
    int i;
    if (f->eh->e_shoff == 0 || f->eh->e_shentsize != sizeof *sh ||
        f->eh->e_shoff + (size_t)f->eh->e_shnum * sizeof *sh > f->len || f->eh->e_shstrndx >= f->eh->e_shnum)
        return NULL;
    names = f->data + sh[f->eh->e_shstrndx].sh_offset;
    for (i = 0; i < f->eh->e_shnum; i++)
        if (strcmp(names + sh[i].sh_name, name) == 0)
            return &sh[i];
    return NULL;
}

static inline const char *elf_dynstr(const struct elf_file *f, Elf64_Word off)
{
    Elf64_Xword strtab = 0, strsz = 0;
    const char *s;
    if (!elf_dyn(f, DT_STRTAB, &strtab) || !elf_dyn(f, DT_STRSZ, &strsz) || off >= strsz)
        return NULL;
    s = elf_at(f, strtab + off, 1);
    return s;
}

static inline const Elf64_Sym *elf_dynsym(const struct elf_file *f, const char *name)
{
    const Elf64_Shdr *ds = elf_section(f, ".dynsym");
    const Elf64_Sym *syms;
    size_t i, n;
    if (ds == NULL || ds->sh_offset + ds->sh_size > f->len)
        return NULL;
    syms = (const Elf64_Sym *)(f->data + ds->sh_offset);
    n = ds->sh_size / sizeof *syms;
    for (i = 1; i < n; i++) {
        const char *s = elf_dynstr(f, syms[i].st_name);
        if (s != NULL && strcmp(s, name) == 0 && syms[i].st_shndx != SHN_UNDEF)
            return &syms[i];
    }
    return NULL;
}

static inline size_t elf_dynsym_index(const struct elf_file *f, const char *name)
{
    const Elf64_Shdr *ds = elf_section(f, ".dynsym");
    const Elf64_Sym *s = elf_dynsym(f, name);
    if (ds == NULL || s == NULL) {
        fprintf(stderr, "%s: no dynamic symbol %s\n", f->path, name);
        exit(1);
    }
    return (size_t)(s - (const Elf64_Sym *)(f->data + ds->sh_offset));
}

static inline unsigned char *elf_section_data(const struct elf_file *f, const char *name, const Elf64_Shdr **sh)
{
    const Elf64_Shdr *s = elf_section(f, name);
    if (s == NULL || s->sh_offset + s->sh_size > f->len) {
        fprintf(stderr, "%s: no section %s\n", f->path, name);
        exit(1);
    }
    if (sh != NULL)
        *sh = s;
    return (unsigned char *)f->data + s->sh_offset;
}

static inline const char *elf_rela_sym_name(const struct elf_file *f, const Elf64_Rela *r)
{
    Elf64_Xword symtab = 0;
    const Elf64_Sym *sym;
    if (ELF64_R_SYM(r->r_info) == 0 || !elf_dyn(f, DT_SYMTAB, &symtab))
        return "";
    sym = elf_at(f, symtab + ELF64_R_SYM(r->r_info) * sizeof *sym, sizeof *sym);
    return sym ? elf_dynstr(f, sym->st_name) : NULL;
}

/* `table` is DT_RELA (its size in DT_RELASZ) or DT_JMPREL (DT_PLTRELSZ). */
static inline Elf64_Rela *elf_find_rela(const struct elf_file *f, Elf64_Sxword table, Elf64_Xword type,
                                        const char *name)
{
    Elf64_Xword addr = 0, size = 0;
    Elf64_Rela *r;
    size_t i;
    if (!elf_dyn(f, table, &addr) || !elf_dyn(f, table == DT_JMPREL ? DT_PLTRELSZ : DT_RELASZ, &size))
        return NULL;
    r = elf_at(f, addr, size);
    if (r == NULL)
        return NULL;
    for (i = 0; i < size / sizeof *r; i++) {
        const char *s = elf_rela_sym_name(f, &r[i]);
        if (ELF64_R_TYPE(r[i].r_info) == type && s != NULL && strcmp(s, name) == 0)
            return &r[i];
    }
    return NULL;
}

static inline void elf_set_rela_type(Elf64_Rela *r, Elf64_Xword type)
{
    r->r_info = ELF64_R_INFO(ELF64_R_SYM(r->r_info), type);
}

#endif
