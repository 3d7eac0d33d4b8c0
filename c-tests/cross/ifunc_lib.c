/* libcross_ifunc.so: an IFUNC whose resolver records its arguments. */
unsigned long resolver_seen[4];

struct arg {
    unsigned long size, hwcap, hwcap2;
};

static int square(int x)
{
    return x * x;
}

static int twice(int x)
{
    return x + x;
}

static int (*resolve_pick(unsigned long hwcap, const struct arg *a))(int)
{
    resolver_seen[0] = hwcap;
#if defined(__aarch64__)
    if (hwcap & (1UL << 62)) {
        resolver_seen[1] = a->size;
        resolver_seen[2] = a->hwcap;
        resolver_seen[3] = a->hwcap2;
    }
#else
    (void)a;
#endif
    return (hwcap & 1) ? square : twice;
}

int pick(int x) __attribute__((ifunc("resolve_pick")));
