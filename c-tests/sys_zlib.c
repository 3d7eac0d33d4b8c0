/* libz.so.1 through rl_open (by soname) and through rl_open_mem; this
 * program does not link zlib itself. */
#include <zlib.h>

#include "check.h"

#define LIBZ "/usr/lib/x86_64-linux-gnu/libz.so.1"

static void exercise(rl_handle *h, const char *how)
{
    __typeof__(&compress) p_compress = SYM(h, __typeof__(&compress), "compress");
    __typeof__(&uncompress) p_uncompress = SYM(h, __typeof__(&uncompress), "uncompress");
    __typeof__(&compressBound) p_bound = SYM(h, __typeof__(&compressBound), "compressBound");
    __typeof__(&zlibVersion) p_version = SYM(h, __typeof__(&zlibVersion), "zlibVersion");
    char text[4096];
    unsigned char packed[8192], unpacked[8192];
    uLongf packed_len = sizeof packed, unpacked_len = sizeof unpacked;
    size_t len = 0;
    int rc;

    while (len + 64 < sizeof text)
        len += (size_t)snprintf(text + len, sizeof text - len, "relink loads zlib %s, line %zu. ", how, len);

    CHECK(p_version()[0] == '1', "zlibVersion() = %s", p_version());
    CHECK(p_bound(len) >= len, "compressBound");
    rc = p_compress(packed, &packed_len, (const Bytef *)text, len);
    CHECK(rc == Z_OK, "compress() = %d (%s)", rc, how);
    CHECK(packed_len < len / 2, "repetitive text compresses: %lu of %zu", (unsigned long)packed_len, len);
    rc = p_uncompress(unpacked, &unpacked_len, packed, packed_len);
    CHECK(rc == Z_OK, "uncompress() = %d (%s)", rc, how);
    CHECK(unpacked_len == len && memcmp(unpacked, text, len) == 0, "round trip (%s)", how);
}

int main(void)
{
    rl_handle *h;
    size_t len;
    char *image;

    CHECK(!is_mapped(LIBZ), "the host must not have libz loaded");

    h = rl_open("libz.so.1", RL_LAZY);
    CHECK(h != NULL, "rl_open(\"libz.so.1\")");
    CHECK(is_mapped(LIBZ), "%s mapped", LIBZ);
    exercise(h, "from the file");
    CHECK(rl_close(h) == 0, "close");
    CHECK(!is_mapped(LIBZ), "unmapped after close");

    image = read_file_or_die(LIBZ, &len);
    h = rl_open_mem(image, len, "libz.so.1", RL_NOW);
    memset(image, 0xcc, len);
    free(image);
    CHECK(h != NULL, "rl_open_mem(libz image, %zu bytes)", len);
    exercise(h, "from memory");
    CHECK(rl_close(h) == 0, "close");

    CHECKS_DONE();
}
