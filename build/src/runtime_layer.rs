//! The runtime layer: the cn binary at `/cn`, a CA bundle, `/etc/passwd` and `/etc/group` with
//! the non-root user the image runs as (65532, as distroless names it `nonroot`), name service
//! files for a static glibc, and a writable `/tmp`. It depends on the binary alone, so every app
//! built with the same cn shares its digest and a registry stores it once.

use base64::Engine;

use crate::layer::Contents;

/// The user and group the image runs as.
pub const USER: u32 = 65532;

/// Where the CA bundle goes (the path rustls-native-certs and most TLS stacks look at first).
pub const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The layer's files around `binary`.
pub fn contents(binary: Vec<u8>) -> Contents {
    let mut contents = Contents::default();
    contents.file("/cn", binary, 0o755);
    contents.file(
        "/etc/passwd",
        format!(
            "root:x:0:0:root:/root:/sbin/nologin\n\
             nonroot:x:{USER}:{USER}:nonroot:/home/nonroot:/sbin/nologin\n"
        )
        .into_bytes(),
        0o644,
    );
    contents.file(
        "/etc/group",
        format!("root:x:0:\nnonroot:x:{USER}:\n").into_bytes(),
        0o644,
    );
    // A static glibc reads these itself; Kubernetes mounts its own /etc/hosts over this one.
    contents.file(
        "/etc/hosts",
        b"127.0.0.1\tlocalhost\n::1\tlocalhost\n".to_vec(),
        0o644,
    );
    contents.file("/etc/nsswitch.conf", b"hosts: files dns\n".to_vec(), 0o644);
    contents.file(CA_BUNDLE, ca_bundle(), 0o644);
    contents.dir("/tmp", 0o1777);
    contents.dir("/home/nonroot", 0o755);
    contents
}

/// Mozilla's root certificates (compiled into cn through `webpki-root-certs`) as PEM.
fn ca_bundle() -> Vec<u8> {
    let mut pem = String::new();
    for cert in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        let encoded = base64::engine::general_purpose::STANDARD.encode(cert.as_ref());
        pem.push_str("-----BEGIN CERTIFICATE-----\n");
        for line in encoded.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).unwrap_or_default());
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
    }
    pem.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundle_holds_many_certificates() {
        let bundle = String::from_utf8(ca_bundle()).expect("PEM is text");
        assert!(bundle.matches("BEGIN CERTIFICATE").count() > 100);
    }
}
