//! `http`: a server with cloud-native defaults and a client, on hyper 1.x.

pub mod client;

use cn_runtime::{Value, Vm};

/// The module's members.
pub fn members(_vm: &mut Vm) -> Vec<(&'static str, Value)> {
    let mut members = Vec::new();
    members.extend(client::members());
    members
}
