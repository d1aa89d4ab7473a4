//! Bytecode: placeholder.
