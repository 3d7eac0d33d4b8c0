/* 200 cycles of loading and unloading units leak nothing: an object through
 * rl_open and rl_open_mem (constructors, GOT entries, stubs, a placement near
 * the host's stdout), and two objects through rl_link. Mappings, descriptors
 * and heap in use are the same halfway and at the end, and after the last
 * close as before the first open. Run with glibc's tcache off (its cached chunks
 * count as in use). argv[1]: fixture dir. */
#include <malloc.h>

#include "leak_check.h"

#define CYCLES 200
#define HEAP_SLACK (16 * 1024)

static const char *dir;
static char *image;
static size_t image_len;

static void cycle(void)
{
    char *path = strf("%s/obj_fpic.o", dir);
    rl_input ab[2] = {{strf("%s/link_a.o", dir), NULL, 0, NULL, 0}, {strf("%s/link_b.o", dir), NULL, 0, NULL, 0}};
    rl_handle *a = rl_open(path, RL_NOW), *b = rl_open_mem(image, image_len, "obj_fpic.o (memory)", RL_LAZY), *l;
    CHECK(a && b, "open");
    CHECK(SYM(a, int (*)(void), "obj_bump")() == 13 && SYM(b, int (*)(int), "obj_square")(3) == 9, "call");
    l = rl_link(ab, 2, RL_NOW, NULL);
    CHECK(l != NULL && SYM(l, int (*)(void), "a_entry")() == 106, "rl_link");
    CHECK(rl_close(a) == 0 && rl_close(b) == 0 && rl_close(l) == 0, "close");
    free(path);
    free((void *)ab[0].path);
    free((void *)ab[1].path);
}

int main(int argc, char **argv)
{
    struct lines paths0, fds0, lines1, fds1, lines2, fds2, paths2;
    size_t heap1, heap2;
    int i;

    dir = fixture_dir(argc, argv);
    image = read_file_or_die(strf("%s/obj_fpic.o", dir), &image_len);
    paths0 = maps_lines(1);
    fds0 = fd_lines();
    for (i = 0; i < CYCLES / 2; i++)
        cycle();
    lines1 = maps_lines(0);
    fds1 = fd_lines();
    heap1 = mallinfo2().uordblks;
    for (; i < CYCLES; i++)
        cycle();
    heap2 = mallinfo2().uordblks;
    lines2 = maps_lines(0);
    fds2 = fd_lines();
    paths2 = maps_lines(1);
    printf("heap in use after %d cycles %zu, after %d cycles %zu bytes\n", CYCLES / 2, heap1, CYCLES, heap2);
    CHECK(same("fds (before first open vs after last close)", &fds0, &fds2, NULL), "descriptors differ (see above)");
    CHECK(same("mapped files (before first open vs after last close)", &paths0, &paths2, NULL), "mapped files differ");
    CHECK(same("maps (halfway vs after the last cycle)", &lines1, &lines2, NULL), "mappings accumulated");
    CHECK(same("fds (halfway vs after the last cycle)", &fds1, &fds2, NULL), "descriptors accumulated");
    CHECK(heap2 <= heap1 + HEAP_SLACK, "heap in use grew by %zu bytes over %d cycles: a leak", heap2 - heap1, CYCLES / 2);
    CHECKS_DONE();
}
