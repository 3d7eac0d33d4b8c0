//! Real, unmodified programs run with librelink_preload.so preloaded: CPython's extension
//! modules and its own test suites for them, Perl's XS modules, OpenSSL's legacy provider and a
//! SQLite extension. Each runs with and without the interposer and must behave the same, and
//! RELINK_DEBUG=files must show that relink, not glibc, mapped what the program loaded.

mod common;

use common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Runs `prog` twice, without and with the interposer (RELINK_DEBUG=files written to
/// `<dir>/<tag>-debug.PID`); returns both outputs.
fn both(s: &Scratch, tag: &str, prog: &Path, args: &[&str], timeout: Duration) -> (RunOutput, RunOutput) {
    let glibc = s.run_with_timeout(prog, args, &[], timeout);
    let preload = preload_so();
    let debug = s.p(&format!("{tag}-debug"));
    let env = [("LD_PRELOAD", preload.to_str().unwrap()), ("RELINK_DEBUG", "files"), ("RELINK_DEBUG_OUTPUT", debug.as_str())];
    let relink = s.run_with_timeout(prog, args, &env, timeout);
    (glibc, relink)
}

fn require_program(name: &str, package: &str) -> PathBuf {
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        let p = Path::new(dir).join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!("`{name}` is not installed (Debian package {package}; .ci/run installs it)");
}

fn assert_mapped(s: &Scratch, tag: &str, wanted: &[&str]) {
    let mapped = s.debug_files(&format!("{tag}-debug"));
    for w in wanted {
        assert!(
            mapped.iter().any(|m| m.ends_with(w)),
            "relink did not map {w}: RELINK_DEBUG=files reported {mapped:#?}"
        );
    }
}

/// The CPython 3.11 built with a shared libpython that the tests run: $RELINK_TEST_PYTHON,
/// python3.11 or python3 on PATH, or a pyenv 3.11 installation. Its real executable (not a pyenv
/// shim).
fn cpython() -> PathBuf {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Ok(p) = std::env::var("RELINK_TEST_PYTHON") {
        candidates.push(p.into());
    }
    for name in ["python3.11", "python3"] {
        for dir in std::env::var("PATH").unwrap_or_default().split(':') {
            candidates.push(Path::new(dir).join(name));
        }
    }
    let pyenv_root = Command::new("pyenv").arg("root").output().ok().filter(|o| o.status.success());
    let roots = pyenv_root
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .into_iter()
        .chain(std::env::var("HOME").ok().map(|h| Path::new(&h).join(".pyenv")));
    for root in roots {
        if let Ok(entries) = std::fs::read_dir(root.join("versions")) {
            let mut v: Vec<PathBuf> = entries.flatten().map(|e| e.path()).filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("3.11"))).collect();
            v.sort();
            candidates.extend(v.into_iter().rev().map(|p| p.join("bin/python3.11")));
        }
    }
    let probe = "import sys, sysconfig, test.support; print(sys.executable if sys.version_info[:2] == (3, 11) and sysconfig.get_config_var('Py_ENABLE_SHARED') else '')";
    let mut tried = Vec::new();
    for c in candidates.iter().filter(|c| c.is_file()) {
        let out = Command::new(c).args(["-c", probe]).env_remove("LD_PRELOAD").output();
        let exe = out.ok().filter(|o| o.status.success()).map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_default();
        if !exe.is_empty() {
            return PathBuf::from(exe);
        }
        tried.push(c.display().to_string());
    }
    panic!(
        "no CPython 3.11 with a shared libpython and its test package found (tried {tried:?}); install one with \
         `pyenv install 3.11` (PYTHON_CONFIGURE_OPTS=--enable-shared) or set RELINK_TEST_PYTHON"
    );
}

