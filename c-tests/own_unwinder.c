/* relink registers a library's frames with the host's unwinder, never with functions of the
 * library itself: a library defining __register_frame / __deregister_frame as code is not
 * called for its own frames (and is unmapped when closed: nothing keeps it alive through
 * itself), and one defining them as data is not jumped into. Frames of the latter still reach
 * the unwinder: a backtrace taken inside it reaches main. argv[1]: fixture dir. */
#include "check.h"

#include <execinfo.h>

static int in_main_frames(void **frames, int n, void *lo, void *hi)
{
    int i, found = 0;
    for (i = 0; i < n; i++)
        found |= frames[i] >= lo && frames[i] < hi;
    return found;
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *own = strf("%s/libown_unwinder.so", dir);
    char *data = strf("%s/libdata_unwinder.so", dir);
    size_t len;
    char *image;
    void *frames[64];
    int round, n;
    rl_handle *h;

    for (round = 0; round < 2; round++) {
        image = read_file_or_die(own, &len);
        h = round == 0 ? rl_open(own, RL_NOW) : rl_open_mem(image, len, "mem-own", RL_NOW);
        CHECK(h != NULL, "open %s (round %d)", own, round);
        CHECK(SYM(h, int (*)(void), "own_unwinder_calls")() == 0, "the library's own __register_frame was called");
        CHECK(rl_close(h) == 0, "rl_close");
        if (round == 0)
            CHECK(!is_mapped(own), "%s still mapped after its last close", own);
        free(image);
        CHECK(rl_open(own, RL_NOW | RL_NOLOAD) == NULL, "not loaded any more");
        CHECK(rl_error() == NULL, "an RL_NOLOAD miss is no error");
    }

    for (round = 0; round < 2; round++) {
        int (*bt)(void **, int);
        image = read_file_or_die(data, &len);
        h = round == 0 ? rl_open(data, RL_NOW) : rl_open_mem(image, len, "mem-data", RL_LAZY);
        CHECK(h != NULL, "open %s (round %d)", data, round);
        bt = SYM(h, int (*)(void **, int), "data_unwinder_backtrace");
        n = bt(frames, 64);
        CHECK(in_main_frames(frames, n, (void *)main, (char *)main + 4096),
              "the backtrace taken in the library (%d frames) reaches main", n);
        CHECK(rl_close(h) == 0, "rl_close");
        if (round == 0)
            CHECK(!is_mapped(data), "%s still mapped after its last close", data);
        free(image);
    }
    n = backtrace(frames, 64);
    CHECK(n >= 2, "backtrace() after the libraries are gone");
    CHECKS_DONE();
}
