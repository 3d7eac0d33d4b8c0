/* Thread-local variables of a library relink loads; built as libcross_tls_gd.so (general
 * dynamic through __tls_get_addr), libcross_tls_desc.so (TLS descriptors) and, with
 * -DINITIAL_EXEC, libcross_tls_ie.so (its own variables initial-exec: static TLS). */
#ifdef INITIAL_EXEC
#define MODEL __attribute__((tls_model("initial-exec")))
#else
#define MODEL
#endif

MODEL __thread long counter = 5;
MODEL __thread unsigned char zeros[100];
MODEL __thread double scale = 2.5;

long *counter_addr(void)
{
    return &counter;
}

long bump(long by)
{
    counter += by;
    for (int i = 0; i < 100; i++)
        zeros[i] = (unsigned char)(zeros[i] + i);
    return counter;
}

double scaled(double x)
{
    return x * scale;
}

int zeros_sum(void)
{
    int s = 0;
    for (int i = 0; i < 100; i++)
        s += zeros[i];
    return s;
}
