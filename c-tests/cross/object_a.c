/* The first of two objects c-tests/cross/objects.c links at run time: data, read-only
 * data, tables of function pointers, calls into the C library (snprintf, qsort with a
 * callback in this object, stdout), a constructor, a thread-local variable, exported and
 * static symbols, and calls and data references into object_b.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int obj_b_counter;
int obj_b_scale(int x);
const char *obj_b_name(void);

int obj_a_data[5] = {5, 3, 9, 1, 7};
static const char *const words[] = {"zero", "one", "two", "three"};
static const double factors[] = {0.5, 1.5, 2.5};
static int ctor_ran;
__thread int obj_a_tls = 7;

static int add(int a, int b) { return a + b; }
static int sub(int a, int b) { return a - b; }
static int mul(int a, int b) { return a * b; }
/* Read-only once relocated (.data.rel.ro), and writable. */
static int (*const ops[])(int, int) = {add, sub, mul};
int (*obj_a_ops[])(int, int) = {mul, add};

__attribute__((constructor)) static void obj_a_init(void)
{
    ctor_ran = 42;
}

int obj_a_ctor(void)
{
    return ctor_ran;
}

__attribute__((noinline)) static int helper(int x)
{
    return x + 1;
}

static int by_value(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* Sorts a copy of obj_a_data and prints it with a word and a factor into out. */
int obj_a_sorted(char *out, size_t n, int w)
{
    int v[5];
    memcpy(v, obj_a_data, sizeof v);
    qsort(v, 5, sizeof *v, by_value);
    return snprintf(out, n, "%d %d %d %d %d %s %.1f", v[0], v[1], v[2], v[3], v[4], words[w & 3], factors[w % 3]);
}

int obj_a_op(int i, int a, int b)
{
    return ops[i % 3](a, b);
}

int obj_a_cross(int x)
{
    return obj_b_scale(helper(x)) + obj_b_counter + (int)strlen(obj_b_name());
}

int obj_a_print(void)
{
    return fputs("objects: printed through stdout\n", stdout) >= 0 && fflush(stdout) == 0;
}

int obj_a_tls_bump(void)
{
    return ++obj_a_tls;
}

/* Branches of every reach: a loop with a switch. */
int obj_a_loop(int n)
{
    int s = 0;
    for (int i = 0; i < n; i++) {
        switch (i % 5) {
        case 0: s += i; break;
        case 1: s ^= i; break;
        case 2: s -= 3; break;
        case 3: s *= 2; break;
        default: s += helper(i);
        }
    }
    return s;
}
