/* libicuuc.so.72 (C++ inside, libstdc++ and the libicudata.so.72 data
 * library as dependencies) through relink, from a C program linked against
 * neither: UTF-8 <-> UTF-16 round trips, case mapping, converters (ISO-8859-1
 * is algorithmic, windows-1252 comes from the data library) and a character
 * name lookup (also data). ICU's C functions carry a version suffix: the
 * _72 names are looked up. */
#include <unicode/uchar.h>
#include <unicode/ucnv.h>
#include <unicode/ustring.h>

#include "check.h"

#define LOAD(var, name) __typeof__(&name) var = SYM(h, __typeof__(&name), #name "_72")

static const char text[] = "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xf0\x9f\x98\x80"; /* héllo wörld ✓ 😀 */

int main(void)
{
    rl_handle *h;
    UChar u16[64], upper[64];
    char back[128];
    int32_t n, n8, i;
    UErrorCode err = U_ZERO_ERROR;
    static const UChar want[] = {0x68, 0xe9, 0x6c, 0x6c, 0x6f, 0x20, 0x77, 0xf6, 0x72,
                                 0x6c, 0x64, 0x20, 0x2713, 0x20, 0xd83d, 0xde00};
    const int32_t nwant = (int32_t)(sizeof want / sizeof want[0]);

    CHECK(!maps_mention("libicuuc") && !maps_mention("/libstdc++.so.6"), "the host has neither ICU nor libstdc++");
    h = rl_open("libicuuc.so.72", RL_NOW);
    CHECK(h != NULL, "rl_open(libicuuc.so.72)");
    CHECK(maps_mention("/libicudata.so.72") && maps_mention("/libstdc++.so.6"), "dependencies loaded by relink");
    {
        LOAD(from_utf8, u_strFromUTF8);
        LOAD(to_utf8, u_strToUTF8);
        LOAD(to_upper, u_strToUpper);
        LOAD(error_name, u_errorName);
        LOAD(cnv_open, ucnv_open);
        LOAD(cnv_close, ucnv_close);
        LOAD(cnv_from, ucnv_fromUChars);
        LOAD(cnv_to, ucnv_toUChars);
        LOAD(cnv_name, ucnv_getName);
        LOAD(char_name, u_charName);
        UConverter *cnv;
        char latin1[64], name[64];

        /* UTF-8 -> UTF-16 */
        from_utf8(u16, 64, &n, text, -1, &err);
        CHECK(U_SUCCESS(err), "u_strFromUTF8: %s", error_name(err));
        CHECK(n == nwant, "u_strFromUTF8 gave %d UTF-16 units, want %d", n, nwant);
        for (i = 0; i < nwant; i++)
            CHECK(u16[i] == want[i], "unit %d: %#x, want %#x", i, u16[i], want[i]);

        /* and back */
        to_utf8(back, sizeof back, &n8, u16, n, &err);
        CHECK(U_SUCCESS(err), "u_strToUTF8: %s", error_name(err));
        CHECK(n8 == (int32_t)strlen(text) && strcmp(back, text) == 0, "round trip: \"%s\" (%d bytes)", back, n8);

        /* preflighting: the required size with a NULL buffer */
        err = U_ZERO_ERROR;
        to_utf8(NULL, 0, &n8, u16, n, &err);
        CHECK(err == U_BUFFER_OVERFLOW_ERROR && n8 == (int32_t)strlen(text), "preflight: %s, %d", error_name(err), n8);

        /* case mapping */
        err = U_ZERO_ERROR;
        n = to_upper(upper, 64, u16, 11, "", &err);
        CHECK(U_SUCCESS(err) && n == 11, "u_strToUpper: %s, %d", error_name(err), n);
        CHECK(upper[0] == 'H' && upper[1] == 0xc9 && upper[7] == 0xd6, "HÉLLO WÖRLD: %#x %#x %#x", upper[0], upper[1],
              upper[7]);

        /* converters */
        err = U_ZERO_ERROR;
        cnv = cnv_open("ISO-8859-1", &err);
        CHECK(U_SUCCESS(err) && cnv != NULL, "ucnv_open(ISO-8859-1): %s", error_name(err));
        n = cnv_from(cnv, latin1, sizeof latin1, u16, 11, &err);
        CHECK(U_SUCCESS(err) && n == 11 && memcmp(latin1, "h\xe9llo w\xf6rld", 11) == 0, "to Latin-1: %s, %d",
              error_name(err), n);
        n = cnv_to(cnv, upper, 64, latin1, 11, &err);
        CHECK(U_SUCCESS(err) && n == 11 && memcmp(upper, u16, 11 * sizeof(UChar)) == 0, "from Latin-1: %s, %d",
              error_name(err), n);
        cnv_close(cnv);

        err = U_ZERO_ERROR;
        cnv = cnv_open("windows-1252", &err);
        CHECK(U_SUCCESS(err) && cnv != NULL, "ucnv_open(windows-1252), from libicudata: %s", error_name(err));
        CHECK(strstr(cnv_name(cnv, &err), "5348") != NULL || strstr(cnv_name(cnv, &err), "1252") != NULL,
              "converter name %s", cnv_name(cnv, &err));
        {
            static const UChar euro[] = {0x20ac, 0x201c, 0x41, 0x201d};
            n = cnv_from(cnv, latin1, sizeof latin1, euro, 4, &err);
            CHECK(U_SUCCESS(err) && n == 4 && memcmp(latin1, "\x80\x93\x41\x94", 4) == 0,
                  "windows-1252: %s, %d bytes", error_name(err), n);
        }
        cnv_close(cnv);

        err = U_ZERO_ERROR;
        n = char_name(0x2713, U_UNICODE_CHAR_NAME, name, sizeof name, &err);
        CHECK(U_SUCCESS(err) && strcmp(name, "CHECK MARK") == 0, "u_charName(U+2713): %s \"%s\"", error_name(err), name);
        printf("%s: %d UTF-16 units, U+2713 is %s\n", text, nwant, name);
    }
    CHECK(rl_close(h) == 0, "rl_close");
    CHECKS_DONE();
}
