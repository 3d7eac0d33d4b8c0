//! Helpers for the C-level integration tests: building fixture libraries and
//! C test programs against the freshly built librelink, and running them.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Default wall-clock limit for one C test program.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// Libraries a program needs besides librelink.a when it links the static
/// archive (what `rustc --print native-static-libs` reports on x86_64 Linux).
pub const STATIC_LINK_LIBS: &[&str] = &[
    "-lgcc_s",
    "-lutil",
    "-lrt",
    "-lpthread",
    "-lm",
    "-ldl",
    "-lc",
];

pub fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn include_dir() -> PathBuf {
    manifest_dir().join("include")
}

pub fn c_tests_dir() -> PathBuf {
    manifest_dir().join("c-tests")
}

pub fn fixtures_dir() -> PathBuf {
    c_tests_dir().join("fixtures")
}

/// Directory holding the librelink.so and librelink.a of this build. The test
/// executable is target/<profile>/deps/c_abi-HASH; `cargo test` writes the
/// library's cdylib and staticlib next to it in deps/, while only a
/// top-level build (`cargo build`) copies them up to target/<profile>/, so
/// that copy may be stale. deps/ is preferred, the profile dir is the fallback.
pub fn relink_lib_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().expect("current_exe");
        let deps = exe.parent().expect("test executable directory").to_path_buf();
        let profile = deps
            .parent()
            .unwrap_or_else(|| panic!("unexpected test executable location {}", exe.display()))
            .to_path_buf();
        let has_both = |d: &Path| ["librelink.so", "librelink.a"].iter().all(|f| d.join(f).is_file());
        if has_both(&deps) {
            deps
        } else if has_both(&profile) {
            profile
        } else {
            panic!(
                "librelink.so and librelink.a not found in {} or {} (cargo test should have built them)",
                deps.display(),
                profile.display()
            )
        }
    })
    .clone()
}

/// The C compiler, as the `cc` crate finds it (honours $CC).
pub fn compiler() -> &'static Path {
    static CC: OnceLock<PathBuf> = OnceLock::new();
    CC.get_or_init(|| find_compiler(false))
}

/// The C++ compiler, as the `cc` crate finds it (honours $CXX).
pub fn cxx_compiler() -> &'static Path {
    static CXX: OnceLock<PathBuf> = OnceLock::new();
    CXX.get_or_init(|| find_compiler(true))
}

fn find_compiler(cpp: bool) -> PathBuf {
    cc::Build::new()
        .cpp(cpp)
        .opt_level(1)
        .target("x86_64-unknown-linux-gnu")
        .host("x86_64-unknown-linux-gnu")
        .cargo_metadata(false)
        .warnings(false)
        .get_compiler()
        .path()
        .to_path_buf()
}

/// Flags every C compilation gets.
pub const BASE_CFLAGS: &[&str] = &["-Wall", "-Werror", "-O1", "-g"];

fn render(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        let a = a.to_string_lossy();
        if a.contains(' ') || a.contains('$') {
            s.push('\'');
            s.push_str(&a);
            s.push('\'');
        } else {
            s.push_str(&a);
        }
    }
    s
}

