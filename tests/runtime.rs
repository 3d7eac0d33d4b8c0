//! Runtime behaviour of relink-loaded code: thread-local storage, C++ (libstdc++, exceptions,
//! static and thread_local objects), lazy binding, introspection (rl_addr, rl_info,
//! rl_iterate_phdr) and large system libraries (ICU, LLVM, libgomp). Each test builds its
//! fixtures from c-tests/fixtures/rt_* and one program from c-tests/rt_*, and runs it.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;




fn cxx(s: &Scratch) -> Command {
    let mut cmd = Command::new(cxx_compiler());
    cmd.current_dir(&s.dir);
    cmd.args(BASE_CFLAGS);
    cmd.arg("-I").arg(include_dir());
    cmd.arg("-I").arg(c_tests_dir());
    cmd
}

/// A C++ shared library from c-tests/fixtures/<src> (or absolute paths), linked by the C++
/// driver (so against libstdc++.so.6).
fn lib_cxx(s: &Scratch, out: &str, srcs: &[&str], extra: &[&str]) -> PathBuf {
    let out_path = s.path(out);
    let mut cmd = cxx(s);
    cmd.args(["-shared", "-fPIC", "-pthread"]);
    let base = out_path.file_name().unwrap().to_string_lossy().into_owned();
    cmd.arg(format!("-Wl,-soname,{base}"));
    for src in srcs {
        cmd.arg(fixtures_dir().join(src));
    }
    cmd.args(extra);
    cmd.arg("-o").arg(&out_path);
    run_build(cmd);
    out_path
}

/// A C++ test program c-tests/<src>, linked against librelink.so (rpath to the scratch dir) and
/// libstdc++, exporting its symbols.
fn program_cxx(s: &Scratch, src: &str, extra: &[&str]) -> PathBuf {
    let stem = Path::new(src)
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let out_path = s.path(&stem);
    let mut cmd = cxx(s);
    cmd.arg("-rdynamic");
    cmd.arg(c_tests_dir().join(src));
    cmd.args(extra);
    cmd.arg("-L").arg(&s.dir);
    cmd.arg("-lrelink");
    cmd.arg(format!("-Wl,-rpath,{}", s.dir.display()));
    cmd.arg("-pthread");
    cmd.arg("-o").arg(&out_path);
    run_build(cmd);
    out_path
}

