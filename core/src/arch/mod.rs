//! Per-architecture relocation tables. Each file starts with a short note on its psABI and
//! reads like the psABI's table: relocation number, name, calculation ([`Calc`]), field
//! ([`Field`]) and range ([`Check`]). [`Howto::apply`] does the arithmetic.
//!
//! [`Calc`]: crate::reloc::Calc
//! [`Field`]: crate::reloc::Field
//! [`Check`]: crate::reloc::Check
//! [`Howto::apply`]: crate::reloc::Howto::apply

pub mod loongarch64;
pub mod riscv32;
pub mod x86_64;
