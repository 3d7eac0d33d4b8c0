/* No malformed .eh_frame or .eh_frame_hdr ever reaches an unwinder. What an unwinder reads
 * decides when it is checked:
 * - libgcc finding frames through librelink's _dl_find_object reads the search table and the one
 *   FDE (and CIE) it names for an address. The search table is checked at open (a table out of
 *   order is refused); a broken FDE or CIE is found when _dl_find_object is asked about its code,
 *   which is then answered without unwind tables: the library loads, its other FDEs work, and the
 *   unwinder never sees the broken one.
 * - rl_iterate_phdr callbacks may walk .eh_frame whole: an object whose tables are malformed is
 *   described without its PT_GNU_EH_FRAME.
 * - An unwinder that gets the tables through __register_frame walks every record: a library whose
 *   scope holds one (libfake_unwinder.so) is refused at open when its tables are malformed.
 * Each variant is a copy of a library with one field of its unwind tables broken, opened through
 * rl_open and rl_open_mem; backtrace() keeps working. argv[1]: fixture dir. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>

#include "elf_file.h"
#include "refused.h"

#include <execinfo.h>
#include <unistd.h>

/* From libgcc_s (unwind-dw2-fde.h). */
struct dwarf_eh_bases {
    void *tbase, *dbase, *func;
};
extern const void *_Unwind_Find_FDE(void *pc, struct dwarf_eh_bases *bases);

static const char *dir;

/* A library's unwind tables, in its file: the first CIE, the FDE after it and the FDE after
 * that (both of that CIE), and the CIE's FDE pointer encoding byte. */
struct tables {
    struct elf_file f;
    const Elf64_Shdr *eh_sh, *hdr_sh;
    unsigned char *eh, *hdr, *cie, *fde, *next, *renc;
};

static void unwinder_works(void)
{
    void *frames[32];
    CHECK(backtrace(frames, 32) >= 2, "backtrace() from main");
}

static const unsigned char *skip_leb(const unsigned char *p)
{
    while (*p++ & 0x80)
        ;
    return p;
}

