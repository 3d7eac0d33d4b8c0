//! `relink`: run unmodified programs on relink, and see what relink makes of a library without
//! running any of its code.

use clap::{Args, Parser, Subcommand};
use relink::inspect::{self, Definition, FileKind, Missing, Origin, Outcome, Resolution, Scope, Tree, Verdict};
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Everything went as asked: the files pass, the dependencies and the symbol are found.
const OK: u8 = 0;
/// relink cannot load FILE itself (cannot read it, refuses it), or `check` refuses a file.
const REFUSED: u8 = 1;
/// A dependency of FILE is missing or refused, or a version it needs is not defined
/// (and, with `ldd --symbols`, a symbol reference cannot be bound): an open of FILE would fail.
const DEPENDENCY: u8 = 3;
/// `sym`: nothing defines NAME for FILE (or FILE's own reference to it cannot be bound).
const NO_SYMBOL: u8 = 4;
/// `run`: relink's own failure (no preload library) before PROGRAM started.
const RUN_FAILED: u8 = 125;
/// `run`: PROGRAM exists but cannot be executed.
const CANNOT_EXECUTE: u8 = 126;
/// `run`: PROGRAM was not found.
const NOT_FOUND: u8 = 127;

const EXIT_STATUS: &str = "\
Exit status:
  0    all is well: the files pass, the dependencies and the symbol are found
  1    relink cannot load FILE itself (cannot read it, refuses it); `check`: a file is refused
  2    bad command line
  3    a dependency of FILE is missing or refused, or a version it needs is not defined (with
       `ldd --symbols`, also a symbol reference that cannot be bound): an open of FILE would fail
  4    `sym`: nothing defines NAME for FILE
  `run` exits with PROGRAM's status, or 125 (relink's own failure, such as no preload
  library), 126 (PROGRAM cannot be executed), 127 (PROGRAM not found).";

const PRELOAD: &str = "librelink_preload.so";

/// `println!` that ends the program quietly, as a SIGPIPE would, once stdout is closed
/// (`relink ldd FILE | head`).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write;
        if writeln!(std::io::stdout(), $($arg)*).is_err() {
            std::process::exit(128 + 13);
        }
    }};
}

#[derive(Parser)]
#[command(
    name = "relink",
    version,
    about = "Run programs on relink, and see how relink resolves and validates libraries",
    long_about = "Run programs on relink, and see how relink resolves and validates libraries.\n\n\
                  `ldd`, `sym` and `check` map the files they read but never relocate them nor run \
                  any of their code. They answer for this process, as `rl_open` called from a \
                  program would: objects the system loader has loaded already here (the C library, \
                  the dynamic loader) are reused, as in any program.",
    after_help = EXIT_STATUS
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Run(RunArgs),
    Ldd(LddArgs),
    Sym(SymArgs),
    Check(CheckArgs),
}

/// Run PROGRAM with relink's dlopen interposer preloaded
///
/// Sets LD_PRELOAD to librelink_preload.so (the one next to this `relink`, else the one in the
/// installed library directory) before anything else in LD_PRELOAD, and execs PROGRAM: every
/// library it loads at run time is then loaded by relink.
#[derive(Args)]
#[command(after_help = EXIT_STATUS)]
struct RunArgs {
    /// What relink reports on stderr: sets RELINK_DEBUG (files, bindings, symbols, scopes,
    /// statistics, all, help; comma-separated)
    #[arg(long, value_name = "WHAT")]
    debug: Option<OsString>,
    /// Write the report to FILE.PID instead: sets RELINK_DEBUG_OUTPUT
    #[arg(long, value_name = "FILE")]
    debug_output: Option<OsString>,
    /// The program to run, and its arguments (after `--` if the program's name starts with `-`)
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true, value_name = "PROGRAM")]
    command: Vec<OsString>,
}

/// Print the dependency tree of FILE as relink resolves it
///
/// Each DT_NEEDED entry is shown with the file relink would map for it, the object already
/// loaded that it would reuse, or why it cannot be had (not found, and the files the search
/// passed over with why; refused, and why). FILE is a path, or a bare library name searched for
/// as rl_open searches (a file of that name in the current directory is taken first, as ldd does).
#[derive(Args)]
#[command(after_help = EXIT_STATUS)]
struct LddArgs {
    /// Also bind every symbol reference of the objects relink would map, as relocation would
    /// (without running IFUNC resolvers), and report those that cannot be bound
    #[arg(short = 'r', long)]
    symbols: bool,
    /// The library
    #[arg(value_name = "FILE")]
    file: String,
}

/// Tell which object would satisfy NAME for FILE, at which version, through which scope
///
/// Shows what FILE's own reference to NAME binds to (relocations look in the global scope of the
/// program that opens FILE, then in FILE's dependency scope), what rl_sym on a handle of FILE
/// finds (FILE's dependency scope), and what rl_sym(RL_DEFAULT) from FILE's code finds (the
/// global scope, then FILE's group).
#[derive(Args)]
#[command(after_help = EXIT_STATUS)]
struct SymArgs {
    /// The library, as for `relink ldd`
    #[arg(value_name = "FILE")]
    file: String,
    /// The symbol; NAME@VERSION asks for a given version, as rl_vsym does
    #[arg(value_name = "NAME")]
    name: String,
}

