/* The second object c-tests/cross/objects.c links: data and functions object_a.c uses,
 * and a static of the same name as one of object_a.c's. */
int obj_b_counter = 100;
static int ctor_ran;

int obj_b_scale(int x)
{
    return x * 10 + ++ctor_ran;
}

const char *obj_b_name(void)
{
    return "bee";
}
