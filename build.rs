fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // Not `rustc-cdylib-link-arg`: Cargo passes those on to the cdylibs of dependent packages
    // (librelink_preload.so would be called librelink.so.0 too). This one applies to this
    // package's own targets only; executables ignore a SONAME.
    println!("cargo:rustc-link-arg=-Wl,-soname,librelink.so.0");
    // glibc's `struct dl_find_object` has machine-specific words after `dlfo_eh_frame`, which
    // its <bits/dl_find_object.h> switches on (DLFO_STRUCT_HAS_EH_DBASE, _EH_COUNT): the base
    // of data-relative pointers on i386, the number of .ARM.exidx entries on Arm, whose
    // unwinder (EHABI) also finds them through `__gnu_Unwind_Find_exidx`.
    println!("cargo::rustc-check-cfg=cfg(dlfo_eh_dbase)");
    println!("cargo::rustc-check-cfg=cfg(dlfo_eh_count)");
    match std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() {
        Ok("x86") => println!("cargo:rustc-cfg=dlfo_eh_dbase"),
        Ok("arm") => println!("cargo:rustc-cfg=dlfo_eh_count"),
        _ => {}
    }
    // Tells the tests whether it did (RELINK_HOT_SYMBOLS: "applied", or why not).
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let outcome = hot_symbols_first(&std::path::Path::new(&dir).join("bench/hot-symbols.txt"), "rustc-link-arg");
    println!("cargo:rustc-env=RELINK_HOT_SYMBOLS={outcome}");
}

include!("bench/hot_symbols.rs");
