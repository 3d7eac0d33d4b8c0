/* rl_tls_block (glibc's dlinfo(RTLD_DI_TLS_DATA)): the calling thread's TLS
 * block of a handle's object, NULL while the thread has not used it or when
 * the object has no TLS, for relink's objects and the host's alike; the
 * variables sit at the same offsets in it as in the system loader's block of
 * a copy. argv[1]: fixture dir holding libtls_block.so, its copy
 * libtls_block_dl.so, and libsimple.so (no TLS). */
#include "check.h"

#include <dlfcn.h>
#include <pthread.h>

static rl_handle *h;
static int *(*addr_fn)(void);

static void *in_thread(void *arg)
{
    void **out = arg;
    void *before = rl_tls_block(h);
    CHECK(before == NULL && rl_error() == NULL, "a new thread has no block yet");
    int *var = addr_fn();
    CHECK(*var == 42, "the new thread's copy is initialized");
    out[0] = rl_tls_block(h);
    out[1] = var;
    return NULL;
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *path = strf("%s/libtls_block.so", dir), *dl_path = strf("%s/libtls_block_dl.so", dir);

    h = rl_open(path, RL_NOW);
    CHECK(h != NULL, "rl_open(%s)", path);
    CHECK(rl_tls_block(h) == NULL, "no block before the thread uses the object's TLS");
    CHECK(rl_error() == NULL, "which is no error");
    addr_fn = SYM(h, int *(*)(void), "tls_block_addr");
    int *var = addr_fn();
    char *block = rl_tls_block(h);
    CHECK(block != NULL, "a block once used");
    CHECK(rl_sym(h, "tls_block_var") == var, "rl_sym of the variable gives this thread's copy");

    /* The same offsets as in the system loader's block. */
    void *dh = dlopen(dl_path, RTLD_NOW | RTLD_LOCAL);
    CHECK(dh != NULL, "dlopen: %s", dlerror());
    int *(*dl_addr_fn)(void) = (int *(*)(void))dlsym(dh, "tls_block_addr");
    int *dl_var = dl_addr_fn();
    void *dl_block = NULL;
    CHECK(dlinfo(dh, RTLD_DI_TLS_DATA, &dl_block) == 0 && dl_block != NULL, "dlinfo(RTLD_DI_TLS_DATA)");
    CHECK((char *)var - block == (char *)dl_var - (char *)dl_block, "tls_block_var at offset %td, glibc's at %td",
          (char *)var - block, (char *)dl_var - (char *)dl_block);
    char *buf = rl_sym(h, "tls_block_buf");
    char *dl_buf = dlsym(dh, "tls_block_buf");
    CHECK(buf - block == dl_buf - (char *)dl_block, "tls_block_buf at offset %td, glibc's at %td", buf - block,
          dl_buf - (char *)dl_block);

    /* Per thread. */
    void *out[2];
    pthread_t t;
    CHECK(pthread_create(&t, NULL, in_thread, out) == 0 && pthread_join(t, NULL) == 0, "thread");
    CHECK(out[0] != NULL && out[0] != block, "the other thread has its own block");
    CHECK((char *)out[1] - (char *)out[0] == (char *)var - block, "with the variable at the same offset");
    CHECK(rl_tls_block(h) == block, "this thread's block is unchanged");

    /* Host objects: asked of the system loader. */
    rl_handle *libc = rl_open("libc.so.6", RL_NOW);
    void *dl_libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    void *libc_block = NULL;
    CHECK(libc != NULL && dl_libc != NULL && dlinfo(dl_libc, RTLD_DI_TLS_DATA, &libc_block) == 0, "libc");
    CHECK(libc_block != NULL && rl_tls_block(libc) == libc_block, "libc's block: %p, glibc says %p",
          rl_tls_block(libc), libc_block);

    /* No TLS at all. */
    rl_handle *simple = rl_open(strf("%s/libsimple.so", dir), RL_NOW);
    CHECK(simple != NULL && rl_tls_block(simple) == NULL && rl_error() == NULL, "no TLS: NULL, no error");

    /* Not an object. */
    CHECK(rl_tls_block(rl_open(NULL, RL_NOW)) == NULL, "the global scope");
    EXPECT_ERROR("global scope");
    CHECK(rl_tls_block(RL_DEFAULT) == NULL, "RL_DEFAULT");
    EXPECT_ERROR("invalid handle");
    CHECK(rl_close(simple) == 0 && rl_close(libc) == 0 && rl_close(h) == 0, "close");
    CHECK(rl_tls_block(h) == NULL, "a closed handle");
    EXPECT_ERROR("invalid handle");
    dlclose(dl_libc);
    dlclose(dh);
    CHECKS_DONE();
}