/// Validate ELF files as relink does before loading them, and say what it would refuse and why
///
/// Shared objects are checked as rl_open checks them (headers, executable stack, W+X segments,
/// dynamic section, symbol tables, -z nodlopen, static TLS, ...), short of their dependencies
/// (see `relink ldd`) and relocation. Relocatable objects (.o) and archives (.a) get their ELF
/// and ar structure and each member's headers checked. No code of any file runs.
#[derive(Args)]
#[command(after_help = EXIT_STATUS)]
struct CheckArgs {
    /// The files
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    ExitCode::from(match cli.command {
        Command::Run(a) => run(a),
        Command::Ldd(a) => ldd(a),
        Command::Sym(a) => sym(a),
        Command::Check(a) => check(a),
    })
}

// ---------------------------------------------------------------------------------------------
// run

fn run(a: RunArgs) -> u8 {
    let preload = match find_preload() {
        Ok(p) => p,
        Err(looked) => {
            let looked: Vec<String> = looked.iter().map(|p| p.display().to_string()).collect();
            eprintln!(
                "relink run: cannot find the interposer {PRELOAD} (looked for {}); build it with `make build`, \
                 or install it with `make install`",
                looked.join(", ")
            );
            return RUN_FAILED;
        }
    };
    let mut value = preload.into_os_string();
    if let Some(rest) = std::env::var_os("LD_PRELOAD").filter(|v| !v.is_empty()) {
        value.push(":");
        value.push(rest);
    }
    let (program, args) = a.command.split_first().expect("clap requires PROGRAM");
    let mut cmd = std::process::Command::new(program);
    cmd.args(args).env("LD_PRELOAD", value);
    if let Some(what) = a.debug {
        cmd.env("RELINK_DEBUG", what);
    }
    if let Some(file) = a.debug_output {
        cmd.env("RELINK_DEBUG_OUTPUT", file);
    }
    let e = cmd.exec();
    eprintln!("relink run: {}: {e}", Path::new(program).display());
    if e.kind() == std::io::ErrorKind::NotFound {
        NOT_FOUND
    } else {
        CANNOT_EXECUTE
    }
}

/// The interposer: next to this program, else in the library directory it was built for, else
/// in `../lib` beside it (the layout of `make install`). On failure, where it looked.
fn find_preload() -> Result<PathBuf, Vec<PathBuf>> {
    let exe_dir = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf));
    let mut dirs: Vec<PathBuf> = exe_dir.iter().cloned().collect();
    if let Some(libdir) = option_env!("RELINK_LIBDIR").filter(|d| !d.is_empty()) {
        dirs.push(PathBuf::from(libdir));
    }
    dirs.extend(exe_dir.map(|d| d.join("../lib")));
    let candidates: Vec<PathBuf> = dirs.iter().map(|d| d.join(PRELOAD)).collect();
    match candidates.iter().find(|c| c.is_file()) {
        Some(found) => Ok(found.canonicalize().unwrap_or_else(|_| found.clone())),
        None => Err(candidates),
    }
}

// ---------------------------------------------------------------------------------------------
// ldd and sym

/// The name to open for FILE: a file of that name in the current directory as a path (as ldd
/// takes it), else the name as `rl_open` takes it.
fn open_name(file: &str) -> String {
    if !file.contains('/') && Path::new(file).is_file() {
        format!("./{file}")
    } else {
        file.to_string()
    }
}

fn open_tree(command: &str, file: &str) -> Result<Tree, u8> {
    Tree::open(&open_name(file)).map_err(|m| {
        eprintln!("relink {command}: {}", m.error);
        for s in &m.skipped {
            eprintln!("relink {command}:   passed over: {s}");
        }
        REFUSED
    })
}

fn origin_note(o: Origin) -> &'static str {
    match o {
        Origin::Host => "loaded by the system loader: reused",
        Origin::Loaded => "loaded by relink already: reused",
        Origin::File => "mapped by relink",
    }
}

fn ldd(a: LddArgs) -> u8 {
    let tree = match open_tree("ldd", &a.file) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let objects = tree.objects();
    say!("{} ({})", objects[0].path, origin_note(objects[0].origin));
    let mut expanded = vec![false; objects.len()];
    expanded[0] = true;
    print_needed(&tree, 0, 1, &mut expanded);
    let mut problems: Vec<String> = tree.version_errors().iter().map(ToString::to_string).collect();
    if a.symbols {
        problems.extend(tree.unresolved().iter().map(ToString::to_string));
    }
    for p in &problems {
        say!("error: {p}");
    }
    if tree.loads() && problems.is_empty() {
        OK
    } else {
        DEPENDENCY
    }
}

