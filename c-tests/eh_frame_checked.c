/* A malformed .eh_frame or .eh_frame_hdr is refused before the unwinder ever sees it: the
 * unwinder walks every registered table on the next exception or backtrace() anywhere in the
 * process (and aborts at unregistration on some), so accepting one would crash the host later.
 * Each variant is a copy of libsimple.so with one field of its unwind tables broken, refused
 * through rl_open and rl_open_mem with a message naming the table; backtrace() keeps working.
 * argv[1]: fixture dir. */
#include "elf_file.h"
#include "refused.h"

#include <execinfo.h>
#include <unistd.h>

static const char *dir;
static struct elf_file f;

static void unwinder_works(void)
{
    void *frames[32];
    CHECK(backtrace(frames, 32) >= 2, "backtrace() from main");
}

/* Write the patched image, check both ways of opening refuse it, then restore the bytes. */
static void refused(const char *name, unsigned char *at, const void *bytes, size_t n, const char *needle)
{
    unsigned char saved[16];
    char *path = strf("%s/eh_%s.so", dir, name);
    char *mem_name = strf("mem-eh_%s.so", name);
    CHECK(n <= sizeof saved, "patch size");
    memcpy(saved, at, n);
    memcpy(at, bytes, n);
    write_file_or_die(path, f.data, f.len);
    memcpy(at, saved, n);
    REFUSED_FROM_FILE(path, needle);
    unwinder_works();
    REFUSED_FROM_MEMORY(path, mem_name, needle);
    unwinder_works();
    free(path);
    free(mem_name);
}

static const unsigned char *skip_leb(const unsigned char *p)
{
    while (*p++ & 0x80)
        ;
    return p;
}

int main(int argc, char **argv)
{
    const Elf64_Shdr *eh_sh, *hdr_sh;
    unsigned char *eh, *hdr, *cie, *fde, *aug, *renc = NULL;
    const unsigned char *p;
    uint32_t cie_len, v;
    int32_t s;
    char *simple;
    rl_handle *h;

    dir = fixture_dir(argc, argv);
    simple = strf("%s/libsimple.so", dir);
    elf_read(&f, simple);
    eh = elf_section_data(&f, ".eh_frame", &eh_sh);
    hdr = elf_section_data(&f, ".eh_frame_hdr", &hdr_sh);

    /* The intact library loads, and the unwinder is fine with it. */
    h = rl_open(simple, RL_NOW);
    CHECK(h != NULL, "rl_open(%s)", simple);
    unwinder_works();
    CHECK(rl_close(h) == 0, "rl_close");

    /* The table starts with a CIE ("zR" augmentation), followed by an FDE that uses it. */
    cie = eh;
    memcpy(&cie_len, cie, 4);
    memcpy(&v, cie + 4, 4);
    CHECK(v == 0 && cie[8] == 1, "%s: .eh_frame starts with a version 1 CIE", simple);
    aug = cie + 9;
    CHECK(aug[0] == 'z' && strchr((char *)aug, 'R') != NULL, "CIE augmentation %s has R", (char *)aug);
    p = skip_leb(skip_leb(aug + strlen((char *)aug) + 1)) + 1; /* code and data alignment, RA */
    p = skip_leb(p);                                            /* augmentation data length */
    for (const char *c = (char *)aug + 1; *c; c++) {
        if (*c == 'R') {
            renc = (unsigned char *)p;
            break;
        }
        p += *c == 'P' ? 1 + 4 : 1;
    }
    CHECK(renc != NULL && *renc == 0x1b, "FDE encoding pcrel|sdata4");
    fde = cie + 4 + cie_len;
    memcpy(&v, fde + 4, 4);
    CHECK(v == (uint32_t)(fde + 4 - cie), "the next record is an FDE of that CIE");
    CHECK(hdr[0] == 1 && hdr[2] == 0x03 && hdr[3] == 0x3b, ".eh_frame_hdr version 1 with a search table");

    /* An FDE length far past the end of the segment. */
    v = 0x7ffffff0;
    refused("fde_length", fde, &v, 4, "record length runs past");
    /* A CIE of garbage (version 0xa5). */
    {
        unsigned char junk[8];
        memset(junk, 0xa5, sizeof junk);
        refused("cie_garbage", cie + 8, junk, sizeof junk, "CIE version");
    }
    /* An FDE pointer encoding the unwinder aborts on (format 7). */
    {
        unsigned char bad = 0x17;
        refused("fde_encoding", renc, &bad, 1, "FDE pointer encoding");
    }
    /* An FDE whose code range lies far outside the object's code. */
    memcpy(&s, fde + 8, 4);
    s += 0x10000000;
    refused("fde_range", fde + 8, &s, 4, "outside the object's executable segments");
    /* An FDE whose augmentation data (its length right after the code range) runs past the
     * record: one length byte, then one of two (0x80 | n, 0x7f). */
    {
        unsigned char aug_len = 0x7f;
        unsigned char aug_len2[2] = {0xff, 0x7f};
        refused("fde_aug_length", fde + 16, &aug_len, 1, "FDE augmentation data runs past");
        refused("fde_aug_length2", fde + 16, aug_len2, 2, "FDE augmentation data runs past");
    }
    /* An FDE whose CIE pointer points into the middle of the CIE. */
    v = (uint32_t)(fde + 4 - cie) - 4;
    refused("cie_pointer", fde + 4, &v, 4, "CIE pointer");
    /* A search table entry that does not point at an FDE. */
    memcpy(&s, hdr + 12 + 4, 4);
    s += 1;
    refused("hdr_table", hdr + 12 + 4, &s, 4, ".eh_frame_hdr");
    /* A 64-bit record length. */
    v = 0xffffffff;
    refused("fde_length64", fde, &v, 4, "64-bit record length");

    /* A file whose tables were found sound is not walked again when it is opened again, as long
     * as it is the same: rewritten in place (same inode, same size, a broken FDE range), it is
     * refused, also once its times are as old as those of the first version were; written back
     * as it was, it loads again. Times must be two seconds old: relink remembers only files that
     * have not just changed, and looks up only those. */
    {
        char *path = strf("%s/eh_cached.so", dir);
        unsigned char saved[4];
        write_file_or_die(path, f.data, f.len);
        sleep(2);
        h = rl_open(path, RL_NOW);
        CHECK(h != NULL, "rl_open(%s): %s", path, rl_error());
        CHECK(rl_close(h) == 0, "rl_close");
        h = rl_open(path, RL_NOW);
        CHECK(h != NULL, "rl_open(%s) again: %s", path, rl_error());
        CHECK(rl_close(h) == 0, "rl_close");
        memcpy(saved, fde + 8, 4);
        memcpy(&s, fde + 8, 4);
        s += 0x10000000;
        memcpy(fde + 8, &s, 4);
        write_file_or_die(path, f.data, f.len);
        memcpy(fde + 8, saved, 4);
        REFUSED_FROM_FILE(path, "outside the object's executable segments");
        sleep(2);
        REFUSED_FROM_FILE(path, "outside the object's executable segments");
        unwinder_works();
        write_file_or_die(path, f.data, f.len);
        h = rl_open(path, RL_NOW);
        CHECK(h != NULL, "rl_open(%s) restored: %s", path, rl_error());
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
    free(f.data);
    CHECKS_DONE();
}
