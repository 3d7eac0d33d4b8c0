//! `librelink_preload.so`: preloaded (`LD_PRELOAD`), it gives an unmodified program relink in
//! place of glibc's `dlopen` family. Everything the program (or a library) loads at run time is
//! then mapped, linked and tracked by relink; the libraries loaded at startup stay glibc's.
//!
//! The exports carry glibc's symbol versions (`exports.map`), so that programs built against
//! any glibc release bind to them. Each is a small entry point that hands its arguments, and for
//! the functions whose meaning depends on the calling object (`dlopen`, `dlmopen`, `dlsym`,
//! `dlvsym`) the caller's return address, to `relink::interpose`. Being naked, the entry points
//! leave the return address where the caller put it, and a tail call keeps it out of the stack
//! trace.

#[cfg(not(target_arch = "x86_64"))]
compile_error!("librelink_preload supports x86_64 only for now");

use relink::interpose as i;

/// One exported function: `$label` jumps to `$target`, after loading the return address into
/// the argument register `$reg` when one is given; `.symver` gives the label each versioned name.
macro_rules! exports {
    ($( $label:literal => $target:path, $reg:literal, [$($ver:literal),+] );+ $(;)?) => {
        $(
            core::arch::global_asm!(
                concat!(".globl ", $label),
                concat!(".type ", $label, ", @function"),
                concat!($label, ":"),
                "endbr64",
                $reg,
                "jmp {t}",
                concat!(".size ", $label, ", . - ", $label),
                $(concat!(".symver ", $label, ", ", $ver),)+
                t = sym $target,
            );
        )+
    };
}

exports! {
    "relink_dlopen" => i::dlopen, "mov rdx, [rsp]", ["dlopen@GLIBC_2.2.5"];
    "relink_dlopen_234" => i::dlopen, "mov rdx, [rsp]", ["dlopen@@GLIBC_2.34"];
    "relink_dlmopen" => i::dlmopen, "mov rcx, [rsp]", ["dlmopen@GLIBC_2.3.4"];
    "relink_dlmopen_234" => i::dlmopen, "mov rcx, [rsp]", ["dlmopen@@GLIBC_2.34"];
    "relink_dlsym" => i::dlsym, "mov rdx, [rsp]", ["dlsym@GLIBC_2.2.5"];
    "relink_dlsym_234" => i::dlsym, "mov rdx, [rsp]", ["dlsym@@GLIBC_2.34"];
    "relink_dlvsym" => i::dlvsym, "mov rcx, [rsp]", ["dlvsym@GLIBC_2.2.5"];
    "relink_dlvsym_234" => i::dlvsym, "mov rcx, [rsp]", ["dlvsym@@GLIBC_2.34"];
    "relink_dlclose" => i::dlclose, "", ["dlclose@GLIBC_2.2.5"];
    "relink_dlclose_234" => i::dlclose, "", ["dlclose@@GLIBC_2.34"];
    "relink_dlerror" => i::dlerror, "", ["dlerror@GLIBC_2.2.5"];
    "relink_dlerror_234" => i::dlerror, "", ["dlerror@@GLIBC_2.34"];
    "relink_dladdr" => i::dladdr, "", ["dladdr@GLIBC_2.2.5"];
    "relink_dladdr_234" => i::dladdr, "", ["dladdr@@GLIBC_2.34"];
    "relink_dladdr1" => i::dladdr1, "", ["dladdr1@GLIBC_2.3.3"];
    "relink_dladdr1_234" => i::dladdr1, "", ["dladdr1@@GLIBC_2.34"];
    "relink_dlinfo" => i::dlinfo, "", ["dlinfo@GLIBC_2.3.3"];
    "relink_dlinfo_234" => i::dlinfo, "", ["dlinfo@@GLIBC_2.34"];
    "relink_dl_iterate_phdr" => i::dl_iterate_phdr, "", ["dl_iterate_phdr@@GLIBC_2.2.5"];
    "relink_dl_find_object" => i::dl_find_object, "", ["_dl_find_object@@GLIBC_2.35"];
}