/// Print object `i`'s DT_NEEDED entries at `depth`, each found object's own entries under it the
/// first time it is shown.
fn print_needed(tree: &Tree, i: usize, depth: usize, expanded: &mut [bool]) {
    let indent = "    ".repeat(depth);
    for n in &tree.objects()[i].needed {
        match &n.outcome {
            Outcome::Found(j) => {
                let o = &tree.objects()[*j];
                let again = expanded[*j] && !o.needed.is_empty();
                let note = if again { ", dependencies shown above" } else { "" };
                say!("{indent}{} => {} ({}{note})", n.name, o.path, origin_note(o.origin));
                if !expanded[*j] {
                    expanded[*j] = true;
                    print_needed(tree, *j, depth + 1, expanded);
                }
            }
            Outcome::Missing(m) => print_missing(&indent, &n.name, m),
        }
    }
}

fn print_missing(indent: &str, name: &str, m: &Missing) {
    match &m.error {
        relink::Error::MissingDependency { .. } => say!("{indent}{name} => not found"),
        relink::Error::Dependency { source, .. } => say!("{indent}{name} => refused: {source}"),
        e => say!("{indent}{name} => refused: {e}"),
    }
    for s in &m.skipped {
        say!("{indent}    passed over: {s}");
    }
}

/// A definition of `name`, for `sym`.
fn describe(name: &str, d: &Definition) -> String {
    let at = match (&d.version, d.default_version) {
        (Some(v), true) => format!("@@{v}"),
        (Some(v), false) => format!("@{v}"),
        (None, _) => String::new(),
    };
    let scope = match d.scope {
        Scope::Global => "in the global scope",
        Scope::Itself => "in the library itself",
        Scope::Dependencies => "in its dependencies",
    };
    format!("{name}{at} ({} {}) of {} ({}), found {scope}", d.kind, d.binding, d.path, origin_note(d.origin))
}

fn sym(a: SymArgs) -> u8 {
    let (name, version) = match a.name.split_once('@') {
        Some((n, v)) => (n, Some(v.trim_start_matches('@'))),
        None => (a.name.as_str(), None),
    };
    let tree = match open_tree("sym", &a.file) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let r = tree.symbol(name, version);
    let show = |d: &Definition| describe(name, d);
    say!("{name} for {}:", tree.objects()[0].path);
    let mut bound = false;
    match &r.reference {
        None => say!("  its reference: none (it does not refer to {name})"),
        Some(re) => {
            let asks = match (&re.version, &re.version_file) {
                (Some(v), Some(f)) => format!(" to version {v} of {f}"),
                (Some(v), None) => format!(" to version {v}"),
                _ => String::new(),
            };
            let weak = if re.weak { "weak " } else { "" };
            let what = match &re.binds_to {
                Ok(Resolution::Definition(d)) => show(d),
                Ok(Resolution::Runtime) => format!("relink's own {name} (relink binds it in place of the C library's)"),
                Ok(Resolution::Supplied) => format!("the value of {name} given to rl_define"),
                Ok(Resolution::UndefinedWeak) => "nothing: it stays 0 (a weak reference nothing defines)".into(),
                Err(e) => format!("nothing, and the open fails: {e}"),
            };
            bound = matches!(re.binds_to, Ok(ref b) if !matches!(b, Resolution::UndefinedWeak));
            say!("  its {weak}reference{asks} binds to {what}");
        }
    }
    let lookup = |d: &Option<Definition>| d.as_ref().map_or_else(|| "nothing".to_string(), show);
    let call = if version.is_some() { "rl_vsym" } else { "rl_sym" };
    say!("  {call} on its handle (its dependency scope) finds {}", lookup(&r.handle));
    say!("  {call}(RL_DEFAULT) from its code (the global scope, then its group) finds {}", lookup(&r.default));
    for (_, n, m) in tree.missing() {
        say!("  the open fails first: {}: {}", n.name, m.error);
    }
    for e in tree.version_errors() {
        say!("  the open fails first: {e}");
    }
    let found = match &r.reference {
        Some(_) => bound,
        None => r.handle.is_some() || r.default.is_some(),
    };
    if !tree.loads() {
        DEPENDENCY
    } else if found {
        OK
    } else {
        NO_SYMBOL
    }
}

// ---------------------------------------------------------------------------------------------
// check

fn kind_name(k: FileKind) -> &'static str {
    match k {
        FileKind::SharedObject => "shared object",
        FileKind::Executable => "executable",
        FileKind::Relocatable => "relocatable object",
        FileKind::Archive => "archive",
        FileKind::Unknown => "file",
    }
}

fn print_verdict(label: &str, v: &Verdict, indent: &str) {
    match &v.refusal {
        None if v.notes.is_empty() => say!("{indent}{label}: ok: {}", kind_name(v.kind)),
        None => say!("{indent}{label}: ok: {}; {}", kind_name(v.kind), v.notes.join("; ")),
        Some(e) => say!("{indent}{label}: refused: {e}"),
    }
    for (member, mv) in &v.members {
        print_verdict(member, mv, &format!("{indent}    "));
    }
}

fn check(a: CheckArgs) -> u8 {
    let mut code = OK;
    for f in &a.files {
        let v = inspect::check(f);
        print_verdict(&f.display().to_string(), &v, "");
        if !v.accepted() {
            code = REFUSED;
        }
    }
    code
}
