/* Minimal assertion helpers for the relink C test programs.
 *
 *   CHECK(cond, fmt, ...)      on failure: print file:line, the condition, the
 *                              formatted message and rl_error(), then exit(1).
 *   EXPECT_ERROR("a", "b")     rl_error() must be non-empty and contain every
 *                              given substring; a second rl_error() must be NULL.
 *   CHECKS_DONE()              print "N checks passed" and return 0 from main.
 */
#ifndef RELINK_CHECK_H
#define RELINK_CHECK_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "relink.h"

static int check_count_;

static inline void check_fail_(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 4, 5)));

static inline void check_fail_(const char *file, int line, const char *cond, const char *fmt, ...)
{
    const char *err = rl_error();
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "%s:%d: CHECK failed: %s\n  ", file, line, cond);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n  rl_error(): %s\n", err ? err : "(null)");
    fflush(stderr);
    exit(1);
}

#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (!(cond))                                                         \
            check_fail_(__FILE__, __LINE__, #cond, __VA_ARGS__);             \
        __atomic_fetch_add(&check_count_, 1, __ATOMIC_RELAXED);              \
    } while (0)

#define CHECKS_DONE()                                                        \
    do {                                                                     \
        printf("%d checks passed\n", __atomic_load_n(&check_count_, __ATOMIC_RELAXED)); \
        fflush(stdout);                                                      \
        return 0;                                                            \
    } while (0)

/* Returns the consumed error message (a private copy, never NULL). */
static inline char *expect_error_(const char *file, int line, const char *const *needles, size_t n)
{
    const char *err = rl_error();
    char *copy;
    size_t i;
    if (err == NULL || err[0] == '\0') {
        fflush(stdout);
        fprintf(stderr, "%s:%d: CHECK failed: expected an rl_error() message, got %s\n",
                file, line, err ? "an empty string" : "NULL");
        exit(1);
    }
    copy = strdup(err);
    for (i = 0; i < n; i++) {
        if (needles[i] != NULL && strstr(copy, needles[i]) == NULL) {
            fflush(stdout);
            fprintf(stderr, "%s:%d: CHECK failed: rl_error() should mention \"%s\"\n  rl_error(): %s\n",
                    file, line, needles[i], copy);
            exit(1);
        }
    }
    if (rl_error() != NULL) {
        fflush(stdout);
        fprintf(stderr, "%s:%d: CHECK failed: rl_error() must return NULL once the message was read\n",
                file, line);
        exit(1);
    }
    __atomic_fetch_add(&check_count_, 1, __ATOMIC_RELAXED);
    return copy;
}

#define EXPECT_ERROR(...)                                                    \
    do {                                                                     \
        const char *const needles_[] = {__VA_ARGS__};                        \
        free(expect_error_(__FILE__, __LINE__, needles_,                     \
                           sizeof needles_ / sizeof needles_[0]));           \
    } while (0)

/* Like EXPECT_ERROR, and prints the message to stdout. */
#define EXPECT_ERROR_SHOW(...)                                               \
    do {                                                                     \
        const char *const needles_[] = {__VA_ARGS__};                        \
        char *msg_ = expect_error_(__FILE__, __LINE__, needles_,             \
                                   sizeof needles_ / sizeof needles_[0]);    \
        printf("  rl_error(): %s\n", msg_);                                  \
        free(msg_);                                                          \
    } while (0)

/* Like EXPECT_ERROR but only requires a non-empty message. */
#define EXPECT_SOME_ERROR() EXPECT_ERROR(NULL)

/* Function pointer from rl_sym, failing the test if the symbol is missing. */
#define SYM(h, type, name) ((type)must_sym_(__FILE__, __LINE__, (h), (name)))

static inline void *must_sym_(const char *file, int line, rl_handle *h, const char *name)
{
    void *p = rl_sym(h, name);
    if (p == NULL)
        check_fail_(file, line, "rl_sym(h, name) != NULL", "symbol \"%s\" not found", name);
    __atomic_fetch_add(&check_count_, 1, __ATOMIC_RELAXED);
    return p;
}

