/* libsqlite3.so.0 through rl_open and rl_open_mem; this program does not
 * link sqlite3 (or libm's users) itself. */
#include <sqlite3.h>

#include "check.h"

#define LIBSQLITE "/usr/lib/x86_64-linux-gnu/libsqlite3.so.0"

#define FN(name) __typeof__(&name) p_##name = SYM(h, __typeof__(&name), #name)

static void exercise(rl_handle *h, const char *how)
{
    FN(sqlite3_open);
    FN(sqlite3_exec);
    FN(sqlite3_prepare_v2);
    FN(sqlite3_step);
    FN(sqlite3_column_int);
    FN(sqlite3_column_text);
    FN(sqlite3_finalize);
    FN(sqlite3_close);
    FN(sqlite3_errmsg);
    FN(sqlite3_libversion_number);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char *err = NULL;
    const char *txt;
    int rc;

    CHECK(p_sqlite3_libversion_number() >= 3000000, "libversion %d", p_sqlite3_libversion_number());
    rc = p_sqlite3_open(":memory:", &db);
    CHECK(rc == SQLITE_OK, "sqlite3_open = %d (%s)", rc, how);
    rc = p_sqlite3_exec(db,
                        "CREATE TABLE t(a INTEGER, b TEXT);"
                        "INSERT INTO t VALUES (41, 'relink');"
                        "UPDATE t SET a = a + 1;"
                        "INSERT INTO t VALUES (7, 'x');",
                        NULL, NULL, &err);
    CHECK(rc == SQLITE_OK, "exec = %d: %s", rc, err ? err : "");
    rc = p_sqlite3_prepare_v2(db, "SELECT a, b, sqrt(a * a) FROM t WHERE b = 'relink'", -1, &st, NULL);
    if (rc != SQLITE_OK) /* sqrt() exists only with SQLITE_ENABLE_MATH_FUNCTIONS */
        rc = p_sqlite3_prepare_v2(db, "SELECT a, b, a FROM t WHERE b = 'relink'", -1, &st, NULL);
    CHECK(rc == SQLITE_OK, "prepare = %d: %s", rc, p_sqlite3_errmsg(db));
    CHECK(p_sqlite3_step(st) == SQLITE_ROW, "one row");
    CHECK(p_sqlite3_column_int(st, 0) == 42, "a = %d", p_sqlite3_column_int(st, 0));
    txt = (const char *)p_sqlite3_column_text(st, 1);
    CHECK(txt != NULL && strcmp(txt, "relink") == 0, "b = %s", txt ? txt : "(null)");
    CHECK(p_sqlite3_column_int(st, 2) == 42, "third column = %d", p_sqlite3_column_int(st, 2));
    CHECK(p_sqlite3_step(st) == SQLITE_DONE, "only one row");
    CHECK(p_sqlite3_finalize(st) == SQLITE_OK, "finalize");
    CHECK(p_sqlite3_close(db) == SQLITE_OK, "close db");
}

int main(void)
{
    rl_handle *h;
    size_t len;
    char *image;
    int libm_before = maps_mention("/libm.so.6");

    CHECK(!is_mapped(LIBSQLITE), "the host must not have libsqlite3 loaded");

    h = rl_open("libsqlite3.so.0", RL_NOW);
    CHECK(h != NULL, "rl_open(\"libsqlite3.so.0\")");
    CHECK(is_mapped(LIBSQLITE), "mapped");
    CHECK(maps_mention("/libm.so.6"), "its dependency libm is loaded");
    exercise(h, "from the file");
    CHECK(rl_close(h) == 0, "close");
    CHECK(!is_mapped(LIBSQLITE), "unmapped after close");
    CHECK(maps_mention("/libm.so.6") == libm_before, "libm mapped before: %d, after: %d", libm_before,
          maps_mention("/libm.so.6"));

    image = read_file_or_die(LIBSQLITE, &len);
    h = rl_open_mem(image, len, "libsqlite3.so.0", RL_LAZY);
    memset(image, 0xcc, len);
    free(image);
    CHECK(h != NULL, "rl_open_mem(libsqlite3 image, %zu bytes)", len);
    exercise(h, "from memory");
    CHECK(rl_close(h) == 0, "close");
    CHECK(maps_mention("/libm.so.6") == libm_before, "libm back to its initial state");

    CHECKS_DONE();
}
