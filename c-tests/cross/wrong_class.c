/* A library of the other ELF class (a 64-bit one on a 32-bit machine) is refused, from a file
 * and from memory, with glibc's words naming the file and the class. */
#include "check.h"

int main(int argc, char **argv)
{
    const char *path = strf("%s/other_class.so", fixture_dir(argc, argv));
    const char *other = sizeof(void *) == 4 ? "wrong ELF class: ELFCLASS64" : "wrong ELF class: ELFCLASS32";
    CHECK(rl_open(path, RL_NOW) == NULL, "rl_open(%s) fails", path);
    EXPECT_ERROR(path, other);

    FILE *f = fopen(path, "rb");
    CHECK(f != NULL, "fopen(%s)", path);
    static char image[1 << 20];
    size_t n = fread(image, 1, sizeof image, f);
    fclose(f);
    CHECK(n > 0 && n < sizeof image, "read %s (%zu bytes)", path, n);
    CHECK(rl_open_mem(image, n, "other_class", RL_NOW) == NULL, "rl_open_mem(%s) fails", path);
    EXPECT_ERROR("other_class", other);
    CHECKS_DONE();
}
