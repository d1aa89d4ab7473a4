//! Compiler: placeholder.
