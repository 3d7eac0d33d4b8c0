/*
 * relink demo host: loads the demo plugin twice, once from its path with
 * rl_open() and once from a copy of its bytes in memory with rl_open_mem(),
 * calls its functions through both handles, and closes them.
 *
 * Usage: demo [path/to/libdemo_plugin.so]
 * Exits with status 0 when everything worked, 1 otherwise.
 */
#include <relink.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*add_fn)(int, int);
typedef const char *(*name_fn)(void);

static int failures;

static void fail(const char *what)
{
    const char *err = rl_error();
    fprintf(stderr, "demo: %s failed: %s\n", what, err ? err : "(no message from rl_error)");
    failures++;
}

/* Read a whole file into a malloc'ed buffer. */
static void *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        unsigned char *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    if (!buf || ferror(f)) {
        fprintf(stderr, "demo: cannot read %s\n", path);
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* Look up and call the plugin's functions through one handle. */
static void use_plugin(rl_handle *h, const char *how)
{
    void *add_sym = rl_sym(h, "plugin_add");
    if (!add_sym) {
        fail("rl_sym(plugin_add)");
        return;
    }
    void *name_sym = rl_sym(h, "plugin_name");
    if (!name_sym) {
        fail("rl_sym(plugin_name)");
        return;
    }
    /* Object to function pointer conversion, as POSIX allows for dlsym. */
    add_fn add;
    name_fn name;
    memcpy(&add, &add_sym, sizeof add);
    memcpy(&name, &name_sym, sizeof name);

    int sum = add(2, 40);
    const char *plugin = name();
    printf("%s: plugin_name() = \"%s\", plugin_add(2, 40) = %d\n", how, plugin, sum);
    if (sum != 42 || strcmp(plugin, "demo-plugin") != 0) {
        fprintf(stderr, "demo: %s: unexpected results\n", how);
        failures++;
    }

    /* A missing symbol gives NULL and a message, which reading clears. */
    if (rl_sym(h, "plugin_does_not_exist") != NULL) {
        fprintf(stderr, "demo: %s: lookup of a missing symbol succeeded\n", how);
        failures++;
    } else {
        const char *err = rl_error();
        printf("%s: missing symbol reported as: %s\n", how, err ? err : "(no message)");
        if (!err || rl_error() != NULL) {
            fprintf(stderr, "demo: %s: rl_error() did not report once\n", how);
            failures++;
        }
    }
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "./libdemo_plugin.so";

    rl_handle *from_file = rl_open(path, RL_NOW | RL_LOCAL);
    if (from_file)
        use_plugin(from_file, "rl_open");
    else
        fail("rl_open");

    rl_handle *from_mem = NULL;
    size_t len = 0;
    void *image = read_file(path, &len);
    if (image) {
        from_mem = rl_open_mem(image, len, "libdemo_plugin_mem.so", RL_NOW | RL_LOCAL);
        free(image); /* the loader keeps no reference to the caller's buffer */
        if (from_mem)
            use_plugin(from_mem, "rl_open_mem");
        else
            fail("rl_open_mem");
    } else {
        failures++;
    }

    if (from_file && rl_close(from_file) != 0)
        fail("rl_close(from_file)");
    if (from_mem && rl_close(from_mem) != 0)
        fail("rl_close(from_mem)");

    if (failures) {
        fprintf(stderr, "demo: %d failure(s)\n", failures);
        return 1;
    }
    printf("demo: ok\n");
    return 0;
}
