/* The block of scattered pages of libreloc_pages.so (fixtures/reloc_pages.c), page aligned in
 * .data: pages of words the RELATIVE relocations write (2), plain numbers (2), words the
 * symbolic relocations against rp_target write (4), plain numbers (1), one lone relative word
 * at the start of an otherwise empty page (1), plain numbers (2). */
#ifndef RELOC_PAGES_H
#define RELOC_PAGES_H

#define RP_PAGE 4096
#define RP_WORDS (RP_PAGE / sizeof(void *))
#define RP_LONGS (RP_PAGE / sizeof(long))

struct rp_pages {
    const char *relative[2 * RP_WORDS];
    long plain1[2 * RP_LONGS];
    void (*symbolic[4 * RP_WORDS])(void);
    long plain2[RP_LONGS];
    const char *lone[RP_WORDS];
    long plain3[2 * RP_LONGS];
} __attribute__((aligned(RP_PAGE)));

#endif
