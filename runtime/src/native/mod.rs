//! The declarative native API: how Rust code shows functions, methods, attributes and modules to
//! scripts. Each is declared once, in a table, with its name, doc text and parameters; the runtime
//! looks members up by interned symbol, checks arguments in one wording, suggests the closest
//! name for a misspelt one, and `help()` and the REPL's completion read the same tables.
//!
//! `params` (what a native accepts), `function` (builtins and module functions), `table` (a
//! type's methods and attributes), `object_members` (tables of library types, as the VM sees
//! them), `module` (building a native module), `stream` (iterators whose items may need a wait), `help` (the `help()` builtin and completion).

mod function;
pub(crate) mod help;
mod module;
mod object_members;
mod params;
mod stream;
mod table;

pub use function::{signature, summary, Function};
pub use help::type_docs;
pub use module::{ModuleBuilder, ModuleInit, ModuleMember, NativeModule};
pub use object_members::{Found, Members};
pub use params::{Keywords, Params};
pub use stream::{NativeStream, StreamStep, StreamWait};
pub use table::{unknown_member, Member, MemberDoc, MemberKind, Table, TypeDoc};
