/* An unmodified program (it does not link librelink) run with LD_PRELOAD=librelink_preload.so:
 * its dlopen family is relink's, and what it opens is loaded by relink, C++ exceptions inside a
 * plugin included. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks;

#ifdef __i386__
/* What a program built against a glibc older than 2.34 calls on i386 (its default versions
 * then), and the only version of dl_iterate_phdr there. */
void *dlopen_21(const char *, int);
void *dlvsym_21(void *, const char *, const char *);
int dl_iterate_phdr_224(int (*)(struct dl_phdr_info *, size_t, void *), void *);
__asm__(".symver dlopen_21, dlopen@GLIBC_2.1");
__asm__(".symver dlvsym_21, dlvsym@GLIBC_2.1");
__asm__(".symver dl_iterate_phdr_224, dl_iterate_phdr@GLIBC_2.2.4");
#endif

#define CHECK(cond, ...)                                                                                               \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n  ", __FILE__, __LINE__, #cond);                                 \
            fprintf(stderr, __VA_ARGS__);                                                                              \
            fprintf(stderr, "\n  dlerror(): %s\n", dlerror());                                                         \
            exit(1);                                                                                                   \
        }                                                                                                              \
        checks++;                                                                                                      \
    } while (0)

int main(int argc, char **argv)
{
    char path[4096];
    Dl_info info;
    CHECK(argc == 2, "usage: preload DIR");
    CHECK(dladdr((void *)dlopen, &info) && strstr(info.dli_fname, "librelink_preload.so"), "dlopen is %s's",
          info.dli_fname);
#ifdef __i386__
    void *old[] = {(void *)dlopen_21, (void *)dlvsym_21, (void *)dl_iterate_phdr_224};
    for (int i = 0; i < 3; i++)
        CHECK(dladdr(old[i], &info) && strstr(info.dli_fname, "librelink_preload.so"), "%s is %s's",
              i == 0 ? "dlopen@GLIBC_2.1" : i == 1 ? "dlvsym@GLIBC_2.1" : "dl_iterate_phdr@GLIBC_2.2.4",
              info.dli_fname);
#endif
    snprintf(path, sizeof path, "%s/libcross_lazy.so", argv[1]);
    void *h = dlopen(path, RTLD_LAZY);
    CHECK(h != NULL, "dlopen(%s)", path);
    struct link_map *lm = NULL;
    CHECK(dlinfo(h, RTLD_DI_LINKMAP, &lm) == 0 && lm->l_prev == NULL && lm->l_next == NULL,
          "the link map of %s is relink's (on no list of the system loader's)", path);
    double (*call_mix)(long, double, long, double, long, double, long, double, long, double, long, double, long,
                       double, long, double, long, double, long, double) =
        (double (*)(long, double, long, double, long, double, long, double, long, double, long, double, long, double,
                    long, double, long, double, long, double))dlsym(h, "call_mix");
    CHECK(call_mix != NULL, "dlsym(call_mix)");
    double r = call_mix(1, 0.5, 2, 1.5, 3, 2.5, 4, 3.5, 5, 4.5, 6, 5.5, 7, 6.5, 8, 7.5, 9, 8.5, 10, 9.5);
    CHECK(r == 11330, "call_mix = %g", r);
    CHECK(dlsym(h, "no_such_symbol") == NULL && dlerror() != NULL, "a missing symbol");
    void *m = dlopen("libm.so.6", RTLD_NOW);
    double (*p_sqrt)(double) = (double (*)(double))dlsym(m, "sqrt");
    CHECK(m != NULL && p_sqrt != NULL && p_sqrt(2.25) == 1.5, "sqrt from libm");
    /* A C++ plugin (with its libstdc++ and unwinder, loaded by relink too) throwing and catching
     * inside itself: the unwinder finds the plugin's frames through the interposer. */
    snprintf(path, sizeof path, "%s/libcross_cxx.so", argv[1]);
    void *cxx = dlopen(path, RTLD_NOW);
    CHECK(cxx != NULL, "dlopen(%s)", path);
    int (*plugin_catch)(int) = (int (*)(int))dlsym(cxx, "plugin_catch");
    CHECK(plugin_catch != NULL, "dlsym(plugin_catch)");
    CHECK(plugin_catch(7) == (int)strlen("thrown in the plugin: 7"), "plugin_catch caught its own exception");
    CHECK(dlclose(h) == 0 && dlclose(m) == 0 && dlclose(cxx) == 0, "dlclose");
    printf("%d checks passed\n", checks);
    return 0;
}
