/* Thread-local variables of a library relink loads; built as libcross_tls_gd.so (general
 * dynamic through __tls_get_addr), libcross_tls_desc.so (TLS descriptors) and, with
 * -DINITIAL_EXEC, libcross_tls_ie.so (its own variables initial-exec: static TLS; on i686 also,
 * with -DTPOFF32, libcross_tls_ie32.so, whose counter_addr subtracts an R_386_TLS_TPOFF32
 * offset from the thread pointer, as GCC's code does not). */
#ifdef INITIAL_EXEC
#define MODEL __attribute__((tls_model("initial-exec")))
#else
#define MODEL
#endif
/* With -DMIXED (libcross_tls_mixed.so, built for descriptors): counter initial-exec, so the
 * object's block is static TLS, which its descriptors then reach too. */
#ifdef MIXED
#define COUNTER_MODEL __attribute__((tls_model("initial-exec")))
#else
#define COUNTER_MODEL MODEL
#endif

COUNTER_MODEL __thread long counter = 5;
MODEL __thread unsigned char zeros[100];
MODEL __thread double scale = 2.5;

long *counter_addr(void)
{
#ifdef TPOFF32
    long *p;
    __asm__("call 1f\n"
            "1:\tpopl %%ecx\n\t"
            "addl $_GLOBAL_OFFSET_TABLE_+(.-1b), %%ecx\n\t"
            "movl %%gs:0, %0\n\t"
            "subl counter@gottpoff(%%ecx), %0"
            : "=a"(p)
            :
            : "ecx");
    return p;
#else
    return &counter;
#endif
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

#ifdef __i386__
/* GCC's code calls ___tls_get_addr (argument in %eax); this calls __tls_get_addr, whose
 * argument is on the stack. */
void *__tls_get_addr(void *ti);

void *tls_get_addr_stack(void *ti)
{
    return __tls_get_addr(ti);
}
#endif

int zeros_sum(void)
{
    int s = 0;
    for (int i = 0; i < 100; i++)
        s += zeros[i];
    return s;
}
