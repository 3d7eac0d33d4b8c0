// include/relink.h used from C++11 (-Wall -Wextra -Werror -pedantic): it
// must be self-contained (included first), and its extern "C" guards must
// give the functions C linkage, or this program does not link against
// librelink.so.
#include "relink.h"

#include <cstdio>
#include <cstring>
#include <type_traits>

static_assert(std::is_same<decltype(&rl_open), rl_handle *(*)(const char *, int)>::value, "rl_open");
static_assert(std::is_same<decltype(&rl_open_mem), rl_handle *(*)(const void *, std::size_t, const char *, int)>::value,
              "rl_open_mem");
static_assert(std::is_same<decltype(&rl_sym), void *(*)(rl_handle *, const char *)>::value, "rl_sym");
static_assert(std::is_same<decltype(&rl_vsym), void *(*)(rl_handle *, const char *, const char *)>::value, "rl_vsym");
static_assert(std::is_same<decltype(&rl_close), int (*)(rl_handle *)>::value, "rl_close");
static_assert(std::is_same<decltype(&rl_error), const char *(*)()>::value, "rl_error");
static_assert(RL_LAZY == 0x1 && RL_NOW == 0x2 && RL_NOLOAD == 0x4 && RL_DEEPBIND == 0x8 && RL_GLOBAL == 0x100 &&
                  RL_LOCAL == 0 && RL_NODELETE == 0x1000,
              "flag values");

static int checks;

#define EXPECT(cond)                                                                 \
    do {                                                                             \
        if (!(cond)) {                                                               \
            std::fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #cond);   \
            return 1;                                                                \
        }                                                                            \
        checks++;                                                                    \
    } while (0)

int main()
{
    rl_handle *self = rl_open(nullptr, RL_NOW | RL_GLOBAL);
    EXPECT(self != nullptr);
    EXPECT(rl_error() == nullptr);

    using puts_fn = int (*)(const char *);
    puts_fn p = reinterpret_cast<puts_fn>(rl_sym(self, "puts"));
    EXPECT(p != nullptr);
    EXPECT(p == static_cast<puts_fn>(&std::puts));
    EXPECT(rl_vsym(self, "puts", "GLIBC_2.2.5") == reinterpret_cast<void *>(p));

    EXPECT(rl_sym(self, "no_such_symbol_header_cxx") == nullptr);
    const char *err = rl_error();
    EXPECT(err != nullptr && std::strstr(err, "no_such_symbol_header_cxx") != nullptr);
    EXPECT(rl_error() == nullptr);

    static const char junk[] = "not an ELF image";
    EXPECT(rl_open_mem(junk, sizeof junk, "header-cxx-mem.so", RL_NOW) == nullptr);
    err = rl_error();
    EXPECT(err != nullptr && std::strstr(err, "header-cxx-mem.so") != nullptr);

    EXPECT(rl_open("/nonexistent/libheader_cxx.so", RL_LAZY | RL_NOLOAD) == nullptr);
    EXPECT(rl_error() != nullptr);
    EXPECT(rl_close(self) == 0);

    std::printf("%d checks passed\n", checks);
    return 0;
}
