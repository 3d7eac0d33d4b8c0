// C++ exceptions through a relink-loaded plugin: thrown in the plugin and caught in the
// program, thrown in the program through the plugin's frames, and caught inside the plugin.
// Single-threaded (qemu-user 7.2 hangs in pthread_create in aarch64 guests).
#include <stdexcept>
#include <string>

#include "check.h"

struct from_main {
    int n;
};

static int throwing_callback(int n)
{
    throw from_main{n * 2};
}

int main(int argc, char **argv)
{
    const char *path = strf("%s/libcross_cxx.so", fixture_dir(argc, argv));
    rl_handle *h = rl_open(path, RL_LAZY);
    CHECK(h != NULL, "rl_open(%s)", path);
    auto plugin_throw = SYM(h, int (*)(int), "plugin_throw");
    auto plugin_call = SYM(h, int (*)(int (*)(int), int), "plugin_call");
    auto plugin_catch = SYM(h, int (*)(int), "plugin_catch");

    for (int round = 1; round <= 3; round++) {
        std::string what;
        try {
            plugin_throw(round);
        } catch (const std::runtime_error &e) {
            what = e.what();
        }
        CHECK(what == "thrown in the plugin: " + std::to_string(round), "caught: \"%s\"", what.c_str());
        int got = 0;
        try {
            plugin_call(throwing_callback, round);
        } catch (const from_main &e) {
            got = e.n;
        }
        CHECK(got == round * 2, "the program's exception crossed the plugin: %d", got);
        CHECK(plugin_catch(round) == (int)std::string("thrown in the plugin: " + std::to_string(round)).size(),
              "caught inside the plugin");
    }
    CHECK(plugin_throw(0) == 3, "no throw");
    CHECK(rl_close(h) == 0, "rl_close");
    CHECKS_DONE();
}
