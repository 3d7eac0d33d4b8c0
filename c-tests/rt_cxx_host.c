/* A C program that does not link libstdc++ loads a C++ plugin: relink loads
 * libstdc++.so.6 for it. The plugin uses std::string, std::map, std::thread,
 * iostreams and exceptions internally; first under RL_LAZY, then RL_NOW.
 * argv[1]: fixture dir. */
#include "check.h"

static void exercise(const char *path, int flags, const char *mode)
{
    rl_handle *h = rl_open(path, flags);
    char buf[512];
    int r;
    long sum;

    CHECK(h != NULL, "rl_open(%s, %s)", path, mode);
    CHECK(maps_mention("/libstdc++.so.6"), "%s: libstdc++ is mapped once the plugin is open", mode);

    r = SYM(h, int (*)(const char *, char *, size_t), "rtx_words")("the quick fox and the lazy dog and the cat", buf,
                                                                    sizeof buf);
    CHECK(r == 7, "%s: rtx_words counted %d distinct words", mode, r);
    CHECK(strcmp(buf, "and=2;cat=1;dog=1;fox=1;lazy=1;quick=1;the=3;") == 0, "%s: rtx_words wrote \"%s\"", mode, buf);

    sum = SYM(h, long (*)(int), "rtx_thread_sum")(10000);
    CHECK(sum == 50005000L, "%s: rtx_thread_sum(10000) = %ld", mode, sum);

    r = SYM(h, int (*)(char *, size_t), "rtx_format")(buf, sizeof buf);
    CHECK(r > 0 && strcmp(buf, "pi=3.142 hex=ff str=xxx vec=3") == 0, "%s: rtx_format wrote \"%s\" (%d)", mode, buf,
          r);

    r = SYM(h, int (*)(void), "rtx_exceptions")();
    CHECK(r == 8, "%s: %d of 8 throw/catch cases inside the plugin behaved", mode, r);

    r = SYM(h, int (*)(char *, size_t), "rtx_thread_exception")(buf, sizeof buf);
    CHECK(r == 11 && strcmp(buf, "thrown in a worker std::thread") == 0,
          "%s: exception from a std::thread through std::exception_ptr: %d \"%s\"", mode, r, buf);

    /* Again: everything bound by now. */
    CHECK(SYM(h, int (*)(void), "rtx_exceptions")() == 8, "%s: second round of exceptions", mode);
    CHECK(SYM(h, long (*)(int), "rtx_thread_sum")(100) == 5050, "%s: second thread", mode);

    CHECK(rl_close(h) == 0, "rl_close (%s)", mode);
    printf("%s: ok\n", mode);
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *path = strf("%s/librt_cxx_plugin.so", dir);

    CHECK(!maps_mention("/libstdc++.so.6"), "the host itself must not have libstdc++ loaded");
    exercise(path, RL_LAZY, "RL_LAZY");
    exercise(path, RL_NOW, "RL_NOW");
    fflush(stdout);
    CHECKS_DONE();
}
