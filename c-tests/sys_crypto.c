/* libcrypto.so.3 (DF_1_NODELETE) through rl_open and rl_open_mem. */
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "check.h"

#define LIBCRYPTO "/usr/lib/x86_64-linux-gnu/libcrypto.so.3"

static const char *hex(const unsigned char *d, size_t n)
{
    static char buf[2 * 64 + 1];
    size_t i;
    for (i = 0; i < n && i < 64; i++)
        sprintf(buf + 2 * i, "%02x", d[i]);
    return buf;
}

static void exercise(rl_handle *h, const char *how)
{
    __typeof__(&SHA256) p_sha256 = SYM(h, __typeof__(&SHA256), "SHA256");
    __typeof__(&OpenSSL_version_num) p_ver = SYM(h, __typeof__(&OpenSSL_version_num), "OpenSSL_version_num");
    unsigned char md[SHA256_DIGEST_LENGTH];
    const char *want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    CHECK(p_ver() >= 0x30000000UL, "OpenSSL_version_num = %#lx", p_ver());
    CHECK(p_sha256((const unsigned char *)"abc", 3, md) == md, "SHA256 returns md (%s)", how);
    CHECK(strcmp(hex(md, sizeof md), want) == 0, "SHA256(\"abc\") = %s (%s)", hex(md, sizeof md), how);
}

int main(void)
{
    rl_handle *h;
    size_t len;
    char *image;

    CHECK(!is_mapped(LIBCRYPTO), "the host must not have libcrypto loaded");

    h = rl_open("libcrypto.so.3", RL_NOW);
    CHECK(h != NULL, "rl_open(\"libcrypto.so.3\")");
    CHECK(is_mapped(LIBCRYPTO), "mapped");
    exercise(h, "from the file");
    CHECK(rl_close(h) == 0, "close");
    CHECK(is_mapped(LIBCRYPTO), "libcrypto has DF_1_NODELETE: still mapped after close");

    image = read_file_or_die(LIBCRYPTO, &len);
    h = rl_open_mem(image, len, "libcrypto.so.3", RL_NOW);
    memset(image, 0xcc, len);
    free(image);
    CHECK(h != NULL, "rl_open_mem(libcrypto image, %zu bytes)", len);
    exercise(h, "from memory");
    CHECK(rl_close(h) == 0, "close");

    CHECKS_DONE();
}
