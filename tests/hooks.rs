//! C-level tests of symbol interception: lookup hooks (rl_hook_add / rl_hook_remove and the
//! per-open hooks of rl_open_ex), rl_define / rl_undefine, relocation callbacks, load/unload
//! events and rl_open_opts (search, size). Each test builds its fixtures from
//! c-tests/fixtures/hk_* and one program from c-tests/hk_*, and runs it.

mod common;

use common::*;
use std::path::Path;



/// Whether `readelf -rW` output has a relocation of type `ty` against `sym` (optionally
/// `sym@version`).
fn has_reloc(relocs: &str, ty: &str, sym: &str) -> bool {
    relocs.lines().any(|l| {
        let mut w = l.split_whitespace();
        w.nth(2).is_some_and(|t| t == ty) && l.split_whitespace().any(|x| x == sym)
    })
}

/// The number of relocations of type `ty` against `sym`.
fn count_relocs(relocs: &str, ty: &str, sym: &str) -> usize {
    relocs
        .lines()
        .filter(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w.len() > 4 && w[2] == ty && w.contains(&sym)
        })
        .count()
}

/// Asserts the library reaches `syms` through lazily bindable PLT slots (and is not linked
/// with -z now).
fn assert_plt_calls(lib: &Path, syms: &[&str]) {
    let r = readelf(&["-rW"], lib);
    for s in syms {
        assert_fixture(
            has_reloc(&r, "R_X86_64_JUMP_SLOT", s),
            &format!("{} calls {s} through a PLT slot", lib.display()),
            &r,
        );
    }
    let d = readelf(&["-d"], lib);
    assert_fixture(
        !d.contains("BIND_NOW") && !d.contains("Flags: NOW"),
        &format!("{} is not linked -z now", lib.display()),
        &d,
    );
}

