/* Arm's unwinder trusts an object's .ARM.exidx table (it follows its offsets when an exception
 * or a backtrace passes through the object's code): a library whose table points outside its
 * code is refused, from memory, naming the table, and the same image unbroken loads. */
#include <elf.h>

#include "check.h"

/* The file offset of the PT_ARM_EXIDX table of an ELF32 image, or 0. */
static size_t exidx_offset(const char *image, size_t len)
{
    const Elf32_Ehdr *eh = (const Elf32_Ehdr *)image;
    if (len < sizeof *eh || eh->e_ident[EI_CLASS] != ELFCLASS32)
        return 0;
    for (int i = 0; i < eh->e_phnum; i++) {
        const Elf32_Phdr *ph = (const Elf32_Phdr *)(image + eh->e_phoff + (size_t)i * eh->e_phentsize);
        if (ph->p_type == PT_ARM_EXIDX && ph->p_filesz >= 8 && ph->p_offset + ph->p_filesz <= len)
            return ph->p_offset;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *path = strf("%s/libcross_cxx.so", fixture_dir(argc, argv));
    size_t len;
    char *image = read_file_or_die(path, &len);
    size_t at = exidx_offset(image, len);
    CHECK(at != 0, "%s has a PT_ARM_EXIDX table", path);

    rl_handle *h = rl_open_mem(image, len, "exidx_good", RL_NOW);
    CHECK(h != NULL, "the unbroken image loads from memory");
    CHECK(rl_close(h) == 0, "rl_close");

    /* The first entry's function 512 MiB past its place, then its top bit set. */
    uint32_t saved;
    memcpy(&saved, image + at, 4);
    const uint32_t bad[2] = {0x20000000, saved | 0x80000000u};
    for (int i = 0; i < 2; i++) {
        memcpy(image + at, &bad[i], 4);
        CHECK(rl_open_mem(image, len, "exidx_bad", RL_NOW) == NULL, "case %d: refused", i);
        EXPECT_ERROR("exidx_bad", "malformed .ARM.exidx", "outside the object's code");
    }
    CHECKS_DONE();
}
