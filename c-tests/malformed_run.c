/* Runs every malformed image of a directory (written by tests/malformed.rs) through relink three
 * ways: rl_open_mem with RL_NOW, rl_open_mem with RL_LAZY, and rl_open of the file. Each run is
 * in a child process of its own, with a time limit. A run must either refuse the image with an
 * rl_error() message, or load it; a loaded image is then looked at (rl_sym, rl_info, rl_addr,
 * rl_iterate_phdr, a backtrace() that makes the unwinder walk its tables) and closed. A crash,
 * a hang, or a failure without a message fails the whole run, naming the case. (With RL_LAZY,
 * a constructor may call a function whose binding fails: relink then ends the process with a
 * message, as glibc does; such runs are counted apart.)
 *
 *   malformed_run DIR            one child per case and way
 *   malformed_run --single DIR   everything in this process (for valgrind's leak check), with
 *                                rl_open_mem and RL_NOW only: valgrind's own debug-info reader
 *                                gives up on executable mappings of malformed files, and a
 *                                lazy binding error would end the process
 */
#include "fault_exit.h"

#include <execinfo.h>
#include <link.h>
#include <sys/wait.h>

enum { REFUSED = 0, SILENT = 2, LOADED = 3, CLOSE_FAILED = 4, PANICKED = 5, LAZY_BINDING_ERROR = 127 };
enum { TIME_LIMIT = 20 };

static const char *const ways[] = {"rl_open_mem RL_NOW", "rl_open_mem RL_LAZY", "rl_open"};
/* Names some of the base libraries define (looked up, never called). */
static const char *const names[] = {"zlibVersion", "sqlite3_libversion", "simple_triple", "foo", "relr_sum",
                                    "tls_get", "ctor_log", "relink_no_such_symbol"};

/* What the initializers of the ctor fixture call in their host. */
void test_log(const char *what);
void test_check_args(const char *who, int argc, char **argv, char **envp);

void test_log(const char *what)
{
    (void)what;
}

void test_check_args(const char *who, int argc, char **argv, char **envp)
{
    (void)who;
    (void)argc;
    (void)argv;
    (void)envp;
}

static int count_phdrs(struct dl_phdr_info *info, size_t size, void *data)
{
    size_t *n = data;
    int i;
    (void)size;
    for (i = 0; i < info->dlpi_phnum; i++)
        *n += info->dlpi_phdr[i].p_type != 0;
    return 0;
}

/* Look at a loaded image the ways a host would. */
static void exercise(rl_handle *h)
{
    const char *path = NULL;
    void *base = NULL, *frames[64];
    size_t modid = 0, phdrs = 0, i;
    rl_addr_info ai;

    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (rl_sym(h, names[i]) == NULL && rl_error() == NULL)
            _exit(SILENT);
    if (rl_info(h, &path, &base, &modid) == 0) {
        const char *p[] = {(const char *)base, (const char *)base + 0x40, (const char *)base + 0x1000,
                           (const char *)base + 0x4000};
        (void)strlen(path);
        for (i = 0; i < sizeof p / sizeof p[0]; i++)
            if (rl_addr(p[i], &ai) && ai.sname != NULL)
                (void)strlen(ai.sname);
    }
    rl_iterate_phdr(count_phdrs, &phdrs);
    (void)backtrace(frames, 64);
}

/* One way of opening one case; returns what happened (the child's exit status). */
static int run_one(const char *path, const char *image, size_t len, int way)
{
    rl_handle *h;
    const char *err;
    switch (way) {
    case 0:
        h = rl_open_mem(image, len, path, RL_NOW);
        break;
    case 1:
        h = rl_open_mem(image, len, path, RL_LAZY);
        break;
    default:
        h = rl_open(path, RL_NOW);
        break;
    }
    if (h == NULL) {
        err = rl_error();
        if (err != NULL && strstr(err, "relink panicked") != NULL)
            return PANICKED;
        return err != NULL && err[0] != '\0' ? REFUSED : SILENT;
    }
    exercise(h);
    return rl_close(h) == 0 ? LOADED : CLOSE_FAILED;
}

static int in_child(const char *path, const char *image, size_t len, int way)
{
    exit_on_fault();
    alarm(TIME_LIMIT);
    return run_one(path, image, len, way);
}

static int is_case(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return n > 3 && strcmp(e->d_name + n - 3, ".so") == 0;
}

int main(int argc, char **argv)
{
    int single = argc > 1 && strcmp(argv[1], "--single") == 0;
    const char *dir = argc > 1 + single ? argv[1 + single] : ".";
    struct dirent **list;
    int n, i, way, loaded = 0, refused = 0, lazy_errors = 0, failures = 0;

    n = scandir(dir, &list, is_case, alphasort);
    CHECK(n > 0, "cases in %s", dir);
    for (i = 0; i < n; i++) {
        char *path = strf("%s/%s", dir, list[i]->d_name);
        size_t len;
        char *image = read_file_or_die(path, &len);
        for (way = 0; way < (single ? 1 : 3); way++) {
            int st, result;
            const char *what = NULL;
            if (single) {
                result = run_one(path, image, len, way);
            } else {
                pid_t p;
                fflush(stdout);
                p = fork();
                CHECK(p >= 0, "fork");
                if (p == 0)
                    _exit(in_child(path, image, len, way));
                CHECK(waitpid(p, &st, 0) == p, "waitpid");
                if (WIFSIGNALED(st)) {
                    result = -WTERMSIG(st);
                } else {
                    result = WEXITSTATUS(st);
                }
            }
            if (way == 1 && result == LAZY_BINDING_ERROR) {
                /* A constructor called a function whose lazy binding failed: the process ends
                 * with relink's message, as with glibc ("symbol lookup error"). */
                lazy_errors++;
                continue;
            }
            switch (result) {
            case REFUSED:
                refused++;
                break;
            case LOADED:
                loaded++;
                break;
            case SILENT:
                what = "failed without an rl_error() message";
                break;
            case CLOSE_FAILED:
                what = "loaded, but rl_close failed";
                break;
            case PANICKED:
                what = "refused with relink's internal error (a panic caught at the C boundary)";
                break;
            case CRASH_IN_RELINK:
                what = "crashed in relink";
                break;
            case CRASH_ELSEWHERE:
                what = "crashed outside relink (in the unwinder, the C library or the image)";
                break;
            case -SIGALRM:
                what = "hung (no result within the time limit)";
                break;
            default:
                what = "died";
                break;
            }
            if (what != NULL) {
                failures++;
                fprintf(stderr, "%s, %s: %s (status %d)\n", list[i]->d_name, ways[way], what, result);
            }
        }
        free(image);
        free(path);
        free(list[i]);
    }
    free(list);
    printf("%d malformed images, %d runs: %d loaded, %d refused with a message, %d ended by a lazy binding error, "
           "%d failures\n", n, (single ? 1 : 3) * n, loaded, refused, lazy_errors, failures);
    CHECK(failures == 0, "%d runs crashed, hung or failed without a message", failures);
    CHECKS_DONE();
}
