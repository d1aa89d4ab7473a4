//! The OCI documents of an image (image-spec v1.1): the config (what runs, as whom, the layers'
//! uncompressed digests), the manifest (config and layers as blobs) and the index that names the
//! image. JSON is written with sorted keys and no whitespace, so the same image always has the
//! same digest.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::layer::{sha256, Layer};

/// OCI media types.
pub const INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// A blob: bytes stored under their digest.
#[derive(Clone)]
pub struct Blob {
    pub digest: String,
    pub bytes: Vec<u8>,
}

impl Blob {
    fn of(bytes: Vec<u8>) -> Blob {
        Blob {
            digest: sha256(&bytes),
            bytes,
        }
    }

    /// A descriptor of the blob with `media_type`.
    pub fn descriptor(&self, media_type: &str) -> Value {
        json!({"mediaType": media_type, "digest": self.digest, "size": self.bytes.len()})
    }
}

/// What the image's config says, besides its layers.
pub struct Settings {
    /// OCI architecture (`amd64`).
    pub architecture: String,
    /// RFC 3339 creation time.
    pub created: String,
    /// The script's path in the image (`/app/main.cn`).
    pub script: String,
    /// `port/tcp` entries.
    pub exposed_ports: Vec<u16>,
    /// `org.opencontainers.image.*` labels (also the manifest's annotations).
    pub labels: BTreeMap<String, String>,
    /// Environment of the process.
    pub env: Vec<String>,
    /// `uid:gid`.
    pub user: String,
    /// What made each layer (the config's history).
    pub history: Vec<String>,
}

/// One platform's image: its manifest and everything it refers to.
pub struct Image {
    /// The manifest blob.
    pub manifest: Blob,
    /// The config blob.
    pub config: Blob,
    /// The layers, base first.
    pub layers: Vec<Blob>,
    /// `{"architecture": .., "os": "linux"}`.
    pub platform: Value,
}

/// Assembles the image of `layers` (base first) under `settings`.
pub fn assemble(settings: &Settings, layers: Vec<Layer>) -> Image {
    let ports: BTreeMap<String, Value> = settings
        .exposed_ports
        .iter()
        .map(|port| (format!("{port}/tcp"), json!({})))
        .collect();
    let mut config = json!({
        "User": settings.user,
        "Entrypoint": ["/cn", "run", settings.script],
        "WorkingDir": "/app",
        "Env": settings.env,
        "Labels": settings.labels,
        "StopSignal": "SIGTERM",
    });
    if !ports.is_empty() {
        config["ExposedPorts"] = json!(ports);
    }
    let history: Vec<Value> = settings
        .history
        .iter()
        .map(|by| json!({"created": settings.created, "created_by": by}))
        .collect();
    let diff_ids: Vec<&str> = layers.iter().map(|l| l.diff_id.as_str()).collect();
    let config = json!({
        "architecture": settings.architecture,
        "os": "linux",
        "created": settings.created,
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    });
    let config = Blob::of(to_bytes(&config));
    let layers: Vec<Blob> = layers
        .into_iter()
        .map(|l| Blob {
            digest: l.digest,
            bytes: l.gzip,
        })
        .collect();
    let layer_descriptors: Vec<Value> = layers.iter().map(|l| l.descriptor(LAYER)).collect();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "config": config.descriptor(CONFIG),
        "layers": layer_descriptors,
        "annotations": settings.labels,
    });
    Image {
        manifest: Blob::of(to_bytes(&manifest)),
        config,
        layers,
        platform: json!({"architecture": settings.architecture, "os": "linux"}),
    }
}

/// An image index over several platforms' images (`--platform a,b`), as a blob.
pub fn index_of(images: &[Image], annotations: &BTreeMap<String, String>) -> Blob {
    let manifests: Vec<Value> = images
        .iter()
        .map(|image| {
            let mut descriptor = image.manifest.descriptor(MANIFEST);
            descriptor["platform"] = image.platform.clone();
            descriptor
        })
        .collect();
    Blob::of(to_bytes(&json!({
        "schemaVersion": 2,
        "mediaType": INDEX,
        "manifests": manifests,
        "annotations": annotations,
    })))
}

/// Compact JSON with sorted keys (serde_json's map is ordered by key).
pub fn to_bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}
