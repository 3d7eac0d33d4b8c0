/* rl_sym through a handle answers as dlsym through a handle on the same
 * library, for every name of the library's .dynsym (defined, with default or
 * hidden versions, or undefined: found in a dependency, IFUNCs among them)
 * and the same names with "_nope" appended, before and after the handle has
 * been searched often enough to get its own lookup table. relink maps its own
 * copy of each library, so addresses are compared as (object, offset); libc,
 * loaded by the system loader, is searched through a handle on it (memcpy is
 * an IFUNC there). */
#include "elf_file.h"

#include <dlfcn.h>
#include <libgen.h>

struct where {
    const char *object;
    uintptr_t offset;
};

static struct where where_is(void *addr, int relink)
{
    struct where w = {"(none)", (uintptr_t)addr};
    struct rl_addr_info ri;
    Dl_info di;
    if (addr == NULL)
        return w;
    if (relink && rl_addr(addr, &ri) && ri.fname != NULL) {
        w.object = basename(strdup(ri.fname));
        w.offset = (uintptr_t)addr - (uintptr_t)ri.fbase;
    } else if (dladdr(addr, &di) && di.dli_fname != NULL) {
        w.object = basename(strdup(di.dli_fname));
        w.offset = (uintptr_t)addr - (uintptr_t)di.dli_fbase;
    }
    return w;
}

static void compare(const char *lib, rl_handle *h, void *g, int own_copy)
{
    const char *path = NULL;
    CHECK(rl_info(h, &path, NULL, NULL) == 0 && path != NULL, "rl_info %s", lib);
    struct elf_file f;
    elf_read(&f, path);
    const Elf64_Shdr *ds = elf_section(&f, ".dynsym");
    CHECK(ds != NULL, "%s has .dynsym", path);
    const Elf64_Sym *syms = (const Elf64_Sym *)(f.data + ds->sh_offset);
    size_t n = ds->sh_size / sizeof *syms, compared = 0, found = 0;
    for (int pass = 0; pass < 3; pass++) {
        /* Search the handle often enough for it to get its table (as many lookups as its
         * scope has symbols) before the second pass. */
        for (long k = 0; pass == 1 && k < 200000; k++)
            rl_sym(h, elf_dynstr(&f, syms[1 + k % (n - 1)].st_name));
        rl_error();
        for (size_t i = 1; i < n; i++) {
            const char *name = elf_dynstr(&f, syms[i].st_name);
            if (name == NULL || *name == 0)
                continue;
            void *a = rl_sym(h, name);
            const char *e = rl_error();
            /* (NULL with no error: a symbol whose value is 0, such as a version's name.) */
            CHECK(a != NULL || e == NULL || (strstr(e, ": undefined symbol: ") && strstr(e, name)), "%s: %s", lib, e);
            void *b = dlsym(g, name);
            if (ELF64_ST_TYPE(syms[i].st_info) == STT_TLS) {
                /* Each copy has its own block in this thread. */
                CHECK((a == NULL) == (b == NULL), "%s: TLS %s: relink %p, dlsym %p", lib, name, a, b);
                continue;
            }
            struct where wa = where_is(a, own_copy), wb = where_is(b, 0);
            CHECK(strcmp(wa.object, wb.object) == 0 && wa.offset == wb.offset,
                  "%s: %s (pass %d): relink %p = %s+%#lx, dlsym %p = %s+%#lx", lib, name, pass, a, wa.object,
                  (unsigned long)wa.offset, b, wb.object, (unsigned long)wb.offset);
            compared++;
            found += a != NULL;
            char *nope = strf("%s_nope", name);
            CHECK(rl_sym(h, nope) == NULL, "%s: %s", lib, nope);
            if (i % 16 == 0)
                EXPECT_ERROR(strf("%s: undefined symbol: %s", path, nope));
            else
                rl_error();
            CHECK(dlsym(g, nope) == NULL, "dlsym %s", nope);
            free(nope);
        }
    }
    printf("%s: %zu lookups compared, %zu found\n", lib, compared, found);
    CHECK(found > 0, "%s: something found", lib);
}

int main(void)
{
    static const char *const libs[] = {"libz.so.1", "libsqlite3.so.0", "libstdc++.so.6"};
    for (size_t i = 0; i < sizeof libs / sizeof *libs; i++) {
        /* relink first: then it maps its own copy. */
        rl_handle *h = rl_open(libs[i], RL_NOW);
        CHECK(h != NULL, "rl_open %s", libs[i]);
        void *g = dlopen(libs[i], RTLD_NOW);
        CHECK(g != NULL, "dlopen %s: %s", libs[i], dlerror());
        compare(libs[i], h, g, 1);
    }
    rl_handle *libc = rl_open("libc.so.6", RL_NOW);
    void *glibc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    CHECK(libc != NULL && glibc != NULL, "libc handles");
    compare("libc.so.6", libc, glibc, 0);
    void *memcpy_ = rl_sym(libc, "memcpy");
    CHECK(memcpy_ != NULL && memcpy_ == dlsym(glibc, "memcpy"), "libc's memcpy (an IFUNC): %p", memcpy_);
    CHECKS_DONE();
}
