//! C-level tests of the relink ABI (include/relink.h): each test builds its
//! fixture libraries from c-tests/fixtures, builds one C test program from
//! c-tests/ against librelink, and runs it.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;

fn fixture(name: &str) -> String {
    fixtures_dir().join(name).to_string_lossy().into_owned()
}



#[test]
fn deps_chain_runpath_origin() {
    let s = Scratch::new("deps_chain");
    s.lib("chain/sub/libc_chain.so", &["chain_c.c"], &[]);
    s.lib("chain/sub/libd.so", &["chain_d.c"], &[]);
    s.lib(
        "chain/sub/libb.so",
        &["chain_b.c"],
        &[
            "-Lchain/sub",
            "-lc_chain",
            "-Wl,-rpath,$ORIGIN",
            "-Wl,--enable-new-dtags",
        ],
    );
    let liba = s.lib(
        "chain/liba.so",
        &["chain_a.c"],
        &[
            "-Wl,--no-as-needed",
            "-Lchain/sub",
            "-lb",
            "-ld",
            "-Wl,-rpath,$ORIGIN/sub",
            "-Wl,--enable-new-dtags",
            "-Wl,-rpath-link,chain/sub",
        ],
    );
    s.lib("chain/libb.so", &["chain_b_decoy.c"], &[]);
    let d = readelf(&["-d"], &liba);
    let (nb, nd) = (d.find("[libb.so]"), d.find("[libd.so]"));
    assert_fixture(
        d.contains("RUNPATH")
            && d.contains("[$ORIGIN/sub]")
            && nb.is_some()
            && nd.is_some()
            && nb < nd,
        "liba RUNPATH $ORIGIN/sub, NEEDED libb.so before libd.so",
        &d,
    );

    let prog = s.program("deps_chain.c", &[]);
    s.run_ok(
        &prog,
        &[s.dir_arg()],
        &[("LD_LIBRARY_PATH", &s.p("chain/sub"))],
    );
}

