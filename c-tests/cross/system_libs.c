/* System libraries of the target machine through rl_open, by soname (library search with
 * the machine's multiarch directories and ld.so.cache entries): libm always, and with the
 * arguments "zlib" and "sqlite" the real zlib and SQLite. The program links none of them. */
#include "check.h"

typedef unsigned long ulong_t;

static void libm(void)
{
    rl_handle *h = rl_open("libm.so.6", RL_NOW);
    CHECK(h != NULL, "rl_open(libm.so.6)");
    double (*p_cos)(double) = SYM(h, double (*)(double), "cos");
    double (*p_pow)(double, double) = SYM(h, double (*)(double, double), "pow");
    double (*p_ldexp)(double, int) = SYM(h, double (*)(double, int), "ldexp");
    float (*p_sqrtf)(float) = SYM(h, float (*)(float), "sqrtf");
    CHECK(p_cos(0.0) == 1.0, "cos(0) = %g", p_cos(0.0));
    CHECK(p_pow(2.0, 10.0) == 1024.0, "pow(2, 10) = %g", p_pow(2.0, 10.0));
    CHECK(p_ldexp(3.0, 4) == 48.0, "ldexp(3, 4) = %g", p_ldexp(3.0, 4));
    CHECK(p_sqrtf(2.25f) == 1.5f, "sqrtf(2.25) = %g", (double)p_sqrtf(2.25f));
    CHECK(rl_close(h) == 0, "rl_close(libm)");
}

#include <link.h>

static int find_libz(struct dl_phdr_info *info, size_t size, void *path)
{
    (void)size;
    if (info->dlpi_name == NULL || strcmp(info->dlpi_name, (const char *)path) != 0)
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_LOAD && (info->dlpi_phdr[i].p_flags & PF_X))
            return 1;
    return 2;
}

static void zlib(void)
{
    rl_handle *h = rl_open("libz.so.1", RL_LAZY);
    CHECK(h != NULL, "rl_open(libz.so.1)");
    const char *(*version)(void) = SYM(h, const char *(*)(void), "zlibVersion");
    int (*compress)(unsigned char *, ulong_t *, const unsigned char *, ulong_t) =
        SYM(h, int (*)(unsigned char *, ulong_t *, const unsigned char *, ulong_t), "compress");
    int (*uncompress)(unsigned char *, ulong_t *, const unsigned char *, ulong_t) =
        SYM(h, int (*)(unsigned char *, ulong_t *, const unsigned char *, ulong_t), "uncompress");
    char text[4096];
    unsigned char packed[8192], unpacked[8192];
    ulong_t packed_len = sizeof packed, unpacked_len = sizeof unpacked;
    size_t len = 0;
    while (len + 64 < sizeof text)
        len += (size_t)snprintf(text + len, sizeof text - len, "relink loads zlib, line %zu. ", len);
    CHECK(version()[0] == '1', "zlibVersion() = %s", version());
    CHECK(compress(packed, &packed_len, (const unsigned char *)text, len) == 0, "compress");
    CHECK(packed_len < len / 2, "repetitive text compresses: %lu of %zu", packed_len, len);
    CHECK(uncompress(unpacked, &unpacked_len, packed, packed_len) == 0, "uncompress");
    CHECK(unpacked_len == len && memcmp(unpacked, text, len) == 0, "round trip");
    const char *path = NULL;
    CHECK(rl_info(h, &path, NULL, NULL) == 0, "rl_info");
    CHECK(strstr(path, "/" MULTIARCH "/") != NULL, "libz from the %s directory: %s", MULTIARCH, path);
    rl_addr_info where;
    CHECK(rl_addr((const void *)compress, &where) != 0 && strcmp(where.fname, path) == 0, "rl_addr(compress)");
    CHECK(where.sname != NULL && strcmp(where.sname, "compress") == 0, "rl_addr names compress: %s",
          where.sname ? where.sname : "(null)");
    CHECK(rl_iterate_phdr(find_libz, (void *)path) == 1, "rl_iterate_phdr lists libz");
    CHECK(rl_close(h) == 0, "rl_close(libz)");
}

typedef struct sqlite3 sqlite3;

static int rows;
static long total;

static int on_row(void *arg, int n, char **values, char **names)
{
    (void)arg;
    (void)names;
    CHECK(n == 2, "two columns");
    rows++;
    total += strtol(values[1], NULL, 10);
    return 0;
}

static void sqlite(void)
{
    rl_handle *h = rl_open("libsqlite3.so.0", RL_LAZY);
    CHECK(h != NULL, "rl_open(libsqlite3.so.0)");
    int (*open)(const char *, sqlite3 **) = SYM(h, int (*)(const char *, sqlite3 **), "sqlite3_open");
    int (*exec)(sqlite3 *, const char *, int (*)(void *, int, char **, char **), void *, char **) =
        SYM(h, int (*)(sqlite3 *, const char *, int (*)(void *, int, char **, char **), void *, char **), "sqlite3_exec");
    int (*close)(sqlite3 *) = SYM(h, int (*)(sqlite3 *), "sqlite3_close");
    const char *(*libversion)(void) = SYM(h, const char *(*)(void), "sqlite3_libversion");
    sqlite3 *db = NULL;
    char *err = NULL;
    CHECK(libversion()[0] == '3', "sqlite3_libversion() = %s", libversion());
    CHECK(open(":memory:", &db) == 0, "sqlite3_open");
    CHECK(exec(db,
               "CREATE TABLE t(name TEXT, n INTEGER);"
               "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 100)"
               "  INSERT INTO t SELECT printf('row %d', i), i * i FROM c;",
               NULL, NULL, &err) == 0,
          "create and fill: %s", err ? err : "");
    CHECK(exec(db, "SELECT name, n FROM t WHERE n % 2 = 0 ORDER BY n;", on_row, NULL, &err) == 0, "select: %s",
          err ? err : "");
    CHECK(rows == 50 && total == 171700, "50 even squares summing to 171700: %d rows, %ld", rows, total);
    CHECK(close(db) == 0, "sqlite3_close");
    CHECK(rl_close(h) == 0, "rl_close(libsqlite3)");
}

int main(int argc, char **argv)
{
    libm();
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "zlib") == 0)
            zlib();
        else if (strcmp(argv[i], "sqlite") == 0)
            sqlite();
        else
            CHECK(0, "unknown part %s", argv[i]);
    }
    CHECKS_DONE();
}
