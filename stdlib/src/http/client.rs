//! The http client (being written).

use cn_runtime::Value;

/// The client's members of the `http` module.
pub fn members() -> Vec<(&'static str, Value)> {
    Vec::new()
}