#[test]
fn symbol_versions() {
    let s = Scratch::new("symbol_versions");
    let script = |m: &str| format!("-Wl,--version-script={}", fixture(m));
    s.lib(
        "old/libver.so",
        &["ver_old.c"],
        &[script("ver_old.map").as_str(), "-Wl,-soname,libver.so"],
    );
    s.lib(
        "future/libver.so",
        &["ver_future.c"],
        &[script("ver_future.map").as_str(), "-Wl,-soname,libver.so"],
    );
    let ver = s.lib(
        "libver.so",
        &["ver_two.c"],
        &[script("ver_two.map").as_str()],
    );
    let rpath = ["-Wl,-rpath,$ORIGIN", "-Wl,--enable-new-dtags"];
    let old_c = s.lib(
        "libconsumer_old.so",
        &["ver_consumer.c"],
        &[&["-Lold", "-lver"][..], &rpath].concat(),
    );
    let new_c = s.lib(
        "libconsumer_new.so",
        &["ver_consumer.c"],
        &[&["-L.", "-lver"][..], &rpath].concat(),
    );
    let fut_c = s.lib(
        "libconsumer_future.so",
        &["ver_consumer.c"],
        &[&["-Lfuture", "-lver"][..], &rpath].concat(),
    );

    let syms = readelf(&["--dyn-syms", "-W"], &ver);
    assert_fixture(
        syms.contains("foo@VER_1") && syms.contains("foo@@VER_2"),
        "libver.so versions",
        &syms,
    );
    let syms = readelf(&["--dyn-syms", "-W"], &old_c);
    assert_fixture(
        syms.contains("foo@VER_1"),
        "libconsumer_old.so references foo@VER_1",
        &syms,
    );
    let syms = readelf(&["--dyn-syms", "-W"], &new_c);
    assert_fixture(
        syms.contains("foo@VER_2"),
        "libconsumer_new.so references foo@VER_2",
        &syms,
    );
    let syms = readelf(&["--dyn-syms", "-W"], &fut_c);
    assert_fixture(
        syms.contains("foo@VER_3"),
        "libconsumer_future.so references foo@VER_3",
        &syms,
    );

    let prog = s.program("symbol_versions.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

/// The host's objects read their version tables on first use: versioned lookups and version
/// checks against a library the program links see every version it defines.
#[test]
fn host_object_versions() {
    let s = Scratch::new("host_versions");
    let script = |m: &str| format!("-Wl,--version-script={}", fixture(m));
    s.lib("old/libver.so", &["ver_old.c"], &[script("ver_old.map").as_str(), "-Wl,-soname,libver.so"]);
    s.lib("future/libver.so", &["ver_future.c"], &[script("ver_future.map").as_str(), "-Wl,-soname,libver.so"]);
    s.lib("libver.so", &["ver_two.c"], &[script("ver_two.map").as_str()]);
    let rpath = ["-Wl,-rpath,$ORIGIN", "-Wl,--enable-new-dtags"];
    s.lib("libconsumer_old.so", &["ver_consumer.c"], &[&["-Lold", "-lver"][..], &rpath].concat());
    s.lib("libconsumer_future.so", &["ver_consumer.c"], &[&["-Lfuture", "-lver"][..], &rpath].concat());
    let prog = s.program("host_versions.c", &["-lver", "-ldl"]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn ifunc() {
    let s = Scratch::new("ifunc");
    let lib = s.lib("libifunc.so", &["ifunc.c"], &[]);
    let r = readelf(&["-rW"], &lib);
    assert_fixture(
        r.contains("R_X86_64_IRELATIV")
            && r.contains("R_X86_64_JUMP_SLO")
            && r.contains("R_X86_64_64"),
        "libifunc.so relocations",
        &r,
    );
    let prog = s.program("ifunc.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

fn build_ctor_libs(s: &Scratch) {
    let dt = ["-Wl,-init=ctor_dt_init", "-Wl,-fini=ctor_dt_fini"];
    s.lib(
        "libctor_dep.so",
        &["ctor_lib.c"],
        &[&["-DCTOR_NAME=\"dep\""][..], &dt].concat(),
    );
    let top = s.lib(
        "libctor_top.so",
        &["ctor_lib.c"],
        &[
            &[
                "-DCTOR_NAME=\"top\"",
                "-DCTOR_TOP",
                "-L.",
                "-lctor_dep",
                "-Wl,-rpath,$ORIGIN",
            ][..],
            &dt,
        ]
        .concat(),
    );
    for lib in [s.path("libctor_dep.so"), top.clone()] {
        for sec in [".init_array", ".fini_array"] {
            let dump = readelf(&["-x", sec], &lib);
            let words: Vec<&str> = dump
                .lines()
                .filter(|l| l.trim_start().starts_with("0x"))
                .flat_map(|l| l.split_whitespace().skip(1).take(4))
                .filter(|w| w.len() == 8 && w.chars().all(|c| c.is_ascii_hexdigit()))
                .collect();
            let zero_entry = words.chunks(2).any(|e| e.iter().all(|w| *w == "00000000"));
            assert_fixture(
                !zero_entry && words.len() >= 8,
                &format!("{sec} without padding entries"),
                &dump,
            );
        }
    }
    let d = readelf(&["-d"], &top);
    assert_fixture(
        d.contains("(INIT)")
            && d.contains("(FINI)")
            && d.contains("INIT_ARRAY")
            && d.contains("[libctor_dep.so]"),
        "libctor_top.so dynamic section",
        &d,
    );
}

#[test]
fn ctor_dtor_order() {
    let s = Scratch::new("ctor_order");
    build_ctor_libs(&s);
    let prog = s.program("ctor_order.c", &[]);
    s.run_ok(
        &prog,
        &[s.dir_arg(), "second-arg".to_string()],
        &[("RELINK_CTOR_MARK", "present")],
    );

    // libctor_top.so was still open at exit: its finalizers, then its
    // dependency's, must have run then.
    let log = std::fs::read_to_string(s.path("atexit.log")).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    let at = |what: &str| {
        let hits: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| **l == what)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(
            hits.len(),
            1,
            "{what} should run exactly once at exit; log:\n{log}"
        );
        hits[0]
    };
    for lib in ["top", "dep"] {
        let f1 = at(&format!("{lib}:fini_array[1]"));
        let f0 = at(&format!("{lib}:fini_array[0]"));
        let dtor = at(&format!("{lib}:dtor"));
        let dt_fini = at(&format!("{lib}:DT_FINI"));
        assert!(
            f1 < f0 && f0 < dt_fini && dtor < dt_fini,
            "{lib}: finalizer order at exit; log:\n{log}"
        );
    }
    assert!(
        at("top:DT_FINI") < at("dep:fini_array[1]"),
        "dependents finalized first at exit; log:\n{log}"
    );
    assert!(
        !log.contains("init"),
        "no initializer may run at exit; log:\n{log}"
    );
}

#[test]
fn global_scope_rl_global() {
    let s = Scratch::new("global_scope");
    s.lib("libprovider.so", &["provider.c"], &[]);
    s.lib("libprovider_copy.so", &["provider.c"], &[]);
    let user = s.lib("libuser.so", &["user.c"], &[]);
    let syms = readelf(&["--dyn-syms", "-W"], &user);
    assert_fixture(
        syms.contains("UND provided_value"),
        "libuser.so leaves provided_value undefined",
        &syms,
    );
    let prog = s.program("global_scope.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn deepbind() {
    let s = Scratch::new("deepbind");
    let lib = s.lib("libdeep1.so", &["deep.c"], &[]);
    s.copy("libdeep1.so", "libdeep2.so");
    let r = readelf(&["-rW"], &lib);
    assert_fixture(
        r.contains("which_impl"),
        "libdeep calls which_impl through a relocation",
        &r,
    );
    let prog = s.program("deepbind.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

fn build_ctor_open(s: &Scratch) {
    s.lib("libsimple.so", &["simple.c"], &[]);
    s.lib("libopener.so", &["opener.c"], &[]);
}

/// The ld.so.cache an open used is unmapped at its end even when one of its constructors opened
/// a library already loaded (a nested open that used no cache).
#[test]
fn ld_so_cache_unmapped_after_open_with_nested_open() {
    let s = Scratch::new("cache_nested_open");
    s.lib("libcache_opener.so", &["opener.c"], &["-Wl,--no-as-needed", "-lz"]);
    let prog = s.program("cache_nested_open.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn constructor_calls_rl_open() {
    let s = Scratch::new("ctor_open");
    build_ctor_open(&s);
    let prog = s.program("ctor_open.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn static_link_constructor_calls_rl_open() {
    let s = Scratch::new("ctor_open_static");
    build_ctor_open(&s);
    let prog = s.program_static("ctor_open.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

fn build_handles(s: &Scratch) {
    s.lib("libsimple.so", &["simple.c"], &[]);
    s.symlink("libsimple.so", "link.so");
    std::fs::hard_link(s.path("libsimple.so"), s.path("hard.so")).expect("hard link");
    s.mkdir("sub");
    s.copy("libsimple.so", "libsimple_copy.so");
    s.copy("libsimple.so", "libnd_flag.so");
    s.copy("libsimple.so", "libnd_late.so");
    let z = s.lib("libznodelete.so", &["simple.c"], &["-Wl,-z,nodelete"]);
    let d = readelf(&["-d"], &z);
    assert_fixture(
        d.contains("NODELETE"),
        "libznodelete.so has DF_1_NODELETE",
        &d,
    );
}

#[test]
fn handles() {
    let s = Scratch::new("handles");
    build_handles(&s);
    let prog = s.program("handles.c", &[]);
    let out = s.run_ok(&prog, &[s.dir_arg()], &[]);
    assert!(
        out.contains("printf through rl_sym(self)"),
        "printf via rl_sym printed nothing:\n{out}"
    );
}

#[test]
fn static_link_handles() {
    let s = Scratch::new("handles_static");
    build_handles(&s);
    let prog = s.program_static("handles.c", &[]);
    let d = readelf(&["-d"], &prog);
    assert_fixture(
        !d.contains("librelink"),
        "the static test program does not need librelink.so",
        &d,
    );
    let out = s.run_ok(&prog, &[s.dir_arg()], &[]);
    assert!(
        out.contains("printf through rl_sym(self)"),
        "printf via rl_sym printed nothing:\n{out}"
    );
}

fn system_test(test: &str, src: &str, libs: &[&str], headers: &[(&str, &str)], static_link: bool) {
    for l in libs {
        system_lib(l);
    }
    for (h, pkg) in headers {
        require_header(h, pkg);
    }
    let s = Scratch::new(test);
    let prog = if static_link {
        s.program_static(src, &[])
    } else {
        s.program(src, &[])
    };
    let d = readelf(&["-d"], &prog);
    for l in libs {
        let stem = l.split(".so").next().unwrap();
        assert!(
            !d.contains(&format!("[{stem}.so")),
            "{src} must not link {l} itself:\n{d}"
        );
    }
    s.run_ok(&prog, &[] as &[&str], &[]);
}

/// The first open of a library without static TLS in a process leaves the thread's static TLS
/// reservations and pending unique definitions alone (no thread-exit destructor is registered
/// for them), and asks the kernel for random bytes once.
#[test]
fn first_open_registers_no_destructor_and_asks_for_random_bytes_once() {
    let s = Scratch::new("first_open_tls_dtor");
    let lib = s.lib("libsimple.so", &["simple.c"], &[]);
    let prog = s.program("first_open_thread_exit.c", &["-ldl"]);
    s.run_ok(&prog, &[lib.to_str().unwrap()], &[]);
}

#[test]
fn system_libz() {
    system_test(
        "sys_zlib",
        "sys_zlib.c",
        &["libz.so.1"],
        &[("zlib.h", "zlib1g-dev")],
        false,
    );
}

#[test]
fn static_link_system_libz() {
    system_test(
        "sys_zlib_static",
        "sys_zlib.c",
        &["libz.so.1"],
        &[("zlib.h", "zlib1g-dev")],
        true,
    );
}

#[test]
fn system_libsqlite3() {
    system_test(
        "sys_sqlite",
        "sys_sqlite.c",
        &["libsqlite3.so.0"],
        &[("sqlite3.h", "libsqlite3-dev")],
        false,
    );
}

#[test]
fn system_libcrypto() {
    system_test(
        "sys_crypto",
        "sys_crypto.c",
        &["libcrypto.so.3"],
        &[("openssl/sha.h", "libssl-dev")],
        false,
    );
}

#[test]
fn system_libssl() {
    system_test(
        "sys_ssl",
        "sys_ssl.c",
        &["libssl.so.3", "libcrypto.so.3"],
        &[("openssl/ssl.h", "libssl-dev")],
        false,
    );
}

#[test]
fn open_close_cycles_sqlite() {
    system_lib("libsqlite3.so.0");
    let s = Scratch::new("cycles");
    let prog = s.program("open_close_cycles.c", &[]);
    let out = s.run_ok(&prog, &["1000"], &[]);
    eprint!("{}", out.lines().next().unwrap_or(""));
}

/// A 32-bit x86 shared object: built with `-m32` when the toolchain can, else
/// a minimal hand-made ELF32 image (header + one PT_LOAD + PT_DYNAMIC).
fn make_elf32(s: &Scratch) {
    let out = s.path("elf32.so");
    let built = Command::new(compiler())
        .args(["-m32", "-shared", "-fPIC", "-nostdlib", "-o"])
        .arg(&out)
        .arg(fixtures_dir().join("simple.c"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if built && readelf(&["-h"], &out).contains("ELF32") {
        return;
    }
    let mut img = vec![0u8; 4096];
    let put16 =
        |b: &mut Vec<u8>, off: usize, v: u16| b[off..off + 2].copy_from_slice(&v.to_le_bytes());
    let put32 =
        |b: &mut Vec<u8>, off: usize, v: u32| b[off..off + 4].copy_from_slice(&v.to_le_bytes());
    img[..16].copy_from_slice(&[0x7f, b'E', b'L', b'F', 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    put16(&mut img, 16, 3); // ET_DYN
    put16(&mut img, 18, 3); // EM_386
    put32(&mut img, 20, 1); // EV_CURRENT
    put32(&mut img, 28, 52); // e_phoff
    put16(&mut img, 40, 52); // e_ehsize
    put16(&mut img, 42, 32); // e_phentsize
    put16(&mut img, 44, 2); // e_phnum
    put16(&mut img, 46, 40); // e_shentsize
    let ph = 52;
    put32(&mut img, ph, 1); // PT_LOAD
    put32(&mut img, ph + 16, 4096); // p_filesz
    put32(&mut img, ph + 20, 4096); // p_memsz
    put32(&mut img, ph + 24, 5); // R+X
    put32(&mut img, ph + 28, 4096); // p_align
    let ph2 = ph + 32;
    put32(&mut img, ph2, 2); // PT_DYNAMIC, empty DT_NULL-terminated table at 0x100
    put32(&mut img, ph2 + 4, 0x100);
    put32(&mut img, ph2 + 8, 0x100);
    put32(&mut img, ph2 + 16, 8);
    put32(&mut img, ph2 + 20, 8);
    put32(&mut img, ph2 + 24, 6);
    put32(&mut img, ph2 + 28, 4);
    s.write("elf32.so", &img);
}

#[test]
fn bad_input() {
    let s = Scratch::new("bad_input");
    s.lib("libsimple.so", &["simple.c"], &[]);
    make_elf32(&s);
    s.fixture_exe("exe_nopie", &["exe_main.c"], &["-fno-pie", "-no-pie"]);
    s.fixture_exe("exe_pie", &["exe_main.c"], &["-fPIE", "-pie"]);
    let h = readelf(&["-h"], &s.path("exe_nopie"));
    assert_fixture(h.contains("EXEC"), "exe_nopie is ET_EXEC", &h);
    let l = readelf(&["-lW"], &s.path("exe_pie"));
    assert_fixture(
        l.contains("DYN") && l.contains("INTERP"),
        "exe_pie is ET_DYN with PT_INTERP",
        &l,
    );

    s.lib("ghost/libghost.so", &["ghost.c"], &[]);
    let nm = s.lib(
        "libneeds_missing.so",
        &["needs_missing.c"],
        &[
            "-Wl,--no-as-needed",
            "-L.",
            "-lsimple",
            "-Lghost",
            "-lghost",
            "-Wl,-rpath,$ORIGIN",
        ],
    );
    std::fs::remove_dir_all(s.path("ghost")).unwrap();
    let d = readelf(&["-d"], &nm);
    assert_fixture(
        d.contains("[libsimple.so]") && d.contains("[libghost.so]"),
        "libneeds_missing NEEDED",
        &d,
    );

    s.lib("libunresolved.so", &["unresolved.c"], &[]);
    s.lib("libunresolved_data.so", &["unresolved_data.c"], &[]);
    s.write(
        "notelf.so",
        b"this is not an ELF file, just some text\n"
            .repeat(50)
            .as_slice(),
    );
    s.mkdir("adir.so");

    let prog = s.program("bad_input.c", &[]);
    // libsimple.so must be found for the in-memory copy of libneeds_missing.so
    // too, which has no $ORIGIN: only libghost.so may be missing.
    s.run_ok(&prog, &[s.dir_arg()], &[("LD_LIBRARY_PATH", &s.dir_arg())]);
}

#[test]
fn threads() {
    let s = Scratch::new("threads");
    s.lib("libsimple.so", &["simple.c"], &[]);
    s.lib("libmt_dep.so", &["mt_dep.c"], &[]);
    s.lib("libmt_shared.so", &["mt_shared.c"], &[]);
    for i in 0..8 {
        s.lib(
            &format!("libmt{i}.so"),
            &["mt.c"],
            &[
                format!("-DMT_ID={i}").as_str(),
                "-L.",
                "-lmt_dep",
                "-Wl,-rpath,$ORIGIN",
            ],
        );
    }
    let prog = s.program("threads.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn thread_local_storage() {
    let s = Scratch::new("tls");
    let lib = s.lib("libtls.so", &["tls.c"], &[]);
    let l = readelf(&["-lW"], &lib);
    assert_fixture(l.contains("TLS"), "libtls.so has PT_TLS", &l);
    let prog = s.program("tls.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn executable_stack_refused() {
    let s = Scratch::new("execstack");
    s.lib("libsimple.so", &["simple.c"], &[]);
    let lib = s.lib("libexecstack.so", &["simple.c"], &["-Wl,-z,execstack"]);
    let l = readelf(&["-lW"], &lib);
    let stack = l.lines().find(|l| l.contains("GNU_STACK")).unwrap_or("");
    assert_fixture(
        stack.contains("RWE"),
        "libexecstack.so has PT_GNU_STACK with PF_X",
        &l,
    );
    let l = readelf(&["-lW"], &s.path("libsimple.so"));
    let stack = l.lines().find(|l| l.contains("GNU_STACK")).unwrap_or("");
    assert_fixture(
        stack.contains("RW ") && !stack.contains("RWE"),
        "libsimple.so has a non-executable PT_GNU_STACK",
        &l,
    );
    let prog = s.program("execstack.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn bad_relocation_types_refused() {
    let s = Scratch::new("bad_reloc");
    let lib = s.lib("libreloc_victim.so", &["reloc_victim.c"], &[]);
    let r = readelf(&["-rW"], &lib);
    let (dyn_part, plt_part) = r.split_at(r.find(".rela.plt").unwrap_or(r.len()));
    let has = |part: &str, ty: &str, sym: &str| {
        part.lines()
            .any(|l| l.contains(ty) && l.split_whitespace().any(|w| w == sym))
    };
    assert_fixture(
        dyn_part.contains(".rela.dyn")
            && has(dyn_part, "R_X86_64_GLOB_DAT", "victim_var")
            && has(dyn_part, "R_X86_64_64 ", "victim_var")
            && has(plt_part, "R_X86_64_JUMP_SLO", "victim_add"),
        "libreloc_victim.so: GLOB_DAT and 64 against victim_var in .rela.dyn, JUMP_SLOT against victim_add in .rela.plt",
        &r,
    );
    let prog = s.program("bad_reloc.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn relr_relocations() {
    let s = Scratch::new("relr");
    let lib = s.lib("librelr.so", &["relr.c"], &["-Wl,-z,pack-relative-relocs"]);
    let d = readelf(&["-d"], &lib);
    assert_fixture(
        d.contains("(RELR)") && d.contains("(RELRSZ)"),
        "librelr.so has DT_RELR (needs binutils >= 2.38)",
        &d,
    );
    let r = readelf(&["-rW"], &lib);
    let offsets = r
        .lines()
        .find_map(|l| l.trim().strip_suffix(" offsets")?.parse::<u32>().ok())
        .unwrap_or(0);
    assert_fixture(
        r.contains(".relr.dyn") && offsets >= 600 && !r.contains("R_X86_64_RELATIVE"),
        "librelr.so: at least 600 offsets in .relr.dyn, no R_X86_64_RELATIVE in .rela.dyn",
        &r,
    );
    let prog = s.program("relr.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn relocated_pages_populated() {
    let s = Scratch::new("reloc_pages");
    let rela = s.lib("libreloc_pages.so", &["reloc_pages.c"], &[]);
    let relr = s.lib("libreloc_pages_relr.so", &["reloc_pages.c"], &["-Wl,-z,pack-relative-relocs"]);
    let r = readelf(&["-rW"], &rela);
    assert_fixture(
        r.contains("R_X86_64_RELATIVE") && r.contains("R_X86_64_64 ") && r.contains("rp_target"),
        "libreloc_pages.so: RELATIVE relocations and R_X86_64_64 ones against rp_target",
        &r,
    );
    let r = readelf(&["-rW"], &relr);
    assert_fixture(r.contains(".relr.dyn"), "libreloc_pages_relr.so: a .relr.dyn section", &r);
    let prog = s.program("reloc_pages.c", &[]);
    for lib in [&rela, &relr] {
        s.run_ok(&prog, &[lib.to_str().unwrap()], &[]);
    }
}

#[test]
fn hash_styles() {
    let s = Scratch::new("hash_styles");
    let sysv = s.lib(
        "libhash_sysv.so",
        &["hash_syms.c"],
        &["-Wl,--hash-style=sysv"],
    );
    let gnu = s.lib(
        "libhash_gnu.so",
        &["hash_syms.c"],
        &["-Wl,--hash-style=gnu"],
    );
    let user = s.lib(
        "libhash_user.so",
        &["hash_user.c"],
        &["-L.", "-lhash_sysv", "-Wl,-rpath,$ORIGIN"],
    );
    let sections = |lib: &Path| -> Vec<String> {
        readelf(&["-SW"], lib)
            .lines()
            .filter_map(|l| Some(l.split(']').nth(1)?.split_whitespace().next()?.to_string()))
            .collect()
    };
    let (ss, gs) = (sections(&sysv), sections(&gnu));
    assert_fixture(
        ss.iter().any(|n| n == ".hash") && !ss.iter().any(|n| n == ".gnu.hash"),
        "libhash_sysv.so has .hash and no .gnu.hash",
        &ss.join(" "),
    );
    assert_fixture(
        gs.iter().any(|n| n == ".gnu.hash") && !gs.iter().any(|n| n == ".hash"),
        "libhash_gnu.so has .gnu.hash and no .hash",
        &gs.join(" "),
    );
    for lib in [&sysv, &gnu] {
        let syms = readelf(&["--dyn-syms", "-W"], lib);
        let n = syms
            .lines()
            .filter(|l| l.contains(" hash_sym_") && !l.contains(" UND "))
            .count();
        assert_fixture(n == 600, "600 hash_sym_* definitions", &syms);
    }
    let d = readelf(&["-d"], &user);
    assert_fixture(
        d.contains("[libhash_sysv.so]"),
        "libhash_user.so NEEDED libhash_sysv.so",
        &d,
    );
    let r = readelf(&["-rW"], &user);
    assert_fixture(
        r.lines().filter(|l| l.contains(" hash_sym_")).count() == 900,
        "libhash_user.so has 900 relocations against hash_sym_*",
        &r,
    );
    let prog = s.program("hash_styles.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn pc32_relocation() {
    let s = Scratch::new("pcrel");
    s.lib("libpcrel_target.so", &["pcrel_target.c"], &[]);
    let lib = s.lib(
        "libpcrel.so",
        &["pcrel.S"],
        &["-L.", "-lpcrel_target", "-Wl,-rpath,$ORIGIN"],
    );
    let r = readelf(&["-rW"], &lib);
    let pc32 = |sym: &str| {
        r.lines()
            .any(|l| l.contains("R_X86_64_PC32") && l.split_whitespace().any(|w| w == sym))
    };
    assert_fixture(
        pc32("target_var") && pc32("target_array"),
        "libpcrel.so has R_X86_64_PC32 against target_var and target_array",
        &r,
    );
    let d = readelf(&["-d"], &lib);
    assert_fixture(
        d.contains("[libpcrel_target.so]") && !d.contains("TEXTREL"),
        "libpcrel.so NEEDED libpcrel_target.so, no text relocations",
        &d,
    );
    let l = readelf(&["-lW"], &lib);
    let stack = l.lines().find(|l| l.contains("GNU_STACK")).unwrap_or("");
    assert_fixture(
        stack.contains("RW ") && !stack.contains("RWE"),
        "libpcrel.so has a non-executable stack",
        &l,
    );
    let prog = s.program("pcrel.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn wx_and_relro() {
    system_lib("libsqlite3.so.0");
    system_lib("libcrypto.so.3");
    let s = Scratch::new("wx_relro");
    let lib = s.lib("librelro.so", &["relro.c"], &["-Wl,-z,relro", "-Wl,-z,now"]);
    let l = readelf(&["-lW"], &lib);
    assert_fixture(l.contains("GNU_RELRO"), "librelro.so has PT_GNU_RELRO", &l);
    let d = readelf(&["-d"], &lib);
    assert_fixture(
        d.contains("BIND_NOW") || d.contains("Flags: NOW"),
        "librelro.so is linked -z now",
        &d,
    );
    let r = readelf(&["-rW"], &lib);
    assert_fixture(
        r.lines()
            .any(|l| l.contains("R_X86_64_GLOB_DAT") && l.contains("relro_var")),
        "librelro.so reads relro_var through the GOT",
        &r,
    );
    let prog = s.program("wx_relro.c", &[]);
    let d = readelf(&["-d"], &prog);
    assert_fixture(
        !d.contains("libsqlite3") && !d.contains("libcrypto"),
        "wx_relro does not link sqlite or crypto itself",
        &d,
    );
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn host_objects_loaded_later_are_reused() {
    system_lib("libz.so.1");
    require_header("zlib.h", "zlib1g-dev");
    let s = Scratch::new("host_reuse");
    let lib = s.lib("libzuser.so", &["zuser.c"], &["-lz"]);
    let d = readelf(&["-d"], &lib);
    assert_fixture(
        d.contains("[libz.so.1]"),
        "libzuser.so NEEDED libz.so.1",
        &d,
    );
    let prog = s.program("host_reuse.c", &["-ldl"]);
    let d = readelf(&["-d"], &prog);
    assert_fixture(
        !d.contains("[libz.so"),
        "host_reuse does not link libz itself",
        &d,
    );
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn ld_library_path_vs_runpath_and_rpath() {
    let s = Scratch::new("search_order");
    s.lib("a/libpick.so", &["pick.c"], &["-DPICK_VALUE=1"]);
    s.lib("b/libpick.so", &["pick.c"], &["-DPICK_VALUE=2"]);
    s.mkdir("empty");
    let runpath = s.lib(
        "libpicker_runpath.so",
        &["picker.c"],
        &[
            "-La",
            "-lpick",
            "-Wl,-rpath,$ORIGIN/a",
            "-Wl,--enable-new-dtags",
        ],
    );
    let rpath = s.lib(
        "libpicker_rpath.so",
        &["picker.c"],
        &[
            "-La",
            "-lpick",
            "-Wl,-rpath,$ORIGIN/a",
            "-Wl,--disable-new-dtags",
        ],
    );
    let d = readelf(&["-d"], &runpath);
    assert_fixture(
        d.contains("(RUNPATH)")
            && !d.contains("(RPATH)")
            && d.contains("[$ORIGIN/a]")
            && d.contains("[libpick.so]"),
        "libpicker_runpath.so: DT_RUNPATH $ORIGIN/a only, NEEDED libpick.so",
        &d,
    );
    let d = readelf(&["-d"], &rpath);
    assert_fixture(
        d.contains("(RPATH)")
            && !d.contains("(RUNPATH)")
            && d.contains("[$ORIGIN/a]")
            && d.contains("[libpick.so]"),
        "libpicker_rpath.so: DT_RPATH $ORIGIN/a only, NEEDED libpick.so",
        &d,
    );
    let prog = s.program("search_order.c", &[]);
    for sub in ["b", "empty"] {
        s.run_ok(
            &prog,
            &[s.dir_arg(), sub.to_string()],
            &[("LD_LIBRARY_PATH", &s.p(sub))],
        );
    }
}

#[test]
fn capability_subdirectories_on_every_search() {
    let s = Scratch::new("search_subdirs");
    s.lib("bare/libpick_bare.so", &["pick.c"], &["-DPICK_VALUE=1"]);
    s.lib("caps/libpick.so", &["pick.c"], &["-DPICK_VALUE=2"]);
    s.lib("caps/tls/libpick.so", &["pick.c"], &["-DPICK_VALUE=3"]);
    let prog = s.program("search_subdirs.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[("LD_LIBRARY_PATH", &format!("{}:{}", s.p("bare"), s.p("caps")))]);
}

#[test]
fn gnu_unique_symbol_pins_the_library() {
    let s = Scratch::new("unique_pin");
    let lib = s.lib("libunique.so", &["unique.cpp"], &["-lstdc++"]);
    let syms = readelf(&["--dyn-syms", "-W"], &lib);
    assert_fixture(syms.contains("UNIQUE"), "libunique.so defines an STB_GNU_UNIQUE symbol", &syms);
    let prog = s.program("unique_pin.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn lazy_binding_sees_later_global_libraries() {
    let s = Scratch::new("lazy_late_global");
    let user = s.lib("liblate_user.so", &["late_user.c"], &["-Wl,-z,lazy"]);
    let d = readelf(&["-dW"], &user);
    assert_fixture(!d.contains("BIND_NOW") && !d.contains("NOW"), "liblate_user.so is not -z now", &d);
    s.lib("liblate_prov.so", &["late_prov.c"], &[]);
    let prog = s.program("lazy_late_global.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn corrupted_headers_never_crash() {
    let s = Scratch::new("fuzz_headers");
    let lib = "/usr/lib/x86_64-linux-gnu/libz.so.1";
    // File ranges of the structure relink must validate: the ELF and program headers and the
    // hash tables (up to the end of .gnu.hash), the version tables, and the dynamic section.
    let sections = readelf(&["-SW"], Path::new(lib));
    let range = |name: &str| -> (usize, usize) {
        let line = sections.lines().find(|l| l.split_whitespace().any(|w| w == name));
        let f: Vec<usize> = line
            .map(|l| l[l.find(name).unwrap() + name.len()..].split_whitespace().skip(2).take(2))
            .map(|w| w.filter_map(|x| usize::from_str_radix(x, 16).ok()).collect())
            .unwrap_or_default();
        assert_eq!(f.len(), 2, "no {name} in libz's section headers:\n{sections}");
        (f[0], f[0] + f[1])
    };
    let (_, hash_end) = range(".gnu.hash");
    let (versym, _) = range(".gnu.version");
    let (_, verneed_end) = range(".gnu.version_r");
    let (dyn_lo, dyn_hi) = range(".dynamic");
    let args: Vec<String> = [0, hash_end, versym, verneed_end, dyn_lo, dyn_hi].iter().map(|v| v.to_string()).collect();
    let mut argv = vec![lib, "1000", "7"];
    argv.extend(args.iter().map(String::as_str));
    let prog = s.program("fuzz_headers.c", &[]);
    s.run_ok(&prog, &argv, &[]);
}

#[test]
fn each_symbol_is_looked_up_once() {
    let s = Scratch::new("lookup_once");
    let lib = s.lib("liblookup_once.so", &["lookup_once.c"], &["-Wl,-z,now"]);
    let r = readelf(&["-rW"], &lib);
    let strlen_relocs = r.lines().filter(|l| l.contains("strlen")).count();
    assert_fixture(strlen_relocs >= 2, "liblookup_once.so has at least two relocations against strlen", &r);
    let prog = s.program("lookup_once.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn host_rtld_local_objects_are_not_global() {
    let s = Scratch::new("host_local_scope");
    s.lib("libscope_local_def.so", &["scope_local_def.c"], &[]);
    s.lib("libscope_global_def.so", &["scope_global_def.c"], &[]);
    s.lib("libscope_uses_local.so", &["scope_uses_local.c"], &[]);
    s.lib("libscope_uses_global.so", &["scope_uses_global.c"], &[]);
    let links = s.lib("libscope_links_local.so", &["scope_uses_local.c"], &["-L.", "-lscope_local_def", "-Wl,-rpath,$ORIGIN"]);
    let d = readelf(&["-dW"], &links);
    assert_fixture(d.contains("libscope_local_def.so"), "libscope_links_local.so needs libscope_local_def.so", &d);
    let prog = s.program("host_local_scope.c", &["-ldl"]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

/// The same when the host opened those libraries before relink's first call: the objects the
/// system loader loaded at startup are global without asking it, the later ones are classified.
#[test]
fn host_rtld_local_objects_before_first_call() {
    let s = Scratch::new("host_local_first");
    s.lib("libscope_local_def.so", &["scope_local_def.c"], &[]);
    s.lib("libscope_global_def.so", &["scope_global_def.c"], &[]);
    s.lib("libscope_uses_local.so", &["scope_uses_local.c"], &[]);
    s.lib("libscope_uses_global.so", &["scope_uses_global.c"], &[]);
    let prog = s.program("host_local_first.c", &["-ldl", "-lm"]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

/// A library added to /etc/ld.so.cache by ldconfig after relink first read the cache is found
/// by the next open. The machine's /etc is left alone: the program runs in private user and
/// mount namespaces (`unshare -r -m`, which needs no privilege on Debian's kernels) where a
/// scratch directory is bind-mounted on /etc, and runs ldconfig there with a configuration
/// that lists one more directory.
#[test]
fn ld_so_cache_is_read_again_when_it_changes() {
    let s = Scratch::new("cache_reread");
    for tool in ["unshare", "ldconfig", "mount"] {
        let found = Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().expect("run sh");
        assert!(found.status.success(), "this test needs `{tool}` (util-linux, libc-bin)");
    }
    s.lib("late/libcache_late.so.1", &["cache_late.c"], &[]);
    let late_dir = s.mkdir("late");
    s.mkdir("etc");
    s.write("without.conf", b"");
    s.write("with.conf", format!("{}\n", late_dir.display()).as_bytes());
    let st = Command::new("ldconfig")
        .args(["-X", "-C", &s.p("etc/ld.so.cache"), "-f", &s.p("without.conf")])
        .status()
        .expect("run ldconfig");
    assert!(st.success(), "ldconfig -C etc/ld.so.cache failed");
    let prog = s.program("cache_reread.c", &[]);
    let script = r#"mount --bind "$1" /etc && exec "$2" "$3" "$4""#;
    let prog_s = prog.to_string_lossy().into_owned();
    let args = ["-r", "-m", "sh", "-c", script, "sh", &s.p("etc"), &prog_s, &s.dir_arg(), &s.p("with.conf")];
    s.run_ok(Path::new("/usr/bin/unshare"), &args, &[]);
}

/// relink in children of fork(): threads opening and closing real libraries while the main
/// thread forks, a constructor that forks, a child reopening an inherited handle. Once with
/// librelink.so and once linked statically (the fork handlers are registered either way).
#[test]
fn fork_safety() {
    system_lib("libz.so.1");
    system_lib("libsqlite3.so.0");
    let s = Scratch::new("fork_safety");
    s.lib("libfork_third.so", &["fork_third.c"], &[]);
    s.lib("libfork_ctor.so", &["fork_ctor.c"], &[]);
    let prog = s.program("fork_safety.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
    let prog = s.program_static("fork_safety.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn open_flags_checked_as_by_dlopen() {
    let s = Scratch::new("open_flags");
    s.lib("libsimple.so", &["simple.c"], &[]);
    let prog = s.program("open_flags.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[("LD_LIBRARY_PATH", &s.dir_arg())]);
}

#[test]
fn nodelete_handles_stay_valid() {
    let s = Scratch::new("nodelete_handle");
    s.lib("libsimple.so", &["simple.c"], &[]);
    s.copy("libsimple.so", "libnd_flag.so");
    s.copy("libsimple.so", "libnd_late.so");
    let z = s.lib("libznodelete.so", &["simple.c"], &["-Wl,-z,nodelete"]);
    let d = readelf(&["-d"], &z);
    assert_fixture(d.contains("NODELETE"), "libznodelete.so has DF_1_NODELETE", &d);
    let u = s.lib("libunique.so", &["unique.cpp"], &["-lstdc++"]);
    let syms = readelf(&["--dyn-syms", "-W"], &u);
    assert_fixture(syms.contains("UNIQUE"), "libunique.so defines an STB_GNU_UNIQUE symbol", &syms);
    let prog = s.program("nodelete_handle.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn undefined_weak_tls_reference_loads() {
    let s = Scratch::new("weak_tls");
    s.lib("libweak_tls_def.so", &["weak_tls_def.c"], &[]);
    let with_def = ["-Wl,--no-as-needed", "-L.", "-lweak_tls_def", "-Wl,-rpath,$ORIGIN"];
    // (file, extra flags, relocations against weak_tls_var it must have, expected value)
    let builds: [(&str, &[&str], &[&str], &str); 4] = [
        ("libweak_tls_gd.so", &[], &["R_X86_64_DTPMOD64", "R_X86_64_DTPOFF64"], "-1"),
        ("libweak_tls_desc.so", &["-mtls-dialect=gnu2"], &["R_X86_64_TLSDESC"], "-1"),
        ("libweak_tls_gd_def.so", &with_def, &["R_X86_64_DTPMOD64", "R_X86_64_DTPOFF64"], "7"),
        ("libweak_tls_desc_def.so", &[&["-mtls-dialect=gnu2"][..], &with_def].concat(), &["R_X86_64_TLSDESC"], "7"),
    ];
    let mut args = vec![s.dir_arg()];
    for (file, flags, relocs, expected) in builds {
        let lib = s.lib(file, &["weak_tls.c"], flags);
        let r = readelf(&["-rW"], &lib);
        let against = |ty: &str| r.lines().any(|l| l.contains(ty) && l.split_whitespace().any(|w| w == "weak_tls_var"));
        assert_fixture(relocs.iter().all(|ty| against(ty)), &format!("{file}: {relocs:?} against weak_tls_var"), &r);
        let syms = readelf(&["--dyn-syms", "-W"], &lib);
        let weak_undef = syms.lines().any(|l| l.contains("TLS") && l.contains("WEAK") && l.contains("UND") && l.contains("weak_tls_var"));
        assert_fixture(weak_undef, &format!("{file}: weak_tls_var is an undefined weak TLS symbol"), &syms);
        let d = readelf(&["-d"], &lib);
        assert_fixture(d.contains("[libweak_tls_def.so]") == (expected != "-1"), &format!("{file}: NEEDED"), &d);
        args.push(file.to_string());
        args.push(expected.to_string());
    }
    let prog = s.program("weak_tls.c", &[]);
    s.run_ok(&prog, &args, &[]);
}

#[test]
fn bindings_keep_their_targets_loaded() {
    let s = Scratch::new("bound_deps");
    let rpath = ["-L.", "-Wl,-rpath,$ORIGIN", "-Wl,-z,lazy", "-Wl,--no-as-needed"];
    let child = s.lib("libuaf_child.so", &["uaf_child.c"], &["-DUAF_DATA", "-Wl,-z,lazy"]);
    s.lib("libuaf_lchild.so", &["uaf_child.c"], &["-Wl,-z,lazy"]);
    for (parent, child) in [("libuaf_parent.so", "uaf_child"), ("libuaf_lparent.so", "uaf_lchild")] {
        let p = s.lib(parent, &["uaf_parent.c"], &[&rpath[..], &[format!("-l{child}").as_str()]].concat());
        let d = readelf(&["-d"], &p);
        assert_fixture(d.contains(&format!("[lib{child}.so]")), &format!("{parent} needs lib{child}.so"), &d);
    }
    let a = s.lib("libuaf_sib_a.so", &["uaf_sibling.c"], &["-DSELF=a", "-DOTHER=b", "-Wl,-z,lazy"]);
    s.lib("libuaf_sib_b.so", &["uaf_sibling.c"], &["-DSELF=b", "-DOTHER=a", "-Wl,-z,lazy"]);
    let root = s.lib("libuaf_siblings.so", &["uaf_siblings.c"], &[&rpath[..], &["-luaf_sib_a", "-luaf_sib_b"]].concat());
    let d = readelf(&["-d"], &child);
    assert_fixture(!d.contains("libuaf_parent"), "libuaf_child.so does not need libuaf_parent.so", &d);
    let r = readelf(&["-rW"], &child);
    assert_fixture(
        r.lines().any(|l| l.contains("R_X86_64_GLOB_DAT") && l.contains("parent_data"))
            && r.lines().any(|l| l.contains("R_X86_64_JUMP_SLOT") && l.contains("parent_value")),
        "libuaf_child.so: GLOB_DAT against parent_data, JUMP_SLOT against parent_value",
        &r,
    );
    let r = readelf(&["-rW"], &s.path("libuaf_lchild.so"));
    assert_fixture(
        !r.contains("parent_data") && r.lines().any(|l| l.contains("R_X86_64_JUMP_SLOT") && l.contains("parent_value")),
        "libuaf_lchild.so: only a JUMP_SLOT against parent_value",
        &r,
    );
    let r = readelf(&["-rW"], &a);
    assert_fixture(r.lines().any(|l| l.contains("R_X86_64_JUMP_SLOT") && l.contains("sib_b_value")), "libuaf_sib_a.so calls sib_b_value through its PLT", &r);
    let d = readelf(&["-d"], &root);
    assert_fixture(d.contains("[libuaf_sib_a.so]") && d.contains("[libuaf_sib_b.so]"), "libuaf_siblings.so needs both siblings", &d);
    let prog = s.program("bound_deps.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn lazy_binding_of_a_reused_object_sees_later_openers() {
    let s = Scratch::new("later_scope");
    let shared = s.lib("liblater_shared.so", &["later_shared.c"], &["-Wl,-z,lazy"]);
    let opener = ["-Wl,--no-as-needed", "-L.", "-llater_shared", "-Wl,-rpath,$ORIGIN"];
    s.lib("liblater_first.so", &["later_opener.c"], &[&["-DLATER_FIRST"][..], &opener].concat());
    s.lib("liblater_second.so", &["later_opener.c"], &opener);
    let d = readelf(&["-dW"], &shared);
    assert_fixture(!d.contains("NEEDED") || !d.contains("liblater"), "liblater_shared.so needs neither opener", &d);
    assert_fixture(!d.contains("BIND_NOW") && !d.contains("NOW"), "liblater_shared.so is not -z now", &d);
    let r = readelf(&["-rW"], &shared);
    let slot = |sym: &str| r.lines().any(|l| l.contains("R_X86_64_JUMP_SLOT") && l.split_whitespace().any(|w| w == sym));
    assert_fixture(
        slot("later_value") && slot("later_weak") && slot("both_value"),
        "liblater_shared.so calls later_value, later_weak and both_value through its PLT",
        &r,
    );
    let prog = s.program("later_scope.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn gnu_unique_symbols_are_process_wide() {
    let s = Scratch::new("unique_shared");
    let renamed = ["-lstdc++", "-Dshared_counter=hosted_counter"];
    let builds: [(&str, &str, &[&str], &str); 6] = [
        ("libunique_a.so", "unique.cpp", &["-lstdc++"], "_ZZ14shared_countervE1c"),
        ("libunique_b.so", "unique.cpp", &["-lstdc++"], "_ZZ14shared_countervE1c"),
        ("libunique_hosted.so", "unique.cpp", &renamed, "_ZZ14hosted_countervE1c"),
        ("libunique_c.so", "unique.cpp", &renamed, "_ZZ14hosted_countervE1c"),
        ("libnumpunct.so", "unique_numpunct.cpp", &["-lstdc++"], "_ZNSt7__cxx118numpunctIcE2idE"),
        ("libnumpunct_deep.so", "unique_numpunct.cpp", &["-lstdc++"], "_ZNSt7__cxx118numpunctIcE2idE"),
    ];
    let unique_def = |syms: &str, name: &str| {
        syms.lines().any(|l| l.contains(" UNIQUE ") && !l.contains(" UND ") && l.split_whitespace().any(|w| w == name || w.starts_with(&format!("{name}@"))))
    };
    for (file, src, flags, name) in builds {
        let lib = s.lib(file, &[src], flags);
        let syms = readelf(&["--dyn-syms", "-W"], &lib);
        assert_fixture(unique_def(&syms, name), &format!("{file} defines {name} as STB_GNU_UNIQUE"), &syms);
        let r = readelf(&["-rW"], &lib);
        assert_fixture(r.lines().any(|l| l.contains(name)), &format!("{file} refers to {name} through a relocation"), &r);
    }
    let stdcxx = readelf(&["--dyn-syms", "-W"], Path::new("/usr/lib/x86_64-linux-gnu/libstdc++.so.6"));
    assert_fixture(unique_def(&stdcxx, "_ZNSt7__cxx118numpunctIcE2idE"), "libstdc++ defines std::numpunct<char>::id as STB_GNU_UNIQUE", "");
    let prog = s.program("unique_shared.c", &["-ldl", "-Wl,--no-as-needed", "-lstdc++"]);
    let d = readelf(&["-d"], &prog);
    assert_fixture(d.contains("libstdc++"), "unique_shared is linked with libstdc++", &d);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn libraries_exporting_nothing_load() {
    let s = Scratch::new("export_nothing");
    let lib = s.lib(
        "libctor_only.so",
        &["ctor_only.c"],
        &["-fvisibility=hidden", "-Wl,--hash-style=gnu", "-Wl,-z,lazy"],
    );
    s.copy("libctor_only.so", "libctor_only_lazy.so");
    let syms = readelf(&["--dyn-syms", "-W"], &lib);
    let rows: Vec<&str> = syms.lines().filter(|l| l.trim_start().split(':').next().is_some_and(|n| n.parse::<u32>().is_ok())).collect();
    assert_fixture(
        rows.len() > 2 && rows.iter().all(|l| l.contains(" UND")) && syms.contains("setenv"),
        "libctor_only.so defines no dynamic symbol and imports setenv",
        &syms,
    );
    let d = readelf(&["-d"], &lib);
    assert_fixture(
        d.contains("(GNU_HASH)") && !d.contains("(HASH)") && d.contains("(JMPREL)"),
        "libctor_only.so has only a GNU hash table, and PLT relocations",
        &d,
    );
    let prog = s.program("export_nothing.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn rl_addr_matches_dladdr() {
    let s = Scratch::new("addr_match");
    let lib = s.lib("libaddr_syms.so", &["addr_syms.c"], &[]);
    s.copy("libaddr_syms.so", "libaddr_syms_dl.so");
    let syms = readelf(&["--dyn-syms", "-W"], &lib);
    let row = |name: &str| syms.lines().find(|l| l.split_whitespace().nth(7) == Some(name)).unwrap_or("");
    assert_fixture(
        row("addr_code_mark").split_whitespace().nth(2) == Some("0")
            && row("addr_data_mark").split_whitespace().nth(2) == Some("0")
            && row("addr_bss_small").split_whitespace().nth(2) == Some("10")
            && row("addr_func").split_whitespace().nth(1) == row("addr_func_alias").split_whitespace().nth(1),
        "libaddr_syms.so: size-0 marks, a 10-byte .bss object, an alias of addr_func",
        &syms,
    );
    let prog = s.program("addr_match.c", &["-ldl"]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn nodlopen_objects_are_refused() {
    let s = Scratch::new("noopen");
    let lib = s.lib("libnoopen.so", &["noopen.c"], &["-DNOOPEN_VALUE_FN=noopen_value", "-Wl,-z,nodlopen"]);
    s.lib(
        "libnoopen_user.so",
        &["noopen_user.c"],
        &["-DNOOPEN_VALUE_FN=noopen_value", "-L.", "-lnoopen", "-Wl,-rpath,$ORIGIN"],
    );
    s.lib("libnoopen_linked.so", &["noopen.c"], &["-DNOOPEN_VALUE_FN=noopen_linked_value", "-Wl,-z,nodlopen"]);
    s.lib(
        "libnoopen_linked_user.so",
        &["noopen_user.c"],
        &["-DNOOPEN_VALUE_FN=noopen_linked_value", "-L.", "-lnoopen_linked", "-Wl,-rpath,$ORIGIN"],
    );
    let d = readelf(&["-d"], &lib);
    assert_fixture(d.contains("NOOPEN"), "libnoopen.so has DF_1_NOOPEN", &d);
    let prog = s.program("noopen.c", &["-L.", "-lnoopen_linked"]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn error_messages_in_glibc_wording() {
    let s = Scratch::new("glibc_messages");
    make_elf32(&s);
    s.lib("libsimple.so", &["simple.c"], &[]);
    s.lib("ghost/libghost.so", &["ghost.c"], &[]);
    s.lib(
        "libneeds_missing.so",
        &["needs_missing.c"],
        &["-Wl,--no-as-needed", "-L.", "-lsimple", "-Lghost", "-lghost", "-Wl,-rpath,$ORIGIN"],
    );
    std::fs::remove_dir_all(s.path("ghost")).unwrap();
    s.lib("libunresolved.so", &["unresolved.c"], &[]);
    s.lib("libnoopen.so", &["noopen.c"], &["-DNOOPEN_VALUE_FN=noopen_value", "-Wl,-z,nodlopen"]);
    let script = |m: &str| format!("-Wl,--version-script={}", fixture(m));
    s.lib("libver.so", &["ver_two.c"], &[script("ver_two.map").as_str()]);
    s.copy("libver.so", "libver_dl.so");
    s.lib("future/libver.so", &["ver_future.c"], &[script("ver_future.map").as_str(), "-Wl,-soname,libver.so"]);
    s.lib("baz/libver.so", &["ver_baz.c"], &[script("ver_baz.map").as_str(), "-Wl,-soname,libver.so"]);
    let rpath = ["-Wl,-rpath,$ORIGIN", "-Wl,--enable-new-dtags"];
    s.lib("libconsumer_future.so", &["ver_consumer.c"], &[&["-Lfuture", "-lver"][..], &rpath].concat());
    let baz = s.lib("libconsumer_baz.so", &["ver_baz_consumer.c"], &[&["-Lbaz", "-lver"][..], &rpath].concat());
    let syms = readelf(&["--dyn-syms", "-W"], &baz);
    assert_fixture(syms.contains("baz@VER_2"), "libconsumer_baz.so references baz@VER_2", &syms);
    let prog = s.program("glibc_messages.c", &["-ldl"]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn rl_open_expands_dynamic_string_tokens() {
    let s = Scratch::new("dst_open");
    s.lib("libdst.so", &["dst_lib.c"], &["-DDST_VALUE=1"]);
    s.lib("lib/x86_64-linux-gnu/libdst_lib.so", &["dst_lib.c"], &["-DDST_VALUE=2"]);
    for (i, platform) in ["x86_64", "haswell", "xeon_phi"].iter().enumerate() {
        let v = format!("-DDST_VALUE={}", 10 + i);
        s.lib(&format!("{platform}/libdst_plat.so"), &["dst_lib.c"], &[v.as_str()]);
        s.lib(&format!("{platform}/libdst_plat_dl.so"), &["dst_lib.c"], &[v.as_str()]);
    }
    let prog = s.program("dst_open.c", &["-ldl"]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn lookups_that_depend_on_the_caller() {
    let s = Scratch::new("caller_scope");
    // Calls into librelink must stay calls (their return address names the caller).
    let cf = ["-fno-optimize-sibling-calls", "-L.", "-lrelink"];
    let next = |name: &str, value: u32, extra: &[&str]| {
        let v = format!("-DNEXT_VALUE={value}");
        let f = format!("-DNEXT_FN=next_after_{name}");
        s.lib(&format!("libnext_{name}.so"), &["next_lib.c"], &[&[v.as_str(), f.as_str()][..], &cf, extra].concat())
    };
    next("base", 3, &[]);
    next("mid", 2, &[]);
    let top = next("top", 1, &["-Wl,--no-as-needed", "-lnext_mid", "-lnext_base", "-Wl,-rpath,$ORIGIN"]);
    let d = readelf(&["-d"], &top);
    let (m, b) = (d.find("[libnext_mid.so]"), d.find("[libnext_base.so]"));
    assert_fixture(m.is_some() && b.is_some() && m < b, "libnext_top.so NEEDED libnext_mid.so, then libnext_base.so", &d);
    s.lib("libhost_next.so", &["host_next.c"], &cf);
    let def = |out: &str, name: &str, value: u32, extra: &[&str]| {
        let flags = [format!("-DDEF_VALUE_FN={name}_only_value"), format!("-DDEF_FINDS_FN=def_{name}_finds"), format!("-DDEF_VALUE={value}")];
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        s.lib(out, &["def_lib.c"], &[&flags[..], &cf, extra].concat());
    };
    def("libdef_dep.so", "dep", 22, &[]);
    def("libdef_user.so", "user", 21, &["-Wl,--no-as-needed", "-L.", "-ldef_dep", "-Wl,-rpath,$ORIGIN"]);
    let d = readelf(&["-d"], &s.path("libdef_user.so"));
    assert_fixture(d.contains("[libdef_dep.so]"), "libdef_user.so NEEDED libdef_dep.so", &d);
    s.lib("libprovider.so", &["provider.c"], &[]);
    s.lib("libsimple.so", &["simple.c"], &[]);
    s.copy("libsimple.so", "libsimple_dl.so");
    let loader = s.lib(
        "plugins/libloader.so",
        &["loader.c"],
        &[&cf[..], &["-Wl,-rpath,$ORIGIN/sub", "-Wl,--enable-new-dtags"]].concat(),
    );
    let d = readelf(&["-d"], &loader);
    assert_fixture(d.contains("(RUNPATH)") && d.contains("[$ORIGIN/sub]"), "libloader.so has DT_RUNPATH $ORIGIN/sub", &d);
    s.lib("plugins/sub/libleaf.so", &["dst_lib.c"], &["-DDST_VALUE=31"]);
    s.lib("plugins/sub2/libleaf2.so", &["dst_lib.c"], &["-DDST_VALUE=32"]);
    let prog = s.program("caller_scope.c", &["-ldl", "-L.", "-lhost_next"]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn tls_block_of_a_handle() {
    let s = Scratch::new("tls_block");
    let lib = s.lib("libtls_block.so", &["tls_block.c"], &["-ftls-model=global-dynamic"]);
    s.copy("libtls_block.so", "libtls_block_dl.so");
    s.lib("libsimple.so", &["simple.c"], &[]);
    let l = readelf(&["-lW"], &lib);
    assert_fixture(l.contains("TLS"), "libtls_block.so has PT_TLS", &l);
    let prog = s.program("tls_block.c", &["-ldl"]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

/// An IFUNC resolver run by rl_sym may call rl_sym while another thread commits an open.
#[test]
fn ifunc_resolver_called_by_rl_sym_may_use_relink() {
    let s = Scratch::new("ifunc_reenter");
    s.lib("libifunc_reenter.so", &["ifunc_reenter.c"], &[]);
    s.lib("libsimple.so", &["simple.c"], &[]);
    let prog = s.program("ifunc_reenter.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

/// A malformed .eh_frame or .eh_frame_hdr never reaches an unwinder: a search table out of order
/// is refused at open, a broken FDE is answered by `_dl_find_object` as code without unwind
/// tables and hidden from `rl_iterate_phdr`, and tables handed to `__register_frame` are walked
/// whole at open.
#[test]
fn malformed_unwind_tables_refused() {
    let s = Scratch::new("eh_frame_checked");
    let lib = s.lib("libsimple.so", &["simple.c"], &[]);
    s.lib("libfake_unwinder.so", &["fake_unwinder.c"], &[]);
    let registered = s.lib(
        "libeh_registered.so",
        &["simple.c"],
        &["-Wl,--no-as-needed", "-L.", "-lfake_unwinder", "-Wl,-rpath,$ORIGIN"],
    );
    for lib in [&lib, &registered] {
        let sections = readelf(&["-SW"], lib);
        assert_fixture(
            sections.contains(".eh_frame_hdr") && sections.contains(".eh_frame "),
            "the library has .eh_frame and .eh_frame_hdr",
            &sections,
        );
    }
    let prog = s.program("eh_frame_checked.c", &["-lgcc_s"]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

/// Program headers anywhere in the file, not only right after the ELF header, are read.
#[test]
fn hole_between_segments_is_inaccessible() {
    let s = Scratch::new("segment_gap");
    let lib = s.lib("libsegment_gap.so", &["segment_gap.c"], &[format!("-Wl,-T,{}", fixture("segment_gap.ld")).as_str()]);
    let ph = readelf(&["-lW"], &lib);
    let loads: Vec<(u64, u64, u64)> = ph
        .lines()
        .filter(|l| l.trim_start().starts_with("LOAD"))
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let hex = |i: usize| u64::from_str_radix(f.get(i)?.trim_start_matches("0x"), 16).ok();
            Some((hex(2)?, hex(5)?, hex(f.len() - 1)?))
        })
        .collect();
    assert_fixture(
        loads.len() >= 3
            && loads.iter().all(|&(_, _, align)| align == 0x1000)
            && loads.windows(2).any(|w| w[1].0 >= ((w[0].0 + w[0].1 + 0xfff) & !0xfff) + 0x10000),
        "libsegment_gap.so has page-aligned segments with a 64 KiB hole between two of them",
        &ph,
    );
    let prog = s.program("segment_gap.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn program_headers_elsewhere_in_the_file() {
    let s = Scratch::new("phdrs_elsewhere");
    s.lib("libsimple.so", &["simple.c"], &[]);
    let prog = s.program("phdrs_elsewhere.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

/// librelink's `_dl_find_object` (what libgcc's unwinder calls) finds relink's objects and
/// forwards the host's addresses to glibc's.
#[test]
fn find_object_serves_relink_and_host() {
    let s = Scratch::new("find_object");
    s.lib("libfind_obj.so", &["find_obj_lib.c"], &[]);
    let prog = s.program("find_object.c", &["-lgcc_s"]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

/// Lookups that miss allocate nothing once the thread has missed before; rl_error() still
/// tells the last miss.
#[test]
fn sym_misses_do_not_allocate() {
    let s = Scratch::new("sym_miss_alloc");
    s.lib("libfind_obj.so", &["find_obj_lib.c"], &[]);
    let prog = s.program("sym_miss_alloc.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

/// rl_error() after misses through handles with lookup tables names each miss's own library
/// and symbol, per thread.
#[test]
fn sym_miss_errors() {
    let s = Scratch::new("sym_miss_errors");
    s.lib("libsimple.so", &["simple.c"], &[]);
    s.lib("libsymtab_user.so", &["symtab_user.c"], &["-L.", "-lsimple", "-Wl,-rpath,$ORIGIN"]);
    let prog = s.program("sym_miss_errors.c", &["-lpthread"]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

/// librelink.so loaded with dlopen (not at startup) works, its per-thread state included.
#[test]
fn librelink_loaded_with_dlopen() {
    let s = Scratch::new("dlopened_relink");
    s.lib("libsimple.so", &["simple.c"], &[]);
    s.lib("libsymtab_user.so", &["symtab_user.c"], &["-L.", "-lsimple", "-Wl,-rpath,$ORIGIN", "-Wl,-z,lazy"]);
    let prog = s.program("dlopened_relink.c", &["-Wl,--as-needed", "-ldl"]);
    let d = readelf(&["-d"], &prog);
    assert_fixture(!d.contains("librelink"), "the program does not need librelink.so", &d);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

/// First calls through PLT slots allocate nothing once the thread has bound one slot.
#[test]
fn lazy_first_calls_do_not_allocate() {
    let s = Scratch::new("lazy_alloc");
    s.lib("liblazy_many_dep.so", &["lazy_many_dep.c"], &[]);
    let lib = s.lib("liblazy_many.so", &["lazy_many.c"], &["-Wl,-z,lazy", "-L.", "-llazy_many_dep", "-Wl,-rpath,$ORIGIN"]);
    let relocs = readelf(&["-r", "-W"], &lib);
    assert_fixture(relocs.matches("R_X86_64_JUMP_SLOT").count() >= 8, "liblazy_many.so calls lm_f1 ... lm_f8 through PLT slots", &relocs);
    let prog = s.program("lazy_alloc.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

/// A lookup hook closes an RL_GLOBAL library while a lazy binding searches the global scope:
/// the scope the binding started with keeps its objects mapped until it is done, and the next
/// open frees it.
#[test]
fn lazy_binding_survives_a_global_close_in_a_hook() {
    let s = Scratch::new("lazy_global_closed");
    s.lib("liblazy_many_dep.so", &["lazy_many_dep.c"], &[]);
    s.lib("liblazy_many.so", &["lazy_many.c"], &["-Wl,-z,lazy", "-L.", "-llazy_many_dep", "-Wl,-rpath,$ORIGIN"]);
    s.lib("libghost.so", &["ghost.c"], &[]);
    let prog = s.program("lazy_global_closed_in_hook.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

/// Lazy first calls take no lock of the system loader's (no dl_iterate_phdr): they go through
/// while another thread is inside glibc's dl_iterate_phdr.
#[test]
fn lazy_first_calls_do_not_wait_for_the_system_loader() {
    let s = Scratch::new("lazy_no_loader_lock");
    s.lib("liblazy_many_dep.so", &["lazy_many_dep.c"], &[]);
    s.lib("liblazy_many.so", &["lazy_many.c"], &["-Wl,-z,lazy", "-L.", "-llazy_many_dep", "-Wl,-rpath,$ORIGIN"]);
    let prog = s.program("lazy_no_loader_lock.c", &["-lpthread"]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

/// A library's own __register_frame / __deregister_frame are never called for it.
#[test]
fn own_unwinder_functions_not_called() {
    let s = Scratch::new("own_unwinder");
    let own = s.lib("libown_unwinder.so", &["own_unwinder.c"], &[]);
    let data = s.lib("libdata_unwinder.so", &["data_unwinder.c"], &[]);
    let syms = readelf(&["--dyn-syms", "-W"], &own);
    assert_fixture(
        syms.lines().any(|l| l.contains(" FUNC ") && l.trim_end().ends_with(" __register_frame")),
        "libown_unwinder.so defines the function __register_frame",
        &syms,
    );
    let syms = readelf(&["--dyn-syms", "-W"], &data);
    assert_fixture(
        syms.lines().any(|l| l.contains(" OBJECT ") && l.trim_end().ends_with(" __register_frame")),
        "libdata_unwinder.so defines __register_frame as data",
        &syms,
    );
    let prog = s.program("own_unwinder.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

/// A library's SONAME never shadows the host's objects, nor resolves its own DT_NEEDED.
#[test]
fn soname_does_not_shadow() {
    system_lib("libz.so.1");
    let s = Scratch::new("soname_shadow");
    let shadow = s.lib("libshadow_libc.so", &["shadow_libc.c"], &["-nostdlib", "-Wl,-soname,libc.so.6"]);
    let full = s.lib("libshadow_libc_full.so", &["shadow_libc.c"], &["-DSHADOW_USES_LIBC", "-Wl,-soname,libc.so.6"]);
    s.lib("stub/libselfneed.so", &["selfneed.c"], &[]);
    let selfneed = s.lib(
        "libselfneed.so",
        &["selfneed.c"],
        &["-Wl,--no-as-needed", "-Lstub", "-lselfneed", "-Wl,-rpath,$ORIGIN"],
    );
    let d = readelf(&["-dW"], &shadow);
    assert_fixture(d.contains("Library soname: [libc.so.6]") && !d.contains("(NEEDED)"), "libshadow_libc.so", &d);
    let d = readelf(&["-dW"], &full);
    assert_fixture(
        d.contains("Library soname: [libc.so.6]") && d.contains("Shared library: [libc.so.6]"),
        "libshadow_libc_full.so is libc.so.6 and needs libc.so.6",
        &d,
    );
    let d = readelf(&["-dW"], &selfneed);
    assert_fixture(
        d.contains("Library soname: [libselfneed.so]") && d.contains("Shared library: [libselfneed.so]"),
        "libselfneed.so needs itself",
        &d,
    );
    std::fs::remove_dir_all(s.path("stub")).unwrap();
    let prog = s.program("soname_shadow.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

/// A relocation place that wraps around the end of the address space is refused.
#[test]
fn relocation_place_wraparound_refused() {
    let s = Scratch::new("reloc_wrap");
    let lib = s.lib("libreloc_wrap.so", &["reloc_wrap.c"], &["-Wl,-z,lazy"]);
    let d = readelf(&["-dW"], &lib);
    assert_fixture(d.contains("(JMPREL)") && d.contains("(RELA)") && d.contains("(PLTGOT)"), "libreloc_wrap.so has RELA and JMPREL", &d);
    let prog = s.program("reloc_wrap.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

/// rl_addr skips absolute symbols and names outside the string table, as dladdr does.
#[test]
fn rl_addr_names_are_strings_of_the_object() {
    let s = Scratch::new("addr_names");
    let ver = s.lib("libver.so", &["ver_two.c"], &[format!("-Wl,--version-script={}", fixture("ver_two.map")).as_str()]);
    let syms = readelf(&["--dyn-syms", "-W"], &ver);
    assert_fixture(
        syms.lines().any(|l| l.contains(" ABS ") && l.trim_end().ends_with("VER_2")),
        "libver.so has the absolute symbol VER_2",
        &syms,
    );
    s.lib("libsimple.so", &["simple.c"], &[]);
    let prog = s.program("addr_names.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

/// EI_OSABI, EI_ABIVERSION and e_ident padding as glibc checks them.
#[test]
fn elf_identification_checked() {
    let s = Scratch::new("header_checks");
    s.lib("libsimple.so", &["simple.c"], &[]);
    let prog = s.program("header_checks.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

// ---------------------------------------------------------------------------------------------
// Relocatable objects and static archives (rl_link, .o/.a through rl_open)

/// obj_all.c compiled for each code model: (variant, compiler flags).
const OBJ_VARIANTS: &[(&str, &[&str])] = &[
    ("fpic", &["-fPIC"]),
    ("fpie", &["-fPIE"]),
    ("fno-pic", &["-fno-pic"]),
    ("large", &["-mcmodel=large"]),
    ("large-nopic", &["-mcmodel=large", "-fno-pic"]),
    ("O0-sections", &["-O0", "-ffunction-sections", "-fdata-sections", "-fcommon"]),
];

/// The unit cache directory of a scratch dir: created empty (mode 0700) on first use.
fn unit_cache_dir(s: &Scratch) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = s.path("unit-cache");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    dir
}

/// The entries of a unit cache directory (file names of 32 hex digits).
fn unit_cache_entries(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().is_some_and(|n| n.len() == 32 && n.bytes().all(|b| b.is_ascii_hexdigit())))
        .collect();
    v.sort();
    v
}

/// Runs `prog` (built with -DCHECK_UNIT_CACHE) with the unit cache `cache` and RELINK_DEBUG=files;
/// returns its report (standard error).
fn run_with_unit_cache(s: &Scratch, prog: &Path, args: &[String], cache: &Path, env: &[(&str, &str)]) -> String {
    let mut env = env.to_vec();
    let cache = cache.to_string_lossy();
    env.extend([("CHECK_UNIT_CACHE", &*cache), ("RELINK_DEBUG", "files")]);
    s.run_ok(prog, args, &env);
    std::fs::read_to_string(s.path(&format!("{}.stderr", prog.file_name().unwrap().to_string_lossy()))).unwrap()
}

/// Runs the test program `src` (built with `extra` and -DCHECK_UNIT_CACHE) twice with a fresh
/// unit cache: the first run links its units and writes at least `cached` of them to the cache,
/// the second maps each of those from the cache, writes none, and passes the same checks.
fn again_from_unit_cache(s: &Scratch, src: &str, extra: &[&str], args: &[String], env: &[(&str, &str)], cached: usize) {
    let stem = src.trim_end_matches(".c");
    let mut flags = extra.to_vec();
    flags.push("-DCHECK_UNIT_CACHE");
    let prog = s.program_as(&format!("{stem}_cached"), src, &flags);
    let cache = unit_cache_dir(s);
    // Entries are written only for inputs unchanged for more than a second.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let first = run_with_unit_cache(s, &prog, args, &cache, env);
    let wrote = first.matches("unit cache: wrote").count();
    assert!(wrote >= cached && unit_cache_entries(&cache).len() == wrote, "{src}: {wrote} units written to the cache, {cached} expected:\n{first}");
    let second = run_with_unit_cache(s, &prog, args, &cache, env);
    assert!(
        second.matches(" mapped from ").count() >= wrote && !second.contains("unit cache: wrote"),
        "{src}: the second run must map the {wrote} cached units and write none:\n{second}"
    );
}

#[test]
fn objects_of_every_code_model() {
    let s = Scratch::new("obj_load");
    for (v, flags) in OBJ_VARIANTS {
        s.object(&format!("obj_{v}.o"), "obj_all.c", flags);
    }
    let relocs = |v: &str| readelf(&["-rW"], &s.path(&format!("obj_{v}.o")));
    let (pie, nopic, large) = (relocs("fpie"), relocs("fno-pic"), relocs("large"));
    assert_fixture(pie.contains("R_X86_64_PC32") && pie.contains("stdout"), "-fPIE reaches stdout PC-relative", &pie);
    assert_fixture(nopic.contains("R_X86_64_32 "), "-fno-pic has 32-bit absolute relocations", &nopic);
    assert_fixture(
        large.contains("R_X86_64_GOTPC64") && large.contains("R_X86_64_PLTOFF64") && large.contains("R_X86_64_GOTOFF64"),
        "-mcmodel=large uses GOTPC64, PLTOFF64 and GOTOFF64",
        &large,
    );
    let syms = readelf(&["-sW"], &s.path("obj_O0-sections.o"));
    assert_fixture(syms.contains("COM") && syms.contains("obj_zero"), "-fcommon makes obj_zero COMMON", &syms);

    // A PIE host: its copy of stdout is far above the low 2 GiB that -fno-pic code needs.
    let prog = s.program("obj_load.c", &[]);
    s.run_ok(&prog, &[s.dir_arg().as_str(), "fpic", "fpie", "large", "large-nopic", "O0-sections", "!fno-pic"], &[]);
    // A non-PIE host: every variant, -fno-pic placed in the low 2 GiB next to the host's stdout.
    let prog = s.program_as("obj_load_nopie", "obj_load.c", &["-no-pie"]);
    let mut args = vec![s.dir_arg()];
    args.extend(OBJ_VARIANTS.iter().map(|(v, _)| v.to_string()));
    s.run_ok(&prog, &args, &[]);
    // Cached units: position independent (the -fPIC and -O0 ones; not the others, whose
    // images depend on where they are: a placement window, or their own addresses in code).
    let args: Vec<String> = [s.dir_arg().as_str(), "fpic", "fpie", "large", "large-nopic", "O0-sections", "!fno-pic"].map(String::from).to_vec();
    again_from_unit_cache(&s, "obj_load.c", &[], &args, &[], 2);
}

#[test]
fn rl_link_several_objects() {
    let s = Scratch::new("link_objects");
    for src in ["link_a.c", "link_b.c", "link_dup.c", "link_undef.c"] {
        s.object(&src.replace(".c", ".o"), src, &[]);
    }
    let prog = s.program("link_objects.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn link_gathers_c_identifier_sections() {
    let s = Scratch::new("link_sections");
    for src in ["link_items_a.c", "link_items_b.c"] {
        s.object(&src.replace(".c", ".o"), src, &[]);
    }
    let prog = s.program("link_sections.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

/// A system library's path as a program argument (asserts it is installed).
fn system_arg(name: &str) -> String {
    system_lib(name).to_string_lossy().into_owned()
}

#[test]
fn archive_libz() {
    let libz = system_arg("libz.a");
    require_header("zlib.h", "zlib1g-dev");
    let s = Scratch::new("archive_zlib");
    s.object("arc_zlib_user.o", "arc_zlib_user.c", &[]);
    let prog = s.program("archive_zlib.c", &[]);
    s.run_ok(&prog, &[s.dir_arg(), libz.clone()], &[]);
    again_from_unit_cache(&s, "archive_zlib.c", &[], &[s.dir_arg(), libz], &[], 2);
}

#[test]
fn archive_sqlite_with_object() {
    let sqlite = system_arg("libsqlite3.a");
    require_header("sqlite3.h", "libsqlite3-dev");
    let s = Scratch::new("archive_sqlite");
    s.object("arc_sqlite_user.o", "arc_sqlite_user.c", &[]);
    // The host must not have libm (it uses no math): the unit gets it as an input.
    let prog = s.program("archive_sqlite.c", &["-Wl,--as-needed"]);
    let d = readelf(&["-d"], &prog);
    assert!(!d.contains("[libm.so"), "archive_sqlite must not link libm:\n{d}");
    s.run_ok(&prog, &[s.dir_arg(), sqlite.clone()], &[]);
    again_from_unit_cache(&s, "archive_sqlite.c", &["-Wl,--as-needed"], &[s.dir_arg(), sqlite], &[], 1);
}

/// The members of `archive` that `ld` links together with `objects` (its link map), and the
/// global functions each member of the archive defines.
fn ld_members(s: &Scratch, objects: &[&str], archive: &str) -> (Vec<String>, Vec<(String, Vec<String>)>) {
    let main = s.write("ld_main.c", b"int main(void) { return 0; }\n");
    let out = Command::new(compiler())
        .current_dir(&s.dir)
        .arg(&main)
        .args(objects)
        .arg(archive)
        .args(["-o", "ld_members.out", "-Wl,-M"])
        .output()
        .expect("run the compiler");
    assert!(out.status.success(), "linking with ld failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let map = String::from_utf8_lossy(&out.stdout).into_owned();
    let prefix = format!("{archive}(");
    let mut pulled: Vec<String> = map
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix).and_then(|r| r.split(')').next()).map(str::to_string))
        .collect();
    pulled.sort();
    pulled.dedup();
    // Global default-visibility functions of each member, from readelf's symbol tables.
    let syms = Command::new("readelf").args(["-sW", archive]).output().expect("run readelf");
    let mut defs: Vec<(String, Vec<String>)> = Vec::new();
    let mut hidden = std::collections::HashSet::new();
    for l in String::from_utf8_lossy(&syms.stdout).lines() {
        if let Some(member) = l.strip_prefix("File: ").and_then(|f| f.strip_prefix(&prefix)).and_then(|r| r.strip_suffix(')')) {
            defs.push((member.to_string(), Vec::new()));
            continue;
        }
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() == 8 && f[5] != "DEFAULT" {
            // Declared hidden somewhere: hidden in the link too (the most constraining visibility).
            hidden.insert(f[7].to_string());
        }
        if f.len() == 8 && f[3] == "FUNC" && f[4] == "GLOBAL" && f[5] == "DEFAULT" && f[6] != "UND" {
            if let Some((_, v)) = defs.last_mut() {
                v.push(f[7].to_string());
            }
        }
    }
    for (_, v) in defs.iter_mut() {
        v.retain(|s| !hidden.contains(s));
    }
    defs.retain(|(_, v)| !v.is_empty());
    (pulled, defs)
}

#[test]
fn archive_crypto_members_as_ld_links_them() {
    let crypto = system_arg("libcrypto.a");
    require_header("openssl/sha.h", "libssl-dev");
    let s = Scratch::new("archive_crypto");
    let obj = s.object("arc_crypto_user.o", "arc_crypto_user.c", &[]);
    let (pulled, defs) = ld_members(&s, &[obj.to_str().unwrap()], &crypto);
    assert!(pulled.len() > 10, "ld linked only {pulled:?}");
    // Each member ld links: one of its functions must be found. Members it leaves out: none of
    // their functions may be (unless a linked member defines the name too).
    let linked: std::collections::HashSet<&str> =
        defs.iter().filter(|(m, _)| pulled.contains(m)).flat_map(|(_, v)| v.iter().map(String::as_str)).collect();
    let mut list = String::new();
    for (m, syms) in &defs {
        if pulled.contains(m) {
            list += &format!("+{}\n", syms[0]);
        }
    }
    let mut absent = 0;
    for (m, syms) in &defs {
        if !pulled.contains(m) && absent < 100 {
            if let Some(sym) = syms.iter().find(|x| !linked.contains(x.as_str())) {
                list += &format!("-{sym}\n");
                absent += 1;
            }
        }
    }
    s.write("members.txt", list.as_bytes());
    let prog = s.program("archive_crypto.c", &[]);
    s.run_ok(&prog, &[s.dir_arg(), crypto, s.p("members.txt")], &[]);
}

#[test]
fn archive_icu_cxx() {
    let (uc, data, stdcxx) = (system_arg("libicuuc.a"), system_arg("libicudata.a"), system_arg("libstdc++.so.6"));
    require_header("unicode/ustring.h", "libicu-dev");
    let s = Scratch::new("archive_icu");
    s.object("arc_icu_user.o", "arc_icu_user.c", &[]);
    let prog = s.program("archive_icu.c", &["-Wl,--no-as-needed", "-lstdc++"]);
    s.run_ok(&prog, &[s.dir_arg(), uc, data, stdcxx], &[]);
}

#[test]
fn cxx_objects_comdat_exceptions_ctors() {
    let stdcxx = system_arg("libstdc++.so.6");
    let s = Scratch::new("cxx_objects");
    let a = s.object("cxx_obj_a.o", "cxx_obj_a.cpp", &[]);
    s.object("cxx_obj_b.o", "cxx_obj_b.cpp", &[]);
    let groups = readelf(&["-gW"], &a);
    assert_fixture(groups.contains("COMDAT") && groups.contains("_ZZ14shared_countervE1n"), "the static local is in a COMDAT group", &groups);
    let prog = s.program("cxx_objects.c", &[]);
    let d = readelf(&["-d"], &prog);
    assert!(!d.contains("libstdc++"), "the host must not link libstdc++:\n{d}");
    s.run_ok(&prog, &[s.dir_arg(), stdcxx.clone()], &[]);
    // -fPIC: no PC-relative reference to libstdc++'s data, no placement window; cached.
    s.object("cxx_obj_a.o", "cxx_obj_a.cpp", &["-fPIC"]);
    s.object("cxx_obj_b.o", "cxx_obj_b.cpp", &["-fPIC"]);
    again_from_unit_cache(&s, "cxx_objects.c", &[], &[s.dir_arg(), stdcxx], &[], 1);
}

/// A unit's .eh_frame_hdr has the search table `ld --eh-frame-hdr` writes (sorted, one entry
/// for each FDE that covers code): unwinders binary-search it, an exception and a backtrace go
/// through functions that are not its first, and it agrees with the walk of .eh_frame that
/// `rl_iterate_phdr` makes; the same for the unit mapped from the unit cache.
#[test]
fn unit_eh_frame_hdr_search_table() {
    let stdcxx = system_arg("libstdc++.so.6");
    let s = Scratch::new("unit_eh_table");
    s.object("unit_eh_a.o", "unit_eh_a.cpp", &[]);
    s.object("unit_eh_b.o", "unit_eh_b.cpp", &[]);
    let prog = s.program("unit_eh_table.c", &["-lgcc_s"]);
    s.run_ok(&prog, &[s.dir_arg(), stdcxx.clone()], &[]);
    // -fPIC: no placement window (libstdc++'s typeinfo is reached through the GOT); cached.
    s.object("unit_eh_a.o", "unit_eh_a.cpp", &["-fPIC"]);
    s.object("unit_eh_b.o", "unit_eh_b.cpp", &["-fPIC"]);
    again_from_unit_cache(&s, "unit_eh_table.c", &["-lgcc_s"], &[s.dir_arg(), stdcxx], &[], 1);
}

#[test]
fn object_initializer_order() {
    let s = Scratch::new("init_order");
    s.object("obj_order_a.o", "obj_order.c", &["-DSIDE=a", "-DSIDE_IS_A=1"]);
    s.object("obj_order_b.o", "obj_order.c", &["-DSIDE=b", "-DSIDE_IS_A=0"]);
    s.object("obj_preinit.o", "obj_preinit.c", &[]);
    let sections = readelf(&["-SW"], &s.path("obj_order_a.o"));
    for sec in [".init ", ".fini ", ".ctors ", ".dtors ", ".init_array.00150", ".ctors.65000"] {
        assert_fixture(sections.contains(sec), &format!("obj_order_a.o has {sec}"), &sections);
    }
    // The reference: ld links the same objects into a shared library.
    let mut ld = Command::new(compiler());
    ld.current_dir(&s.dir).args(["-shared", "-o", "liborder.so", "obj_order_a.o", "obj_order_b.o"]);
    run_build(ld);
    let prog = s.program("init_order.c", &[]);
    s.run_ok(&prog, &[s.dir_arg(), s.p("liborder.so")], &[]);
    again_from_unit_cache(&s, "init_order.c", &[], &[s.dir_arg(), s.p("liborder.so")], &[], 1);
}

/// obj_tls.c and obj_tls_other.c compiled for each TLS access model: (variant, flags, models).
const TLS_VARIANTS: &[(&str, &[&str], &[&str])] = &[
    ("fpic", &["-fPIC"], &["R_X86_64_TLSGD", "R_X86_64_TLSLD"]),
    ("gnu2", &["-fPIC", "-mtls-dialect=gnu2"], &["R_X86_64_GOTPC32_TLSDESC"]),
    ("fpie", &["-fPIE"], &["R_X86_64_TPOFF32", "R_X86_64_GOTTPOFF"]),
    ("fno-pic", &["-fno-pic"], &["R_X86_64_TPOFF32", "R_X86_64_GOTTPOFF"]),
];

fn tls_objects(test: &str, variants: &[&str]) {
    let s = Scratch::new(test);
    for (v, flags, models) in TLS_VARIANTS.iter().filter(|(v, ..)| variants.contains(v)) {
        let o = s.object(&format!("obj_tls_{v}.o"), "obj_tls.c", flags);
        s.object(&format!("obj_tls_other_{v}.o"), "obj_tls_other.c", flags);
        let r = readelf(&["-rW"], &o);
        for m in *models {
            assert_fixture(r.contains(m), &format!("obj_tls_{v}.o uses {m}"), &r);
        }
    }
    let prog = s.program("obj_tls.c", &[]);
    let mut args = vec![s.dir_arg()];
    args.extend(variants.iter().map(|v| v.to_string()));
    s.run_ok(&prog, &args, &[]);
}

#[test]
fn object_tls_general_dynamic_and_descriptors() {
    tls_objects("obj_tls_dynamic", &["fpic", "gnu2"]);
}

#[test]
fn object_tls_initial_and_local_exec() {
    tls_objects("obj_tls_static", &["fpie", "fno-pic"]);
}

#[test]
fn units_mixed_with_shared_libraries() {
    let s = Scratch::new("mixed_units");
    s.lib("libmix_dep.so", &["mix_dep.c"], &[]);
    s.lib("libmix_provider.so", &["mix_provider.c"], &[]);
    s.lib("libmix_late.so", &["mix_late.c"], &[]);
    let o = s.object("mix_user.o", "mix_user.c", &["-fPIE"]);
    let r = readelf(&["-rW"], &o);
    assert_fixture(r.contains("R_X86_64_PC32") && r.contains("mix_dep_data"), "mix_user.o reaches mix_dep_data PC-relative", &r);
    let prog = s.program("mixed_units.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
    // -fPIC: no placement window, so the unit is cached (hooks, events, RL_GLOBAL as before).
    s.object("mix_user.o", "mix_user.c", &["-fPIC"]);
    again_from_unit_cache(&s, "mixed_units.c", &[], &[s.dir_arg()], &[], 1);
}

#[test]
fn malformed_objects_and_archives() {
    let s = Scratch::new("obj_bad_input");
    s.object("bad_base.o", "bad_base.c", &[]);
    s.object("bad_base_lto.o", "bad_base.c", &["-flto"]);
    let prog = s.program("obj_bad_input.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

#[test]
fn object_open_close_cycles_leak_nothing() {
    let s = Scratch::new("obj_cycles");
    s.object("obj_fpic.o", "obj_all.c", &["-fPIC"]);
    s.object("link_a.o", "link_a.c", &[]);
    s.object("link_b.o", "link_b.c", &[]);
    let prog = s.program("obj_cycles.c", &[]);
    // Without the per-thread malloc caches, whose freed chunks count as in use and vary by
    // several KiB from one run to the next.
    s.run_ok(&prog, &[s.dir_arg()], &[("GLIBC_TUNABLES", "glibc.malloc.tcache_count=0")]);
    // Units mapped from the unit cache leak nothing either.
    again_from_unit_cache(&s, "obj_cycles.c", &[], &[s.dir_arg()], &[("GLIBC_TUNABLES", "glibc.malloc.tcache_count=0")], 2);
}

/// The unit cache's test program and fixtures, built in a scratch dir whose inputs have settled
/// (entries are written only for inputs unchanged for more than a second).
fn unit_cache_scratch(name: &str) -> (Scratch, std::path::PathBuf, std::path::PathBuf) {
    let s = Scratch::new(name);
    s.object("cache_seed.o", "cache_seed.c", &["-fPIC"]);
    s.object("cache_seed_nopic.o", "cache_seed.c", &["-fno-pic"]);
    s.object("cache_stdout.o", "cache_stdout.c", &["-fPIE"]);
    s.object("cache_import.o", "cache_import.c", &["-fPIE"]);
    s.object("obj_tls_fpie.o", "obj_tls.c", &["-fPIE"]);
    s.object("obj_tls_other_fpie.o", "obj_tls_other.c", &["-fPIE"]);
    s.lib("libcache_provider.so", &["cache_provider.c"], &[]);
    let prog = s.program("unit_cache.c", &[]);
    let cache = unit_cache_dir(&s);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    (s, prog, cache)
}

/// One step of unit_cache.c; returns its RELINK_DEBUG=files report.
fn unit_cache_step(s: &Scratch, prog: &Path, cache: &Path, step: &[&str]) -> String {
    let mut args = vec![s.dir_arg(), cache.to_string_lossy().into_owned()];
    args.extend(step.iter().map(|a| a.to_string()));
    s.run_ok(prog, &args, &[("RELINK_DEBUG", "files")]);
    std::fs::read_to_string(s.path("unit_cache.stderr")).unwrap()
}

/// A hit maps the entry: a constant patched in the entry's image is what the next process
/// gets; a changed input is a miss that writes a new entry.
#[test]
fn unit_cache_hit_maps_the_entry() {
    let (s, prog, cache) = unit_cache_scratch("unit_cache_hit");
    let first = unit_cache_step(&s, &prog, &cache, &["seed", "5eed1234"]);
    let entries = unit_cache_entries(&cache);
    assert!(first.contains("unit cache: wrote") && entries.len() == 1, "one entry written:\n{first}");
    let entry = &entries[0];
    let mut bytes = std::fs::read(entry).unwrap();
    let at = bytes.windows(4).position(|w| w == 0x5eed1234u32.to_le_bytes()).expect("the constant in the entry");
    bytes[at..at + 4].copy_from_slice(&0x5eed4321u32.to_le_bytes());
    std::fs::write(entry, &bytes).unwrap();
    let second = unit_cache_step(&s, &prog, &cache, &["seed", "5eed4321"]);
    assert!(second.contains(" mapped from ") && !second.contains("unit cache: wrote"), "a hit:\n{second}");
    // A changed input (its times) is another key: linked again, a new entry.
    run_build({
        let mut c = Command::new("touch");
        c.arg(s.path("cache_seed.o"));
        c
    });
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let third = unit_cache_step(&s, &prog, &cache, &["seed", "5eed1234"]);
    assert!(third.contains("unit cache: wrote") && unit_cache_entries(&cache).len() == 2, "linked again and written:\n{third}");
    let fourth = unit_cache_step(&s, &prog, &cache, &["seed", "5eed1234"]);
    assert!(fourth.contains(" mapped from "), "the new entry is used:\n{fourth}");
}

/// Entries and directories someone else could have written, damaged entries: misses (or no
/// cache at all) that still link correctly, each replacing the entry.
#[test]
fn unit_cache_untrusted_or_damaged_entries_are_misses() {
    use std::os::unix::fs::PermissionsExt;
    let (s, prog, cache) = unit_cache_scratch("unit_cache_damaged");
    let first = unit_cache_step(&s, &prog, &cache, &["seed", "5eed1234"]);
    assert!(first.contains("unit cache: wrote"), "{first}");
    let entry = unit_cache_entries(&cache).remove(0);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&entry), 0o600, "entries are private");
    let bytes = std::fs::read(&entry).unwrap();
    type Spoil<'a> = Box<dyn Fn() + 'a>;
    let damage: Vec<(&str, Spoil)> = vec![
        ("group-writable", Box::new(|| std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o620)).unwrap())),
        ("other-writable", Box::new(|| std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o602)).unwrap())),
        ("truncated", Box::new(|| std::fs::write(&entry, &bytes[..bytes.len() / 2]).unwrap())),
        ("garbage trailer", Box::new(|| {
            let mut b = bytes.clone();
            let n = b.len();
            for (i, x) in b[n - 200..n - 16].iter_mut().enumerate() {
                *x = i as u8 ^ 0x5a;
            }
            std::fs::write(&entry, &b).unwrap()
        })),
        ("unknown relocation type", Box::new(|| {
            // Sound to map, refused when relocated: the first dynamic relocation's type.
            let mut b = bytes.clone();
            let word = |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap()) as usize;
            let (phoff, phnum) = (word(&b, 32), u16::from_le_bytes([b[56], b[57]]) as usize);
            let dynamic = (0..phnum).map(|i| phoff + 56 * i).find(|&p| b[p..p + 4] == 2u32.to_le_bytes()).map(|p| word(&b, p + 8)).unwrap();
            let rela = (0..).map(|i| dynamic + 16 * i).find(|&d| word(&b, d) == 7).map(|d| word(&b, d + 8)).unwrap();
            b[rela + 8..rela + 12].copy_from_slice(&0xfeu32.to_le_bytes());
            std::fs::write(&entry, &b).unwrap()
        })),
        ("a symbolic link", Box::new(|| {
            std::fs::copy(&entry, s.path("entry-copy")).unwrap();
            std::fs::remove_file(&entry).unwrap();
            std::os::unix::fs::symlink(s.path("entry-copy"), &entry).unwrap();
        })),
    ];
    for (what, spoil) in &damage {
        spoil();
        let out = unit_cache_step(&s, &prog, &cache, &["seed", "5eed1234"]);
        let missed = out.contains("unit cache: miss") || out.contains("failed to load: removed");
        assert!(missed && out.contains("unit cache: wrote"), "{what} entry: a miss, replaced:\n{out}");
        assert!(std::fs::symlink_metadata(&entry).unwrap().file_type().is_file() && mode(&entry) == 0o600, "{what}: replaced");
        let again = unit_cache_step(&s, &prog, &cache, &["seed", "5eed1234"]);
        assert!(again.contains(" mapped from "), "{what}: the replaced entry is a hit:\n{again}");
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        // Owned by someone else.
        std::os::unix::fs::chown(&entry, Some(65534), Some(65534)).unwrap();
        let out = unit_cache_step(&s, &prog, &cache, &["seed", "5eed1234"]);
        assert!(out.contains("unit cache: miss") && out.contains("unit cache: wrote"), "an entry of another user: a miss:\n{out}");
        std::os::unix::fs::chown(&cache, Some(65534), Some(65534)).unwrap();
        let out = unit_cache_step(&s, &prog, &cache, &["seed", "5eed1234"]);
        assert!(out.contains("not a directory of this user") && !out.contains("unit cache: wrote"), "a directory of another user: no cache:\n{out}");
        std::os::unix::fs::chown(&cache, Some(0), Some(0)).unwrap();
    }
    // A directory others can write into: no cache at all.
    std::fs::remove_file(&entry).unwrap();
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = unit_cache_step(&s, &prog, &cache, &["seed", "5eed1234"]);
    assert!(out.contains("not a directory of this user") && unit_cache_entries(&cache).is_empty(), "no cache:\n{out}");
}

/// What the link asked the scope must still hold at a hit: a shared-object input that no longer
/// defines an import as it did is a miss (and an undefined import is reported against the input
/// that needs it).
#[test]
fn unit_cache_checks_what_the_scope_said() {
    let (s, prog, cache) = unit_cache_scratch("unit_cache_scope");
    let first = unit_cache_step(&s, &prog, &cache, &["import"]);
    assert!(first.contains("unit cache: wrote"), "{first}");
    let hit = unit_cache_step(&s, &prog, &cache, &["import"]);
    assert!(hit.contains(" mapped from "), "{hit}");
    s.lib("libcache_provider.so", &["cache_provider.c"], &["-DAS_DATA"]);
    let data = unit_cache_step(&s, &prog, &cache, &["import-data"]);
    assert!(
        data.contains("unit cache: miss") && data.contains("cache_provided is not defined as it was") && data.contains("not cached: its 32-bit fields need a placement window"),
        "cache_provided is data now: a miss, and the unit is placed near it:\n{data}"
    );
    s.lib("libcache_provider.so", &["cache_provider.c"], &["-DWITHOUT"]);
    let none = unit_cache_step(&s, &prog, &cache, &["import-none"]);
    assert!(none.contains("unit cache: miss") && none.contains("cache_provided is not defined as it was"), "cache_provided is gone: a miss:\n{none}");
}

/// Units whose image depends on where they are mapped, or on memory the caller gave, are never
/// written to the cache.
#[test]
fn unit_cache_never_holds_placed_static_tls_or_memory_units() {
    let (s, prog, cache) = unit_cache_scratch("unit_cache_never");
    let out = unit_cache_step(&s, &prog, &cache, &["never"]);
    assert!(unit_cache_entries(&cache).is_empty() && !out.contains("unit cache: wrote"), "nothing cached:\n{out}");
    for why in ["cache_seed_nopic.o not cached: its 32-bit fields need a placement window", "cache_stdout.o not cached: its 32-bit fields need a placement window", "needs a block of static TLS"] {
        assert!(out.contains(why), "reported: {why}\n{out}");
    }
}

#[test]
fn object_ifunc() {
    let s = Scratch::new("obj_ifunc");
    for (v, flags) in [("fpic", &["-fPIC"][..]), ("fpie", &["-fPIE"]), ("fno-pic", &["-fno-pic"])] {
        let o = s.object(&format!("obj_ifunc_{v}.o"), "obj_ifunc.c", flags);
        let syms = readelf(&["-sW"], &o);
        assert_fixture(syms.contains("IFUNC"), "pick is an IFUNC", &syms);
    }
    let prog = s.program("obj_ifunc.c", &[]);
    s.run_ok(&prog, &[s.dir_arg().as_str(), "fpic", "fpie", "fno-pic"], &[]);
}

#[test]
fn object_relocation_types() {
    let s = Scratch::new("obj_relocs");
    let o = s.object("obj_relocs.o", "obj_relocs.S", &[]);
    let r = readelf(&["-rW"], &o);
    for ty in [
        "R_X86_64_PC64",
        "R_X86_64_GOTPC64",
        "R_X86_64_GOTOFF64",
        "R_X86_64_GOT64",
        "R_X86_64_GOTPCREL64",
        "R_X86_64_PLTOFF64",
        "R_X86_64_SIZE64",
        "R_X86_64_SIZE32",
        "R_X86_64_GOTPC32",
        "R_X86_64_GOT32",
        "R_X86_64_REX_GOTPCRELX",
    ] {
        assert_fixture(r.contains(ty), &format!("obj_relocs.o has {ty}"), &r);
    }
    let prog = s.program("obj_relocs.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

/// Handles are unguessable tokens: small integers and neighbours of real handles are rejected.
#[test]
fn handles_are_unguessable_tokens() {
    let s = Scratch::new("handle_tokens");
    s.lib("libsimple.so", &["simple.c"], &[]);
    let prog = s.program("handle_tokens.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

/// An unmodified non-PIE program run with librelink_preload.so: plugins, a malloc wrapper that
/// finds the real malloc with dlsym(RTLD_NEXT), RTLD_DEFAULT/RTLD_NEXT from a plugin, dlopen from
/// a plugin with its RUNPATH, dlerror's wording, dladdr/dladdr1/dlinfo, dlopen(NULL), dlmopen,
/// dl_iterate_phdr, a C++ exception and a backtrace across plugins, threads, fork and exec.
#[test]
fn preload_nopie_program() {
    let s = Scratch::new("preload_nopie");
    s.lib("sub/libpl_nested.so", &["pl_nested.c"], &[]);
    s.lib("libpl_plugin.so", &["pl_plugin.c"], &["-Wl,--enable-new-dtags,-rpath,$ORIGIN/sub"]);
    let cxx = |out: &str, src: &str| {
        let mut cmd = Command::new(cxx_compiler());
        cmd.current_dir(&s.dir).args(BASE_CFLAGS).args(["-shared", "-fPIC"]).arg(fixture(src)).arg("-o").arg(s.path(out));
        run_build(cmd);
    };
    cxx("libpl_catch.so", "pl_catch.cpp");
    cxx("libpl_throw.so", "pl_throw.cpp");
    let prog = s.plain_program("preload_program.c", "preload_program", &["-fno-pie", "-no-pie", "-lpthread"]);
    let h = readelf(&["-h"], &prog);
    assert_fixture(h.contains("EXEC (Executable file)"), "preload_program is not position-independent", &h);

    let preload = preload_so();
    let out = s.run_ok(
        &prog,
        &[s.dir_arg()],
        &[("LD_PRELOAD", preload.to_str().unwrap()), ("RELINK_DEBUG", "files"), ("RELINK_DEBUG_OUTPUT", &s.p("debug"))],
    );
    assert!(out.contains("checks passed"));
    // relink, not glibc, mapped every plugin, in the program and in the child after exec.
    let mapped = s.debug_files("debug");
    for lib in ["libpl_plugin.so", "sub/libpl_nested.so", "libpl_catch.so", "libpl_throw.so"] {
        let want = s.p(lib);
        assert!(mapped.contains(&want), "relink did not map {want}; RELINK_DEBUG=files reported {mapped:#?}");
    }
    let processes = fs_count_prefixed(&s, "debug");
    assert!(processes >= 2, "RELINK_DEBUG_OUTPUT.PID of the exec'd child is missing ({processes} files)");

    // RELINK_PRELOAD_EXCLUDE leaves the libraries it names to glibc (dlsym, dlclose and the C++
    // exception go to glibc's for those), the others to relink.
    s.run_ok(
        &prog,
        &[s.dir_arg()],
        &[
            ("LD_PRELOAD", preload.to_str().unwrap()),
            ("RELINK_PRELOAD_EXCLUDE", "*_throw.so:libpl_nothing.so"),
            ("RELINK_DEBUG", "files"),
            ("RELINK_DEBUG_OUTPUT", &s.p("excluded")),
        ],
    );
    let mapped = s.debug_files("excluded");
    assert!(mapped.contains(&s.p("libpl_plugin.so")), "{mapped:#?}");
    assert!(!mapped.contains(&s.p("libpl_throw.so")), "RELINK_PRELOAD_EXCLUDE did not leave libpl_throw.so to glibc: {mapped:#?}");
}

fn fs_count_prefixed(s: &Scratch, prefix: &str) -> usize {
    std::fs::read_dir(&s.dir).unwrap().flatten().filter(|e| e.file_name().to_string_lossy().starts_with(&format!("{prefix}."))).count()
}

/// RELINK_DEBUG in a program linking librelink.so: every category reports into
/// RELINK_DEBUG_OUTPUT.PID, `help` lists the options and exits, an unknown option is warned of.
#[test]
fn debug_report() {
    let s = Scratch::new("debug_report");
    s.lib("libdbg_dep.so", &["chain_c.c"], &[]);
    s.lib("libdbg_user.so", &["chain_b.c"], &["-L.", "-ldbg_dep", "-Wl,-rpath,$ORIGIN"]);
    s.lib("libsimple.so", &["simple.c"], &[]);
    let prog = s.program("debug_report.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[("RELINK_DEBUG", "all"), ("RELINK_DEBUG_OUTPUT", &s.p("dbg"))]);
    let files: Vec<_> = std::fs::read_dir(&s.dir).unwrap().flatten().filter(|e| e.file_name().to_string_lossy().starts_with("dbg.")).collect();
    assert_eq!(files.len(), 1, "one RELINK_DEBUG_OUTPUT.PID file");
    let name = files[0].file_name().to_string_lossy().into_owned();
    assert!(name["dbg.".len()..].parse::<u32>().is_ok(), "{name} ends with the PID");
    let log = std::fs::read_to_string(files[0].path()).unwrap();
    let user = s.p("libdbg_user.so");
    let dep = s.p("libdbg_dep.so");
    for want in [
        format!("relink: file={user} ["),
        format!("relink: file={dep} ["),
        "relink: file=simple-in-memory [".to_string(),
        format!("relink: binding file {user} ["),
        "normal symbol `chain_c'".to_string(),
        "relink: symbol=chain_c;  lookup in file=".to_string(),
        format!("relink: object={user} ["),
        "relink:  scope 0: ".to_string(),
        "relink:  scope 1: ".to_string(),
        format!("relink: statistics for {user}: 2 objects mapped;"),
        "symbol lookups in".to_string(),
    ] {
        assert!(log.contains(&want), "RELINK_DEBUG=all: no `{want}` in\n{log}");
    }
    assert!(s.debug_files("dbg").contains(&dep));

    // Only what was asked for, on standard error without RELINK_DEBUG_OUTPUT.
    let out = s.run_with_timeout(&prog, &[s.dir_arg()], &[("RELINK_DEBUG", "files,bogus")], RUN_TIMEOUT);
    assert!(out.status.success(), "{}", out.stderr);
    assert!(out.stderr.contains(&format!("relink: file={user} [")), "{}", out.stderr);
    assert!(!out.stderr.contains("relink: binding"), "{}", out.stderr);
    assert!(out.stderr.contains("relink: warning: debug option `bogus' unknown; try RELINK_DEBUG=help"), "{}", out.stderr);

    let help = s.run_with_timeout(&prog, &[s.dir_arg()], &[("RELINK_DEBUG", "help")], RUN_TIMEOUT);
    assert!(help.status.success(), "{}", help.stderr);
    assert!(help.stdout.contains("Valid options for the RELINK_DEBUG environment variable are:"), "{}", help.stdout);
    assert!(!help.stdout.contains("checks passed"), "RELINK_DEBUG=help exits before the program runs");
}

/// A handle searched often enough to get its own lookup table: still rejected once closed
/// (also while its library stays loaded as another's dependency), valid again when the same
/// library is opened again; neighbours of it are rejected.
#[test]
fn sym_table_handles() {
    let s = Scratch::new("sym_table_handles");
    s.lib("libsimple.so", &["simple.c"], &[]);
    s.lib("libsymtab_user.so", &["symtab_user.c"], &["-L.", "-lsimple", "-Wl,-rpath,$ORIGIN"]);
    let prog = s.program("sym_table_handles.c", &[]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}

/// rl_sym through a handle answers as dlsym through a handle on the same library, for every
/// name of libz, libsqlite3 and libstdc++ (and libc, loaded by the system loader), before and
/// after the handle gets its lookup table.
#[test]
fn sym_table_matches_dlsym() {
    let s = Scratch::new("sym_table_dlsym");
    let prog = s.program("sym_table_dlsym.c", &["-ldl"]);
    let out = s.run_ok(&prog, &[] as &[&str], &[]);
    for lib in ["libz.so.1", "libsqlite3.so.0", "libstdc++.so.6", "libc.so.6"] {
        assert!(out.contains(&format!("{lib}: ")), "{lib} compared:\n{out}");
    }
}

/// rl_sym from several threads on a handle while another closes it and opens the library
/// again: no crash, only right answers.
#[test]
fn sym_table_threads_close_reopen() {
    let s = Scratch::new("sym_table_threads");
    s.lib("libsimple.so", &["simple.c"], &[]);
    let prog = s.program("sym_table_threads.c", &["-lpthread"]);
    s.run_ok(&prog, &[s.dir_arg()], &[]);
}
