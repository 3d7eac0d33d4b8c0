/* One workload in a fresh process, for bench/hot-symbols.sh, which records the functions of
 * librelink.so it runs:
 *
 *   hot now|lazy LIB [NAME...]   open LIB, look NAMEs up, close it, then open and close it again
 *   hot link ARCHIVE CACHE_DIR   rl_link every member of ARCHIVE with the unit cache in CACHE_DIR
 */
#include <stdio.h>
#include <string.h>

#include "relink.h"

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "link") == 0) {
        rl_input in = {argv[2], NULL, 0, NULL, RL_INPUT_WHOLE_ARCHIVE};
        rl_open_opts opts = {.size = sizeof opts, .cache_dir = argv[3]};
        rl_handle *h = rl_link(&in, 1, RL_NOW, &opts);
        if (h == NULL) {
            fprintf(stderr, "hot: %s\n", rl_error());
            return 1;
        }
        return rl_close(h) != 0;
    }
    if (argc < 3 || (strcmp(argv[1], "now") != 0 && strcmp(argv[1], "lazy") != 0)) {
        fprintf(stderr, "usage: hot now|lazy LIB [NAME...] | hot link ARCHIVE CACHE_DIR\n");
        return 2;
    }
    int flags = strcmp(argv[1], "lazy") == 0 ? RL_LAZY : RL_NOW;
    for (int round = 0; round < 2; round++) {
        rl_handle *h = rl_open(argv[2], flags);
        if (h == NULL) {
            fprintf(stderr, "hot: %s\n", rl_error());
            return 1;
        }
        for (int i = 3; i < argc; i++)
            (void)rl_sym(h, argv[i]);
        if (rl_close(h) != 0)
            return 1;
    }
    return 0;
}