/// Every extension module of CPython's lib-dynload imports with the interposer when it does
/// without, and relink mapped each.
#[test]
fn cpython_lib_dynload() {
    let s = Scratch::new("cpython_lib_dynload");
    let py = cpython();
    let script = s.write(
        "import_all.py",
        br#"
import importlib, os, sysconfig
d = os.path.join(sysconfig.get_path("platstdlib"), "lib-dynload")
print("DIR\t" + d)
for f in sorted(os.listdir(d)):
    if not f.endswith(".so"):
        continue
    name = f.split(".")[0]
    try:
        importlib.import_module(name)
        print(name + "\t" + f + "\tok")
    except Exception as e:
        print(name + "\t" + f + "\t" + type(e).__name__ + ": " + str(e).replace("\n", " "))
"#,
    );
    let (glibc, relink) = both(&s, "dynload", &py, &["-I", script.to_str().unwrap()], Duration::from_secs(120));
    for (who, o) in [("glibc", &glibc), ("relink", &relink)] {
        assert!(o.status.success(), "importing lib-dynload under {who} failed: {}\n{}\n{}", describe_status(&o.status), o.stdout, o.stderr);
    }
    let parse = |out: &str| -> BTreeMap<String, (String, String)> {
        out.lines().filter_map(|l| {
            let mut f = l.splitn(3, '\t');
            let (name, file, outcome) = (f.next()?, f.next()?, f.next()?);
            Some((name.to_string(), (file.to_string(), outcome.to_string())))
        }).collect()
    };
    let (g, r) = (parse(&glibc.stdout), parse(&relink.stdout));
    assert!(g.len() >= 40, "too few lib-dynload modules found: {g:?}");
    assert_eq!(g, r, "lib-dynload imports differ between glibc and relink");
    let failed: Vec<_> = r.iter().filter(|(_, (_, o))| o != "ok").collect();
    eprintln!("lib-dynload: {} modules, {} import neither way: {failed:?}", r.len(), failed.len());
    let dir = relink.stdout.lines().find_map(|l| l.strip_prefix("DIR\t")).expect("lib-dynload directory");
    let wanted: Vec<String> = r.iter().filter(|(_, (_, o))| o == "ok").map(|(_, (f, _))| format!("{dir}/{f}")).collect();
    assert_mapped(&s, "dynload", &wanted.iter().map(String::as_str).collect::<Vec<_>>());
}

/// CPython test modules that exercise extension modules.
const CPYTHON_TESTS: &[&str] = &[
    "test_sqlite3", "test_ssl", "test_hashlib", "test_ctypes", "test_capi", "test_threading", "test_decimal", "test_json",
    "test_zlib", "test_struct", "test_socket", "test_select",
];

/// Per-test outcomes from regrtest's JUnit file: test id → ok, skipped, failure or error.
fn outcomes(py: &Path, xml: &Path) -> BTreeMap<String, String> {
    let script = r#"
import sys, xml.etree.ElementTree as ET
for tc in ET.parse(sys.argv[1]).iter("testcase"):
    kind = "ok"
    for child in tc:
        if child.tag in ("failure", "error", "skipped"):
            kind = child.tag
    print((tc.get("classname") or "") + "." + (tc.get("name") or "") + "\t" + kind)
"#;
    let out = Command::new(py).args(["-c", script]).arg(xml).env_remove("LD_PRELOAD").output().expect("run python");
    assert!(out.status.success(), "cannot read {}: {}", xml.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('\t').map(|(a, b)| (a.to_string(), b.to_string())))
        .collect()
}

/// Runs regrtest on `modules`, with or without the interposer; the per-test outcomes.
fn regrtest(s: &Scratch, py: &Path, tag: &str, modules: &[&str], relink: bool) -> BTreeMap<String, String> {
    let xml = s.path(&format!("{tag}.xml"));
    // The VSOCK tests wait for ever where the kernel has AF_VSOCK but no transport (in
    // containers), whichever loader runs them.
    let mut args: Vec<String> =
        ["-m", "test", "-j2", "-i", "*VSOCK*", "--timeout", "300", "--junit-xml"].iter().map(|a| a.to_string()).collect();
    args.push(xml.to_string_lossy().into_owned());
    args.extend(modules.iter().map(|m| m.to_string()));
    let preload = preload_so();
    let debug = s.p(&format!("{tag}-debug"));
    let env: Vec<(&str, &str)> = if relink {
        vec![("LD_PRELOAD", preload.to_str().unwrap()), ("RELINK_DEBUG", "files"), ("RELINK_DEBUG_OUTPUT", debug.as_str())]
    } else {
        Vec::new()
    };
    let out = s.run_with_timeout(py, &args, &env, Duration::from_secs(600));
    // regrtest exits non-zero when a test fails, with the interposer or without: the outcomes
    // are compared instead. A crash leaves no JUnit file.
    assert!(
        xml.is_file(),
        "regrtest ({tag}) wrote no results: {}\n{}\n{}",
        describe_status(&out.status),
        out.stdout,
        out.stderr
    );
    outcomes(py, &xml)
}

