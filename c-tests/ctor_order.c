/* Initializer and finalizer order for libctor_top.so (NEEDED libctor_dep.so).
 * Each library has DT_INIT, two explicit .init_array entries, a constructor,
 * two .fini_array entries, a destructor and DT_FINI, all logging through
 * test_log() exported by this program. argv[1]: fixture dir; argv[2] is an
 * extra argument the initializers must see. At exit libctor_top.so is still
 * open; its finalizers then append to <dir>/atexit.log. */
#include "check.h"

static char log_buf[8192];
static int at_exit_phase;
static const char *atexit_log_path;

static int main_argc;
static char **main_argv;
static int args_seen, args_bad;
static char args_problem[512];

void test_log(const char *what)
{
    if (at_exit_phase) {
        int fd = open(atexit_log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) {
            if (write(fd, what, strlen(what)) < 0 || write(fd, "\n", 1) < 0)
                abort();
            close(fd);
        }
        return;
    }
    if (strlen(log_buf) + strlen(what) + 2 < sizeof log_buf) {
        strcat(log_buf, what);
        strcat(log_buf, " ");
    }
}

void test_check_args(const char *who, int argc, char **argv, char **envp)
{
    int i, mark = 0;
    args_seen++;
    if (argc != main_argc || argv == NULL || envp == NULL) {
        args_bad++;
        snprintf(args_problem, sizeof args_problem, "%s: argc=%d (want %d) argv=%p envp=%p", who, argc,
                 main_argc, (void *)argv, (void *)envp);
        return;
    }
    for (i = 0; i < argc; i++) {
        if (argv[i] == NULL || strcmp(argv[i], main_argv[i]) != 0) {
            args_bad++;
            snprintf(args_problem, sizeof args_problem, "%s: argv[%d]=%s want %s", who, i,
                     argv[i] ? argv[i] : "(null)", main_argv[i]);
            return;
        }
    }
    if (argv[argc] != NULL) {
        args_bad++;
        snprintf(args_problem, sizeof args_problem, "%s: argv[argc] is not NULL", who);
        return;
    }
    for (i = 0; envp[i] != NULL; i++)
        if (strcmp(envp[i], "RELINK_CTOR_MARK=present") == 0)
            mark = 1;
    if (!mark) {
        args_bad++;
        snprintf(args_problem, sizeof args_problem, "%s: envp lacks RELINK_CTOR_MARK=present", who);
    }
}

/* Position of the word `what` in the log, or -1. */
static int pos(const char *what)
{
    char word[160];
    const char *p;
    snprintf(word, sizeof word, "%s ", what);
    for (p = log_buf; (p = strstr(p, word)) != NULL; p++)
        if (p == log_buf || p[-1] == ' ')
            return (int)(p - log_buf);
    return -1;
}

static int count(const char *what)
{
    char word[160];
    const char *p;
    int n = 0;
    snprintf(word, sizeof word, "%s ", what);
    for (p = log_buf; (p = strstr(p, word)) != NULL; p++)
        if (p == log_buf || p[-1] == ' ')
            n++;
    return n;
}

static const char *const init_events[] = {"DT_INIT", "init_array[0]", "init_array[1]", "ctor"};
static const char *const fini_events[] = {"fini_array[1]", "fini_array[0]", "dtor", "DT_FINI"};

static int ev_pos(const char *lib, const char *ev)
{
    char name[96];
    snprintf(name, sizeof name, "%s:%s", lib, ev);
    return pos(name);
}

static int ev_count(const char *lib, const char *ev)
{
    char name[96];
    snprintf(name, sizeof name, "%s:%s", lib, ev);
    return count(name);
}

/* All four initializers of `lib` ran exactly once, DT_INIT first, then the
 * .init_array entries in order; returns the [first, last] positions. */
static void check_inits(const char *lib, int *first, int *last)
{
    int i;
    *first = 1 << 30;
    *last = -1;
    for (i = 0; i < 4; i++) {
        int p = ev_pos(lib, init_events[i]), n = ev_count(lib, init_events[i]);
        CHECK(n == 1, "%s:%s ran %d times; log: %s", lib, init_events[i], n, log_buf);
        if (p < *first)
            *first = p;
        if (p > *last)
            *last = p;
    }
    CHECK(ev_pos(lib, "DT_INIT") == *first, "%s: DT_INIT runs before DT_INIT_ARRAY; log: %s", lib, log_buf);
    CHECK(ev_pos(lib, "init_array[0]") < ev_pos(lib, "init_array[1]"),
          "%s: .init_array runs in ascending order; log: %s", lib, log_buf);
}

