/* Relocatable objects through rl_open and rl_open_mem: one source compiled with
 * several code models (c-tests/fixtures/obj_all.c). argv[1]: fixture dir;
 * then the variants: obj_<variant>.o is loaded from the file and from memory
 * and checked; a variant written "!name" must be refused with a message naming
 * the object, the relocation and the symbol that cannot be reached. */
#include "check.h"

#include <link.h>

struct phdr_probe {
    const char *name;
    int found, loads, eh_frame;
};

static int probe(struct dl_phdr_info *info, size_t size, void *data)
{
    struct phdr_probe *p = data;
    int i;
    (void)size;
    if (info->dlpi_name == NULL || strcmp(info->dlpi_name, p->name) != 0)
        return 0;
    p->found = 1;
    for (i = 0; i < info->dlpi_phnum; i++) {
        p->loads += info->dlpi_phdr[i].p_type == PT_LOAD;
        p->eh_frame += info->dlpi_phdr[i].p_type == PT_GNU_EH_FRAME;
    }
    return 1;
}

static void check_unit(rl_handle *h, const char *what)
{
    int *counter = SYM(h, int *, "obj_counter");
    const char *message = SYM(h, const char *, "obj_message");
    int (*apply)(int, int, int) = SYM(h, int (*)(int, int, int), "obj_apply");
    const char *(*op_name)(int) = SYM(h, const char *(*)(int), "obj_op_name");
    int (*call_secret)(int) = SYM(h, int (*)(int), "obj_call_secret");
    void *(*secret_address)(void) = SYM(h, void *(*)(void), "obj_secret_address");
    int (*sort_desc)(int *, size_t) = SYM(h, int (*)(int *, size_t), "obj_sort_desc");
    FILE *(*obj_stdout)(void) = SYM(h, FILE *(*)(void), "obj_stdout");
    int (*print)(const char *) = SYM(h, int (*)(const char *), "obj_print");
    int (*err)(void) = SYM(h, int (*)(void), "obj_errno");
    int (*weak_state)(void) = SYM(h, int (*)(void), "obj_weak_state");
    int (*square)(int) = SYM(h, int (*)(int), "obj_square");
    int (*get_zero)(void) = SYM(h, int (*)(void), "obj_get_zero");
    int (*bump)(void) = SYM(h, int (*)(void), "obj_bump");
    const char *log = SYM(h, const char *, "obj_ctor_log");
    int v[] = {3, 9, 1, 4};
    rl_addr_info info;

    CHECK(*counter == 5, "%s: data (%d)", what, *counter);
    CHECK(strcmp(message, "relinked object") == 0, "%s: rodata", what);
    CHECK(apply(0, 2, 3) == 5 && apply(1, 2, 3) == 6, "%s: function-pointer table", what);
    CHECK(strcmp(op_name(1), "mul") == 0, "%s: table of strings", what);
    CHECK(call_secret(2) == 13, "%s: static function and static data (%d)", what, call_secret(2));
    CHECK(sort_desc(v, 4) == 9 && v[3] == 1, "%s: qsort calls back into the object", what);
    CHECK(obj_stdout() == stdout, "%s: stdout is the host's", what);
    CHECK(print(what) > 0, "%s: fprintf(stdout)", what);
    CHECK(err() == ERANGE, "%s: errno", what);
    CHECK(weak_state() == 0, "%s: undefined weak references are 0 (%d)", what, weak_state());
    CHECK(square(4) == 16 && get_zero() == 0, "%s: rodata, zeroed data", what);
    CHECK(bump() == 13 && *counter == 6, "%s: data written", what);
    CHECK(strcmp(log, "abc") == 0, "%s: constructors by priority (%s)", what, log);

    CHECK(rl_sym(h, "secret") == NULL, "%s: a static function is not exported", what);
    EXPECT_ERROR("secret");
    CHECK(rl_sym(h, "obj_hidden_fn") == NULL && rl_sym(h, "obj_hidden_data") == NULL, "%s: hidden symbols are not exported", what);
    EXPECT_ERROR("obj_hidden_data");
    CHECK(rl_addr(secret_address(), &info) && info.sname && strcmp(info.sname, "secret") == 0,
          "%s: rl_addr names the static function (%s)", what, info.sname ? info.sname : "(null)");
    CHECK(rl_addr((char *)bump + 1, &info) && strcmp(info.sname, "obj_bump") == 0, "%s: rl_addr inside a function", what);
    {
        struct phdr_probe p = {info.fname, 0, 0, 0};
        CHECK(rl_iterate_phdr(probe, &p) == 1 && p.found && p.loads >= 3 && p.eh_frame == 1,
              "%s: rl_iterate_phdr reports the unit's segments and unwind table", what);
    }
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    int i;
    for (i = 2; i < argc; i++) {
        int refused = argv[i][0] == '!';
        const char *variant = argv[i] + refused;
        char *path = strf("%s/obj_%s.o", dir, variant);
        size_t len;
        char *image = read_file_or_die(path, &len);
        rl_handle *h = rl_open(path, RL_NOW), *m;
        if (refused) {
            CHECK(h == NULL, "%s: refused", variant);
#ifdef __aarch64__
            /* No copy relocation: the page of the host's stdout is out of the unit's reach. */
            EXPECT_ERROR_SHOW(path, "R_AARCH64_ADR_PREL_PG_HI21 against stdout", "only a 32-bit PC-relative field");
#elif defined __riscv
            /* An absolute lui + load of the host's stdout: no dynamic relocation fills an
             * instruction. */
            EXPECT_ERROR_SHOW(path, "R_RISCV_HI20 against stdout", "cannot hold the address of a symbol outside the unit");
#else
            EXPECT_ERROR_SHOW(path, "cannot place the unit", "R_X86_64_PC32 against stdout", "R_X86_64_32");
#endif
            continue;
        }
        CHECK(h != NULL, "rl_open(%s)", path);
        check_unit(h, strf("%s (file)", variant));
        CHECK(rl_open(path, RL_NOW) == h, "%s: opened again, the same unit", variant);
        CHECK(rl_close(h) == 0, "close");
        m = rl_open_mem(image, len, strf("obj_%s.o", variant), RL_LAZY);
        memset(image, 0, len);
        free(image);
        CHECK(m != NULL && m != h, "rl_open_mem(%s)", path);
        check_unit(m, strf("%s (memory)", variant));
        {
            void *fn = rl_sym(m, "obj_bump");
            rl_addr_info info;
            CHECK(rl_close(m) == 0 && rl_close(h) == 0, "close both");
            CHECK(!rl_addr(fn, &info), "%s: unmapped after the last close", variant);
        }
    }
    CHECKS_DONE();
}
