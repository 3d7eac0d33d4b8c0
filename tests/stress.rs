//! Eight threads use relink at once for about 20 seconds (c-tests/stress.c): opening, looking
//! up, calling and closing real libraries from files and from memory, the global scope,
//! rl_addr, rl_iterate_phdr, lookup hooks added and removed. Results are checked, and a watchdog
//! in the program reports a deadlock. `make tsan` runs the same program against a
//! ThreadSanitizer build of relink.

mod common;

use common::*;
use std::time::Duration;

#[test]
fn eight_threads_for_twenty_seconds() {
    system_lib("libz.so.1");
    system_lib("libsqlite3.so.0");
    let s = Scratch::new("stress");
    s.lib("libsimple.so", &["simple.c"], &[]);
    s.lib("libstress_hooked.so", &["stress_hooked.c"], &[]);
    let prog = s.program("stress.c", &[]);
    let out = s.run_with_timeout(&prog, &[s.dir_arg().as_str(), "20"], &[], Duration::from_secs(120));
    let last_ok = out.stdout.lines().last().is_some_and(|l| l.ends_with(" checks passed"));
    assert!(
        out.status.success() && last_ok,
        "stress: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        describe_status(&out.status),
        out.stdout,
        out.stderr
    );
    eprint!("{}", out.stdout);
}
