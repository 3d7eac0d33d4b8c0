/* An object and the system's libcrypto.a through rl_link: SHA-256 of "abc",
 * and the archive members linked are those ld links. argv[1]: fixture dir;
 * argv[2]: libcrypto.a; argv[3]: a file of "+symbol" (defined by a member ld
 * links: must be found) and "-symbol" (only in members ld leaves out: must
 * not be) lines. */
#include "check.h"

#define ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    rl_input in[2] = {{strf("%s/arc_crypto_user.o", dir), NULL, 0, NULL, 0}, {argv[2], NULL, 0, NULL, 0}};
    rl_handle *h = rl_link(in, 2, RL_NOW, NULL);
    char out[2 * 64 + 1] = "";
    size_t len;
    char *list = read_file_or_die(argv[3], &len), *line;
    int present = 0, absent = 0;

    CHECK(h != NULL, "rl_link(object, libcrypto.a)");
    CHECK(SYM(h, int (*)(char *), "sha_hex")(out) == 0 && strcmp(out, ABC) == 0, "SHA256(\"abc\") = %s", out);
    out[0] = 0;
    CHECK(SYM(h, int (*)(char *), "evp_hex")(out) == 0 && strcmp(out, ABC) == 0, "EVP sha256(\"abc\") = %s", out);
    for (line = strtok(list, "\n"); line; line = strtok(NULL, "\n")) {
        void *p = rl_sym(h, line + 1);
        if (line[0] == '+') {
            CHECK(p != NULL, "%s: its member is linked, as ld links it", line + 1);
            present++;
        } else {
            CHECK(p == NULL, "%s: its member is not linked, as ld does not link it", line + 1);
            rl_error();
            absent++;
        }
    }
    CHECK(present > 10 && absent > 10, "%d members checked linked, %d not", present, absent);
    CHECK(rl_close(h) == 0, "close");
    CHECKS_DONE();
}
