//! What librelink.so shows the outside world: only the rl_* functions in its
//! dynamic symbol table (and `_dl_find_object`, which the unwinder calls), the
//! SONAME librelink.so.0, and an include/relink.h
//! that strict C99 and C++11 programs compile and link against.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;


/// Names (without @version) of the symbols librelink.so defines in .dynsym.
fn defined_dynamic_symbols() -> Vec<String> {
    let out = readelf(&["--dyn-syms", "-W"], &relink_so());
    let mut names = Vec::new();
    let mut rows = 0;
    for line in out.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 7 || !f[0].ends_with(':') || f[0].trim_end_matches(':').parse::<u32>().is_err()
        {
            continue;
        }
        rows += 1;
        if f[6] == "UND" || f.len() < 8 {
            continue;
        }
        names.push(f[7].split('@').next().unwrap().to_string());
    }
    assert!(
        rows > 1,
        "no symbol rows in readelf --dyn-syms output:\n{out}"
    );
    names
}

/// The functions include/relink.h declares.
fn header_functions() -> Vec<String> {
    let h = std::fs::read_to_string(include_dir().join("relink.h")).expect("include/relink.h");
    let mut names: Vec<String> = h
        .lines()
        .filter(|l| !l.trim_start().starts_with('*') && !l.trim_start().starts_with("/*"))
        .filter_map(|l| {
            let open = l.find('(')?;
            let name = l[..open]
                .rsplit(|c: char| !(c.is_alphanumeric() || c == '_'))
                .next()?;
            name.starts_with("rl_").then(|| name.to_string())
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Exported outside the rl_ namespace, on purpose: glibc's function, which libgcc's unwinder
/// calls to find the frames of a PC (relink answers for its own objects, forwards the rest).
const UNWINDER_HOOKS: [&str; 1] = ["_dl_find_object"];

#[test]
fn exports_only_rl_functions() {
    let mut defined = defined_dynamic_symbols();
    for hook in UNWINDER_HOOKS {
        assert!(defined.iter().any(|d| d == hook), "librelink.so defines {hook}; it defines {defined:?}");
    }
    defined.retain(|d| !UNWINDER_HOOKS.contains(&d.as_str()));
    defined.sort();
    let foreign: Vec<&String> = defined.iter().filter(|n| !n.starts_with("rl_")).collect();
    assert!(
        foreign.is_empty(),
        "librelink.so exports symbols outside the rl_ namespace: {foreign:?}"
    );
    for name in [
        "dlopen",
        "dlsym",
        "dlvsym",
        "dlclose",
        "dlerror",
        "dladdr",
        "dlinfo",
        "dlmopen",
        "dl_iterate_phdr",
        "malloc",
        "free",
        "calloc",
        "realloc",
        "memcpy",
        "memset",
        "strlen",
        "pthread_create",
        "__cxa_finalize",
        "_init",
        "_fini",
        "rust_begin_unwind",
        "rust_eh_personality",
    ] {
        assert!(
            !defined.iter().any(|d| d == name),
            "librelink.so must not define {name}; it defines {defined:?}"
        );
    }
    let api = header_functions();
    for core in [
        "rl_close",
        "rl_error",
        "rl_open",
        "rl_open_mem",
        "rl_sym",
        "rl_vsym",
    ] {
        assert!(
            api.iter().any(|f| f == core),
            "include/relink.h declares {core}; found {api:?}"
        );
    }
    assert_eq!(
        defined, api,
        "librelink.so defines exactly the functions of include/relink.h"
    );
}

#[test]
fn soname_is_librelink_so_0() {
    let d = readelf(&["-d"], &relink_so());
    let sonames: Vec<&str> = d.lines().filter(|l| l.contains("(SONAME)")).collect();
    assert_eq!(
        sonames.len(),
        1,
        "librelink.so has exactly one DT_SONAME:\n{d}"
    );
    assert!(
        sonames[0].contains("Library soname: [librelink.so.0]"),
        "SONAME of librelink.so: {}",
        sonames[0]
    );
}


/// Builds c-tests/<src> with `compiler` and `flags` into an executable
/// linked against this run's librelink.so, runs it and checks its output.
fn build_and_run(s: &Scratch, compiler: &Path, src: &str, flags: &[&str]) {
    let out = s.path(Path::new(src).file_stem().unwrap().to_str().unwrap());
    let mut cmd = Command::new(compiler);
    cmd.current_dir(&s.dir)
        .args(flags)
        .arg("-I")
        .arg(include_dir())
        .arg(c_tests_dir().join(src))
        .arg("-L")
        .arg(&s.dir)
        .arg("-lrelink")
        .arg(format!("-Wl,-rpath,{}", s.dir.display()))
        .arg("-o")
        .arg(&out);
    run_build(cmd);
    s.run_ok(&out, &[] as &[&str], &[]);
}

#[test]
fn header_compiles_as_strict_c99() {
    let s = Scratch::new("header_c99");
    build_and_run(
        &s,
        compiler(),
        "header_c99.c",
        &["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"],
    );
}

#[test]
fn header_compiles_as_cxx11_and_links() {
    let s = Scratch::new("header_cxx");
    build_and_run(
        &s,
        cxx_compiler(),
        "header_cxx.cpp",
        &["-std=c++11", "-Wall", "-Wextra", "-Werror", "-pedantic"],
    );
}

/// The functions that opening libraries runs (bench/hot-symbols.txt) come first in the text of
/// librelink.so and of the interposer, together, as the build scripts have the linker lay them
/// out: a first open faults in a few adjacent pages of relink's code.
#[test]
fn hot_functions_come_first() {
    assert_eq!(env!("RELINK_HOT_SYMBOLS"), "applied", "build.rs did not lay out librelink.so's hot functions");
    let list = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/hot-symbols.txt")).unwrap();
    let hot: std::collections::HashSet<&str> = list.lines().collect();
    assert_hot_first(&relink_so(), &hot);
    assert_hot_first(&preload_so(), &hot);
}

fn assert_hot_first(so: &Path, hot: &std::collections::HashSet<&str>) {
    // (address, section index, name) of every function of the symbol table.
    let out = readelf(&["-sW"], so);
    let mut functions: Vec<(u64, String, String)> = Vec::new();
    for line in out.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() >= 8 && f[3] == "FUNC" && f[6] != "UND" && f[2] != "0" {
            functions.push((u64::from_str_radix(f[1], 16).unwrap(), f[6].to_string(), f[7].split('@').next().unwrap().to_string()));
        }
    }
    let laid_out: Vec<&(u64, String, String)> = functions.iter().filter(|(_, _, n)| hot.contains(n.as_str())).collect();
    assert!(
        laid_out.len() * 2 >= hot.len(),
        "only {} of the {} functions of bench/hot-symbols.txt are in {}: run `make hot-symbols`",
        laid_out.len(),
        hot.len(),
        so.display()
    );
    let text = &laid_out[0].1;
    let hot_at: std::collections::HashSet<u64> = laid_out.iter().map(|(a, _, _)| *a).collect();
    let end = *hot_at.iter().max().unwrap();
    let start = functions.iter().filter(|(_, s, _)| s == text).map(|(a, _, _)| *a).min().unwrap();
    let cold: Vec<&str> = functions
        .iter()
        .filter(|(a, s, _)| s == text && *a >= start && *a <= end && !hot_at.contains(a))
        .map(|(_, _, n)| n.as_str())
        .collect();
    assert!(cold.is_empty(), "{}: functions not in bench/hot-symbols.txt lie among the hot ones ({start:#x}..={end:#x}): {cold:?}", so.display());
}
