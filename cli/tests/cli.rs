//! Tests of the `relink` command: `ldd`, `sym` and `check` on the system's libraries, on fixture
//! libraries built from c-tests/fixtures (a missing dependency, a refused one, symbol versions),
//! on malformed files; `run` with a stand-in interposer; `--help` everywhere.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const RELINK: &str = env!("CARGO_BIN_EXE_relink");

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../c-tests/fixtures")
}

/// Put this test's own `relink` at `dst` (a hard link: a copy being written while another test
/// forks could not be executed, "text file busy").
fn install_relink(dst: &Path) {
    fs::create_dir_all(dst.parent().unwrap()).unwrap();
    fs::hard_link(RELINK, dst).or_else(|_| fs::copy(RELINK, dst).map(drop)).unwrap();
}

/// A fresh scratch directory for one test, under cargo's temporary directory for this package.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli").join(std::process::id().to_string()).join(name);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        Scratch(dir.canonicalize().unwrap())
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }

    fn p(&self, rel: &str) -> String {
        self.path(rel).to_string_lossy().into_owned()
    }

    /// Compile fixtures `srcs` with `args` into `out` (a shared library unless `args` says otherwise).
    fn cc(&self, out: &str, srcs: &[&str], args: &[&str]) -> PathBuf {
        let out = self.path(out);
        if let Some(dir) = out.parent() {
            fs::create_dir_all(dir).unwrap();
        }
        let compiler = std::env::var("CC").unwrap_or_else(|_| "cc".into());
        let mut cmd = Command::new(&compiler);
        cmd.current_dir(&self.0).args(["-O1", "-g", "-Wall", "-Werror"]);
        cmd.args(srcs.iter().map(|s| fixtures().join(s)));
        cmd.args(args).arg("-o").arg(&out);
        let o = cmd.output().unwrap_or_else(|e| panic!("cannot run {compiler}: {e}"));
        assert!(o.status.success(), "{cmd:?} failed:\n{}", String::from_utf8_lossy(&o.stderr));
        out
    }

    fn lib(&self, out: &str, srcs: &[&str], extra: &[&str]) -> PathBuf {
        let soname = format!("-Wl,-soname,{}", Path::new(out).file_name().unwrap().to_string_lossy());
        self.cc(out, srcs, &[&["-shared", "-fPIC", soname.as_str()][..], extra].concat())
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn all(&self) -> String {
        format!("--- exit {} --- stdout:\n{}--- stderr:\n{}", self.code, self.stdout, self.stderr)
    }

    /// The exit code is `code`, and nothing looks like a crash.
    fn exits(&self, code: i32) -> &Run {
        assert_eq!(self.code, code, "unexpected exit status\n{}", self.all());
        for bad in ["panicked", "RUST_BACKTRACE", "Segmentation", "core dumped"] {
            assert!(!self.stderr.contains(bad), "relink crashed\n{}", self.all());
        }
        self
    }

    fn says(&self, text: &str) -> &Run {
        assert!(self.stdout.contains(text) || self.stderr.contains(text), "expected {text:?} in the output\n{}", self.all());
        self
    }

    fn never_says(&self, text: &str) -> &Run {
        assert!(!self.stdout.contains(text) && !self.stderr.contains(text), "did not expect {text:?}\n{}", self.all());
        self
    }
}

fn finish(o: Output) -> Run {
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn relink_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(RELINK);
    cmd.args(args).stdin(Stdio::null()).env_remove("LD_LIBRARY_PATH").env_remove("LD_PRELOAD");
    for (k, v) in env {
        cmd.env(k, v);
    }
    finish(cmd.output().expect("cannot run relink"))
}

fn relink(args: &[&str]) -> Run {
    relink_env(args, &[])
}

const SYSTEM_LIBS: [&str; 4] = ["libz.so.1", "libsqlite3.so.0", "libcrypto.so.3", "libstdc++.so.6"];

#[test]
fn help_on_every_subcommand() {
    relink(&["--help"]).exits(0).says("Exit status").says("ldd").says("check");
    for sub in ["run", "ldd", "sym", "check"] {
        relink(&[sub, "--help"]).exits(0).says("Usage: relink").says("Exit status");
        relink(&["help", sub]).exits(0).says("Usage: relink");
    }
    relink(&["ldd"]).exits(2).says("FILE");
    relink(&["frobnicate"]).exits(2);
}

