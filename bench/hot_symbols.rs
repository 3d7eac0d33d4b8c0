/// Have the linker put the functions listed in `list`, bench/hot-symbols.txt (what opening libraries
/// runs, see bench/hot_symbols.py) at the start of the text segment, together: a first open
/// then faults in a few adjacent pages of relink's code rather than pages all over it (each
/// fault maps the pages around it), which saves time and resident memory.
///
/// Only lld takes a symbol ordering file, and the list names x86_64 functions, so it is used
/// when building for x86_64 Linux with a linker that a tiny program links with it. `how` is the
/// build script instruction that passes the arguments on (`rustc-link-arg` for this package's
/// targets, `rustc-cdylib-link-arg` for a cdylib); returns "applied", or why not.
///
/// (Included by the build scripts of librelink and of the interposer, which holds the same
/// functions.)
fn hot_symbols_first(list: &std::path::Path, how: &str) -> String {
    let list = list.display();
    println!("cargo:rerun-if-changed={list}");
    let args = [format!("-Wl,--symbol-ordering-file={list}"), "-Wl,--no-warn-symbol-ordering".to_string()];
    let linux_x86_64 = std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("x86_64")
        && std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux");
    match linux_x86_64 {
        false => "not applied: not x86_64 Linux".to_string(),
        true => match links_with(&args) {
            Ok(()) => {
                for a in &args {
                    println!("cargo:{how}={a}");
                }
                "applied".to_string()
            }
            Err(why) => format!("not applied: the linker refuses a symbol ordering file ({why})"),
        },
    }
}

/// Whether a program links with `args` passed to the linker, as this package's targets are
/// linked (same rustc, target, flags and configured linker).
fn links_with(args: &[String]) -> Result<(), String> {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").map_err(|e| e.to_string())?);
    let src = out.join("hot_probe.rs");
    std::fs::write(&src, "fn main() {}\n").map_err(|e| e.to_string())?;
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let mut cmd = std::process::Command::new(rustc);
    cmd.arg("--crate-type=bin").arg("-o").arg(out.join("hot_probe")).arg(&src);
    if let Ok(target) = std::env::var("TARGET") {
        cmd.arg("--target").arg(target);
    }
    if let Ok(linker) = std::env::var("RUSTC_LINKER") {
        cmd.arg(format!("-Clinker={linker}"));
    }
    if let Ok(flags) = std::env::var("CARGO_ENCODED_RUSTFLAGS") {
        cmd.args(flags.split('\x1f').filter(|f| !f.is_empty()));
    }
    for a in args {
        cmd.arg(format!("-Clink-arg={a}"));
    }
    match cmd.output() {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(String::from_utf8_lossy(&o.stderr).lines().find(|l| l.contains("error")).unwrap_or("failed").trim().to_string()),
        Err(e) => Err(e.to_string()),
    }
}
