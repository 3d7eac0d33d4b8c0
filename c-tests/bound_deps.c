/* An object keeps what it bound to loaded when that is outside its own dependencies, eager and
 * lazy bindings alike, as with glibc (its l_reldeps): libuaf_parent.so needs libuaf_child.so,
 * which binds to libuaf_parent.so's definitions without needing it. Opened on its own too, the
 * child outlives the parent's handle, and must still reach the parent's code and data (it used
 * to crash there, the parent unmapped under it). Once the child's handle is closed, both go.
 * Siblings binding lazily to each other (a reference cycle) are unloaded when nothing holds
 * them; one held keeps the other, not their parent.
 * argv[1]: fixture dir holding libuaf_parent.so (needs libuaf_child.so, whose references are
 * bound at load), libuaf_lparent.so (needs libuaf_lchild.so, whose only reference is a call,
 * bound lazily), libuaf_siblings.so (needs libuaf_sib_a.so and libuaf_sib_b.so). */
#include "check.h"

static char *dir;

static char *lib(const char *name)
{
    return strf("%s/%s", dir, name);
}

static void child_outlives_parent(const char *parent, const char *child, int flags, int reads_data)
{
    char *pp = lib(parent), *cp = lib(child);
    rl_handle *hp, *hc;
    int (*calls)(void), (*reads)(void) = NULL;

    hp = rl_open(pp, flags);
    CHECK(hp != NULL, "rl_open(%s)", parent);
    hc = rl_open(cp, flags);
    CHECK(hc != NULL, "rl_open(%s)", child);
    calls = SYM(hc, int (*)(void), "child_calls_parent");
    if (reads_data)
        reads = SYM(hc, int (*)(void), "child_reads_parent");
    CHECK(calls() == 42, "%s calls into %s", child, parent);
    CHECK(rl_close(hp) == 0, "close %s", parent);
    CHECK(is_mapped(pp), "%s stays loaded while %s, bound to it, is open", parent, child);
    CHECK(calls() == 42, "%s still calls into %s after its handle was closed", child, parent);
    CHECK(!reads || reads() == 100, "%s still reads %s's data", child, parent);
    CHECK(rl_close(hc) == 0, "close %s", child);
    CHECK(!is_mapped(cp) && !is_mapped(pp), "%s and %s unloaded with the last handle", child, parent);
    free(pp);
    free(cp);
}

static void siblings(void)
{
    char *root = lib("libuaf_siblings.so"), *a = lib("libuaf_sib_a.so"), *b = lib("libuaf_sib_b.so");
    rl_handle *h, *ha, *hb;

    /* Each binds lazily to the other, then nothing holds them. */
    h = rl_open(root, RL_LAZY);
    CHECK(h != NULL, "rl_open(libuaf_siblings.so)");
    CHECK(SYM(h, int (*)(void), "sib_a_calls_other")() == 'b', "a calls b");
    CHECK(SYM(h, int (*)(void), "sib_b_calls_other")() == 'a', "b calls a");
    CHECK(rl_close(h) == 0, "close");
    CHECK(!is_mapped(root) && !is_mapped(a) && !is_mapped(b), "siblings bound to each other are unloaded");

    /* One held on its own keeps the one it bound to, not their parent. */
    h = rl_open(root, RL_LAZY);
    CHECK(h != NULL, "rl_open(libuaf_siblings.so) again");
    ha = rl_open(a, RL_LAZY);
    CHECK(ha != NULL, "rl_open(libuaf_sib_a.so)");
    CHECK(SYM(h, int (*)(void), "sib_a_calls_other")() == 'b', "a calls b");
    CHECK(rl_close(h) == 0, "close libuaf_siblings.so");
    CHECK(!is_mapped(root), "the parent goes");
    CHECK(is_mapped(b), "b stays: a is bound to it");
    CHECK(SYM(ha, int (*)(void), "sib_a_calls_other")() == 'b', "a still calls b");
    CHECK(rl_close(ha) == 0, "close libuaf_sib_a.so");
    CHECK(!is_mapped(a) && !is_mapped(b), "both unloaded with the last handle");

    /* The first call after the parent is gone: a's lazy binding searches the parent's scope
     * without the parent (unloaded), finds b (held by its own handle) and keeps it. */
    h = rl_open(root, RL_LAZY);
    CHECK(h != NULL, "rl_open(libuaf_siblings.so) a third time");
    ha = rl_open(a, RL_LAZY);
    hb = rl_open(b, RL_LAZY);
    CHECK(ha != NULL && hb != NULL, "rl_open of each sibling");
    CHECK(rl_close(h) == 0, "close libuaf_siblings.so");
    CHECK(!is_mapped(root), "the parent goes");
    CHECK(SYM(ha, int (*)(void), "sib_a_calls_other")() == 'b', "a calls b for the first time");
    CHECK(rl_close(hb) == 0, "close libuaf_sib_b.so");
    CHECK(is_mapped(b), "b stays: a is bound to it");
    CHECK(SYM(ha, int (*)(void), "sib_a_calls_other")() == 'b', "a still calls b");
    CHECK(rl_close(ha) == 0, "close libuaf_sib_a.so");
    CHECK(!is_mapped(a) && !is_mapped(b), "both unloaded with the last handle");
    free(root);
    free(a);
    free(b);
}

int main(int argc, char **argv)
{
    dir = (char *)fixture_dir(argc, argv);
    child_outlives_parent("libuaf_parent.so", "libuaf_child.so", RL_NOW, 1);
    child_outlives_parent("libuaf_parent.so", "libuaf_child.so", RL_LAZY, 1);
    child_outlives_parent("libuaf_lparent.so", "libuaf_lchild.so", RL_LAZY, 0);
    siblings();
    CHECKS_DONE();
}