#[test]
fn ldd_system_libraries() {
    for lib in SYSTEM_LIBS {
        let r = relink(&["ldd", lib]);
        r.exits(0).says("(mapped by relink)").says("libc.so.6 => ").says("loaded by the system loader: reused");
        assert!(r.stdout.lines().next().unwrap().contains(lib), "the root first\n{}", r.all());
        relink(&["ldd", "--symbols", lib]).exits(0).never_says("error:");
    }
    relink(&["ldd", "libsqlite3.so.0"]).says("libm.so.6 => ");
    relink(&["ldd", "libstdc++.so.6"]).says("libgcc_s.so.1 => ").says("libm.so.6 => ");
}

#[test]
fn ldd_missing_and_refused_dependencies() {
    let s = Scratch::new("ldd_missing");
    s.lib("libsimple.so", &["simple.c"], &[]);
    s.lib("libghost.so", &["ghost.c"], &[]);
    s.lib("libneeds_missing.so", &["needs_missing.c"], &["-L.", "-lsimple", "-lghost", "-Wl,-rpath,$ORIGIN", "-Wl,--enable-new-dtags"]);
    fs::remove_file(s.path("libghost.so")).unwrap();
    // Something under the missing name that the search finds and passes over.
    fs::create_dir_all(s.path("decoy")).unwrap();
    fs::write(s.path("decoy/libghost.so"), "not a library\n").unwrap();

    let top = s.p("libneeds_missing.so");
    let r = relink_env(&["ldd", &top], &[("LD_LIBRARY_PATH", &s.p("decoy"))]);
    r.exits(3)
        .says(&format!("{top} (mapped by relink)"))
        .says(&format!("libsimple.so => {} (mapped by relink)", s.p("libsimple.so")))
        .says("libghost.so => not found")
        .says(&format!("passed over: {}: invalid ELF image: not an ELF file (bad magic)", s.p("decoy/libghost.so")));
    // Found through its RUNPATH when given as a bare name from its directory, as ldd takes it.
    let r = finish(Command::new(RELINK).current_dir(&s.0).args(["ldd", "libneeds_missing.so"]).output().unwrap());
    r.exits(3).says("libghost.so => not found");

    // A dependency that is found but refused: linked with -z nodlopen.
    s.lib("libnoopen.so", &["noopen.c"], &["-DNOOPEN_VALUE_FN=noopen_value", "-Wl,-z,nodlopen"]);
    s.lib("libnoopen_user.so", &["noopen_user.c"], &["-DNOOPEN_VALUE_FN=noopen_value", "-L.", "-lnoopen", "-Wl,-rpath,$ORIGIN"]);
    relink(&["ldd", &s.p("libnoopen_user.so")]).exits(3).says("libnoopen.so => refused: ").says("cannot be dlopen()ed");

    // Dependencies all there, a symbol nothing defines: only --symbols tells.
    s.lib("libunresolved.so", &["unresolved.c"], &[]);
    let lib = s.p("libunresolved.so");
    relink(&["ldd", &lib]).exits(0).never_says("error:");
    relink(&["ldd", "-r", &lib]).exits(3).says(&format!("error: {lib}: undefined symbol: undefined_function_xyz"));
}

#[test]
fn sym_scopes_and_versions() {
    relink(&["sym", "libsqlite3.so.0", "malloc"])
        .exits(0)
        .says("its reference to version GLIBC_2.2.5 of libc.so.6 binds to malloc@@GLIBC_2.2.5 (FUNC GLOBAL) of ")
        .says("found in the global scope");
    relink(&["sym", "libz.so.1", "deflate"])
        .exits(0)
        .says("its reference: none")
        .says("finds deflate")
        .says("found in the library itself");
    relink(&["sym", "libz.so.1", "no_such_symbol_at_all"]).exits(4).says("finds nothing");

    let s = Scratch::new("sym");
    let script = format!("-Wl,--version-script={}", fixtures().join("ver_two.map").display());
    s.lib("libver.so", &["ver_two.c"], &[&script]);
    s.lib("libconsumer.so", &["ver_consumer.c"], &["-L.", "-lver", "-Wl,-rpath,$ORIGIN"]);
    let consumer = s.p("libconsumer.so");
    let ver = s.p("libver.so");
    relink(&["sym", &consumer, "foo"])
        .exits(0)
        .says(&format!("its reference to version VER_2 of libver.so binds to foo@@VER_2 (FUNC GLOBAL) of {ver} (mapped by relink), found in its dependencies"))
        .says(&format!("rl_sym on its handle (its dependency scope) finds foo@@VER_2 (FUNC GLOBAL) of {ver}"));
    relink(&["sym", &consumer, "foo@VER_1"]).exits(0).says(&format!("rl_vsym on its handle (its dependency scope) finds foo@VER_1 (FUNC GLOBAL) of {ver}"));
    relink(&["sym", &consumer, "foo@VER_9"]).exits(0).says("rl_vsym on its handle (its dependency scope) finds nothing");
    relink(&["sym", &ver, "foo@VER_9"]).exits(4);
    // relink binds some names itself.
    s.lib("libtls.so", &["tls.c"], &[]);
    let tls = relink(&["sym", &s.p("libtls.so"), "__tls_get_addr"]);
    if tls.stdout.contains("its reference to") {
        tls.exits(0).says("binds to relink's own __tls_get_addr");
    }

    // A reference nothing defines, and a library whose dependency is missing.
    s.lib("libunresolved.so", &["unresolved.c"], &[]);
    relink(&["sym", &s.p("libunresolved.so"), "undefined_function_xyz"])
        .exits(4)
        .says("binds to nothing, and the open fails: ")
        .says("undefined symbol: undefined_function_xyz");
    s.lib("libghost.so", &["ghost.c"], &[]);
    s.lib("libneeds_ghost.so", &["needs_missing.c", "simple.c"], &["-L.", "-lghost", "-Wl,-rpath,$ORIGIN"]);
    fs::remove_file(s.path("libghost.so")).unwrap();
    relink(&["sym", &s.p("libneeds_ghost.so"), "simple_triple"]).exits(3).says("the open fails first: libghost.so");
}

