/* The pages relocations write are faulted in before relocation begins (one populate call per
 * run of pages), and no page nothing writes is copied: libreloc_pages.so's block of scattered
 * pages (see reloc_pages.h). A relocation callback sees each symbolic relocation
 * before its word is written: its page must be a private copy already. After the open every
 * word is right, the pages of plain numbers are still the file's (never copied), and those
 * relocations wrote are copies. argv[1]: the library (with RELA or RELR relative relocations). */
#include "check.h"
#include "reloc_pages.h"

#define PAGE RP_PAGE
#define WORDS RP_WORDS
#define LONGS RP_LONGS

static int pagemap = -1;

/* Whether the page holding `p` is a private copy in memory (present, not a file page):
 * /proc/self/pagemap, bit 63 present, bit 61 file page or shared. */
static int copied(const void *p)
{
    uint64_t e = 0;
    off_t at = (off_t)((uintptr_t)p / PAGE * sizeof e);
    CHECK(pread(pagemap, &e, sizeof e, at) == (ssize_t)sizeof e, "read /proc/self/pagemap: %s", strerror(errno));
    return (e >> 63 & 1) && !(e >> 61 & 1);
}

struct seen {
    int calls;
    int not_copied;
    void *first_not_copied;
};

static int on_reloc(void *user, rl_reloc *r)
{
    struct seen *s = user;
    if (strcmp(r->name, "rp_target") == 0) {
        s->calls++;
        if (!copied(r->place) && s->not_copied++ == 0)
            s->first_not_copied = r->place;
    }
    return 0;
}

int main(int argc, char **argv)
{
    CHECK(argc == 2, "usage: reloc_pages LIB");
    CHECK(sysconf(_SC_PAGESIZE) == PAGE, "a machine with 4 KiB pages");
    pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    CHECK(pagemap >= 0, "open /proc/self/pagemap: %s", strerror(errno));

    struct seen seen = {0};
    rl_open_opts opts = {0};
    opts.size = sizeof opts;
    opts.on_relocation = on_reloc;
    opts.relocation_user = &seen;
    rl_handle *h = rl_open_ex(argv[1], NULL, 0, RL_NOW, &opts);
    CHECK(h != NULL, "rl_open_ex %s", argv[1]);
    CHECK(seen.calls == (int)(4 * WORDS), "%d symbolic relocations against rp_target seen", seen.calls);
    CHECK(seen.not_copied == 0, "%d of the %d places were not faulted in before relocation (the first at %p)",
          seen.not_copied, seen.calls, seen.first_not_copied);

    struct rp_pages *b = rl_sym(h, "rp_pages");
    void (*target)(void) = (void (*)(void))rl_sym(h, "rp_target");
    CHECK(b != NULL && target != NULL, "rp_pages and rp_target");
    CHECK((uintptr_t)b % PAGE == 0, "rp_pages is page aligned");
    for (size_t i = 0; i < 2 * WORDS; i++)
        CHECK(strcmp(b->relative[i], "relocated") == 0, "relative[%zu]", i);
    for (size_t i = 0; i < 4 * WORDS; i++)
        CHECK(b->symbolic[i] == target, "symbolic[%zu]", i);
    CHECK(strcmp(b->lone[0], "relocated") == 0, "lone[0]");
    for (size_t i = 1; i < WORDS; i++)
        CHECK(b->lone[i] == NULL, "lone[%zu]", i);

    /* Reading a page maps the file's page: only writing makes a copy. */
    for (int i = 0; i < 2; i++)
        CHECK(copied((char *)b->relative + i * PAGE), "page %d of relative words copied", i);
    for (int i = 0; i < 4; i++)
        CHECK(copied((char *)b->symbolic + i * PAGE), "page %d of symbolic words copied", i);
    CHECK(copied(b->lone), "the lone relative word's page copied");
    for (int i = 0; i < 2; i++)
        CHECK(!copied((char *)b->plain1 + i * PAGE), "page %d of plain1 was copied, though nothing writes it", i);
    CHECK(!copied(b->plain2), "plain2's page was copied, though nothing writes it");
    for (int i = 0; i < 2; i++)
        CHECK(!copied((char *)b->plain3 + i * PAGE), "page %d of plain3 was copied, though nothing writes it", i);
    for (size_t i = 0; i < 2 * LONGS; i++)
        CHECK(b->plain1[i] == 7 && b->plain3[i] == 7, "plain1[%zu], plain3[%zu]", i, i);
    for (size_t i = 0; i < LONGS; i++)
        CHECK(b->plain2[i] == 7, "plain2[%zu]", i);

    CHECK(rl_close(h) == 0, "rl_close");
    close(pagemap);
    CHECKS_DONE();
}
