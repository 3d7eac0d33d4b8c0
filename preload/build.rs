fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    // glibc's symbol versions differ by machine where it came later than to x86_64.
    let map = match std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() {
        Ok("aarch64") => "exports-aarch64.map",
        Ok("riscv64") => "exports-riscv64.map",
        Ok("arm") => "exports-arm.map",
        Ok("x86") => "exports-x86.map",
        _ => "exports.map",
    };
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={map}");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,librelink_preload.so");
    println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={dir}/{map}");
    // The interposer holds librelink's functions: laid out as in librelink.so.
    let outcome = hot_symbols_first(&std::path::Path::new(&dir).join("../bench/hot-symbols.txt"), "rustc-cdylib-link-arg");
    println!("cargo:rustc-env=RELINK_HOT_SYMBOLS={outcome}");
}

include!("../bench/hot_symbols.rs");
