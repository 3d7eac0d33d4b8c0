/* librelink's _dl_find_object, which libgcc's unwinder calls for every frame: an address in an
 * object relink loaded gives that object's mapping and .eh_frame_hdr; an address of the host's
 * is answered as glibc answers it; an address of nothing (or of an object closed since) gives -1.
 * The unwinder finds the plugin's frames. argv[1]: directory of libfind_obj.so. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>

#include "check.h"

/* From libgcc_s (unwind-dw2-fde.h). */
struct dwarf_eh_bases {
    void *tbase, *dbase, *func;
};
extern const void *_Unwind_Find_FDE(void *pc, struct dwarf_eh_bases *bases);

struct want {
    const char *suffix; /* NULL: the first object (the program) */
    uintptr_t eh_frame_hdr, lo, hi;
    int seen;
};

static int eh_hdr_of(struct dl_phdr_info *info, size_t size, void *data)
{
    struct want *w = data;
    (void)size;
    if (w->suffix != NULL) {
        size_t n = strlen(info->dlpi_name), k = strlen(w->suffix);
        if (n < k || strcmp(info->dlpi_name + n - k, w->suffix) != 0)
            return 0;
    }
    w->lo = UINTPTR_MAX;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *p = &info->dlpi_phdr[i];
        if (p->p_type == PT_GNU_EH_FRAME)
            w->eh_frame_hdr = info->dlpi_addr + p->p_vaddr;
        if (p->p_type == PT_LOAD) {
            if (info->dlpi_addr + p->p_vaddr < w->lo)
                w->lo = info->dlpi_addr + p->p_vaddr;
            if (info->dlpi_addr + p->p_vaddr + p->p_memsz > w->hi)
                w->hi = info->dlpi_addr + p->p_vaddr + p->p_memsz;
        }
    }
    w->seen = 1;
    return 1;
}

int main(int argc, char **argv)
{
    const char *path = strf("%s/libfind_obj.so", fixture_dir(argc, argv));
    rl_handle *h = rl_open(path, RL_NOW);
    CHECK(h != NULL, "open %s", path);
    void *f = SYM(h, void *, "fo_answer");
    struct want lib = {.suffix = "/libfind_obj.so"};
    rl_iterate_phdr(eh_hdr_of, &lib);
    CHECK(lib.seen && lib.eh_frame_hdr != 0, "rl_iterate_phdr shows libfind_obj.so and its PT_GNU_EH_FRAME");

    /* An object relink loaded. */
    struct dl_find_object r;
    memset(&r, 0xaa, sizeof r);
    CHECK(_dl_find_object(f, &r) == 0, "_dl_find_object finds fo_answer in libfind_obj.so");
    CHECK((uintptr_t)r.dlfo_eh_frame == lib.eh_frame_hdr, "its .eh_frame_hdr: %p, want %#lx", r.dlfo_eh_frame,
          (unsigned long)lib.eh_frame_hdr);
    CHECK((uintptr_t)r.dlfo_map_start <= lib.lo && (uintptr_t)r.dlfo_map_end >= lib.hi,
          "its mapping %p-%p holds its segments %#lx-%#lx", r.dlfo_map_start, r.dlfo_map_end,
          (unsigned long)lib.lo, (unsigned long)lib.hi);
    CHECK(r.dlfo_flags == 0, "flags %llu", (unsigned long long)r.dlfo_flags);
    CHECK(_dl_find_object((char *)lib.hi - 1, &r) == 0 && (uintptr_t)r.dlfo_eh_frame == lib.eh_frame_hdr,
          "the last byte of its segments is in it too");

    /* The unwinder finds the plugin's frame description. */
    struct dwarf_eh_bases bases;
    CHECK(_Unwind_Find_FDE((char *)f + 1, &bases) != NULL && bases.func == f,
          "_Unwind_Find_FDE finds fo_answer's FDE (function %p)", bases.func);

    /* The host's objects: glibc's answer. */
    struct want prog = {.suffix = NULL};
    dl_iterate_phdr(eh_hdr_of, &prog);
    CHECK(prog.seen && prog.eh_frame_hdr != 0, "the program has a PT_GNU_EH_FRAME");
    CHECK(_dl_find_object((void *)main, &r) == 0, "_dl_find_object finds main");
    CHECK((uintptr_t)r.dlfo_eh_frame == prog.eh_frame_hdr && r.dlfo_link_map != NULL,
          "main is the program's: .eh_frame_hdr %p (want %#lx), link_map %p", r.dlfo_eh_frame,
          (unsigned long)prog.eh_frame_hdr, (void *)r.dlfo_link_map);
    void *libc_fn = dlsym(RTLD_DEFAULT, "qsort");
    Dl_info di;
    CHECK(libc_fn != NULL && dladdr(libc_fn, &di) != 0, "qsort in the C library");
    CHECK(_dl_find_object(libc_fn, &r) == 0 && r.dlfo_map_start == di.dli_fbase, "qsort: the C library's mapping");

    /* Nothing there. */
    CHECK(_dl_find_object((void *)16, &r) == -1, "address 16 is in no object");

    /* Closed: no longer found. */
    CHECK(rl_close(h) == 0, "close");
    CHECK(_dl_find_object(f, &r) == -1, "fo_answer's old address after the close");
    CHECK(rl_error() == NULL, "no error left behind");
    CHECKS_DONE();
}
