/* A relocatable object with a relocation type relink does not apply
 * (obj_unknown.o): rl_open refuses it with a message naming the object, the
 * type, the section and the offset. */
#include "check.h"

int main(int argc, char **argv)
{
    const char *path = strf("%s/obj_unknown.o", fixture_dir(argc, argv));
    CHECK(rl_open(path, RL_NOW) == NULL, "rl_open(%s) fails", path);
    EXPECT_ERROR(path, "relocation type 544", "section .text at offset 0x4");
    CHECKS_DONE();
}