static uint32_t u32_at(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* The first address an FDE of the file covers (pc-relative 32-bit start). */
static Elf64_Addr fde_pc(const struct tables *t, const unsigned char *fde)
{
    int32_t s;
    memcpy(&s, fde + 8, 4);
    return t->eh_sh->sh_addr + (Elf64_Addr)(fde + 8 - t->eh) + (Elf64_Addr)(int64_t)s;
}

/* The address search table entry i of .eh_frame_hdr names. */
static Elf64_Addr entry_pc(const struct tables *t, int i)
{
    int32_t s;
    memcpy(&s, t->hdr + 12 + 8 * i, 4);
    return t->hdr_sh->sh_addr + (Elf64_Addr)(int64_t)s;
}

static void locate(struct tables *t, const char *path)
{
    const unsigned char *p;
    const unsigned char *aug;
    uint32_t cie_len;

    elf_read(&t->f, path);
    t->eh = elf_section_data(&t->f, ".eh_frame", &t->eh_sh);
    t->hdr = elf_section_data(&t->f, ".eh_frame_hdr", &t->hdr_sh);
    t->cie = t->eh;
    cie_len = u32_at(t->cie);
    CHECK(u32_at(t->cie + 4) == 0 && t->cie[8] == 1, "%s: .eh_frame starts with a version 1 CIE", path);
    aug = t->cie + 9;
    CHECK(aug[0] == 'z' && strchr((const char *)aug, 'R') != NULL, "CIE augmentation %s has R", (const char *)aug);
    p = skip_leb(skip_leb(aug + strlen((const char *)aug) + 1)) + 1; /* code and data alignment, RA */
    p = skip_leb(p);                                                  /* augmentation data length */
    t->renc = NULL;
    for (const char *c = (const char *)aug + 1; *c; c++) {
        if (*c == 'R') {
            t->renc = (unsigned char *)p;
            break;
        }
        p += *c == 'P' ? 1 + 4 : 1;
    }
    CHECK(t->renc != NULL && *t->renc == 0x1b, "FDE encoding pcrel|sdata4");
    t->fde = t->cie + 4 + cie_len;
    CHECK(u32_at(t->fde + 4) == (uint32_t)(t->fde + 4 - t->cie), "the next record is an FDE of that CIE");
    t->next = t->fde + 4 + u32_at(t->fde);
    CHECK(u32_at(t->next + 4) == (uint32_t)(t->next + 4 - t->cie), "and the one after it too");
    CHECK(t->hdr[0] == 1 && t->hdr[2] == 0x03 && t->hdr[3] == 0x3b && u32_at(t->hdr + 8) >= 2,
          ".eh_frame_hdr version 1 with a search table of two entries or more");
}

/* Write a copy of the file with `n` bytes at `at` replaced; returns its path. */
static char *patched(struct tables *t, const char *name, unsigned char *at, const void *bytes, size_t n)
{
    unsigned char saved[16];
    char *path = strf("%s/eh_%s.so", dir, name);
    CHECK(n <= sizeof saved, "patch size");
    memcpy(saved, at, n);
    memcpy(at, bytes, n);
    write_file_or_die(path, t->f.data, t->f.len);
    memcpy(at, saved, n);
    return path;
}

/* Check rl_open refuses the patched copy, and rl_open_mem too when `memory` is set (a copy from
 * memory has no $ORIGIN to find its dependencies with). */
static void refused(struct tables *t, const char *name, unsigned char *at, const void *bytes, size_t n,
                    const char *needle, int memory)
{
    char *path = patched(t, name, at, bytes, n);
    char *mem_name = strf("mem-eh_%s.so", name);
    REFUSED_FROM_FILE(path, needle);
    unwinder_works();
    if (memory) {
        REFUSED_FROM_MEMORY(path, mem_name, needle);
        unwinder_works();
    }
    free(path);
    free(mem_name);
}

struct seen {
    uintptr_t base;
    int found, eh;
};

static int eh_phdrs(struct dl_phdr_info *info, size_t size, void *data)
{
    struct seen *s = data;
    (void)size;
    if (info->dlpi_addr != s->base)
        return 0;
    s->found = 1;
    for (int i = 0; i < info->dlpi_phnum; i++)
        s->eh += info->dlpi_phdr[i].p_type == PT_GNU_EH_FRAME;
    return 0;
}

static rl_handle *open_way(const char *path, const char *name, int way)
{
    size_t len;
    char *image;
    rl_handle *h;
    if (way == 0)
        return rl_open(path, RL_NOW);
    image = read_file_or_die(path, &len);
    h = rl_open_mem(image, len, name, RL_NOW);
    free(image);
    return h;
}

/* An opened copy of t's library: the code at `bad` (an address of the file) is answered without
 * unwind tables, the code at `good` (0: none to check) with them. */
static void lookups(const struct tables *t, rl_handle *h, const char *name, Elf64_Addr bad, Elf64_Addr good)
{
    void *base = NULL;
    struct dl_find_object r;
    struct dwarf_eh_bases b;
    CHECK(rl_info(h, NULL, &base, NULL) == 0, "rl_info(%s)", name);
    CHECK(_dl_find_object((char *)base + bad, &r) == 0 && r.dlfo_eh_frame == NULL,
          "%s: _dl_find_object gives the code of the broken FDE no .eh_frame_hdr (%p)", name, r.dlfo_eh_frame);
    CHECK(_Unwind_Find_FDE((char *)base + bad, &b) == NULL, "%s: the unwinder finds no FDE there", name);
    if (good != 0) {
        CHECK(_dl_find_object((char *)base + good, &r) == 0 &&
                  r.dlfo_eh_frame == (char *)base + t->hdr_sh->sh_addr,
              "%s: another FDE's code has the .eh_frame_hdr (%p)", name, r.dlfo_eh_frame);
        CHECK(_Unwind_Find_FDE((char *)base + good, &b) != NULL && b.func == (char *)base + good,
              "%s: the unwinder finds that FDE (function %p)", name, b.func);
    }
}

/* The patched copy loads both ways; see lookups(); rl_iterate_phdr shows it without
 * PT_GNU_EH_FRAME. */
static void deferred(struct tables *t, const char *name, unsigned char *at, const void *bytes, size_t n,
                     Elf64_Addr bad, Elf64_Addr good)
{
    char *path = patched(t, name, at, bytes, n);
    char *mem_name = strf("mem-eh_%s.so", name);
    for (int way = 0; way < 2; way++) {
        const char *shown = way == 0 ? path : mem_name;
        rl_handle *h = open_way(path, mem_name, way);
        void *base = NULL;
        CHECK(h != NULL, "%s loads: %s", shown, rl_error());
        lookups(t, h, shown, bad, good);
        CHECK(rl_info(h, NULL, &base, NULL) == 0, "rl_info(%s)", shown);
        struct seen s = {.base = (uintptr_t)base};
        rl_iterate_phdr(eh_phdrs, &s);
        CHECK(s.found && s.eh == 0, "%s: rl_iterate_phdr shows it without PT_GNU_EH_FRAME (%d)", shown, s.eh);
        lookups(t, h, shown, bad, good);
        unwinder_works();
        CHECK(rl_close(h) == 0, "rl_close(%s)", shown);
        unwinder_works();
    }
    free(path);
    free(mem_name);
}

int main(int argc, char **argv)
{
    struct tables t, reg;
    uint32_t v;
    int32_t s;
    char *simple, *registered;
    rl_handle *h;
    Elf64_Addr bad, good;

    dir = fixture_dir(argc, argv);
    simple = strf("%s/libsimple.so", dir);
    registered = strf("%s/libeh_registered.so", dir);
    locate(&t, simple);
    locate(&reg, registered);
    bad = fde_pc(&t, t.fde);
    good = fde_pc(&t, t.next);

    /* The intact library loads, and the unwinder is fine with it. */
    h = rl_open(simple, RL_NOW);
    CHECK(h != NULL, "rl_open(%s)", simple);
    unwinder_works();
    CHECK(rl_close(h) == 0, "rl_close");

    /* Broken FDEs and CIEs: found at lookup. */
    v = 0x7ffffff0; /* an FDE length far past the end of the segment */
    deferred(&t, "fde_length", t.fde, &v, 4, bad, good);
    v = 0xffffffff; /* a 64-bit record length */
    deferred(&t, "fde_length64", t.fde, &v, 4, bad, good);
    {
        unsigned char junk[8]; /* a CIE of garbage (version 0xa5): every FDE of it */
        memset(junk, 0xa5, sizeof junk);
        deferred(&t, "cie_garbage", t.cie + 8, junk, sizeof junk, bad, 0);
    }
    {
        unsigned char enc = 0x17; /* an FDE pointer encoding the unwinder aborts on (format 7) */
        deferred(&t, "fde_encoding", t.renc, &enc, 1, bad, 0);
    }
    memcpy(&s, t.fde + 8, 4); /* an FDE whose code range lies far outside the object's code */
    s += 0x10000000;
    deferred(&t, "fde_range", t.fde + 8, &s, 4, bad, good);
    {
        /* augmentation data (its length right after the code range) running past the record:
         * one length byte, then one of two (0x80 | n, 0x7f) */
        unsigned char aug_len = 0x7f;
        unsigned char aug_len2[2] = {0xff, 0x7f};
        deferred(&t, "fde_aug_length", t.fde + 16, &aug_len, 1, bad, good);
        deferred(&t, "fde_aug_length2", t.fde + 16, aug_len2, 2, bad, good);
    }
    v = (uint32_t)(t.fde + 4 - t.cie) - 4; /* a CIE pointer into the middle of the CIE */
    deferred(&t, "cie_pointer", t.fde + 4, &v, 4, bad, good);
    memcpy(&s, t.hdr + 12 + 4, 4); /* a search table entry that does not point at an FDE */
    s += 1;
    deferred(&t, "hdr_entry", t.hdr + 12 + 4, &s, 4, entry_pc(&t, 0), entry_pc(&t, 1));

    /* A search table out of address order: refused at open (the unwinder's binary search would
     * fail an assertion). */
    memcpy(&s, t.hdr + 12 + 8, 4);
    s += 1;
    refused(&t, "hdr_order", t.hdr + 12, &s, 4, "not in address order", 1);

    /* A library whose scope holds an unwinder that gets its tables through __register_frame:
     * intact, it loads and is registered; broken, it is refused. */
    h = rl_open(registered, RL_NOW);
    CHECK(h != NULL, "rl_open(%s): %s", registered, rl_error());
    CHECK(*SYM(h, int *, "fake_unwinder_registered") == 1, "its frames are registered with libfake_unwinder.so");
    CHECK(rl_close(h) == 0, "rl_close");
    memcpy(&s, reg.fde + 8, 4);
    s += 0x10000000;
    refused(&reg, "registered_fde_range", reg.fde + 8, &s, 4, "outside the object's executable segments", 0);
    v = 0x7ffffff0;
    refused(&reg, "registered_fde_length", reg.fde, &v, 4, "record length runs past", 0);

    /* A file whose tables were walked whole and found sound (here by rl_iterate_phdr) is not
     * checked again when it is opened again, as long as it is the same: rewritten in place (same
     * inode, same size, a broken FDE range), its broken FDE is found again, also once its times
     * are as old as those of the first version were; written back as it was, it is whole again.
     * Times must be two seconds old: relink remembers only files that have not just changed, and
     * looks up only those. */
    {
        char *path = strf("%s/eh_cached.so", dir);
        unsigned char saved[4];
        void *base = NULL;
        struct dl_find_object r;
        write_file_or_die(path, t.f.data, t.f.len);
        sleep(2);
        h = rl_open(path, RL_NOW);
        CHECK(h != NULL, "rl_open(%s): %s", path, rl_error());
        CHECK(rl_info(h, NULL, &base, NULL) == 0, "rl_info");
        struct seen sn = {.base = (uintptr_t)base};
        rl_iterate_phdr(eh_phdrs, &sn);
        CHECK(sn.found && sn.eh == 1, "rl_iterate_phdr shows its PT_GNU_EH_FRAME");
        CHECK(rl_close(h) == 0, "rl_close");
        h = rl_open(path, RL_NOW);
        CHECK(h != NULL, "rl_open(%s) again: %s", path, rl_error());
        CHECK(rl_close(h) == 0, "rl_close");
        memcpy(saved, t.fde + 8, 4);
        memcpy(&s, t.fde + 8, 4);
        s += 0x10000000;
        memcpy(t.fde + 8, &s, 4);
        write_file_or_die(path, t.f.data, t.f.len);
        memcpy(t.fde + 8, saved, 4);
        for (int round = 0; round < 2; round++) {
            if (round == 1)
                sleep(2);
            h = rl_open(path, RL_NOW);
            CHECK(h != NULL, "rl_open(%s) rewritten: %s", path, rl_error());
            lookups(&t, h, path, bad, good);
            CHECK(rl_close(h) == 0, "rl_close");
        }
        unwinder_works();
        write_file_or_die(path, t.f.data, t.f.len);
        h = rl_open(path, RL_NOW);
        CHECK(h != NULL, "rl_open(%s) restored: %s", path, rl_error());
        CHECK(rl_info(h, NULL, &base, NULL) == 0, "rl_info");
        CHECK(_dl_find_object((char *)base + bad, &r) == 0 && r.dlfo_eh_frame == (char *)base + t.hdr_sh->sh_addr,
              "restored: the FDE has its .eh_frame_hdr again");
        CHECK(rl_close(h) == 0, "rl_close");
        free(path);
    }

    /* After all that, the library still loads and unloads, and so does the unwinder. */
    h = rl_open(simple, RL_NOW);
    CHECK(h != NULL, "rl_open(%s) again", simple);
    CHECK(SYM(h, int (*)(int), "simple_triple")(4) == 12, "simple_triple");
    unwinder_works();
    CHECK(rl_close(h) == 0, "rl_close");
    unwinder_works();
    free(t.f.data);
    free(reg.f.data);
    CHECKS_DONE();
}