/// CPython's own tests of extension modules give the same per-test outcomes with the
/// interposer as without (a difference is run again once, both ways, to tell a flaky test).
#[test]
fn cpython_test_modules() {
    let s = Scratch::new("cpython_tests");
    let py = cpython();
    let glibc = regrtest(&s, &py, "glibc", CPYTHON_TESTS, false);
    let relink = regrtest(&s, &py, "relink", CPYTHON_TESTS, true);
    assert!(glibc.len() > 2000, "regrtest ran only {} tests", glibc.len());
    let differing = |g: &BTreeMap<String, String>, r: &BTreeMap<String, String>| -> BTreeSet<String> {
        g.keys().chain(r.keys()).filter(|k| g.get(*k) != r.get(*k)).cloned().collect()
    };
    let mut diff = differing(&glibc, &relink);
    if !diff.is_empty() {
        eprintln!("cpython_test_modules: running the tests again for {diff:?}");
        let (g2, r2) = (regrtest(&s, &py, "glibc-again", CPYTHON_TESTS, false), regrtest(&s, &py, "relink-again", CPYTHON_TESTS, true));
        diff.retain(|id| g2.get(id) != r2.get(id));
    }
    let report: Vec<String> = diff.iter().map(|id| format!("{id}: glibc {:?}, relink {:?}", glibc.get(id), relink.get(id))).collect();
    assert!(report.is_empty(), "tests whose outcome differs with the interposer:\n{}", report.join("\n"));
    let failing: Vec<_> = relink.iter().filter(|(_, o)| *o == "failure" || *o == "error").map(|(id, _)| id.clone()).collect();
    eprintln!("cpython_test_modules: {} tests, same outcomes; failing both ways: {failing:?}", relink.len());
    assert_mapped(&s, "relink", &["/_ctypes.cpython-311-x86_64-linux-gnu.so", "/_ssl.cpython-311-x86_64-linux-gnu.so", "/_sqlite3.cpython-311-x86_64-linux-gnu.so", "/_decimal.cpython-311-x86_64-linux-gnu.so", "/_testcapi.cpython-311-x86_64-linux-gnu.so", "/libsqlite3.so.0"]);
}

/// Perl's XS modules loaded by relink give the same output as with glibc.
#[test]
fn perl_xs_modules() {
    let s = Scratch::new("perl_xs");
    let perl = require_program("perl", "perl");
    let script = c_tests_dir().join("perl_xs.pl");
    let (glibc, relink) = both(&s, "perl", &perl, &[script.to_str().unwrap()], Duration::from_secs(60));
    assert!(glibc.status.success(), "perl failed: {}", glibc.stderr);
    assert!(relink.status.success(), "perl with the interposer failed: {}\n{}", describe_status(&relink.status), relink.stderr);
    assert_eq!(glibc.stdout, relink.stdout);
    assert!(relink.stdout.contains("Encode: 9 round trip"), "{}", relink.stdout);
    assert_mapped(&s, "perl", &["/POSIX.so", "/Storable.so", "/List/Util/Util.so", "/Digest/MD5/MD5.so", "/Data/Dumper/Dumper.so", "/Encode/Encode.so"]);
}

/// The openssl command with its legacy provider (an MD4 digest): the provider module is
/// dlopen'ed.
#[test]
fn openssl_legacy_provider() {
    let s = Scratch::new("openssl_legacy");
    let openssl = require_program("openssl", "openssl");
    let input = s.write("input", b"abc\n");
    let args = ["dgst", "-md4", "-provider", "legacy", "-provider", "default", input.to_str().unwrap()];
    let (glibc, relink) = both(&s, "openssl", &openssl, &args, Duration::from_secs(60));
    assert!(glibc.status.success(), "openssl failed: {}", glibc.stderr);
    assert!(relink.status.success(), "openssl with the interposer failed: {}\n{}", describe_status(&relink.status), relink.stderr);
    assert_eq!(glibc.stdout, relink.stdout);
    assert!(relink.stdout.trim_end().ends_with("= 365383baa5e34ce9474586307c1b01bf"), "{}", relink.stdout);
    assert_mapped(&s, "openssl", &["/ossl-modules/legacy.so"]);
}

/// The sqlite3 command loads an extension (`.load`) the test builds.
#[test]
fn sqlite3_load_extension() {
    let s = Scratch::new("sqlite3_load");
    let sqlite3 = require_program("sqlite3", "sqlite3");
    require_header("sqlite3ext.h", "libsqlite3-dev");
    s.lib("libhalf.so", &["sqlite_half.c"], &[]);
    let load = format!(".load {}", s.p("libhalf"));
    let args = [":memory:", load.as_str(), "select half(11);"];
    let (glibc, relink) = both(&s, "sqlite3", &sqlite3, &args, Duration::from_secs(60));
    assert!(glibc.status.success(), "sqlite3 failed: {}", glibc.stderr);
    assert!(relink.status.success(), "sqlite3 with the interposer failed: {}\n{}", describe_status(&relink.status), relink.stderr);
    assert_eq!(glibc.stdout, relink.stdout);
    assert_eq!(relink.stdout.trim(), "5.5");
    assert_mapped(&s, "sqlite3", &["/libhalf.so"]);
}
