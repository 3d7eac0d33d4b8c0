/* The members of the archive c-tests/cross/archive.c links, one per MEMBER (1-3), and the
 * object that needs some of them (MEMBER 0): the object calls arc_one (member 1), which
 * calls arc_two (member 2, pulled in on the second pass); nothing needs member 3. */
#if MEMBER == 0
int arc_one(int x);
extern int arc_two_calls;

int arc_user(int x)
{
    int r = arc_one(x);
    return r + arc_two_calls;
}
#elif MEMBER == 1
int arc_two(int x);

int arc_one(int x)
{
    return arc_two(x) * 10;
}
#elif MEMBER == 2
int arc_two_calls;

int arc_two(int x)
{
    arc_two_calls++;
    return x + 3;
}
#elif MEMBER == 3
int arc_unused(int x)
{
    return -x;
}
#endif
