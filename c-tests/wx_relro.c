/* W^X and RELRO. With libsqlite3.so.0, libcrypto.so.3 and librelro.so
 * (linked -z relro -z now; from the file and from memory) loaded, no
 * mapping in the process is writable and executable; librelro.so's
 * PT_GNU_RELRO pages, which hold its GOT, are read-only, and a write to
 * the GOT kills a child process with SIGSEGV while a write to ordinary
 * data does not. argv[1]: fixture dir. */
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "elf_file.h"

/* "rwxp"-style permissions of the mapping holding addr ("" if none). */
static const char *perms_at(uintptr_t addr)
{
    static char perms[5];
    char *maps = read_maps(), *line = maps, *nl;
    perms[0] = '\0';
    for (; *line; line = nl + 1) {
        unsigned long lo, hi;
        char p[5];
        nl = strchr(line, '\n');
        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, p) == 3 && addr >= lo && addr < hi) {
            memcpy(perms, p, sizeof perms);
            break;
        }
        if (nl == NULL)
            break;
    }
    free(maps);
    return perms;
}

/* Lowest address at which `path` is mapped (0 if it is not). */
static uintptr_t lowest_mapping_of(const char *path)
{
    char *maps = read_maps(), *want = canonical(path), *line = maps, *nl;
    uintptr_t low = 0;
    size_t wl = strlen(want);
    for (; *line; line = nl + 1) {
        unsigned long lo;
        nl = strchr(line, '\n');
        if (nl == NULL)
            nl = line + strlen(line);
        if ((size_t)(nl - line) > wl && memcmp(nl - wl, want, wl) == 0 && sscanf(line, "%lx-", &lo) == 1 &&
            (low == 0 || lo < low))
            low = lo;
        if (*nl == '\0')
            break;
    }
    free(want);
    free(maps);
    return low;
}

static int writable_and_executable_mappings(void)
{
    char *maps = read_maps(), *save = NULL, *line;
    int n = 0;
    for (line = strtok_r(maps, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char p[5];
        if (sscanf(line, "%*x-%*x %4s", p) == 1 && p[1] == 'w' && p[2] == 'x') {
            fprintf(stderr, "W+X mapping: %s\n", line);
            n++;
        }
    }
    free(maps);
    return n;
}

/* Runs `*(volatile long *)addr = value` in a child; returns its wait status. */
static int write_in_child(uintptr_t addr, long value)
{
    int status;
    pid_t pid;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    CHECK(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        struct rlimit none = {0, 0};
        setrlimit(RLIMIT_CORE, &none);
        *(volatile long *)addr = value;
        _exit(*(volatile long *)addr == value ? 0 : 3);
    }
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
    return status;
}

static void check_relro(rl_handle *h, const struct elf_file *f, const char *how, int from_file)
{
    const Elf64_Phdr *relro = elf_phdr(f, PT_GNU_RELRO);
    const Elf64_Sym *read_sym = elf_dynsym(f, "relro_read");
    const Elf64_Rela *got_rela = elf_find_rela(f, DT_RELA, R_X86_64_GLOB_DAT, "relro_var");
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t base, start, end, got, p;
    int status;

    CHECK(relro != NULL && read_sym != NULL && got_rela != NULL,
          "librelro.so has PT_GNU_RELRO, relro_read and a GLOB_DAT for relro_var");
    CHECK(got_rela->r_offset >= relro->p_vaddr && got_rela->r_offset + 8 <= relro->p_vaddr + relro->p_memsz,
          "the GOT entry of relro_var (%#lx) is in the RELRO range", (unsigned long)got_rela->r_offset);

    base = (uintptr_t)SYM(h, void *, "relro_read") - read_sym->st_value;
    CHECK(base % page == 0, "load base %#lx is page-aligned (%s)", (unsigned long)base, how);
    if (from_file)
        CHECK(lowest_mapping_of(f->path) == base, "the file's first mapping is at the load base %#lx (%s)",
              (unsigned long)base, how);
    CHECK(SYM(h, int (*)(void), "relro_read")() == 77, "relro_read() (%s)", how);

    got = base + got_rela->r_offset;
    CHECK(*(void **)got == SYM(h, void *, "relro_var"), "the GOT entry holds &relro_var (%s)", how);

    start = (base + relro->p_vaddr) & ~(page - 1);
    end = (base + relro->p_vaddr + relro->p_memsz) & ~(page - 1);
    CHECK(got >= start && got < end, "the GOT entry lies in a whole RELRO page (%s)", how);
    for (p = start; p < end; p += page)
        CHECK(strcmp(perms_at(p), "r--p") == 0, "RELRO page %#lx is %s, want r--p (%s)", (unsigned long)p,
              perms_at(p), how);

    status = write_in_child(got, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
          "writing the GOT entry must fault with SIGSEGV; child status %#x (%s)", status, how);

    p = (uintptr_t)SYM(h, int *, "relro_plain");
    CHECK(strcmp(perms_at(p), "rw-p") == 0, "ordinary data is rw-p: %s (%s)", perms_at(p), how);
    status = write_in_child(p & ~(uintptr_t)7, 12345);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writing ordinary data works; child status %#x (%s)",
          status, how);
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *path = strf("%s/librelro.so", dir);
    rl_handle *hs, *hc, *h, *hm;
    struct elf_file f;
    int (*sqlite3_libversion_number)(void);
    size_t len;
    char *image;

    CHECK(writable_and_executable_mappings() == 0, "no W+X mapping at start");

    hs = rl_open("libsqlite3.so.0", RL_NOW);
    CHECK(hs != NULL, "rl_open(libsqlite3.so.0)");
    sqlite3_libversion_number = SYM(hs, int (*)(void), "sqlite3_libversion_number");
    CHECK(sqlite3_libversion_number() >= 3000000, "sqlite3_libversion_number");
    hc = rl_open("libcrypto.so.3", RL_NOW);
    CHECK(hc != NULL, "rl_open(libcrypto.so.3)");
    CHECK(SYM(hc, unsigned long (*)(void), "OpenSSL_version_num")() >= 0x30000000UL, "OpenSSL_version_num");
    h = rl_open(path, RL_NOW);
    CHECK(h != NULL, "rl_open(%s)", path);
    image = read_file_or_die(path, &len);
    hm = rl_open_mem(image, len, "librelro-mem.so", RL_NOW);
    free(image);
    CHECK(hm != NULL && hm != h, "rl_open_mem(librelro.so image)");

    CHECK(maps_mention("libsqlite3.so") && maps_mention("libcrypto.so.3") && is_mapped(path), "all mapped");
    CHECK(writable_and_executable_mappings() == 0, "no mapping is both writable and executable");

    elf_read(&f, path);
    check_relro(h, &f, "from the file", 1);
    check_relro(hm, &f, "from memory", 0);

    CHECK(rl_close(hm) == 0 && rl_close(h) == 0 && rl_close(hc) == 0 && rl_close(hs) == 0, "close");
    CHECK(writable_and_executable_mappings() == 0, "no W+X mapping after closing");
    free(f.data);

    CHECKS_DONE();
}