/* All four finalizers ran exactly once: .fini_array in reverse order, DT_FINI last. */
static void check_finis(const char *lib, int *first, int *last)
{
    int i;
    *first = 1 << 30;
    *last = -1;
    for (i = 0; i < 4; i++) {
        int p = ev_pos(lib, fini_events[i]), n = ev_count(lib, fini_events[i]);
        CHECK(n == 1, "%s:%s ran %d times; log: %s", lib, fini_events[i], n, log_buf);
        if (p < *first)
            *first = p;
        if (p > *last)
            *last = p;
    }
    CHECK(ev_pos(lib, "fini_array[1]") < ev_pos(lib, "fini_array[0]"),
          "%s: .fini_array runs in descending order; log: %s", lib, log_buf);
    CHECK(ev_pos(lib, "DT_FINI") == *last, "%s: DT_FINI runs after DT_FINI_ARRAY; log: %s", lib, log_buf);
}

static void no_events(const char *lib, const char *const *events)
{
    int i;
    for (i = 0; i < 4; i++)
        CHECK(ev_count(lib, events[i]) == 0, "%s:%s must not run now; log: %s", lib, events[i], log_buf);
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *top = strf("%s/libctor_top.so", dir);
    char *dep = strf("%s/libctor_dep.so", dir);
    rl_handle *h, *hd;
    int df, dl, tf, tl;

    main_argc = argc;
    main_argv = argv;
    atexit_log_path = strf("%s/atexit.log", dir);
    CHECK(argc >= 3, "the harness passes an extra argument");

    /* 1: both libraries initialised by one rl_open, dependency first. */
    CHECK(!is_mapped(top) && !is_mapped(dep), "not loaded yet");
    h = rl_open(top, RL_NOW);
    CHECK(h != NULL, "rl_open(%s)", top);
    check_inits("dep", &df, &dl);
    check_inits("top", &tf, &tl);
    CHECK(dl < tf, "every initializer of the dependency runs before the dependent's; log: %s", log_buf);
    CHECK(pos("top:saw-dep-ready") >= 0, "top's constructor saw dep initialised; log: %s", log_buf);
    CHECK(args_seen == 2, "initializers got (argc, argv, envp): %d calls", args_seen);
    CHECK(args_bad == 0, "initializer arguments wrong: %s", args_problem);

    log_buf[0] = '\0';
    CHECK(rl_close(h) == 0, "rl_close(top)");
    check_finis("top", &tf, &tl);
    check_finis("dep", &df, &dl);
    CHECK(tl < df, "every finalizer of the dependent runs before the dependency's; log: %s", log_buf);
    no_events("top", init_events);
    no_events("dep", init_events);
    CHECK(!is_mapped(top), "%s unmapped after rl_close", top);
    CHECK(!is_mapped(dep), "%s unmapped with its only user", dep);

    /* 2: dep held by its own handle: not re-initialised, not finalised with top. */
    log_buf[0] = '\0';
    hd = rl_open(dep, RL_NOW);
    CHECK(hd != NULL, "rl_open(%s)", dep);
    check_inits("dep", &df, &dl);
    log_buf[0] = '\0';
    h = rl_open(top, RL_NOW);
    CHECK(h != NULL, "rl_open(%s) with dep already loaded", top);
    check_inits("top", &tf, &tl);
    no_events("dep", init_events);
    CHECK(pos("top:saw-dep-ready") >= 0, "dep still initialised; log: %s", log_buf);

    log_buf[0] = '\0';
    CHECK(rl_close(h) == 0, "rl_close(top)");
    check_finis("top", &tf, &tl);
    no_events("dep", fini_events);
    CHECK(!is_mapped(top), "top unmapped");
    CHECK(is_mapped(dep), "dep still mapped: its own handle holds it");

    log_buf[0] = '\0';
    CHECK(rl_close(hd) == 0, "rl_close(dep)");
    check_finis("dep", &df, &dl);
    CHECK(!is_mapped(dep), "dep unmapped");

    /* 3: left open at exit; its finalizers must still run then. */
    unlink(atexit_log_path);
    log_buf[0] = '\0';
    h = rl_open(top, RL_NOW);
    CHECK(h != NULL, "rl_open(%s) again", top);
    check_inits("dep", &df, &dl);
    check_inits("top", &tf, &tl);

    at_exit_phase = 1;
    CHECKS_DONE();
}
