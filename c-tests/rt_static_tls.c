/* Initial-exec (static) TLS in relink-loaded code is refused with a message
 * about static TLS: a library with its own initial-exec variables, and one
 * whose initial-exec code reaches the TLS of another relink-loaded library.
 * Nothing is left mapped. argv[1]: fixture dir. */
#include "check.h"

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *own = strf("%s/librt_tls_ie_own.so", dir), *other = strf("%s/librt_tls_ie_other.so", dir);

    CHECK(rl_open(own, RL_NOW) == NULL, "a library with its own initial-exec TLS is refused");
    EXPECT_ERROR_SHOW("static TLS", "librt_tls_ie_own.so");
    CHECK(!is_mapped(own), "nothing left mapped");

    CHECK(rl_open(other, RL_NOW) == NULL, "initial-exec access to the TLS of another relink-loaded library is refused");
    EXPECT_ERROR_SHOW("static TLS", "librt_tls_ie_other.so", "rt_probe");
    CHECK(!is_mapped(other) && !maps_mention("/librt_tls_gd.so"), "nothing left mapped");
    CHECKS_DONE();
}