fn needed(file: &Path) -> Vec<String> {
    readelf(&["-d"], file)
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| Some(l.split('[').nth(1)?.trim_end_matches(']').to_string()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// 1. Thread-local storage

/// (file, extra flags, relocation the build must contain)
const TLS_BUILDS: &[(&str, &[&str], &str)] = &[
    (
        "librt_tls_gd.so",
        &["-ftls-model=global-dynamic"],
        "R_X86_64_DTP",
    ),
    (
        "librt_tls_local.so",
        &["-DRT_TLS_LOCAL", "-ftls-model=local-dynamic"],
        "R_X86_64_DTP",
    ),
    (
        "librt_tls_desc.so",
        &["-mtls-dialect=gnu2"],
        "R_X86_64_TLSDESC",
    ),
    (
        "librt_tls_desc_local.so",
        &["-DRT_TLS_LOCAL", "-mtls-dialect=gnu2"],
        "R_X86_64_TLSDESC",
    ),
];

fn build_tls_libs(s: &Scratch) -> Vec<String> {
    let mut names = Vec::new();
    for (file, flags, reloc) in TLS_BUILDS {
        let lib = s.lib(file, &["rt_tls.c"], flags);
        let r = readelf(&["-rW"], &lib);
        let tls_relocs: Vec<&str> = r
            .lines()
            .filter(|l| {
                l.contains("R_X86_64_DTP") || l.contains("R_X86_64_TLSDESC") || l.contains("TPOFF")
            })
            .collect();
        let against = |l: &&str, sym: &str| l.split_whitespace().any(|w| w == sym);
        let ok = match *file {
            // General dynamic: a module-id/offset pair per exported variable.
            "librt_tls_gd.so" => ["rt_int", "rt_zbuf", "rt_a64"].iter().all(|v| {
                tls_relocs
                    .iter()
                    .any(|l| l.contains("DTPMOD64") && against(l, v))
            }),
            // Local dynamic: one module-id slot not tied to a symbol.
            "librt_tls_local.so" => tls_relocs
                .iter()
                .any(|l| l.contains("DTPMOD64") && l.split_whitespace().count() == 4),
            "librt_tls_desc.so" => tls_relocs.iter().filter(|l| l.contains("TLSDESC")).count() >= 6,
            _ => tls_relocs
                .iter()
                .any(|l| l.contains("TLSDESC") && l.split_whitespace().count() == 4),
        };
        assert_fixture(
            ok && tls_relocs.iter().all(|l| l.contains(reloc)),
            &format!("{file}: TLS accesses only through {reloc}"),
            &r,
        );
        let l = readelf(&["-lW"], &lib);
        let tls = l
            .lines()
            .find(|l| l.trim_start().starts_with("TLS"))
            .unwrap_or("");
        assert_fixture(
            tls.trim_end().ends_with("0x40"),
            &format!("{file}: PT_TLS aligned to 64"),
            &l,
        );
        let d = readelf(&["-d"], &lib);
        assert_fixture(
            !d.contains("STATIC_TLS"),
            &format!("{file}: no DF_STATIC_TLS"),
            &d,
        );
        names.push(file.to_string());
    }
    names
}

#[test]
fn tls_models_threads_and_cycles() {
    let s = Scratch::new("rt_tls");
    let libs = build_tls_libs(&s);
    let prog = s.program("rt_tls.c", &[]);
    let mut args = vec![s.dir_arg()];
    args.extend(libs);
    let out = s.run_ok(&prog, &args, &[]);
    for l in out.lines().filter(|l| l.starts_with("heap")) {
        eprintln!("{l}");
    }
}

#[test]
fn tls_seen_by_pthread_key_destructors() {
    let s = Scratch::new("rt_tls_exit");
    let lib = s.lib("librt_tls_exit.so", &["rt_tls_exit.c"], &[]);
    let l = readelf(&["-lW"], &lib);
    assert_fixture(l.contains("TLS"), "librt_tls_exit.so has PT_TLS", &l);
    let prog = s.program("rt_tls_exit.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

// ---------------------------------------------------------------------------------------------
// 2. A C host loads a C++ plugin (relink loads libstdc++)

#[test]
fn cxx_plugin_in_c_host() {
    let s = Scratch::new("rt_cxx_host");
    let lib = lib_cxx(&s, "librt_cxx_plugin.so", &["rt_cxx_plugin.cpp"], &[]);
    let n = needed(&lib);
    assert_fixture(
        n.iter().any(|l| l == "libstdc++.so.6"),
        "librt_cxx_plugin.so NEEDED libstdc++.so.6",
        &n.join(" "),
    );
    let prog = s.program("rt_cxx_host.c", &[]);
    let n = needed(&prog);
    assert!(
        !n.iter().any(|l| l.contains("libstdc++")),
        "the C host must not need libstdc++: {n:?}"
    );
    let out = s.run_ok(&prog, &[s.dir_arg()], &[]);
    let greetings = out
        .lines()
        .filter(|l| *l == "rtx: hello from the C++ plugin through std::cout, 42")
        .count();
    assert_eq!(greetings, 2, "std::cout output of the plugin:\n{out}");
}

// ---------------------------------------------------------------------------------------------
// 3. A C++ host and a C++ plugin: exceptions both ways, backtrace(), rl_addr

fn build_throw_plugin(s: &Scratch) -> PathBuf {
    let lib = lib_cxx(s, "librt_throw_plugin.so", &["rt_throw_plugin.cpp"], &[]);
    let syms = readelf(&["--dyn-syms", "-W"], &lib);
    assert_fixture(
        !syms.contains(" UNIQUE "),
        "librt_throw_plugin.so has no STB_GNU_UNIQUE symbols (they would pin it)",
        &syms,
    );
    for f in [
        "rtt_bt_inner",
        "rtt_bt_middle",
        "rtt_bt_outer",
        "rtt_throw_custom",
    ] {
        assert_fixture(
            syms.lines().any(|l| {
                l.contains(" FUNC ")
                    && l.contains(" GLOBAL ")
                    && l.contains(" DEFAULT ")
                    && l.trim_end().ends_with(f)
            }),
            &format!("librt_throw_plugin.so exports {f}"),
            &syms,
        );
    }
    lib
}

#[test]
fn cxx_host_catches_plugin_exceptions() {
    let s = Scratch::new("rt_cxx_throw");
    build_throw_plugin(&s);
    let prog = program_cxx(&s, "rt_cxx_throw.cpp", &[]);
    assert_fixture(
        needed(&prog).iter().any(|l| l == "libstdc++.so.6"),
        "the C++ host links libstdc++",
        "",
    );
    s.run_ok(&prog, &[s.dir_arg(), "now".into()], &[]);
    s.run_ok(&prog, &[s.dir_arg(), "lazy".into()], &[]);
}

#[test]
fn rl_addr_names_plugin_code() {
    let s = Scratch::new("rt_addr");
    build_throw_plugin(&s);
    let prog = program_cxx(&s, "rt_addr.cpp", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

// ---------------------------------------------------------------------------------------------
// 4. rl_iterate_phdr and rl_info

#[test]
fn iterate_phdr_and_info() {
    let s = Scratch::new("rt_phdr");
    s.lib("librt_phdr_lib.so", &["rt_phdr_lib.c"], &[]);
    s.lib("librt_phdr_copy.so", &["rt_phdr_lib.c"], &[]);
    let tls = s.lib(
        "librt_tls_gd.so",
        &["rt_tls.c"],
        &["-ftls-model=global-dynamic"],
    );
    let syms = readelf(&["--dyn-syms", "-W"], &tls);
    assert_fixture(
        syms.lines().any(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w.len() >= 8 && w[1] == "0000000000000000" && w[3] == "TLS" && w[7] == "rt_probe"
        }),
        "rt_probe is at offset 0 of librt_tls_gd.so's TLS block",
        &syms,
    );
    let prog = s.program("rt_phdr.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

// ---------------------------------------------------------------------------------------------
// 5. ICU

#[test]
fn icu_through_relink() {
    system_lib("libicuuc.so.72");
    system_lib("libicudata.so.72");
    require_header("unicode/ucnv.h", "libicu-dev");
    let s = Scratch::new("rt_icu");
    let prog = s.program("rt_icu.c", &[]);
    let n = needed(&prog);
    assert!(
        !n.iter().any(|l| l.contains("icu") || l.contains("stdc++")),
        "rt_icu must not link ICU or libstdc++ itself: {n:?}"
    );
    s.run_ok(&prog, &[] as &[&str], &[]);
}

// ---------------------------------------------------------------------------------------------
// 6. LLVM

#[test]
fn llvm_through_relink() {
    system_lib("libLLVM-14.so.1");
    require_header("llvm-c-14/llvm-c/Core.h", "llvm-14-dev");
    let s = Scratch::new("rt_llvm");
    let prog = s.program("rt_llvm.c", &["-I/usr/include/llvm-c-14"]);
    let n = needed(&prog);
    assert!(
        !n.iter().any(|l| l.contains("LLVM") || l.contains("stdc++")),
        "rt_llvm must not link LLVM or libstdc++ itself: {n:?}"
    );
    let out = s.run_with_timeout(
        &prog,
        &[] as &[&str],
        &[],
        std::time::Duration::from_secs(30),
    );
    assert!(
        out.status.success() && out.stdout.ends_with(" checks passed\n"),
        "rt_llvm failed: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        describe_status(&out.status),
        out.stdout,
        out.stderr
    );
    eprintln!("rt_llvm: {:.2?}", out.elapsed);
    assert!(
        out.elapsed.as_secs_f64() < 5.0,
        "loading and using libLLVM took {:.2?}",
        out.elapsed
    );
}

// ---------------------------------------------------------------------------------------------
// 7. Lazy binding

const LAZY_FUNCS: usize = 1000;

/// Writes gen/lazy_dep.c (lz_f0 … lz_f999, lz_fI(x) = x * (I % 7 + 2) + I) and gen/lazy_calls.c
/// (lzc_call_all, which calls each of them once).
fn write_lazy_sources(s: &Scratch) -> (String, String) {
    let mut dep = String::from("/* Generated by tests/runtime.rs. */\n");
    let mut calls = String::from("/* Generated by tests/runtime.rs. */\n");
    for i in 0..LAZY_FUNCS {
        dep.push_str(&format!(
            "int lz_f{i}(int x) {{ return x * {} + {i}; }}\n",
            i % 7 + 2
        ));
        calls.push_str(&format!("int lz_f{i}(int);\n"));
    }
    calls.push_str("\nvoid lzc_call_all(int x, int *out)\n{\n");
    for i in 0..LAZY_FUNCS {
        calls.push_str(&format!("    out[{i}] = lz_f{i}(x);\n"));
    }
    calls.push_str("}\n");
    let dep = s.write("gen/lazy_dep.c", dep.as_bytes());
    let calls = s.write("gen/lazy_calls.c", calls.as_bytes());
    (
        dep.to_string_lossy().into_owned(),
        calls.to_string_lossy().into_owned(),
    )
}

fn jump_slots(lib: &Path, prefix: &str) -> usize {
    readelf(&["-rW"], lib)
        .lines()
        .filter(|l| {
            l.contains("R_X86_64_JUMP_SLOT") && l.split_whitespace().any(|w| w.starts_with(prefix))
        })
        .count()
}

fn binds_now(lib: &Path) -> bool {
    let d = readelf(&["-d"], lib);
    d.contains("BIND_NOW")
        || d.lines()
            .any(|l| l.contains("FLAGS_1") && l.contains(" NOW"))
}

#[test]
fn lazy_binding() {
    let s = Scratch::new("rt_lazy");
    let (dep_src, calls_src) = write_lazy_sources(&s);
    let rpath = ["-Wl,-rpath,$ORIGIN", "-Wl,--enable-new-dtags"];
    s.lib("liblazy_dep.so", &[&dep_src, "rt_lazy_args.c"], &[]);
    let mut callers = Vec::new();
    for (name, bind) in [
        ("liblazy_caller.so", "-Wl,-z,lazy"),
        ("liblazy_caller_now.so", "-Wl,-z,now"),
    ] {
        let extra = [&["-L.", "-llazy_dep", bind][..], &rpath].concat();
        callers.push(s.lib(name, &[&calls_src, "rt_lazy_args_caller.c"], &extra));
    }
    for (variant, flag) in [("avx", "-mavx"), ("avx512", "-mavx512f")] {
        s.lib(
            &format!("liblazy_{variant}.so"),
            &["rt_lazy_vec.c"],
            &[flag],
        );
        let lib_flag = format!("-llazy_{variant}");
        let extra = [&[flag, "-L.", lib_flag.as_str(), "-Wl,-z,lazy"][..], &rpath].concat();
        let caller = s.lib(
            &format!("liblazy_{variant}_caller.so"),
            &["rt_lazy_vec_caller.c"],
            &extra,
        );
        assert_fixture(
            jump_slots(&caller, "lz_avx") >= 1 && !binds_now(&caller),
            &format!("liblazy_{variant}_caller.so calls lz_avx* through a lazy PLT slot"),
            &readelf(&["-rW", "-d"], &caller),
        );
    }
    let n = jump_slots(&callers[0], "lz_f");
    assert_fixture(
        n == LAZY_FUNCS
            && jump_slots(&callers[0], "lz_many") == 1
            && jump_slots(&callers[0], "lz_vfmt") == 1,
        "liblazy_caller.so has a JUMP_SLOT for each of the 1000 lz_f*, lz_many and lz_vfmt",
        &format!("{n} lz_f* slots"),
    );
    assert_fixture(
        !binds_now(&callers[0]),
        "liblazy_caller.so is not -z now",
        &readelf(&["-d"], &callers[0]),
    );
    assert_fixture(
        binds_now(&callers[1]),
        "liblazy_caller_now.so is -z now",
        &readelf(&["-d"], &callers[1]),
    );

    let prog = s.program("rt_lazy.c", &[]);
    let out = s.run_ok(&prog, &[s.dir_arg()], &[]);
    eprintln!("{}", out.lines().next().unwrap_or(""));
    s.run_ok(
        &prog,
        &[s.dir_arg(), "bind-now".into()],
        &[("LD_BIND_NOW", "1")],
    );
}

#[test]
fn lazy_binding_small_thread_stack() {
    let s = Scratch::new("rt_lazy_stack");
    s.lib("liblazy_stack_dep.so", &["rt_lazy_args.c"], &[]);
    let caller = s.lib(
        "liblazy_stack_caller.so",
        &["rt_lazy_args_caller.c"],
        &[
            "-L.",
            "-llazy_stack_dep",
            "-Wl,-z,lazy",
            "-Wl,-rpath,$ORIGIN",
        ],
    );
    assert_fixture(
        jump_slots(&caller, "lz_many") == 1 && !binds_now(&caller),
        "liblazy_stack_caller.so calls lz_many through a lazy PLT slot",
        &readelf(&["-rW", "-d"], &caller),
    );
    let prog = s.program("rt_lazy_stack.c", &["-ldl"]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn lazy_unresolved_function() {
    let s = Scratch::new("rt_lazy_undef");
    for (name, bind) in [
        ("librt_lazy_undef.so", "-Wl,-z,lazy"),
        ("librt_lazy_undef_now.so", "-Wl,-z,now"),
    ] {
        let lib = s.lib(name, &["rt_lazy_undef.c"], &[bind]);
        let r = readelf(&["-rW"], &lib);
        assert_fixture(
            r.lines()
                .any(|l| l.contains("R_X86_64_JUMP_SLOT") && l.contains("rt_never_defined")),
            &format!("{name} calls rt_never_defined through the PLT"),
            &r,
        );
        assert_fixture(
            binds_now(&lib) == (bind == "-Wl,-z,now"),
            &format!("{name} {bind}"),
            &readelf(&["-d"], &lib),
        );
    }
    let prog = s.program("rt_lazy_undef.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
    s.run_ok(
        &prog,
        &[s.dir_arg(), "bind-now".into()],
        &[("LD_BIND_NOW", "1")],
    );
}

// ---------------------------------------------------------------------------------------------
// 8. Initial-exec TLS in relink-loaded code: static TLS blocks (libgomp)

#[test]
fn openmp_plugin_with_static_tls() {
    let gomp = system_lib("libgomp.so.1");
    let d = readelf(&["-d"], &gomp);
    assert_fixture(
        d.contains("STATIC_TLS"),
        "libgomp.so.1 has DF_STATIC_TLS",
        &d,
    );
    let s = Scratch::new("rt_omp");
    let lib = s.lib("librt_omp.so", &["rt_omp.c"], &["-fopenmp"]);
    assert_fixture(
        needed(&lib).iter().any(|l| l == "libgomp.so.1"),
        "librt_omp.so NEEDED libgomp.so.1",
        &readelf(&["-d"], &lib),
    );
    let prog = s.program("rt_omp.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[("OMP_NUM_THREADS", "4")]);
}

/// Copy `from` to `to` without DF_STATIC_TLS in its DT_FLAGS: the object then says nothing of
/// its initial-exec accesses but its TPOFF relocations.
fn without_static_tls_flag(from: &Path, to: &Path) {
    let mut b = std::fs::read(from).unwrap();
    let word = |b: &[u8], at: usize, n: usize| {
        b[at..at + n].iter().rev().fold(0u64, |v, &x| v << 8 | x as u64) as usize
    };
    let (phoff, phnum) = (word(&b, 0x20, 8), word(&b, 0x38, 2));
    let dynamic = (0..phnum)
        .map(|i| phoff + i * 56)
        .find(|&ph| word(&b, ph, 4) == 2)
        .map(|ph| (word(&b, ph + 8, 8), word(&b, ph + 32, 8)))
        .expect("PT_DYNAMIC");
    let mut cleared = false;
    for at in (dynamic.0..dynamic.0 + dynamic.1).step_by(16) {
        if word(&b, at, 8) == 30 {
            b[at + 8] &= !0x10;
            cleared = true;
        }
    }
    assert!(cleared, "{}: no DT_FLAGS", from.display());
    std::fs::write(to, b).unwrap();
}

#[test]
fn initial_exec_tls_in_static_tls() {
    let s = Scratch::new("rt_static_tls");
    let srcs = ["rt_static_tls.c"];
    let checks: [(&str, &[&str], &[&str]); 4] = [
        ("librt_static_tls.so", &[], &["R_X86_64_TPOFF64", "R_X86_64_DTPMOD64"]),
        ("librt_static_tls_desc.so", &["-mtls-dialect=gnu2"], &["R_X86_64_TPOFF64", "R_X86_64_TLSDESC"]),
        ("librt_static_tls_big.so", &["-DRT_ST_BIG"], &["R_X86_64_TPOFF64"]),
        ("librt_static_tls_reloc.so", &["-DRT_ST_RELOC"], &["R_X86_64_TPOFF64", "R_X86_64_RELATIVE"]),
    ];
    for (name, flags, relocs) in checks {
        let lib = s.lib(name, &srcs, flags);
        let d = readelf(&["-d"], &lib);
        let r = readelf(&["-rW"], &lib);
        assert_fixture(
            d.contains("STATIC_TLS") && relocs.iter().all(|t| r.contains(t)),
            &format!("{name}: DF_STATIC_TLS, {}", relocs.join(", ")),
            &format!("{d}{r}"),
        );
    }
    let noflag = s.path("librt_static_tls_noflag.so");
    without_static_tls_flag(&s.path("librt_static_tls.so"), &noflag);
    let d = readelf(&["-d"], &noflag);
    assert_fixture(
        !d.contains("STATIC_TLS") && readelf(&["-rW"], &noflag).contains("R_X86_64_TPOFF64"),
        "librt_static_tls_noflag.so: TPOFF64 without DF_STATIC_TLS",
        &d,
    );
    s.lib(
        "librt_tls_gd.so",
        &["rt_tls.c"],
        &["-ftls-model=global-dynamic"],
    );
    let other = s.lib(
        "librt_tls_ie_other.so",
        &["rt_tls_access.c"],
        &[
            "-ftls-model=initial-exec",
            "-DRT_TLS_OTHER",
            "-L.",
            "-l:librt_tls_gd.so",
            "-Wl,-rpath,$ORIGIN",
        ],
    );
    let r = readelf(&["-rW"], &other);
    assert_fixture(
        r.lines().any(|l| l.contains("R_X86_64_TPOFF64") && l.contains("rt_probe")),
        "librt_tls_ie_other.so reaches rt_probe of librt_tls_gd.so initial-exec",
        &r,
    );
    let prog = s.program("rt_static_tls.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
    s.run_ok(
        &prog,
        &[s.dir_arg(), "tunable".into()],
        &[("GLIBC_TUNABLES", "glibc.rtld.optional_static_tls=16384")],
    );
}

#[test]
fn host_tls_from_plugins() {
    let s = Scratch::new("rt_host_tls");
    let builds: [(&str, &[&str], &str); 3] = [
        (
            "librt_host_tls_ie.so",
            &["-ftls-model=initial-exec"],
            "R_X86_64_TPOFF64",
        ),
        (
            "librt_host_tls_gd.so",
            &["-ftls-model=global-dynamic"],
            "R_X86_64_DTPMOD64",
        ),
        (
            "librt_host_tls_desc.so",
            &["-mtls-dialect=gnu2"],
            "R_X86_64_TLSDESC",
        ),
    ];
    let mut args = vec![s.dir_arg()];
    for (name, flags, reloc) in builds {
        let lib = s.lib(name, &["rt_tls_access.c"], flags);
        let r = readelf(&["-rW"], &lib);
        assert_fixture(
            r.lines()
                .any(|l| l.contains(reloc) && l.contains("rt_host_tls")),
            &format!("{name} reaches rt_host_tls through {reloc}"),
            &r,
        );
        args.push(name.to_string());
    }
    let prog = s.program("rt_host_tls.c", &[]);
    s.run_ok(&prog, &args, &[]);
}

// ---------------------------------------------------------------------------------------------
// 9. C++ static and thread_local objects across rl_close

fn lifetime(host_links_libstdcxx: bool) {
    let name = if host_links_libstdcxx {
        "rt_lifetime_cxxhost"
    } else {
        "rt_lifetime"
    };
    let s = Scratch::new(name);
    let lib = lib_cxx(&s, "librt_lifetime.so", &["rt_lifetime.cpp"], &[]);
    let syms = readelf(&["--dyn-syms", "-W"], &lib);
    assert_fixture(
        !syms.contains(" UNIQUE ") && syms.contains("__cxa_thread_atexit") && syms.contains("rt_host_log"),
        "librt_lifetime.so: no STB_GNU_UNIQUE, registers a thread_local destructor, calls rt_host_log",
        &syms,
    );
    let extra: &[&str] = if host_links_libstdcxx {
        &["-Wl,--no-as-needed", "-lstdc++", "-Wl,--as-needed"]
    } else {
        &[]
    };
    let prog = s.program("rt_lifetime.c", extra);
    assert_fixture(
        needed(&prog).iter().any(|l| l == "libstdc++.so.6") == host_links_libstdcxx,
        "whether the host links libstdc++",
        &readelf(&["-d"], &prog),
    );
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

/// libstdc++ is loaded by relink for the plugin.
#[test]
fn cxx_static_and_thread_local_lifetime() {
    lifetime(false);
}

/// libstdc++ belongs to the host.
#[test]
fn cxx_static_and_thread_local_lifetime_host_libstdcxx() {
    lifetime(true);
}
