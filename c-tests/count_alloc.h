/* Counts the calling thread's heap allocations while `counting` is set: the program's own
 * malloc, calloc and realloc (exported, so relink's calls reach them) forward to the C
 * library's. */
#ifndef RELINK_COUNT_ALLOC_H
#define RELINK_COUNT_ALLOC_H

#include <stddef.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);

static __thread int counting;
static int allocations;

void *malloc(size_t n)
{
    if (counting)
        allocations++;
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t k)
{
    if (counting)
        allocations++;
    return __libc_calloc(n, k);
}

void *realloc(void *p, size_t n)
{
    if (counting)
        allocations++;
    return __libc_realloc(p, n);
}

#endif
