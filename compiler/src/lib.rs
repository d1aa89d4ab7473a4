//! The cn front end: source text in, bytecode out.
//!
//! `syntax` turns text into an AST (logos lexer, layout pass, lalrpop grammar); `compile` resolves
//! names to slots and emits the bytecode described in `bytecode`. Nothing here knows about the
//! runtime, tokio or the standard library: the only output is plain data (`bytecode::Program`
//! pieces) and [`Diagnostic`]s.

pub mod bytecode;
pub mod compile;
pub mod diagnostic;
pub mod syntax;

pub use diagnostic::Diagnostic;
