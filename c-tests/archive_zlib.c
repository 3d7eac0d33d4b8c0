/* The system's libz.a: through rl_open (every member) and rl_open_mem, and
 * with an object through rl_link (only the members it needs; all of them
 * with RL_INPUT_WHOLE_ARCHIVE). argv[1]: fixture dir; argv[2]: libz.a. */
#include "check.h"

typedef int (*compress2_fn)(unsigned char *, unsigned long *, const unsigned char *, unsigned long, int);
typedef int (*uncompress_fn)(unsigned char *, unsigned long *, const unsigned char *, unsigned long);

static void roundtrip(rl_handle *h, const char *what)
{
    compress2_fn c = SYM(h, compress2_fn, "compress2");
    uncompress_fn u = SYM(h, uncompress_fn, "uncompress");
    const char *(*version)(void) = SYM(h, const char *(*)(void), "zlibVersion");
    static const char text[] = "relink relink relink relink relink relink relink";
    unsigned char packed[256], unpacked[256];
    unsigned long plen = sizeof packed, ulen = sizeof unpacked;
    CHECK(c(packed, &plen, (const unsigned char *)text, sizeof text, 9) == 0 && plen < sizeof text, "%s: compress2", what);
    CHECK(u(unpacked, &ulen, packed, plen) == 0 && ulen == sizeof text && memcmp(unpacked, text, ulen) == 0, "%s: uncompress", what);
    CHECK(version()[0] == '1', "%s: zlibVersion %s", what, version());
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv), *libz = argv[2];
    rl_input in[2] = {{strf("%s/arc_zlib_user.o", dir), NULL, 0, NULL, 0}, {libz, NULL, 0, NULL, 0}};
    rl_handle *h, *m;
    int (*user)(void);
    size_t len;
    char *image;

    h = rl_open(libz, RL_NOW);
    CHECK(h != NULL, "rl_open(%s)", libz);
    roundtrip(h, "rl_open");
    CHECK(rl_sym(h, "gzopen") != NULL, "rl_open links every member (gzopen)");
    image = read_file_or_die(libz, &len);
    m = rl_open_mem(image, len, "libz.a (memory)", RL_NOW);
    free(image);
    CHECK(m != NULL && m != h, "rl_open_mem");
    roundtrip(m, "rl_open_mem");
    CHECK(rl_close(m) == 0 && rl_close(h) == 0, "close");

    h = rl_link(in, 2, RL_NOW, NULL);
    CHECK(h != NULL, "rl_link(object, libz.a)");
    user = SYM(h, int (*)(void), "zuser_roundtrip");
    CHECK(user() > 0, "round trip through the object (%d)", user());
    CHECK(rl_sym(h, "gzopen") == NULL, "a member nothing needs (gzlib.o) is not linked");
    EXPECT_ERROR("gzopen");
    CHECK(rl_sym(h, "deflate") != NULL, "a member the object needs is linked");
    CHECK(rl_close(h) == 0, "close");

    in[1].flags = RL_INPUT_WHOLE_ARCHIVE;
    h = rl_link(in, 2, RL_NOW, NULL);
    CHECK(h != NULL && rl_sym(h, "gzopen") != NULL, "RL_INPUT_WHOLE_ARCHIVE links every member");
    user = SYM(h, int (*)(void), "zuser_roundtrip");
    CHECK(user() > 0, "round trip (whole archive)");
    CHECK(rl_close(h) == 0, "close");
    CHECKS_DONE();
}
