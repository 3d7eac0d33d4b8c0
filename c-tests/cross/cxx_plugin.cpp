// libcross_cxx.so: C++ code (libstdc++, loaded as its dependency) whose exceptions cross into
// the program, and the program's exceptions cross its frames.
#include <stdexcept>
#include <string>
#include <vector>

extern "C" [[gnu::noinline]] int plugin_throw(int n)
{
    std::vector<std::string> held(3, "held across the throw");
    if (n > 0)
        throw std::runtime_error("thrown in the plugin: " + std::to_string(n));
    return static_cast<int>(held.size());
}

extern "C" [[gnu::noinline]] int plugin_call(int (*cb)(int), int n)
{
    std::string guard = "unwound";
    return cb(n) + static_cast<int>(guard.size());
}

extern "C" int plugin_catch(int n)
{
    try {
        plugin_throw(n);
    } catch (const std::exception &e) {
        return static_cast<int>(std::string(e.what()).size());
    }
    return -1;
}
