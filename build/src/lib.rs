//! `cn build`: an OCI image (and, in `k8s/`, the Kubernetes manifests) from a cn script, with no
//! Docker daemon, no Dockerfile and no base image to pull.
//!
//! The image has two layers. The runtime layer (`runtime_layer`: the cn binary, CA bundle,
//! passwd/group of the non-root user, `/tmp`) depends on the binary alone, so it has one digest
//! for every app built with the same cn. The app layer (`sources`: the script, the local modules
//! the compiler finds it importing, `--include` files) is small and is all a code change
//! pushes. Builds are reproducible (`layer`, `image`, `epoch`): the same inputs give the same
//! digest byte for byte. `layout` writes the OCI layout directory and the archive. The reference
//! is `spec/build.md`.

mod describe;
mod elf;
mod epoch;
mod image;
mod k8s;
mod layer;
mod layout;
mod platforms;
mod registry;
mod runtime_layer;
mod sources;
mod yaml;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use cn_runtime::{RunError, Vm};

pub use epoch::Epoch;

/// What `cn build` was asked to do.
#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
    /// The script.
    pub script: PathBuf,
    /// Where `image/` and `k8s/` go (`build`).
    pub out: PathBuf,
    /// The image reference (`registry.example.com/team/app:1.2`); default `<script>:latest`.
    pub tag: Option<String>,
    /// Also write one archive here.
    pub tar: Option<PathBuf>,
    /// Files and folders (inside the script's folder) the app needs at run time.
    pub include: Vec<PathBuf>,
    /// The cn binaries to put in the image: `PATH` or `linux/arm64=PATH`; default the running
    /// one.
    pub runtimes: Vec<String>,
    /// `--platform` lists (`linux/amd64,linux/arm64`): an image index over them.
    pub platforms: Vec<String>,
    /// `SOURCE_DATE_EPOCH`, if set.
    pub source_date_epoch: Option<String>,
    /// Replicas in the Deployment (an HPA above 1).
    pub replicas: u32,
    /// CPU request (`100m`).
    pub cpu: String,
    /// Memory request and limit (`128Mi`).
    pub memory: String,
    /// Push the image to the registry its reference names.
    pub push: bool,
    /// Speak plain http to the registry.
    pub insecure: bool,
}

/// Why a build stopped. Nothing is left half-written.
#[derive(Debug)]
pub enum BuildError {
    /// The script (or a module it imports) does not compile.
    Compile(RunError),
    /// Anything else, said in one line.
    Message(String),
}

impl BuildError {
    /// An error that says `message`.
    pub fn new(message: impl Into<String>) -> BuildError {
        BuildError::Message(message.into())
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::Compile(_) => write!(f, "the script does not compile"),
            BuildError::Message(message) => f.write_str(message),
        }
    }
}

/// What a build made.
#[derive(Debug)]
pub struct Built {
    /// The image reference.
    pub reference: String,
    /// The digest to pull it by.
    pub digest: String,
    /// Lines for the user: what went in, which epoch, where things were written.
    pub report: Vec<String>,
}