/// Runs a build command, panicking with its full output if it fails.
pub fn run_build(mut cmd: Command) {
    let shown = render(&cmd);
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{shown}`: {e}"));
    if !out.status.success() {
        panic!(
            "build command failed ({}):\n{}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            out.status,
            shown,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Result of running a C test program.
pub struct RunOutput {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

/// Root of this process's scratch dirs: CARGO_TARGET_TMPDIR/c_abi/<pid>, so
/// that concurrent `cargo test` runs sharing a target dir do not collide.
/// Dirs of processes that no longer exist are removed on first use.
/// <root>/lib holds this run's librelink.so and librelink.a, hard-linked (or
/// copied) from the build output so that a rebuild during the run, which
/// replaces those files, does not affect it.
fn scratch_root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c_abi");
        if let Ok(entries) = fs::read_dir(&base) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.parse::<u32>().is_ok() && !Path::new("/proc").join(&name).exists() {
                    let _ = fs::remove_dir_all(e.path());
                }
            }
        }
        let root = base.join(std::process::id().to_string());
        if root.exists() {
            fs::remove_dir_all(&root)
                .unwrap_or_else(|e| panic!("cannot clear {}: {e}", root.display()));
        }
        let lib = root.join("lib");
        fs::create_dir_all(&lib).unwrap_or_else(|e| panic!("cannot create {}: {e}", lib.display()));
        let src = relink_lib_dir();
        for f in ["librelink.so", "librelink.a"] {
            let (from, to) = (src.join(f), lib.join(f));
            if fs::hard_link(&from, &to).is_err() {
                fs::copy(&from, &to).unwrap_or_else(|e| {
                    panic!("cannot copy {} to {}: {e}", from.display(), to.display())
                });
            }
        }
        root.canonicalize().expect("canonicalize scratch root")
    })
}

/// This run's snapshot of the library under test (see [`scratch_root`]).
pub fn relink_so() -> PathBuf {
    scratch_root().join("lib/librelink.so")
}

/// This run's snapshot of the static library under test.
pub fn relink_a() -> PathBuf {
    scratch_root().join("lib/librelink.a")
}

/// A per-test scratch directory (fresh for every run) with librelink.so and
/// librelink.so.0 symlinks to this run's copy of the library under test.
pub struct Scratch {
    pub dir: PathBuf,
    pub name: String,
}

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = scratch_root().join(name);
        fs::create_dir(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        let so = relink_so();
        for link in ["librelink.so.0", "librelink.so"] {
            std::os::unix::fs::symlink(&so, dir.join(link))
                .unwrap_or_else(|e| panic!("cannot symlink {link}: {e}"));
        }
        Scratch {
            dir,
            name: name.to_string(),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    /// `self.path(rel)` as a String (for passing on command lines).
    pub fn p(&self, rel: &str) -> String {
        self.path(rel).to_string_lossy().into_owned()
    }

    /// The scratch dir as a program argument.
    pub fn dir_arg(&self) -> String {
        self.dir.to_string_lossy().into_owned()
    }

    pub fn mkdir(&self, rel: &str) -> PathBuf {
        let d = self.path(rel);
        fs::create_dir_all(&d).unwrap_or_else(|e| panic!("mkdir {}: {e}", d.display()));
        d
    }

    fn out_path(&self, rel: &str) -> PathBuf {
        let out = self.path(rel);
        if let Some(parent) = out.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        out
    }

    fn cc(&self) -> Command {
        let mut cmd = Command::new(compiler());
        cmd.current_dir(&self.dir);
        cmd.args(BASE_CFLAGS);
        cmd.arg("-I").arg(include_dir());
        cmd.arg("-I").arg(c_tests_dir());
        cmd
    }

    /// Builds a shared library `out` (relative to the scratch dir) from
    /// c-tests/fixtures/<src> files; `extra` goes after the sources (so it
    /// may hold -L/-l/-Wl options). The -soname defaults to the file name.
    pub fn lib(&self, out: &str, srcs: &[&str], extra: &[&str]) -> PathBuf {
        let out_path = self.out_path(out);
        let mut cmd = self.cc();
        cmd.args(["-shared", "-fPIC"]);
        if !extra.iter().any(|f| f.contains("-soname")) {
            let base = out_path.file_name().unwrap().to_string_lossy().into_owned();
            cmd.arg(format!("-Wl,-soname,{base}"));
        }
        for s in srcs {
            cmd.arg(fixtures_dir().join(s));
        }
        cmd.args(extra);
        cmd.arg("-o").arg(&out_path);
        run_build(cmd);
        out_path
    }

    /// Compiles c-tests/fixtures/<src> into the relocatable object `out` (`-c`, no -fPIC
    /// unless `extra` asks for it: the compiler's default, -fPIE on Debian).
    pub fn object(&self, out: &str, src: &str, extra: &[&str]) -> PathBuf {
        let out_path = self.out_path(out);
        let mut cmd = if src.ends_with(".cpp") {
            let mut c = Command::new(cxx_compiler());
            c.current_dir(&self.dir);
            c.args(BASE_CFLAGS);
            c.arg("-I").arg(c_tests_dir());
            c
        } else {
            self.cc()
        };
        cmd.arg("-c").arg(fixtures_dir().join(src));
        cmd.args(extra);
        cmd.arg("-o").arg(&out_path);
        run_build(cmd);
        out_path
    }

    /// Builds an executable fixture (not a test program) from fixtures/<src>.
    pub fn fixture_exe(&self, out: &str, srcs: &[&str], extra: &[&str]) -> PathBuf {
        let out_path = self.out_path(out);
        let mut cmd = self.cc();
        for s in srcs {
            cmd.arg(fixtures_dir().join(s));
        }
        cmd.args(extra);
        cmd.arg("-o").arg(&out_path);
        run_build(cmd);
        out_path
    }

    /// Builds the C test program c-tests/<src> linked against librelink.so
    /// (found at run time through an rpath to the scratch dir), exporting
    /// its own symbols (-rdynamic).
    pub fn program(&self, src: &str, extra: &[&str]) -> PathBuf {
        let stem = Path::new(src)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        self.program_as(&stem, src, extra)
    }

    /// [`Scratch::program`] written to `out` (to build one source several ways).
    pub fn program_as(&self, out: &str, src: &str, extra: &[&str]) -> PathBuf {
        let out_path = self.out_path(out);
        let mut cmd = self.cc();
        cmd.arg("-rdynamic");
        cmd.arg(c_tests_dir().join(src));
        cmd.args(extra);
        cmd.arg("-L").arg(&self.dir);
        cmd.arg("-lrelink");
        cmd.arg(format!("-Wl,-rpath,{}", self.dir.display()));
        cmd.args(["-lpthread", "-lm"]);
        cmd.arg("-o").arg(&out_path);
        run_build(cmd);
        out_path
    }

    /// Same as [`Scratch::program`] but linked statically against librelink.a.
    pub fn program_static(&self, src: &str, extra: &[&str]) -> PathBuf {
        let stem = Path::new(src)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let out_path = self.out_path(&format!("{stem}-static"));
        let mut cmd = self.cc();
        cmd.arg("-rdynamic");
        cmd.arg(c_tests_dir().join(src));
        cmd.args(extra);
        cmd.arg(relink_a());
        cmd.args(STATIC_LINK_LIBS);
        cmd.arg("-o").arg(&out_path);
        run_build(cmd);
        out_path
    }

    pub fn copy(&self, from: &str, to: &str) -> PathBuf {
        let dst = self.out_path(to);
        fs::copy(self.path(from), &dst).unwrap_or_else(|e| panic!("copy {from} -> {to}: {e}"));
        dst
    }

    pub fn symlink(&self, target: &str, link: &str) -> PathBuf {
        let l = self.out_path(link);
        std::os::unix::fs::symlink(target, &l).unwrap_or_else(|e| panic!("symlink {link}: {e}"));
        l
    }

    pub fn write(&self, rel: &str, data: &[u8]) -> PathBuf {
        let p = self.out_path(rel);
        fs::write(&p, data).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
        p
    }

    /// Runs `prog` in the scratch dir with `args` and extra `env`, returning
    /// its output; kills it after `timeout`.
    pub fn run_with_timeout<S: AsRef<OsStr>>(
        &self,
        prog: &Path,
        args: &[S],
        env: &[(&str, &str)],
        timeout: Duration,
    ) -> RunOutput {
        let out_file = self.path(&format!(
            "{}.stdout",
            prog.file_name().unwrap().to_string_lossy()
        ));
        let err_file = self.path(&format!(
            "{}.stderr",
            prog.file_name().unwrap().to_string_lossy()
        ));
        let mut cmd = Command::new(prog);
        cmd.args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(fs::File::create(&out_file).unwrap())
            .stderr(fs::File::create(&err_file).unwrap());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let shown = render(&cmd);
        let start = Instant::now();
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {shown}: {e}"));
        let status = loop {
            if let Some(st) = child.try_wait().expect("wait") {
                break st;
            }
            if start.elapsed() > timeout {
                let _ = child.kill();
                let _ = child.wait();
                let mut so = String::new();
                let mut se = String::new();
                let _ = fs::File::open(&out_file).and_then(|mut f| f.read_to_string(&mut so));
                let _ = fs::File::open(&err_file).and_then(|mut f| f.read_to_string(&mut se));
                panic!(
                    "`{shown}` did not finish within {timeout:?} (deadlock?)\n--- stdout ---\n{so}\n--- stderr ---\n{se}"
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let elapsed = start.elapsed();
        let stdout = String::from_utf8_lossy(&fs::read(&out_file).unwrap()).into_owned();
        let stderr = String::from_utf8_lossy(&fs::read(&err_file).unwrap()).into_owned();
        RunOutput {
            status,
            stdout,
            stderr,
            elapsed,
        }
    }

    /// Runs a C test program and asserts it exited 0 after printing its
    /// final "N checks passed" line; returns its stdout.
    pub fn run_ok<S: AsRef<OsStr>>(&self, prog: &Path, args: &[S], env: &[(&str, &str)]) -> String {
        let out = self.run_with_timeout(prog, args, env, RUN_TIMEOUT);
        let last_line_ok = out
            .stdout
            .lines()
            .last()
            .map(|l| {
                l.strip_suffix(" checks passed")
                    .is_some_and(|n| n.parse::<u32>().is_ok_and(|n| n > 0))
            })
            .unwrap_or(false);
        if !out.status.success() || !last_line_ok {
            panic!(
                "{} [{}] failed: {}{}\n--- stdout ---\n{}\n--- stderr ---\n{}",
                prog.display(),
                self.name,
                describe_status(&out.status),
                if out.status.success() && !last_line_ok {
                    " (exited 0 without the final \"N checks passed\" line)"
                } else {
                    ""
                },
                out.stdout,
                out.stderr
            );
        }
        eprintln!(
            "{} [{}]: {} ({:.2?})",
            prog.file_name().unwrap().to_string_lossy(),
            self.name,
            out.stdout.lines().last().unwrap_or(""),
            out.elapsed
        );
        out.stdout
    }
}

pub fn describe_status(st: &std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (st.code(), st.signal()) {
        (Some(c), _) => format!("exit status {c}"),
        (None, Some(sig)) => {
            let name = match sig {
                4 => "SIGILL",
                6 => "SIGABRT",
                7 => "SIGBUS",
                8 => "SIGFPE",
                9 => "SIGKILL",
                11 => "SIGSEGV",
                _ => "",
            };
            format!(
                "killed by signal {sig} {name}{}",
                if st.core_dumped() {
                    " (core dumped)"
                } else {
                    ""
                }
            )
        }
        _ => format!("{st}"),
    }
}

/// Path of a system library that must be installed for the tests.
pub fn system_lib(name: &str) -> PathBuf {
    let p = Path::new("/usr/lib/x86_64-linux-gnu").join(name);
    assert!(
        p.is_file(),
        "required system library {} is not installed (Debian package: {})",
        p.display(),
        match name {
            n if n.starts_with("libz") => "zlib1g / zlib1g-dev",
            n if n.starts_with("libsqlite3") => "libsqlite3-0 / libsqlite3-dev",
            n if n.starts_with("libssl") || n.starts_with("libcrypto") => "libssl3 / libssl-dev",
            n if n.starts_with("libicu") => "libicu72 / libicu-dev",
            n if n.starts_with("libstdc++") => "libstdc++6",
            _ => "?",
        }
    );
    p
}

/// Asserts that a header used by a C test program is installed.
pub fn require_header(rel: &str, package: &str) {
    let p = Path::new("/usr/include").join(rel);
    assert!(
        p.is_file(),
        "required header {} is missing (install {package})",
        p.display()
    );
}

/// Runs readelf on a fixture, for checking it really has the property a test relies on.
pub fn readelf(args: &[&str], file: &Path) -> String {
    let out = Command::new("readelf")
        .args(args)
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run readelf: {e}"));
    assert!(out.status.success(), "readelf {args:?} {} failed", file.display());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Fails the test when a fixture is not what the test expects.
pub fn assert_fixture(cond: bool, what: &str, detail: &str) {
    assert!(cond, "fixture is not as the test expects: {what}\n{detail}");
}

/// Builds tests/plugins/<src> with the rustc of the toolchain running the tests (it sits beside
/// its cargo) as a `crate_type` crate, into a per-process directory; returns the output's path.
pub fn build_rust(src: &str, crate_type: &str, out_name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("rust_{crate_type}_{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let out = dir.join(out_name);
    let rustc = PathBuf::from(env!("CARGO")).with_file_name("rustc");
    let st = Command::new(&rustc)
        .args(["--edition", "2021", "--crate-type", crate_type, "-O", "-C", "panic=unwind", "-o"])
        .arg(&out)
        .arg(manifest_dir().join("tests/plugins").join(src))
        .status()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", rustc.display()));
    assert!(st.success(), "building {src} as a {crate_type} failed");
    out
}

/// This run's snapshot of `librelink_preload.so` (the LD_PRELOAD interposer), taken from the
/// build output next to librelink.so. `cargo test` does not build it (it is another package of
/// the workspace): `make test` does, and so does `cargo build --release --workspace`. When it
/// is missing, or older than librelink.so (built from older sources), it is built here first.
pub fn preload_so() -> PathBuf {
    static SO: OnceLock<PathBuf> = OnceLock::new();
    SO.get_or_init(|| {
        let dir = relink_lib_dir();
        let candidates = [dir.join("librelink_preload.so"), dir.parent().map(|p| p.join("librelink_preload.so")).unwrap_or_default()];
        let mtime = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let current = || candidates.iter().find(|p| p.is_file()).filter(|p| mtime(p) >= mtime(&dir.join("librelink.so")));
        if current().is_none() {
            build_preload(&dir);
        }
        let built = current().unwrap_or_else(|| {
            panic!("no librelink_preload.so as recent as librelink.so next to {} after building it", dir.display())
        });
        let to = scratch_root().join("lib/librelink_preload.so");
        if !to.exists() {
            fs::copy(built, &to).unwrap_or_else(|e| panic!("cannot copy {} to {}: {e}", built.display(), to.display()));
        }
        to
    })
    .clone()
}

/// Build the interposer into the build output `dir` (a profile's directory, or its `deps`) is
/// part of, with the cargo running the tests.
fn build_preload(dir: &Path) {
    let profile = if dir.ends_with("deps") { dir.parent().unwrap() } else { dir };
    let target_dir = profile.parent().unwrap_or_else(|| panic!("no target directory above {}", profile.display()));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "-p", "relink-preload", "--target-dir"]).arg(target_dir);
    if profile.file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    let status = cmd.status().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(status.success(), "{cmd:?} failed ({status})");
}

impl Scratch {
    /// Builds c-tests/<src> as an ordinary program that knows nothing of relink (not linked
    /// with it), with `extra` flags (`-no-pie`, libraries ...).
    pub fn plain_program(&self, src: &str, out: &str, extra: &[&str]) -> PathBuf {
        let out_path = self.out_path(out);
        let mut cmd = Command::new(if src.ends_with(".cpp") { cxx_compiler() } else { compiler() });
        cmd.current_dir(&self.dir).args(BASE_CFLAGS);
        cmd.arg(c_tests_dir().join(src)).args(extra).arg("-o").arg(&out_path);
        run_build(cmd);
        out_path
    }

    /// The `relink: file=` lines of the RELINK_DEBUG_OUTPUT files written under `prefix`
    /// (one per process, `prefix.PID`): the paths of the objects relink mapped.
    pub fn debug_files(&self, prefix: &str) -> Vec<String> {
        let mut out = Vec::new();
        let dir = self.path(prefix);
        let (parent, stem) = (dir.parent().unwrap().to_path_buf(), dir.file_name().unwrap().to_string_lossy().into_owned());
        for e in fs::read_dir(&parent).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.strip_prefix(&stem).and_then(|r| r.strip_prefix('.')).is_some_and(|pid| pid.parse::<u32>().is_ok()) {
                let text = fs::read_to_string(e.path()).unwrap();
                for l in text.lines() {
                    if let Some(rest) = l.strip_prefix("relink: file=") {
                        out.push(rest.split(" [").next().unwrap_or(rest).to_string());
                    }
                }
            }
        }
        out
    }
}