#[test]
fn check_system_libraries_and_refusals() {
    for lib in SYSTEM_LIBS {
        let path = format!("/usr/lib/x86_64-linux-gnu/{lib}");
        relink(&["check", &path]).exits(0).says(&format!("{path}: ok: shared object; SONAME {lib}"));
    }
    let s = Scratch::new("check");
    let execstack = s.lib("libexecstack.so", &["simple.c"], &["-Wl,-z,execstack"]);
    let noopen = s.lib("libnoopen.so", &["noopen.c"], &["-DNOOPEN_VALUE_FN=noopen_value", "-Wl,-z,nodlopen"]);
    let good = s.lib("libsimple.so", &["simple.c"], &[]);
    let r = relink(&["check", &good.to_string_lossy(), &execstack.to_string_lossy(), &noopen.to_string_lossy()]);
    r.exits(1)
        .says(&format!("{}: ok: shared object", good.display()))
        .says(&format!("{0}: refused: {0}: invalid ELF image: asks for an executable stack", execstack.display()))
        .says(&format!("{0}: refused: {0}: shared object cannot be dlopen()ed", noopen.display()));
    let program = s.cc("show_env", &["show_env.c"], &["-pie", "-fPIE"]);
    relink(&["check", &program.to_string_lossy()]).exits(1).says("is an executable");
}

