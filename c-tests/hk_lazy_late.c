/* Global hooks and lazy binding over time: a PLT slot of an RL_LAZY library
 * is bound at its first call, so the global hooks in force then are the ones
 * that apply.
 *   argv[2] = "removed": a hook added before the open and removed before the
 *     first call must not be called (its function and user pointer need only
 *     stay callable until it is removed); the first call gets the real time().
 *   argv[2] = "added": a hook added after the open and before the first call
 *     is consulted ("every object relink binds from now on, eager or lazy").
 * argv[1]: fixture dir with libhk_clock_a.so. */
#include <time.h>

#include "check.h"

#define FIXED_TIME 1000000000L

static time_t fake_time(time_t *t)
{
    if (t != NULL)
        *t = FIXED_TIME;
    return FIXED_TIME;
}

struct ctx {
    int alive; /* cleared when the hook is removed */
    int calls_after_removal;
    int asked_time;
};

static void *time_hook(void *user, const char *name, const char *version, const char *requester)
{
    struct ctx *c = user;
    (void)version;
    (void)requester;
    if (!c->alive)
        c->calls_after_removal++;
    if (strcmp(name, "time") != 0)
        return NULL;
    c->asked_time++;
    return (void *)fake_time;
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    const char *mode = argc > 2 ? argv[2] : "removed";
    char *lib = strf("%s/libhk_clock_a.so", dir);
    struct ctx c = {1, 0, 0};
    rl_handle *h;
    long before, v, after;

    if (strcmp(mode, "removed") == 0) {
        CHECK(rl_hook_add(time_hook, &c, RL_HOOK_BEFORE) == 0, "rl_hook_add");
        h = rl_open(lib, RL_LAZY);
        CHECK(h != NULL, "rl_open(RL_LAZY)");
        CHECK(c.asked_time == 0, "time() is not bound at open");
        CHECK(rl_hook_remove(time_hook, &c) == 0, "rl_hook_remove");
        c.alive = 0;
        before = (long)time(NULL);
        v = SYM(h, long (*)(void), "hk_now")();
        after = (long)time(NULL);
        CHECK(c.calls_after_removal == 0, "the removed hook was called %d times at the first call",
              c.calls_after_removal);
        CHECK(v >= before && v <= after, "first call after the hook's removal: real time expected, got %ld", v);
    } else {
        h = rl_open(lib, RL_LAZY);
        CHECK(h != NULL, "rl_open(RL_LAZY)");
        CHECK(rl_hook_add(time_hook, &c, RL_HOOK_BEFORE) == 0, "rl_hook_add after the open");
        v = SYM(h, long (*)(void), "hk_now")();
        CHECK(c.asked_time == 1, "the hook added after the open is asked at the first call (asked %d times)",
              c.asked_time);
        CHECK(v == FIXED_TIME, "first call: the fixed time expected, got %ld", v);
        CHECK(rl_hook_remove(time_hook, &c) == 0, "rl_hook_remove");
    }
    CHECK(rl_close(h) == 0, "close");
    CHECKS_DONE();
}
