/* time() replaced by a fixed value for one plugin only: libhk_clock_a.so and
 * libhk_clock_b.so are two files built from one source; only the copy opened
 * with a hook (from a file, or from memory) sees the fixed time.
 * argv[1]: fixture dir. */
#include <time.h>

#include "check.h"

#define FIXED_TIME 1000000000L

static int fake_calls;

static time_t fake_time(time_t *t)
{
    __atomic_fetch_add(&fake_calls, 1, __ATOMIC_RELAXED);
    if (t != NULL)
        *t = FIXED_TIME;
    return FIXED_TIME;
}

struct time_ctx {
    int asked_time;
    char requester[PATH_MAX];
};

static void *time_hook(void *user, const char *name, const char *version, const char *requester)
{
    struct time_ctx *c = user;
    (void)version;
    if (strcmp(name, "time") != 0)
        return NULL;
    c->asked_time++;
    snprintf(c->requester, sizeof c->requester, "%s", requester);
    return (void *)fake_time;
}

typedef long (*now_fn)(void);

/* The plugin's clock must read the real time: between two host readings. */
static void check_real(rl_handle *h, const char *what)
{
    long before = (long)time(NULL), v1, v2, after;
    v1 = SYM(h, now_fn, "hk_now")();
    v2 = SYM(h, now_fn, "hk_now_ptr")();
    after = (long)time(NULL);
    CHECK(v1 >= before && v1 <= after && v2 >= before && v2 <= after,
          "%s: real time expected in [%ld, %ld], got %ld and %ld", what, before, after, v1, v2);
}

static void check_fixed(rl_handle *h, const char *what)
{
    CHECK(SYM(h, now_fn, "hk_now")() == FIXED_TIME, "%s: hk_now() is the fixed time", what);
    CHECK(SYM(h, now_fn, "hk_now_ptr")() == FIXED_TIME, "%s: hk_now_ptr() is the fixed time", what);
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *a = strf("%s/libhk_clock_a.so", dir);
    char *b = strf("%s/libhk_clock_b.so", dir);
    struct time_ctx ctx;
    rl_open_opts opts;
    rl_handle *ha, *hb, *ha2, *hm;
    size_t len;
    char *image;
    int flags_list[2] = {RL_NOW, RL_LAZY}, i;

    CHECK((long)time(NULL) > FIXED_TIME + 1000, "the real clock is well past the fixed time");
    for (i = 0; i < 2; i++) {
        int flags = flags_list[i];
        const char *mode = flags == RL_NOW ? "RL_NOW" : "RL_LAZY";
        memset(&ctx, 0, sizeof ctx);
        memset(&opts, 0, sizeof opts);
        opts.size = sizeof opts;
        opts.before = time_hook;
        opts.before_user = &ctx;
        fake_calls = 0;

        ha = rl_open_ex(a, NULL, 0, flags, &opts);
        CHECK(ha != NULL, "%s: rl_open_ex(%s) with the time hook", mode, a);
        hb = rl_open(b, flags);
        CHECK(hb != NULL, "%s: rl_open(%s)", mode, b);
        check_real(hb, "copy b, opened without the hook");
        check_fixed(ha, "copy a, opened with the hook");
        CHECK(fake_calls == 2, "%s: the fake time() ran twice, got %d", mode, fake_calls);
        check_real(hb, "copy b, after copy a was called");
        CHECK(fake_calls == 2, "%s: copy b never calls the fake time()", mode);
        CHECK(ctx.asked_time == 1, "%s: the hook was asked for time once, got %d", mode, ctx.asked_time);
        CHECK(strcmp(ctx.requester, a) == 0, "%s: requester %s", mode, ctx.requester);
        CHECK(time(NULL) > FIXED_TIME, "%s: the host's own time() is real", mode);

        /* Opening a loaded library again returns it as it is (hooks or none). */
        ha2 = rl_open(a, flags);
        CHECK(ha2 == ha, "%s: reopening copy a gives the same handle", mode);
        check_fixed(ha2, "copy a, reopened without hooks");
        CHECK(rl_close(ha2) == 0, "close reopened a");
        CHECK(rl_close(ha) == 0 && rl_close(hb) == 0, "close both");
        CHECK(!is_mapped(a) && !is_mapped(b), "both unloaded");

        /* Once unloaded, copy a opened without the hook reads the real time. */
        ha = rl_open(a, flags);
        CHECK(ha != NULL, "%s: reopen copy a without hooks", mode);
        check_real(ha, "copy a, reopened after unload without the hook");
        CHECK(rl_close(ha) == 0, "close a");
    }

    /* From memory: the requester is the name given. */
    image = read_file_or_die(b, &len);
    memset(&ctx, 0, sizeof ctx);
    hm = rl_open_ex("hk-clock-in-memory", image, len, RL_NOW, &opts);
    free(image);
    CHECK(hm != NULL, "rl_open_ex from memory with the time hook");
    CHECK(strcmp(ctx.requester, "hk-clock-in-memory") == 0, "memory image: requester %s", ctx.requester);
    check_fixed(hm, "in-memory copy with the hook");
    hb = rl_open(b, RL_NOW);
    CHECK(hb != NULL && hb != hm, "the file copy is a separate object");
    check_real(hb, "copy b from its file, next to its hooked in-memory twin");
    CHECK(rl_close(hb) == 0 && rl_close(hm) == 0, "close both");
    CHECKS_DONE();
}
