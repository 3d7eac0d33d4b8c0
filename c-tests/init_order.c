/* The order initializers and finalizers of linked objects run in is the order
 * of the same objects linked by ld into a shared library and loaded by dlopen:
 * DT_INIT fragments, then .init_array by priority (.init_array.N, then
 * .ctors.N), then plain .init_array and .ctors (each .ctors reversed) in input
 * order; at unload the fini side in reverse, then DT_FINI fragments. A
 * .preinit_array is refused. argv[1]: fixture dir; argv[2]: the shared library
 * ld made of obj_order_a.o and obj_order_b.o. */
#include <dlfcn.h>
#include "check.h"

static char log_buf[1024];

void order_log(const char *token)
{
    strcat(log_buf, token);
    strcat(log_buf, " ");
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    rl_input in[2] = {{strf("%s/obj_order_a.o", dir), NULL, 0, NULL, 0}, {strf("%s/obj_order_b.o", dir), NULL, 0, NULL, 0}};
    rl_input pre[1] = {{strf("%s/obj_preinit.o", dir), NULL, 0, NULL, 0}};
    rl_handle *h;
    void *d = dlopen(argv[2], RTLD_NOW);
    char load[1024], unload[1024];

    CHECK(d != NULL, "dlopen(%s): %s", argv[2], dlerror());
    strcpy(load, log_buf);
    log_buf[0] = 0;
    CHECK(dlclose(d) == 0, "dlclose");
    strcpy(unload, log_buf);
    printf("ld and dlopen: load %s\n  unload %s\n", load, unload);
    CHECK(strstr(load, "a:init ") == load && strstr(load, "ctors") && strstr(unload, "dtors") && strstr(unload, "b:fini ") &&
              strstr(unload, "a:atexit"),
          "ld's library runs every kind of initializer and finalizer");
    log_buf[0] = 0;
    h = rl_link(in, 2, RL_NOW, NULL);
    CHECK(h != NULL, "rl_link");
    CHECK(strcmp(log_buf, load) == 0, "load order:\n  got      %s\n  expected %s", log_buf, load);
    log_buf[0] = 0;
    CHECK(rl_close(h) == 0, "close");
    CHECK(strcmp(log_buf, unload) == 0, "unload order:\n  got      %s\n  expected %s", log_buf, unload);

    CHECK(rl_link(pre, 1, RL_NOW, NULL) == NULL, ".preinit_array is refused");
    EXPECT_ERROR_SHOW("obj_preinit.o", "preinit_array");
    CHECKS_DONE();
}
