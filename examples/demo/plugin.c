/* A small plugin for the relink demo: two functions and a constructor. */
#include <stdio.h>

__attribute__((constructor)) static void plugin_init(void)
{
    printf("plugin: constructor ran\n");
    fflush(stdout);
}

int plugin_add(int a, int b)
{
    return a + b;
}

const char *plugin_name(void)
{
    return "demo-plugin";
}
