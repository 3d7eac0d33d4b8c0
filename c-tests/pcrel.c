/* R_X86_64_PC32 against a symbol of another library: libpcrel.so's data
 * holds 32-bit offsets from itself to target_var and &target_array[2] in
 * libpcrel_target.so (its DT_NEEDED), through rl_open and rl_open_mem.
 * argv[1]: fixture dir. */
#include "check.h"

static void check_slots(rl_handle *h, rl_handle *target, const char *how)
{
    int32_t *slot = SYM(h, int32_t *, "pcrel_slot");
    int32_t *slot_addend = SYM(h, int32_t *, "pcrel_slot_addend");
    int *var = SYM(target, int *, "target_var");
    int *array = SYM(target, int *, "target_array");
    long distance = (long)((char *)var - (char *)slot);

    printf("  %s: libpcrel.so's slot is %ld bytes from target_var\n", how, distance);
    CHECK(distance >= INT32_MIN && distance <= INT32_MAX, "the two libraries are within +-2 GiB (%ld)", distance);
    CHECK((char *)slot + *slot == (char *)var, "&pcrel_slot + pcrel_slot = %p, &target_var = %p (%s)",
          (void *)((char *)slot + *slot), (void *)var, how);
    CHECK(*(int *)((char *)slot + *slot) == 1234, "reads target_var (%s)", how);
    CHECK((char *)slot_addend + *slot_addend == (char *)&array[2],
          "&pcrel_slot_addend + pcrel_slot_addend = %p, &target_array[2] = %p (%s)",
          (void *)((char *)slot_addend + *slot_addend), (void *)&array[2], how);
    CHECK(*(int *)((char *)slot_addend + *slot_addend) == 30, "reads target_array[2] (%s)", how);
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *path = strf("%s/libpcrel.so", dir);
    char *target_path = strf("%s/libpcrel_target.so", dir);
    rl_handle *h, *hm, *target;
    size_t len;
    char *image;

    h = rl_open(path, RL_NOW);
    CHECK(h != NULL, "rl_open(%s)", path);
    CHECK(is_mapped(target_path), "libpcrel_target.so loaded as a dependency");
    target = rl_open(target_path, RL_NOW | RL_NOLOAD);
    CHECK(target != NULL, "libpcrel_target.so is loaded");
    check_slots(h, target, "from the file");
    CHECK(SYM(h, int *, "target_var") == SYM(target, int *, "target_var"), "target_var through libpcrel's handle");

    image = read_file_or_die(path, &len);
    hm = rl_open_mem(image, len, "libpcrel-mem.so", RL_NOW);
    memset(image, 0xcc, len);
    free(image);
    CHECK(hm != NULL && hm != h, "rl_open_mem(libpcrel.so image)");
    check_slots(hm, target, "from memory");
    CHECK(SYM(hm, int32_t *, "pcrel_slot") != SYM(h, int32_t *, "pcrel_slot"), "a second copy");

    CHECK(rl_close(hm) == 0 && rl_close(target) == 0 && rl_close(h) == 0, "close");
    CHECK(!is_mapped(path) && !is_mapped(target_path), "unmapped");

    CHECKS_DONE();
}
