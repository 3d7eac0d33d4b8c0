/* Malformed relocatable objects and archives, given through rl_open_mem,
 * rl_open and rl_link: each is refused with a message naming the input, and
 * nothing crashes. Copies of a valid object (bad_base.o) are corrupted one way
 * each: truncated, section data past the end, out-of-range section and symbol
 * indices, a relocation outside its section, an unknown relocation type, the
 * wrong machine; and archives with a truncated header, a member past the end,
 * a symbol index naming no member; an LTO object (compiler bitcode). argv[1]:
 * fixture dir. */
#include "check.h"

#include <elf.h>

static char *base;
static size_t base_len;

static char *copy(void)
{
    char *c = malloc(base_len);
    memcpy(c, base, base_len);
    return c;
}

static Elf64_Shdr *shdr(char *o, int i)
{
    Elf64_Ehdr *eh = (Elf64_Ehdr *)o;
    return (Elf64_Shdr *)(o + eh->e_shoff) + i;
}

static const char *sec_name(char *o, int i)
{
    Elf64_Ehdr *eh = (Elf64_Ehdr *)o;
    return o + shdr(o, eh->e_shstrndx)->sh_offset + shdr(o, i)->sh_name;
}

static int find_section(char *o, const char *name)
{
    Elf64_Ehdr *eh = (Elf64_Ehdr *)o;
    int i;
    for (i = 0; i < eh->e_shnum; i++)
        if (strcmp(sec_name(o, i), name) == 0)
            return i;
    fprintf(stderr, "no section %s\n", name);
    exit(1);
}

/* The named global symbol of the object's symbol table. */
static Elf64_Sym *symbol(char *o, const char *name)
{
    Elf64_Shdr *st = shdr(o, find_section(o, ".symtab"));
    Elf64_Sym *s = (Elf64_Sym *)(o + st->sh_offset);
    const char *strs = o + shdr(o, st->sh_link)->sh_offset;
    size_t i;
    for (i = 0; i < st->sh_size / sizeof *s; i++)
        if (strcmp(strs + s[i].st_name, name) == 0)
            return &s[i];
    fprintf(stderr, "no symbol %s\n", name);
    exit(1);
}

static Elf64_Rela *first_text_rela(char *o)
{
    return (Elf64_Rela *)(o + shdr(o, find_section(o, ".rela.text"))->sh_offset);
}

/* The image must be refused, through memory and through rl_link, naming it. */
static void refused(const char *what, const char *image, size_t len, const char *needle)
{
    rl_input in = {NULL, image, len, what, 0};
    CHECK(rl_open_mem(image, len, what, RL_NOW) == NULL, "%s: refused by rl_open_mem", what);
    EXPECT_ERROR_SHOW(what, needle);
    CHECK(rl_link(&in, 1, RL_NOW, NULL) == NULL, "%s: refused by rl_link", what);
    EXPECT_ERROR(what, needle);
}

static char *archive(const char *member_name, const char *member, size_t len, size_t *out_len)
{
    char *a = malloc(8 + 60 + len + 1);
    memcpy(a, "!<arch>\n", 8);
    sprintf(a + 8, "%-16s%-12s%-6s%-6s%-8s%-10zu`\n", member_name, "0", "0", "0", "644", len);
    memcpy(a + 68, member, len);
    *out_len = 68 + len;
    return a;
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *path = strf("%s/bad_base.o", dir), *o, *a;
    size_t cuts[] = {4, 20, 63, 64, 100, 0}, i, alen;
    Elf64_Rela *r;

    base = read_file_or_die(path, &base_len);
    {
        rl_handle *h = rl_open_mem(base, base_len, "bad_base.o", RL_NOW);
        CHECK(h != NULL && rl_close(h) == 0, "the base object itself loads");
    }

    cuts[5] = base_len / 2;
    for (i = 0; i < sizeof cuts / sizeof *cuts; i++)
        refused(strf("truncated-%zu.o", cuts[i]), base, cuts[i], NULL);

    o = copy();
    shdr(o, find_section(o, ".text"))->sh_offset = base_len + 100;
    refused("text-past-end.o", o, base_len, "past the end");
    free(o);

    o = copy();
    symbol(o, "bad_fn")->st_shndx = 0x7f00;
    refused("symbol-section-index.o", o, base_len, "bad_fn");
    free(o);

    o = copy();
    r = first_text_rela(o);
    r->r_info = ELF64_R_INFO(100000, ELF64_R_TYPE(r->r_info));
    refused("reloc-symbol-index.o", o, base_len, "symbol 100000");
    free(o);

    o = copy();
    first_text_rela(o)->r_offset = 0x100000;
    refused("reloc-outside.o", o, base_len, "outside section .text");
    free(o);

    o = copy();
    r = first_text_rela(o);
    r->r_info = ELF64_R_INFO(ELF64_R_SYM(r->r_info), 200);
    refused("reloc-type.o", o, base_len, "relocation type 200");
    free(o);

    o = copy();
    ((Elf64_Ehdr *)o)->e_machine = EM_AARCH64;
    refused("machine.o", o, base_len, "machine");
    free(o);

    o = copy();
    ((Elf64_Ehdr *)o)->e_shoff = base_len - 10;
    refused("shoff.o", o, base_len, NULL);
    free(o);

    /* Archives. */
    a = archive("bad_base.o/", base, base_len, &alen);
    {
        rl_handle *h = rl_open_mem(a, alen, "good.a", RL_NOW);
        CHECK(h != NULL && rl_close(h) == 0, "an archive of the base object loads");
    }
    refused("truncated-header.a", a, 8 + 30, "truncated member header");
    refused("member-past-end.a", a, alen - 10, "past the end of the archive");
    free(a);
    {
        /* A symbol index whose entry names an offset where no member starts. */
        char idx[4 + 4 + 7];
        size_t len;
        char *m;
        memcpy(idx, "\0\0\0\1\0\0\0\x09" "bad_fn", 15);
        m = archive("/", idx, 15, &len);
        refused("bad-index.a", m, len, "symbol index");
        free(m);
    }
    refused("not-an-object.txt", "hello world, not an object", 26, "not an ELF");
    {
        size_t len;
        char *lto = read_file_or_die(strf("%s/bad_base_lto.o", dir), &len);
        refused("bad_base_lto.o", lto, len, "-flto");
        free(lto);
    }

    /* Random corruption of the headers and tables (the code and data bytes are not
     * interpreted): whatever the result, no crash, and every refusal names the input. */
    srand(1234);
    for (i = 0; i < 4000; i++) {
        size_t flips = 1 + rand() % 4, k;
        rl_handle *h;
        o = copy();
        for (k = 0; k < flips; k++) {
            size_t at = (size_t)rand() % base_len;
            o[at] ^= (char)(1 << (rand() % 8));
        }
        h = rl_open_mem(o, base_len, "fuzzed.o", RL_NOW);
        if (h != NULL) {
            CHECK(rl_close(h) == 0, "close a fuzzed object that loaded");
        } else {
            const char *e = rl_error();
            CHECK(e && strstr(e, "fuzzed.o") && !strstr(e, "internal error"), "fuzzed object %zu refused cleanly: %s", i, e);
        }
        free(o);
    }
    CHECKS_DONE();
}
