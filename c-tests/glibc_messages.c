/* rl_error() words failures as glibc's dlerror() does, then adds relink's
 * own detail: for each case the same call is made to relink and to the
 * system loader (on a copy where the file stays loaded), and relink's
 * message must begin with glibc's. argv[1]: fixture dir. */
#include "check.h"

#include <dlfcn.h>

static const char *dir;

/* relink's message `rl` begins with glibc's `dl`. */
static void same_start(const char *what, const char *rl, const char *dl)
{
    CHECK(rl != NULL && dl != NULL && strncmp(rl, dl, strlen(dl)) == 0, "%s:\n  relink: %s\n  glibc:  %s", what,
          rl ? rl : "(null)", dl ? dl : "(null)");
    printf("%s:\n  relink: %s\n  glibc:  %s\n", what, rl, dl);
}

/* A fixture's path. */
static char *fx(const char *name)
{
    return strf("%s/%s", dir, name);
}

/* Both loaders fail to open `path`; relink's message begins with glibc's. */
static void open_fails_alike(const char *path, int rl_flags)
{
    CHECK(rl_open(path, rl_flags) == NULL, "rl_open(%s) fails", path);
    const char *err = rl_error();
    char *rl = err ? strdup(err) : NULL;
    CHECK(dlopen(path, RTLD_NOW) == NULL, "dlopen(%s) fails", path);
    same_start(path, rl, dlerror());
    free(rl);
}

/* `msg` with the leading "path: " replaced by "<obj>: ". */
static char *without_path(const char *msg, const char *path)
{
    size_t n = strlen(path);
    CHECK(msg != NULL && strncmp(msg, path, n) == 0, "\"%s\" begins with %s", msg ? msg : "(null)", path);
    return strf("<obj>%s", msg + n);
}

int main(int argc, char **argv)
{
    dir = fixture_dir(argc, argv);

    open_fails_alike("/nonexistent-dir/libnothing.so", RL_NOW);
    open_fails_alike("libnothing-anywhere.so", RL_NOW);
    open_fails_alike(fx("elf32.so"), RL_NOW);
    /* Found through the program's DT_RUNPATH (the fixture dir), but 32-bit. */
    open_fails_alike("elf32.so", RL_NOW);
    open_fails_alike(fx("libunresolved.so"), RL_NOW);
    open_fails_alike(fx("libneeds_missing.so"), RL_NOW);
    open_fails_alike(fx("libconsumer_future.so"), RL_NOW);
    open_fails_alike(fx("libnoopen.so"), RL_NOW);

    /* Lookups: relink's copy and the system loader's copy are different files. */
    char *rl_path = fx("libver.so"), *dl_path = fx("libver_dl.so");
    rl_handle *h = rl_open(rl_path, RL_NOW);
    void *dh = dlopen(dl_path, RTLD_NOW | RTLD_LOCAL);
    CHECK(h != NULL && dh != NULL, "both loaders load libver");

    CHECK(rl_sym(h, "no_such_symbol") == NULL, "rl_sym of a missing symbol");
    char *rl = without_path(rl_error(), rl_path);
    CHECK(dlsym(dh, "no_such_symbol") == NULL, "dlsym of a missing symbol");
    same_start("rl_sym", rl, without_path(dlerror(), dl_path));
    CHECK(rl_vsym(h, "foo", "VER_3") == NULL, "rl_vsym of a missing version");
    rl = without_path(rl_error(), rl_path);
    CHECK(dlvsym(dh, "foo", "VER_3") == NULL, "dlvsym of a missing version");
    same_start("rl_vsym", rl, without_path(dlerror(), dl_path));

    /* glibc up to 2.34 words a versioned reference that the file it names
     * does not define this way (later versions say "undefined symbol"). */
    CHECK(rl_open(fx("libconsumer_baz.so"), RL_NOW) == NULL, "baz@VER_2 is not in libver.so");
    EXPECT_ERROR_SHOW("libconsumer_baz.so: symbol baz version VER_2 not defined in file libver.so with link "
                      "time reference");

    CHECK(rl_close(h) == 0, "close");
    dlclose(dh);
    CHECKS_DONE();
}