/* printf-style path builder; the result is heap-allocated and never freed. */
static inline char *strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline char *strf(const char *fmt, ...)
{
    char *s;
    int n;
    va_list ap;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    s = n < 0 ? NULL : (char *)malloc((size_t)n + 1);
    if (s == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static inline char *read_file_or_die(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long size;
    if (f == NULL) {
        fprintf(stderr, "cannot open %s: %s\n", path, strerror(errno));
        exit(1);
    }
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "cannot size %s\n", path);
        exit(1);
    }
    buf = (char *)malloc((size_t)size + 1);
    if (buf == NULL || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    buf[size] = '\0';
    *len = (size_t)size;
    return buf;
}

static inline void write_file_or_die(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

/* Absolute, symlink-free spelling of path (as the kernel shows it in
 * /proc/self/maps); the input itself if it cannot be resolved. */
static inline char *canonical(const char *path)
{
    char *r = realpath(path, NULL);
    return r ? r : strdup(path);
}

/* Whole /proc/self/maps as one string (heap-allocated). */
static inline char *read_maps(void)
{
    size_t cap = 1 << 16, len = 0;
    char *buf = (char *)malloc(cap);
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    ssize_t n;
    if (fd < 0 || buf == NULL) {
        fprintf(stderr, "cannot read /proc/self/maps\n");
        exit(1);
    }
    for (;;) {
        if (cap - len < 4096) {
            cap *= 2;
            buf = (char *)realloc(buf, cap);
            if (buf == NULL) {
                fprintf(stderr, "out of memory\n");
                exit(1);
            }
        }
        n = read(fd, buf + len, cap - len - 1);
        if (n < 0) {
            fprintf(stderr, "read /proc/self/maps: %s\n", strerror(errno));
            exit(1);
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    return buf;
}

/* Is a file mapped whose path (as in /proc/self/maps) ends with `path`
 * after canonicalization?  Pass the path of an existing file. */
static inline int is_mapped(const char *path)
{
    char *maps = read_maps();
    char *want = canonical(path);
    size_t wl = strlen(want);
    int found = 0;
    char *line = maps, *nl;
    for (; *line; line = nl + 1) {
        size_t ll;
        nl = strchr(line, '\n');
        if (nl == NULL)
            nl = line + strlen(line);
        ll = (size_t)(nl - line);
        if (ll >= wl && memcmp(nl - wl, want, wl) == 0 && nl[-(long)wl - 1] == ' ') {
            found = 1;
            break;
        }
        if (*nl == '\0')
            break;
    }
    free(want);
    free(maps);
    return found;
}

/* Any mapping whose path contains `needle`. */
static inline int maps_mention(const char *needle)
{
    char *maps = read_maps();
    int found = strstr(maps, needle) != NULL;
    free(maps);
    return found;
}

static inline int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;
    if (d == NULL) {
        fprintf(stderr, "cannot open /proc/self/fd\n");
        exit(1);
    }
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory stream's own descriptor */
}

/* The file this program's fixtures live in: argv[1], or the current dir. */
static inline const char *fixture_dir(int argc, char **argv)
{
    return argc > 1 ? argv[1] : ".";
}

/* Built with -DCHECK_UNIT_CACHE, a program's rl_link, rl_open and rl_open_ex keep linked units
 * in the directory the environment variable CHECK_UNIT_CACHE names (rl_open_opts.cache_dir), so
 * that a second run maps them from there: the same checks then test the cached units. */
#ifdef CHECK_UNIT_CACHE
static inline rl_open_opts check_cache_opts_(const rl_open_opts *given)
{
    rl_open_opts o;
    memset(&o, 0, sizeof o);
    if (given)
        memcpy(&o, given, given->size < sizeof o ? given->size : sizeof o);
    o.size = sizeof o;
    o.cache_dir = getenv("CHECK_UNIT_CACHE");
    return o;
}

static inline rl_handle *check_cached_link_(const rl_input *in, size_t n, int flags, const rl_open_opts *given)
{
    rl_open_opts o = check_cache_opts_(given);
    return (rl_link)(in, n, flags, &o);
}

static inline rl_handle *check_cached_open_ex_(const char *path, const void *image, size_t len, int flags,
                                               const rl_open_opts *given)
{
    rl_open_opts o = check_cache_opts_(given);
    return (rl_open_ex)(path, image, len, flags, &o);
}

static inline rl_handle *check_cached_open_(const char *path, int flags)
{
    return path ? check_cached_open_ex_(path, NULL, 0, flags, NULL) : (rl_open)(path, flags);
}

#define rl_link(in, n, flags, opts) check_cached_link_(in, n, flags, opts)
#define rl_open_ex(path, image, len, flags, opts) check_cached_open_ex_(path, image, len, flags, opts)
#define rl_open(path, flags) check_cached_open_(path, flags)
#endif

#endif
