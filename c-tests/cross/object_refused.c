/* Relocatable objects on a machine whose object relocations relink does not implement yet:
 * rl_open refuses one with a message naming the file and the reason. */
#include "check.h"

int main(int argc, char **argv)
{
    const char *path = strf("%s/simple.o", fixture_dir(argc, argv));
    CHECK(rl_open(path, RL_NOW) == NULL, "rl_open(%s) fails", path);
    EXPECT_ERROR(path, "relocatable objects", "only for now");
    CHECKS_DONE();
}
