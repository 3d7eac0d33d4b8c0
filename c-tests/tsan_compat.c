/* Entry points that ThreadSanitizer instrumentation from newer LLVM versions (Rust nightly's)
 * calls for memory intrinsics, and that GCC's older libtsan does not have: forwarded to the C
 * library's functions, which libtsan intercepts and checks. Linked into `make tsan`'s program. */
#include <stddef.h>
#include <string.h>

void *__tsan_memcpy(void *dst, const void *src, size_t n);
void *__tsan_memmove(void *dst, const void *src, size_t n);
void *__tsan_memset(void *dst, int c, size_t n);

void *__tsan_memcpy(void *dst, const void *src, size_t n)
{
    return memcpy(dst, src, n);
}

void *__tsan_memmove(void *dst, const void *src, size_t n)
{
    return memmove(dst, src, n);
}

void *__tsan_memset(void *dst, int c, size_t n)
{
    return memset(dst, c, n);
}
