/* libssl.so.3 (NEEDED libcrypto.so.3) through rl_open and rl_open_mem. */
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "check.h"

#define LIBSSL "/usr/lib/x86_64-linux-gnu/libssl.so.3"
#define LIBCRYPTO "/usr/lib/x86_64-linux-gnu/libcrypto.so.3"

static void exercise(rl_handle *h, const char *how)
{
    __typeof__(&TLS_method) p_method = SYM(h, __typeof__(&TLS_method), "TLS_method");
    __typeof__(&SSL_CTX_new) p_new = SYM(h, __typeof__(&SSL_CTX_new), "SSL_CTX_new");
    __typeof__(&SSL_CTX_free) p_free = SYM(h, __typeof__(&SSL_CTX_free), "SSL_CTX_free");
    __typeof__(&SSL_new) p_ssl_new = SYM(h, __typeof__(&SSL_new), "SSL_new");
    __typeof__(&SSL_free) p_ssl_free = SYM(h, __typeof__(&SSL_free), "SSL_free");
    __typeof__(&OpenSSL_version_num) p_ver =
        SYM(h, __typeof__(&OpenSSL_version_num), "OpenSSL_version_num");
    const SSL_METHOD *m;
    SSL_CTX *ctx;
    SSL *ssl;

    CHECK(p_ver() >= 0x30000000UL, "libcrypto's OpenSSL_version_num through libssl's handle (%s)", how);
    m = p_method();
    CHECK(m != NULL, "TLS_method() (%s)", how);
    ctx = p_new(m);
    CHECK(ctx != NULL, "SSL_CTX_new(TLS_method()) (%s)", how);
    ssl = p_ssl_new(ctx);
    CHECK(ssl != NULL, "SSL_new (%s)", how);
    p_ssl_free(ssl);
    p_free(ctx);
}

int main(void)
{
    rl_handle *h;
    size_t len;
    char *image;

    CHECK(!is_mapped(LIBSSL) && !is_mapped(LIBCRYPTO), "the host must not have libssl/libcrypto loaded");

    h = rl_open("libssl.so.3", RL_NOW);
    CHECK(h != NULL, "rl_open(\"libssl.so.3\")");
    CHECK(is_mapped(LIBSSL) && is_mapped(LIBCRYPTO), "libssl and its dependency libcrypto mapped");
    exercise(h, "from the file");
    CHECK(rl_close(h) == 0, "close");

    image = read_file_or_die(LIBSSL, &len);
    h = rl_open_mem(image, len, "libssl.so.3", RL_NOW);
    memset(image, 0xcc, len);
    free(image);
    CHECK(h != NULL, "rl_open_mem(libssl image, %zu bytes)", len);
    exercise(h, "from memory");
    CHECK(rl_close(h) == 0, "close");

    CHECKS_DONE();
}
