/* An object whose load segments leave a hole in its span: the hole is mapped, but neither
 * readable, writable nor executable (as with glibc), whether the object is opened from its file
 * or from memory, and the segments around it hold what they should. A copy whose first segment
 * asks to be writable and executable is refused with a message, from a file or from memory.
 * argv[1]: fixture dir (libsegment_gap.so, built with a 64 KiB hole before its read-only data). */
#include <link.h>

#include "check.h"

/* The protections /proc/self/maps gives the page at `addr` ("r-xp", ...), or NULL if unmapped. */
static const char *prot_at(const char *maps, uintptr_t addr, char out[5])
{
    const char *line = maps;
    while (*line) {
        unsigned long lo, hi;
        char perms[5];
        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3 && addr >= lo && addr < hi) {
            memcpy(out, perms, 5);
            return out;
        }
        const char *nl = strchr(line, '\n');
        if (nl == NULL)
            break;
        line = nl + 1;
    }
    return NULL;
}

static void check_hole(rl_handle *h, const char *how)
{
    int (*get)(void) = SYM(h, int (*)(void), "gap_get");
    const char *text = SYM(h, const char *, "gap_text");
    CHECK(get() == 42, "%s: code before the hole runs", how);
    CHECK(strcmp(text, "after the gap") == 0, "%s: read-only data after the hole reads", how);
    /* The hole: the 16 pages below the read-only segment, which starts on the page of gap_text. */
    uintptr_t end = (uintptr_t)text & ~(uintptr_t)0xfff, start = end - 0x10000;
    char *maps = read_maps();
    char perms[5];
    for (uintptr_t a = start; a < end; a += 0x1000) {
        const char *p = prot_at(maps, a, perms);
        CHECK(p != NULL && strcmp(p, "---p") == 0, "%s: page %#lx of the hole is mapped without access (%s)", how,
              (unsigned long)(a - start) / 0x1000, p ? p : "unmapped");
    }
    CHECK(prot_at(maps, end, perms) && perms[0] == 'r' && perms[1] == '-', "%s: the read-only segment is (%s)", how,
          perms);
    free(maps);
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *path = strf("%s/libsegment_gap.so", dir);
    size_t len;
    char *image = read_file_or_die(path, &len);

    rl_handle *h = rl_open(path, RL_NOW);
    CHECK(h != NULL, "rl_open: %s", rl_error());
    check_hole(h, "rl_open");
    CHECK(rl_close(h) == 0, "close");
    CHECK(!is_mapped(path), "unmapped after close");

    h = rl_open_mem(image, len, "segment-gap-mem.so", RL_NOW);
    CHECK(h != NULL, "rl_open_mem: %s", rl_error());
    check_hole(h, "rl_open_mem");
    CHECK(rl_close(h) == 0, "close (memory)");

    /* The first load segment made writable and executable. */
    ElfW(Ehdr) *eh = (ElfW(Ehdr) *)image;
    ElfW(Phdr) *ph = (ElfW(Phdr) *)(image + eh->e_phoff);
    int i = 0;
    while (i < eh->e_phnum && ph[i].p_type != PT_LOAD)
        i++;
    CHECK(i < eh->e_phnum, "the image has a load segment");
    ph[i].p_flags = PF_R | PF_W | PF_X;
    char *wx = strf("%s/libsegment_wx.so", dir);
    write_file_or_die(wx, image, len);
    CHECK(rl_open(wx, RL_NOW) == NULL, "a first segment both writable and executable is refused");
    EXPECT_ERROR("libsegment_wx.so", "writable and executable");
    CHECK(rl_open_mem(image, len, "segment-wx-mem.so", RL_NOW) == NULL, "refused from memory too");
    EXPECT_ERROR("segment-wx-mem.so", "writable and executable");

    free(wx);
    free(image);
    free(path);
    CHECKS_DONE();
}