/// Run `ar` in the scratch directory (its complaints about the broken object are expected).
fn ar(s: &Scratch, args: &[&str]) {
    let o = Command::new("ar").current_dir(&s.0).args(args).output().expect("cannot run ar");
    assert!(o.status.success(), "ar {args:?} failed:\n{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn check_objects_and_archives() {
    let s = Scratch::new("objects");
    let a = s.cc("simple.o", &["simple.c"], &["-c", "-fPIC"]);
    let b = s.cc("ghost.o", &["ghost.c"], &["-c", "-fPIC"]);
    ar(&s, &["rcs", "libpair.a", "simple.o", "ghost.o"]);
    relink(&["check", &a.to_string_lossy()]).exits(0).says("ok: relocatable object; ");
    relink(&["check", &s.p("libpair.a")])
        .exits(0)
        .says("ok: archive; 2 members, 4 symbols in its index")
        .says("    simple.o: ok: relocatable object")
        .says("    ghost.o: ok: relocatable object");

    // A member whose section headers lie past its end.
    let mut bytes = fs::read(&b).unwrap();
    let shoff = u64::from_le_bytes(bytes[40..48].try_into().unwrap());
    bytes[40..48].copy_from_slice(&(shoff + 0x10_0000).to_le_bytes());
    fs::write(s.path("broken.o"), &bytes).unwrap();
    relink(&["check", &s.p("broken.o")]).exits(1).says(&format!("{}: refused: {0}: invalid ELF image: bad file or section headers", s.p("broken.o")));
    ar(&s, &["rcs", "libbroken.a", "simple.o", "broken.o"]);
    relink(&["check", &s.p("libbroken.a")])
        .exits(1)
        .says("    simple.o: ok")
        .says(&format!("    broken.o: refused: {}(broken.o): invalid ELF image", s.p("libbroken.a")));

    // An archive whose member size runs past its end.
    let mut ar = fs::read(s.path("libpair.a")).unwrap();
    ar.truncate(ar.len() - 100);
    fs::write(s.path("truncated.a"), &ar).unwrap();
    relink(&["check", &s.p("truncated.a")]).exits(1).says("runs past the end of the archive");
}

/// Files that are not libraries at all: a clean message naming the file and a non-zero exit
/// from every command.
#[test]
fn malformed_files() {
    let s = Scratch::new("malformed");
    let libz = fs::read("/usr/lib/x86_64-linux-gnu/libz.so.1").unwrap();
    fs::write(s.path("libtrunc.so"), &libz[..200]).unwrap();
    fs::write(s.path("libtext.so"), "just some text\n").unwrap();
    let mut bad_phdrs = libz.clone();
    bad_phdrs[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
    fs::write(s.path("libbadph.so"), &bad_phdrs).unwrap();
    for (file, why) in [
        ("libtrunc.so", "program header table (ends at 0x238) lies past the end of the image (0xc8)"),
        ("libtext.so", "not an ELF file (bad magic)"),
        ("libbadph.so", "program header table overflows"),
    ] {
        let path = s.p(file);
        let expected = format!("{path}: invalid ELF image: {why}");
        relink(&["check", &path]).exits(1).says(&format!("{path}: refused: {expected}"));
        relink(&["ldd", &path]).exits(1).says(&format!("relink ldd: {expected}"));
        relink(&["sym", &path, "deflate"]).exits(1).says(&format!("relink sym: {expected}"));
    }
    let missing = s.p("no-such-file.so");
    relink(&["check", &missing]).exits(1).says("No such file or directory");
    relink(&["ldd", &missing]).exits(1).says(&format!("relink ldd: {missing}: cannot open shared object file: No such file or directory"));
    relink(&["ldd", "libno-such-library.so.7"]).exits(1).says("libno-such-library.so.7: cannot open shared object file");
}

/// `run` sets LD_PRELOAD to the interposer next to the `relink` binary (a stand-in here: any
/// shared library will do) and RELINK_DEBUG, keeps what LD_PRELOAD held, and passes PROGRAM's
/// arguments as they are.
#[test]
fn run_sets_the_environment() {
    let s = Scratch::new("run");
    let show = s.cc("show_env", &["show_env.c"], &[]);
    install_relink(&s.path("bin/relink"));
    let preload = s.lib("bin/librelink_preload.so", &["simple.c"], &[]);
    s.lib("libextra.so", &["ghost.c"], &[]);
    let relink_copy = s.p("bin/relink");
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = Command::new(&relink_copy);
        cmd.args(args).env_remove("LD_PRELOAD").env_remove("RELINK_DEBUG").env_remove("RELINK_DEBUG_OUTPUT");
        cmd.envs(env.iter().copied());
        finish(cmd.output().unwrap())
    };
    let show = show.to_string_lossy().into_owned();
    let preload = preload.to_string_lossy().into_owned();

    run(&["run", &show, "-x", "--debug", "y z"], &[])
        .exits(0)
        .says(&format!("LD_PRELOAD={preload}\n"))
        .says("RELINK_DEBUG=(unset)")
        .says("arg=-x\narg=--debug\narg=y z\n");
    run(&["run", "--debug", "files,bindings", "--debug-output", "/tmp/relink-log", "--", &show, "--", "-v"], &[])
        .exits(0)
        .says("RELINK_DEBUG=files,bindings\n")
        .says("RELINK_DEBUG_OUTPUT=/tmp/relink-log\n")
        .says("arg=--\narg=-v\n");
    let extra = s.p("libextra.so");
    run(&["run", &show], &[("LD_PRELOAD", &extra)]).exits(0).says(&format!("LD_PRELOAD={preload}:{extra}\n"));
    // The program's own exit status comes back.
    run(&["run", "sh", "-c", "exit 7"], &[]).exits(7);
    run(&["run", &s.p("no-such-program")], &[]).exits(127).says("relink run: ").says("No such file or directory");
    fs::write(s.path("not-executable"), "").unwrap();
    run(&["run", &s.p("not-executable")], &[]).exits(126).says("Permission denied");
    run(&["run"], &[]).exits(2).says("PROGRAM");
}

#[test]
fn run_without_the_interposer() {
    let s = Scratch::new("run_missing");
    install_relink(&s.path("bin/relink"));
    let r = finish(Command::new(s.path("bin/relink")).args(["run", "true"]).output().unwrap());
    r.exits(125)
        .says("relink run: cannot find the interposer librelink_preload.so (looked for ")
        .says(&s.p("bin/librelink_preload.so"));
}
