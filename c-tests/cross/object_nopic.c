/* The object c-tests/cross/obj_nopic.c loads, compiled -fno-pic: its own data, functions and
 * function pointers are reached by absolute addresses (lui + addi/load/store: R_RISCV_HI20,
 * R_RISCV_LO12_I, R_RISCV_LO12_S), libc's functions are called through the unit's stubs, and
 * the address of one (puts) is taken absolutely too. */
#include <stdio.h>
#include <stddef.h>

static int counter = 5;
int nopic_table[4] = {1, 2, 3, 4};
static const char *const names[] = {"zero", "one", "two", "three"};

static int add(int a, int b)
{
    return a + b;
}

static int mul(int a, int b)
{
    return a * b;
}

/* Written with the address of add or mul (volatile: the store and the load stay). */
static int (*volatile op)(int, int) = add;

void nopic_select(int i)
{
    op = i ? mul : add;
}

int nopic_apply(int a, int b)
{
    return op(a, b);
}

int nopic_bump(void)
{
    return ++counter;
}

int nopic_format(char *buf, size_t n, int i)
{
    nopic_table[i] += 10;
    return snprintf(buf, n, "%s %d", names[i], nopic_table[i]);
}

int (*nopic_puts(void))(const char *)
{
    return puts;
}