#[test]
fn plugin_allocator_redirected_to_host_counters() {
    let s = Scratch::new("hk_alloc");
    let lib = s.lib("libhk_alloc.so", &["hk_alloc.c"], &[]);
    s.lib("libhk_alloc2.so", &["hk_alloc.c"], &[]);
    assert_plt_calls(
        &lib,
        &[
            "malloc@GLIBC_2.2.5",
            "calloc@GLIBC_2.2.5",
            "realloc@GLIBC_2.2.5",
            "free@GLIBC_2.2.5",
        ],
    );
    let prog = s.program("hk_alloc.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn time_faked_for_one_plugin_copy_only() {
    let s = Scratch::new("hk_time");
    let a = s.lib("libhk_clock_a.so", &["hk_clock.c"], &[]);
    s.lib("libhk_clock_b.so", &["hk_clock.c"], &[]);
    assert_plt_calls(&a, &["time@GLIBC_2.2.5"]);
    let prog = s.program("hk_time.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn after_hooks_and_rl_define_provide_missing_symbols() {
    let s = Scratch::new("hk_provide");
    let lib = s.lib("libhk_provide.so", &["hk_provide.c"], &[]);
    let syms = readelf(&["--dyn-syms", "-W"], &lib);
    for name in ["hk_provided", "hk_provided_var", "hk_host_fn"] {
        assert_fixture(
            syms.lines()
                .any(|l| l.contains(" UND ") && l.split_whitespace().last() == Some(name)),
            &format!("libhk_provide.so leaves {name} undefined, unversioned"),
            &syms,
        );
    }
    assert_plt_calls(&lib, &["hk_provided"]);
    let prog = s.program("hk_provide.c", &[]);
    let d = readelf(&["--dyn-syms", "-W"], &prog);
    assert_fixture(
        d.lines()
            .any(|l| l.contains(" FUNC ") && !l.contains(" UND ") && l.ends_with(" hk_host_fn")),
        "the test program exports hk_host_fn",
        &d,
    );
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn relocation_callback_observes_redirects_and_vetoes() {
    let s = Scratch::new("hk_reloc");
    s.lib("libhk_rdep.so", &["hk_rdep.c"], &[]);
    let lib = s.lib(
        "libhk_reloc.so",
        &["hk_reloc.c"],
        &["-L.", "-lhk_rdep", "-Wl,-rpath,$ORIGIN"],
    );
    let r = readelf(&["-rW"], &lib);
    assert_fixture(
        count_relocs(&r, "R_X86_64_GLOB_DAT", "hk_rdep_var") == 1
            && count_relocs(&r, "R_X86_64_64", "hk_rdep_var") == 1
            && count_relocs(&r, "R_X86_64_JUMP_SLOT", "hk_rdep_add") == 1
            && count_relocs(&r, "R_X86_64_JUMP_SLOT", "malloc@GLIBC_2.2.5") == 1
            && !r.contains("strlen"),
        "libhk_reloc.so: one GLOB_DAT and one R_X86_64_64 against hk_rdep_var, JUMP_SLOTs against \
         hk_rdep_add and malloc@GLIBC_2.2.5, no strlen",
        &r,
    );
    let d = readelf(&["-d"], &lib);
    assert_fixture(
        d.contains("[libhk_rdep.so]") && !d.contains("BIND_NOW"),
        "libhk_reloc.so NEEDED libhk_rdep.so, lazily bindable",
        &d,
    );
    let r = readelf(&["-rW"], &s.path("libhk_rdep.so"));
    assert_fixture(
        has_reloc(&r, "R_X86_64_JUMP_SLOT", "strlen@GLIBC_2.2.5"),
        "libhk_rdep.so calls strlen through its PLT",
        &r,
    );
    let prog = s.program("hk_reloc.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn map_and_unmap_events() {
    let s = Scratch::new("hk_events");
    s.lib("libhk_ev_dep.so", &["hk_ev_dep.c"], &[]);
    let top = s.lib(
        "libhk_ev_top.so",
        &["hk_ev_top.c"],
        &["-L.", "-lhk_ev_dep", "-Wl,-rpath,$ORIGIN"],
    );
    let d = readelf(&["-d"], &top);
    assert_fixture(
        d.contains("[libhk_ev_dep.so]"),
        "libhk_ev_top.so NEEDED libhk_ev_dep.so",
        &d,
    );
    let prog = s.program("hk_events.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn hooks_changed_while_threads_open_libraries() {
    let s = Scratch::new("hk_threads");
    for i in 0..4 {
        s.lib(&format!("libhk_mt{i}.so"), &["hk_mt.c"], &[]);
    }
    assert_plt_calls(&s.path("libhk_mt0.so"), &["hk_mt_a", "hk_mt_b"]);
    let prog = s.program("hk_threads.c", &[]);
    let out = s.run_with_timeout(&prog, &[s.dir_arg()], &[], std::time::Duration::from_secs(20));
    assert!(
        out.status.success() && out.stdout.trim_end().ends_with("checks passed"),
        "hk_threads failed: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        describe_status(&out.status),
        out.stdout,
        out.stderr
    );
    eprint!("{}", out.stdout);
}

#[test]
fn open_options_search_and_size() {
    let s = Scratch::new("hk_search");
    s.lib("libhk_sp_provider.so", &["hk_sp_provider.c"], &[]);
    let user = s.lib("libhk_sp_user.so", &["hk_sp_user.c"], &[]);
    let d = readelf(&["-d"], &user);
    assert_fixture(
        !d.contains("hk_sp_provider"),
        "libhk_sp_user.so does not need libhk_sp_provider.so",
        &d,
    );
    let prog = s.program("hk_search.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

fn lazy_late(mode: &str) {
    let s = Scratch::new(&format!("hk_lazy_{mode}"));
    let lib = s.lib("libhk_clock_a.so", &["hk_clock.c"], &[]);
    assert_plt_calls(&lib, &["time@GLIBC_2.2.5"]);
    let prog = s.program("hk_lazy_late.c", &[]);
    s.run_ok(&prog, &[s.dir_arg(), mode.to_string()], &[]);
}

#[test]
fn lazy_first_call_does_not_call_a_removed_hook() {
    lazy_late("removed");
}

#[test]
fn lazy_first_call_consults_a_hook_added_after_open() {
    lazy_late("added");
}

fn reentrant(mode: &str) {
    let s = Scratch::new(&format!("hk_reentrant_{mode}"));
    s.lib("libhk_clock_a.so", &["hk_clock.c"], &[]);
    s.lib("libhk_sp_provider.so", &["hk_sp_provider.c"], &[]);
    let prog = s.program("hk_reentrant.c", &["-ldl"]);
    let out = s.run_with_timeout(
        &prog,
        &[s.dir_arg(), mode.to_string()],
        &[],
        std::time::Duration::from_secs(3),
    );
    assert!(
        out.status.success() && out.stdout.trim_end().ends_with("checks passed"),
        "hk_reentrant {mode} failed: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        describe_status(&out.status),
        out.stdout,
        out.stderr
    );
}

#[test]
fn hook_may_call_rl_sym() {
    reentrant("plain");
}

#[test]
fn hook_may_call_rl_sym_after_the_host_loaded_a_library() {
    reentrant("dlopen");
}
