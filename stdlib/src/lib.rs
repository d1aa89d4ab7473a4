//! cn standard library: placeholder.