/// Builds the image of `options.script` with `vm` (the standard library registered, so imports
/// resolve as they will at run time).
pub fn build(vm: &mut Vm, options: &BuildOptions) -> Result<Built, BuildError> {
    let sources = sources::collect(vm, &options.script, &options.include)?;
    let script_dir = options
        .script
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let epoch = epoch::find(script_dir, options.source_date_epoch.as_deref())?;
    // Before the long part, so an output folder that cannot be made is said at once.
    std::fs::create_dir_all(&options.out)
        .map_err(|e| BuildError::new(format!("cannot create {}: {e}", options.out.display())))?;
    let runtimes = platforms::select(&options.runtimes, &options.platforms)?;
    let stem = options
        .script
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "app".into());
    let reference = options
        .tag
        .clone()
        .unwrap_or_else(|| format!("{}:latest", stem.to_lowercase()));
    let tag = tag_of(&reference)?;

    let cn = std::env::current_exe()
        .map_err(|e| BuildError::new(format!("cannot find the running cn: {e}")))?;
    let description = describe::describe(&cn, &options.script);
    let mut app = layer::Contents::default();
    for (path, bytes) in &sources.files {
        app.file(&format!("/app/{path}"), bytes.clone(), 0o644);
    }
    let app_layer = layer::write(&app, epoch.seconds)?;
    let labels = labels(script_dir, &epoch, &stem, &tag);
    let mut images = Vec::new();
    for runtime in runtimes {
        let settings = image::Settings {
            architecture: runtime.architecture.to_string(),
            created: epoch.rfc3339(),
            script: format!("/app/{}", sources.script),
            exposed_ports: description
                .servers
                .iter()
                .map(|s| s.port)
                .filter(|p| *p != 0)
                .collect(),
            labels: labels.clone(),
            env: vec![format!("SSL_CERT_FILE={}", runtime_layer::CA_BUNDLE)],
            user: format!("{0}:{0}", runtime_layer::USER),
            history: vec![
                format!("cn build: runtime (cn {})", env!("CARGO_PKG_VERSION")),
                format!("cn build: app {}", sources.script),
            ],
        };
        let runtime_layer = layer::write(&runtime_layer::contents(runtime.bytes), epoch.seconds)?;
        images.push(image::assemble(
            &settings,
            vec![runtime_layer, app_layer.clone()],
        ));
    }
    let index = (images.len() > 1).then(|| image::index_of(&images, &labels));
    let output = layout::Output {
        images: &images,
        index: index.as_ref(),
        reference: &reference,
        tag: &tag,
    };
    let layout_dir = options.out.join("image");
    output.write_layout(&layout_dir)?;
    let mut report = vec![
        format!(
            "app: {} ({} file{}{})",
            sources.script,
            sources.files.len(),
            if sources.files.len() == 1 { "" } else { "s" },
            if sources.modules.is_empty() {
                String::new()
            } else {
                format!("; modules {}", sources.modules.join(", "))
            }
        ),
        format!("created: {} (from {})", epoch.rfc3339(), epoch.source),
        format!(
            "image: {} ({})",
            layout_dir.display(),
            images
                .iter()
                .map(|i| i.platform["architecture"].as_str().unwrap_or("?"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ];
    if let Some(tar) = &options.tar {
        output.write_archive(tar, epoch.seconds)?;
        report.push(format!("archive: {}", tar.display()));
    }
    if options.push {
        let target = registry::target(&reference, &tag);
        let pushed = registry::push(&target, &images, index.as_ref(), options.insecure)?;
        report.push(format!(
            "pushed: {reference}@{} ({} blob{} uploaded, {} already there)",
            output.digest(),
            pushed.uploaded,
            if pushed.uploaded == 1 { "" } else { "s" },
            pushed.skipped
        ));
    }
    let name_end = reference.rfind('/').map_or(0, |i| i + 1);
    let repository = match reference[name_end..].rsplit_once(':') {
        Some((name, _)) => &reference[..name_end + name.len()],
        None => &reference,
    };
    let by_digest = format!("{repository}@{}", output.digest());
    let app_name = k8s::object_name(&repository[name_end..]);
    let sizing = k8s::Sizing {
        replicas: options.replicas.max(1),
        cpu: options.cpu.clone(),
        memory: options.memory.clone(),
    };
    let manifests = k8s::manifests(&app_name, &by_digest, &description, &sizing);
    let k8s_dir = options.out.join("k8s");
    write_manifests(&k8s_dir, &manifests)?;
    report.push(format!(
        "manifests: {} ({})",
        k8s_dir.display(),
        manifests
            .iter()
            .map(|m| m.file)
            .collect::<Vec<_>>()
            .join(", ")
    ));
    for problem in &description.problems {
        report.push(format!("note: {problem}"));
    }
    Ok(Built {
        digest: output.digest().to_string(),
        reference,
        report,
    })
}

/// The tag of a reference (`1.2` of `registry/app:1.2`); a digest reference cannot be built.
fn tag_of(reference: &str) -> Result<String, BuildError> {
    let name_end = reference.rfind('/').map_or(0, |i| i + 1);
    let last = &reference[name_end..];
    if reference.contains('@') || last.is_empty() {
        return Err(BuildError::new(format!(
            "-t {reference}: give a name with an optional tag (registry.example.com/team/app:1.2)"
        )));
    }
    Ok(match last.rsplit_once(':') {
        Some((_, tag)) if !tag.is_empty() => tag.to_string(),
        _ => "latest".to_string(),
    })
}

/// The `org.opencontainers.image.*` labels: title, created, version (the tag unless `latest`),
/// and revision and source when the script's folder is a git repository.
fn labels(dir: &Path, epoch: &Epoch, title: &str, tag: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut set = |key: &str, value: String| {
        labels.insert(format!("org.opencontainers.image.{key}"), value);
    };
    set("title", title.to_string());
    set("created", epoch.rfc3339());
    if tag != "latest" {
        set("version", tag.to_string());
    }
    if let Some(revision) = epoch::git(dir, &["rev-parse", "HEAD"]) {
        set("revision", revision);
    }
    if let Some(url) = epoch::git(dir, &["remote", "get-url", "origin"]) {
        set("source", without_credentials(&url));
    }
    labels
}

/// A remote URL without `user:password@`.
fn without_credentials(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}{}", &url[..scheme + 3], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

/// Writes the manifests into `dir` (replacing what was there), through a folder beside it.
fn write_manifests(dir: &Path, manifests: &[k8s::Manifest]) -> Result<(), BuildError> {
    let files: Vec<(String, Vec<u8>)> = manifests
        .iter()
        .map(|m| {
            (
                m.file.to_string(),
                yaml::document(&m.comment, &m.value).into_bytes(),
            )
        })
        .collect();
    layout::write_dir(dir, &files)
}
