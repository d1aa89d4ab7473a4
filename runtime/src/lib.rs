//! cn runtime: placeholder.
