/* Snapshots of what a process holds, for tests that check nothing accumulates
 * over open/close cycles:
 *
 *   maps_lines(paths_only)   /proc/self/maps lines (or the unique mapped paths), sorted
 *   fd_lines()               "fd -> target" for every open descriptor, sorted
 *   same(what, a, b, extra)  prints the difference; 1 if equal (ignoring b's entries
 *                            that contain `extra`)
 */
#ifndef RELINK_LEAK_CHECK_H
#define RELINK_LEAK_CHECK_H

#include "check.h"

struct lines {
    char **v;
    size_t n;
};

static inline int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* /proc/self/maps lines, sorted, without [heap] (brk moves with malloc). */
static inline struct lines maps_lines(int paths_only)
{
    struct lines l = {NULL, 0};
    char *maps = read_maps(), *save = NULL, *line;
    for (line = strtok_r(maps, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *path = strchr(line, '/');
        if (strstr(line, "[heap]"))
            continue;
        if (paths_only && path == NULL)
            continue;
        l.v = realloc(l.v, (l.n + 1) * sizeof *l.v);
        l.v[l.n++] = strdup(paths_only ? path : line);
    }
    free(maps);
    qsort(l.v, l.n, sizeof *l.v, cmp_str);
    if (paths_only) { /* unique */
        size_t i, j = 0;
        for (i = 0; i < l.n; i++)
            if (j == 0 || strcmp(l.v[j - 1], l.v[i]) != 0)
                l.v[j++] = l.v[i];
        l.n = j;
    }
    return l;
}

/* "fd -> target" for every open descriptor except the directory stream's. */
static inline struct lines fd_lines(void)
{
    struct lines l = {NULL, 0};
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int self_fd = dirfd(d);
    while ((e = readdir(d)) != NULL) {
        char target[PATH_MAX], link[300];
        ssize_t n;
        if (e->d_name[0] == '.' || atoi(e->d_name) == self_fd)
            continue;
        snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
        n = readlink(link, target, sizeof target - 1);
        target[n < 0 ? 0 : n] = '\0';
        l.v = realloc(l.v, (l.n + 1) * sizeof *l.v);
        l.v[l.n++] = strf("%s -> %s", e->d_name, target);
    }
    closedir(d);
    qsort(l.v, l.n, sizeof *l.v, cmp_str);
    return l;
}

static inline int in(const struct lines *l, const char *s)
{
    return bsearch(&s, l->v, l->n, sizeof *l->v, cmp_str) != NULL;
}

/* Prints the difference; returns 1 if equal (ignoring entries in `allowed_extra`). */
static inline int same(const char *what, const struct lines *a, const struct lines *b, const char *allowed_extra)
{
    size_t i;
    int ok = 1;
    for (i = 0; i < a->n; i++)
        if (!in(b, a->v[i])) {
            fprintf(stderr, "%s: gone:  %s\n", what, a->v[i]);
            ok = 0;
        }
    for (i = 0; i < b->n; i++)
        if (!in(a, b->v[i]) && !(allowed_extra && strstr(b->v[i], allowed_extra))) {
            fprintf(stderr, "%s: extra: %s\n", what, b->v[i]);
            ok = 0;
        }
    return ok;
}

#endif
