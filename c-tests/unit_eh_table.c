/* A unit linked by rl_link has the .eh_frame_hdr search table `ld --eh-frame-hdr` writes, which
 * unwinders binary-search instead of walking .eh_frame: count udata4 and datarel|sdata4 pairs,
 * one for each FDE that covers code, sorted by initial location, each naming its FDE. An
 * exception thrown and caught through functions that are not the first of the table unwinds,
 * backtrace() from inside the unit reaches main, and libgcc's unwinder finds each function's FDE
 * through librelink's _dl_find_object. The table is checked before rl_iterate_phdr first
 * describes the unit (which walks .eh_frame whole, and hides a PT_GNU_EH_FRAME whose table
 * disagrees with it), then against what rl_iterate_phdr shows. argv[1]: fixture dir (with
 * unit_eh_a.o and unit_eh_b.o); argv[2]: libstdc++.so.6. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <link.h>

#include "check.h"

/* From libgcc_s (unwind-dw2-fde.h). */
struct dwarf_eh_bases {
    void *tbase, *dbase, *func;
};
extern const void *_Unwind_Find_FDE(void *pc, struct dwarf_eh_bases *bases);

static int32_t i32_at(const unsigned char *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

static const unsigned char *skip_leb(const unsigned char *p)
{
    while (*p++ & 0x80)
        ;
    return p;
}

/* The FDE pointer encoding of the CIE at `cie` (from its length field). */
static int fde_encoding(const unsigned char *cie)
{
    const unsigned char *p = cie + 8;
    int version = *p++;
    const char *aug = (const char *)p;
    p += strlen(aug) + 1;
    p = skip_leb(skip_leb(p));
    p = version == 1 ? p + 1 : skip_leb(p);
    if (aug[0] != 'z')
        return 0;
    p = skip_leb(p);
    for (const char *a = aug + 1; *a; a++) {
        if (*a == 'R')
            return *p;
        if (*a == 'P') {
            int enc = *p++;
            p += (enc & 0x0f) == 0x03 || (enc & 0x0f) == 0x0b ? 4 : 8;
        } else if (*a == 'L') {
            p++;
        }
    }
    return 0;
}

struct table {
    const unsigned char *hdr;
    uint32_t count;
    const unsigned char *entries;
};

static uintptr_t entry_loc(const struct table *t, uint32_t i)
{
    return (uintptr_t)t->hdr + (intptr_t)i32_at(t->entries + 8 * i);
}

static const unsigned char *entry_fde(const struct table *t, uint32_t i)
{
    return t->hdr + i32_at(t->entries + 8 * i + 4);
}

/* The index of the entry for `loc`, or -1. */
static long entry_for(const struct table *t, uintptr_t loc)
{
    uint32_t lo = 0, hi = t->count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (entry_loc(t, mid) < loc)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < t->count && entry_loc(t, lo) == loc ? (long)lo : -1;
}

/* Check the search table of the .eh_frame_hdr at `hdr` against the unit's .eh_frame. */
static struct table check_table(const unsigned char *hdr)
{
    struct table t = {hdr, 0, NULL};
    CHECK(hdr[0] == 1 && hdr[1] == 0x1b, "version 1, eh_frame_ptr pcrel|sdata4: %#x %#x", hdr[0], hdr[1]);
    CHECK(hdr[2] == 0x03 && hdr[3] == 0x3b, "a search table: fde_count_enc %#x (want udata4 0x03), table_enc %#x (want 0x3b)",
          hdr[2], hdr[3]);
    const unsigned char *eh = hdr + 4 + i32_at(hdr + 4);
    memcpy(&t.count, hdr + 8, 4);
    t.entries = hdr + 12;
    CHECK(((uintptr_t)t.entries & 3) == 0, "the table is 4-byte aligned");
    for (uint32_t i = 1; i < t.count; i++)
        CHECK(entry_loc(&t, i - 1) < entry_loc(&t, i), "entries in ascending order of location (%u)", i);
    /* Every FDE that covers code has its entry, and there is no other. */
    uint32_t fdes = 0;
    for (const unsigned char *p = eh; i32_at(p) != 0; p += 4 + i32_at(p)) {
        int32_t id = i32_at(p + 4);
        if (id == 0)
            continue;
        int enc = fde_encoding(p + 4 - id);
        CHECK(enc == 0x1b, "the FDE at %p: pcrel|sdata4 locations (%#x)", (void *)p, enc);
        int32_t start = i32_at(p + 8), range = i32_at(p + 12);
        if (start == 0 || range <= 0)
            continue;
        uintptr_t loc = (uintptr_t)(p + 8) + (intptr_t)start;
        long i = entry_for(&t, loc);
        CHECK(i >= 0 && entry_fde(&t, (uint32_t)i) == p, "the FDE at %p (code at %#lx) has its entry", (void *)p,
              (unsigned long)loc);
        fdes++;
    }
    CHECK(fdes == t.count, "%u entries for %u FDEs that cover code", t.count, fdes);
    return t;
}

struct phdr_want {
    uintptr_t code;
    uintptr_t hdr, size;
    int seen;
};

static int find_unit(struct dl_phdr_info *info, size_t size, void *data)
{
    struct phdr_want *w = data;
    int holds = 0;
    uintptr_t hdr = 0, hdr_size = 0;
    (void)size;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *p = &info->dlpi_phdr[i];
        uintptr_t at = info->dlpi_addr + p->p_vaddr;
        if (p->p_type == PT_LOAD && w->code >= at && w->code < at + p->p_memsz)
            holds = 1;
        if (p->p_type == PT_GNU_EH_FRAME)
            hdr = at, hdr_size = p->p_memsz;
    }
    if (!holds)
        return 0;
    w->hdr = hdr;
    w->size = hdr_size;
    w->seen = 1;
    return 1;
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    CHECK(argc > 2, "usage: unit_eh_table DIR libstdc++.so.6");
    rl_input in[3] = {{strf("%s/unit_eh_a.o", dir), NULL, 0, NULL, 0},
                      {strf("%s/unit_eh_b.o", dir), NULL, 0, NULL, 0},
                      {argv[2], NULL, 0, NULL, 0}};
    rl_handle *h = rl_link(in, 3, RL_NOW, NULL);
    CHECK(h != NULL, "rl_link(unit_eh_a.o, unit_eh_b.o, libstdc++.so.6)");
    int (*catch_)(int) = SYM(h, int (*)(int), "ueh_catch");
    int (*second)(int) = SYM(h, int (*)(int), "ueh_second");
    int (*trace)(void **, int) = SYM(h, int (*)(void **, int), "ueh_trace");

    /* Through the search table (librelink's _dl_find_object), each FDE checked as it is used. */
    CHECK(catch_(0) == 2, "no exception");
    CHECK(catch_(7) == 1007, "an int thrown in ueh_throw, through ueh_pass, caught in ueh_catch");
    CHECK(second(1) == 22, "ueh_second");
    void *frames[32];
    int n = trace(frames, 32);
    int in_trace = -1, in_main = -1;
    for (int i = 0; i < n; i++) {
        rl_addr_info ai;
        Dl_info di;
        if (in_trace < 0 && rl_addr(frames[i], &ai) && ai.sname && strcmp(ai.sname, "ueh_trace") == 0)
            in_trace = i;
        if (in_main < 0 && dladdr(frames[i], &di) && di.dli_sname && strcmp(di.dli_sname, "main") == 0)
            in_main = i;
    }
    CHECK(in_trace > 0 && in_main > in_trace, "backtrace() from the unit: %d frames, ueh_trace at %d, main at %d", n,
          in_trace, in_main);

    struct dl_find_object fo;
    CHECK(_dl_find_object((void *)catch_, &fo) == 0 && fo.dlfo_eh_frame != NULL, "_dl_find_object gives the unit's .eh_frame_hdr");
    struct table t = check_table(fo.dlfo_eh_frame);
    const char *names[] = {"ueh_first", "ueh_second", "ueh_catch", "ueh_trace"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        void *f = rl_sym(h, names[k]);
        CHECK(f != NULL, "rl_sym(%s)", names[k]);
        long i = entry_for(&t, (uintptr_t)f);
        CHECK(i >= 0, "%s has an entry", names[k]);
        if (strcmp(names[k], "ueh_catch") == 0)
            CHECK(i > 0, "ueh_catch is not the table's first entry");
        struct dwarf_eh_bases bases;
        const void *fde = _Unwind_Find_FDE((char *)f + 1, &bases);
        CHECK(fde == entry_fde(&t, (uint32_t)i) && bases.func == f, "the unwinder finds %s's FDE %p through the table (%p)",
              names[k], (const void *)entry_fde(&t, (uint32_t)i), fde);
    }

    /* rl_iterate_phdr walks .eh_frame whole first: the table agrees with it, so the unit's
     * PT_GNU_EH_FRAME is shown, and covers the table. */
    struct phdr_want w = {.code = (uintptr_t)catch_};
    rl_iterate_phdr(find_unit, &w);
    CHECK(w.seen && w.hdr == (uintptr_t)fo.dlfo_eh_frame, "rl_iterate_phdr shows the unit's PT_GNU_EH_FRAME (%#lx)",
          (unsigned long)w.hdr);
    CHECK(w.size == 12 + 8 * (uintptr_t)t.count, "PT_GNU_EH_FRAME's size %lu covers the header and %u entries",
          (unsigned long)w.size, t.count);
    check_table(fo.dlfo_eh_frame);
    CHECK(catch_(3) == 1003, "an exception after the walk");
    CHECK(rl_close(h) == 0, "close");
    CHECKS_DONE();
}
