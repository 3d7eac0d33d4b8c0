/* A library relink must refuse: the open returns NULL, rl_error() names the
 * file and the reason, and the process's mappings are exactly what they
 * were before the call.
 *
 *   REFUSED_FROM_FILE(path, "needle", ...)            through rl_open
 *   REFUSED_FROM_MEMORY(path, name, "needle", ...)    rl_open_mem of the file's bytes
 *
 * Do one successful rl_open/rl_close first, so that relink's one-time setup
 * (its view of the host's objects) is not counted as a change.
 */
#ifndef RELINK_REFUSED_H
#define RELINK_REFUSED_H

#include "check.h"

#define REFUSED_MAX_NEEDLES 8

/* /proc/self/maps without [heap] and [stack], whose extents move on their own. */
static inline char *stable_maps(void)
{
    char *maps = read_maps();
    char *out = malloc(strlen(maps) + 1), *o = out, *line = maps, *nl;
    if (out == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (; *line; line = nl + 1) {
        size_t ll;
        nl = strchr(line, '\n');
        if (nl == NULL)
            nl = line + strlen(line);
        ll = (size_t)(nl - line);
        if (!(memmem(line, ll, "[heap]", 6) || memmem(line, ll, "[stack]", 7))) {
            memcpy(o, line, ll);
            o += ll;
            *o++ = '\n';
        }
        if (*nl == '\0')
            break;
    }
    *o = '\0';
    free(maps);
    return out;
}

static inline const char *refused_base_(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static inline void refused_check_(const char *file, int line, rl_handle *h, const char *what, const char *name,
                                  const char *const *needles, size_t n, char *before)
{
    const char *all[REFUSED_MAX_NEEDLES + 1];
    char *after, *msg;
    size_t i;
    if (h != NULL)
        check_fail_(file, line, "h == NULL", "%s(%s) must fail", what, name);
    __atomic_fetch_add(&check_count_, 1, __ATOMIC_RELAXED);
    all[0] = refused_base_(name);
    for (i = 0; i < n && i < REFUSED_MAX_NEEDLES; i++)
        all[i + 1] = needles[i];
    msg = expect_error_(file, line, all, i + 1);
    printf("  %s(%s): %s\n", what, refused_base_(name), msg);
    free(msg);
    after = stable_maps();
    if (strcmp(before, after) != 0) {
        fflush(stdout);
        fprintf(stderr, "%s:%d: CHECK failed: %s(%s) changed the mappings\n--- before ---\n%s--- after ---\n%s",
                file, line, what, name, before, after);
        exit(1);
    }
    __atomic_fetch_add(&check_count_, 1, __ATOMIC_RELAXED);
    free(after);
    free(before);
}

static inline void refused_from_file_(const char *file, int line, const char *path, const char *const *needles,
                                      size_t n)
{
    char *before = stable_maps();
    rl_handle *h = rl_open(path, RL_NOW);
    refused_check_(file, line, h, "rl_open", path, needles, n, before);
    if (is_mapped(path))
        check_fail_(file, line, "!is_mapped(path)", "%s left mapped after the failure", path);
    __atomic_fetch_add(&check_count_, 1, __ATOMIC_RELAXED);
}

static inline void refused_from_memory_(const char *file, int line, const char *path, const char *name,
                                        const char *const *needles, size_t n)
{
    size_t len;
    char *image = read_file_or_die(path, &len);
    char *before = stable_maps();
    rl_handle *h = rl_open_mem(image, len, name, RL_NOW);
    refused_check_(file, line, h, "rl_open_mem", name, needles, n, before);
    free(image);
}

#define REFUSED_FROM_FILE(path, ...)                                                     \
    do {                                                                                 \
        const char *const needles_[] = {__VA_ARGS__};                                    \
        refused_from_file_(__FILE__, __LINE__, (path), needles_,                         \
                           sizeof needles_ / sizeof needles_[0]);                        \
    } while (0)

#define REFUSED_FROM_MEMORY(path, name, ...)                                             \
    do {                                                                                 \
        const char *const needles_[] = {__VA_ARGS__};                                    \
        refused_from_memory_(__FILE__, __LINE__, (path), (name), needles_,               \
                             sizeof needles_ / sizeof needles_[0]);                      \
    } while (0)

#endif
