//! `--push`: the image to any registry that speaks the OCI distribution API (v1.1). Each blob is
//! asked for first (`HEAD`) and uploaded only when missing (`POST` an upload, `PUT` it with its
//! digest), so a second push of an app sends its small app layer and config alone; then the
//! manifest is `PUT` under the tag with its own media type. Credentials come from
//! `$DOCKER_CONFIG/config.json` or `~/.docker/config.json` (`auths.<host>.auth`, what
//! `docker login` writes), answering a `Basic` challenge directly and a `Bearer` one through the
//! token flow. `--insecure` speaks plain http (a registry on localhost).

use std::time::Duration;

use base64::Engine;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::image::{Blob, Image, INDEX, MANIFEST};
use crate::BuildError;

/// Longest one request may take (a layer of a few MB on a slow link).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// Where an image reference points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// `host[:port]` of the registry.
    pub host: String,
    /// The repository (`team/app`).
    pub repository: String,
    /// The tag.
    pub tag: String,
}

/// Splits `registry.example.com/team/app:1.2`. A first part without a dot, colon or
/// `localhost` is a Docker Hub name (`library/` added to one-part names).
pub fn target(reference: &str, tag: &str) -> Target {
    let name = reference
        .strip_suffix(&format!(":{tag}"))
        .unwrap_or(reference);
    let (host, repository) = match name.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first.to_string(), rest.to_string())
        }
        Some(_) => ("registry-1.docker.io".to_string(), name.to_string()),
        None => (
            "registry-1.docker.io".to_string(),
            format!("library/{name}"),
        ),
    };
    Target {
        host,
        repository,
        tag: tag.to_string(),
    }
}

/// What was pushed: how many blobs went up and how many the registry had.
pub struct Pushed {
    pub uploaded: usize,
    pub skipped: usize,
}

type HttpsClient = Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Full<Bytes>,
>;

struct Session {
    client: HttpsClient,
    base: String,
    target: Target,
    basic: Option<String>,
    /// `Authorization` to send once a challenge was answered.
    authorization: Option<String>,
}

/// Pushes every image's blobs and manifest, and then the index when there is one; the tag
/// names the index, or the one manifest.
pub fn push(
    target: &Target,
    images: &[Image],
    index: Option<&Blob>,
    insecure: bool,
) -> Result<Pushed, BuildError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| BuildError::new(format!("cannot start the push: {e}")))?;
    runtime.block_on(async {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .build();
        let mut session = Session {
            client: Client::builder(TokioExecutor::new()).build(connector),
            base: format!(
                "{}://{}",
                if insecure { "http" } else { "https" },
                target.host
            ),
            target: target.clone(),
            basic: credentials(&target.host)?,
            authorization: None,
        };
        let mut pushed = Pushed {
            uploaded: 0,
            skipped: 0,
        };
        let mut done: Vec<&str> = Vec::new();
        for image in images {
            for blob in image.layers.iter().chain([&image.config]) {
                if done.contains(&blob.digest.as_str()) {
                    continue;
                }
                done.push(&blob.digest);
                if session.has_blob(&blob.digest).await? {
                    pushed.skipped += 1;
                } else {
                    session.upload(blob).await?;
                    pushed.uploaded += 1;
                }
            }
        }
        let tag = session.target.tag.clone();
        match index {
            Some(index) => {
                for image in images {
                    let digest = image.manifest.digest.clone();
                    session
                        .put_manifest(&digest, &image.manifest, MANIFEST)
                        .await?;
                }
                session.put_manifest(&tag, index, INDEX).await?;
            }
            None => {
                session
                    .put_manifest(&tag, &images[0].manifest, MANIFEST)
                    .await?;
            }
        }
        Ok(pushed)
    })
}

impl Session {
    /// `PUT`s a manifest or index under `reference` (a tag or a digest).
    async fn put_manifest(
        &mut self,
        reference: &str,
        manifest: &Blob,
        media_type: &str,
    ) -> Result<(), BuildError> {
        let path = format!("/v2/{}/manifests/{reference}", self.target.repository);
        let (status, _, body) = self
            .send(Method::PUT, &path, Some(media_type), manifest.bytes.clone())
            .await?;
        if status != StatusCode::CREATED && status != StatusCode::OK {
            return Err(refused("the manifest", status, &body));
        }
        Ok(())
    }

    async fn has_blob(&mut self, digest: &str) -> Result<bool, BuildError> {
        let path = format!("/v2/{}/blobs/{digest}", self.target.repository);
        let (status, _, body) = self.send(Method::HEAD, &path, None, Vec::new()).await?;
        match status {
            StatusCode::OK => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            other => Err(refused("a blob check", other, &body)),
        }
    }

    async fn upload(&mut self, blob: &Blob) -> Result<(), BuildError> {
        let path = format!("/v2/{}/blobs/uploads/", self.target.repository);
        let (status, location, body) = self.send(Method::POST, &path, None, Vec::new()).await?;
        if status != StatusCode::ACCEPTED {
            return Err(refused("starting an upload", status, &body));
        }
        let location = location
            .ok_or_else(|| BuildError::new("the registry started an upload without a Location"))?;
        let separator = if location.contains('?') { '&' } else { '?' };
        let put = format!("{location}{separator}digest={}", blob.digest);
        let (status, _, body) = self
            .send(
                Method::PUT,
                &put,
                Some("application/octet-stream"),
                blob.bytes.clone(),
            )
            .await?;
        if status != StatusCode::CREATED {
            return Err(refused(&format!("the blob {}", blob.digest), status, &body));
        }
        Ok(())
    }

    /// Sends a request (a path, or an absolute URL the registry gave), answering one
    /// authentication challenge. Returns the status, the `Location` header and the body.
    async fn send(
        &mut self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<(StatusCode, Option<String>, String), BuildError> {
        let url = if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        };
        for attempt in 0..2 {
            let mut request = Request::builder().method(method.clone()).uri(&url);
            if let Some(kind) = content_type {
                request = request.header("content-type", kind);
            }
            if let Some(authorization) = &self.authorization {
                request = request.header("authorization", authorization);
            }
            let request = request
                .body(Full::new(Bytes::from(body.clone())))
                .map_err(|e| BuildError::new(format!("bad registry URL {url}: {e}")))?;
            let response = tokio::time::timeout(REQUEST_TIMEOUT, self.client.request(request))
                .await
                .map_err(|_| {
                    BuildError::new(format!("{} did not answer in time", self.target.host))
                })?
                .map_err(|e| BuildError::new(format!("cannot reach {}: {e}", self.target.host)))?;
            let status = response.status();
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let (location, challenge) = (header("location"), header("www-authenticate"));
            let text = response
                .into_body()
                .collect()
                .await
                .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
                .unwrap_or_default();
            if status == StatusCode::UNAUTHORIZED {
                if attempt == 0 && self.authorization.is_none() {
                    self.authorization = Some(self.answer(challenge.as_deref()).await?);
                    continue;
                }
                break;
            }
            let location = location.map(|l| {
                if l.starts_with('/') {
                    format!("{}{l}", self.base)
                } else {
                    l
                }
            });
            return Ok((status, location, text));
        }
        Err(BuildError::new(format!(
            "{} refused the credentials from the Docker config (401)",
            self.target.host
        )))
    }

    /// The `Authorization` header that answers `challenge`.
    async fn answer(&mut self, challenge: Option<&str>) -> Result<String, BuildError> {
        let challenge = challenge.unwrap_or("");
        let missing = || {
            BuildError::new(format!(
                "{} asks for credentials and the Docker config has none for it (docker login {})",
                self.target.host, self.target.host
            ))
        };
        if challenge.to_ascii_lowercase().starts_with("basic") {
            return Ok(format!("Basic {}", self.basic.clone().ok_or_else(missing)?));
        }
        let params = challenge_params(challenge);
        let realm = params
            .iter()
            .find(|(k, _)| k == "realm")
            .map(|(_, v)| v.clone())
            .ok_or_else(|| {
                BuildError::new(format!(
                    "{} sent a challenge cn cannot answer: {challenge}",
                    self.target.host
                ))
            })?;
        let mut url = format!(
            "{realm}?scope=repository:{}:pull,push",
            self.target.repository
        );
        if let Some((_, service)) = params.iter().find(|(k, _)| k == "service") {
            url.push_str(&format!("&service={service}"));
        }
        let mut request = Request::builder().method(Method::GET).uri(&url);
        if let Some(basic) = &self.basic {
            request = request.header("authorization", format!("Basic {basic}"));
        }
        let request = request
            .body(Full::new(Bytes::new()))
            .map_err(|e| BuildError::new(format!("bad token URL {url}: {e}")))?;
        let response =
            self.client.request(request).await.map_err(|e| {
                BuildError::new(format!("cannot reach the token service {realm}: {e}"))
            })?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        if !status.is_success() {
            return Err(BuildError::new(format!(
                "the token service {realm} refused: {status}"
            )));
        }
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let token = json["token"]
            .as_str()
            .or_else(|| json["access_token"].as_str())
            .ok_or_else(|| BuildError::new(format!("the token service {realm} sent no token")))?;
        Ok(format!("Bearer {token}"))
    }
}

/// `key="value"` pairs of a `WWW-Authenticate: Bearer ...` header.
fn challenge_params(challenge: &str) -> Vec<(String, String)> {
    let rest = challenge.split_once(' ').map_or("", |(_, rest)| rest);
    rest.split(',')
        .filter_map(|part| {
            let (key, value) = part.trim().split_once('=')?;
            Some((
                key.trim().to_lowercase(),
                value.trim().trim_matches('"').to_string(),
            ))
        })
        .collect()
}

/// The base64 `user:password` that `docker login` stored for `host`, if any.
fn credentials(host: &str) -> Result<Option<String>, BuildError> {
    let dir = match std::env::var_os("DOCKER_CONFIG") {
        Some(dir) => std::path::PathBuf::from(dir),
        None => match std::env::var_os("HOME") {
            Some(home) => std::path::PathBuf::from(home).join(".docker"),
            None => return Ok(None),
        },
    };
    let file = dir.join("config.json");
    let Ok(text) = std::fs::read_to_string(&file) else {
        return Ok(None);
    };
    let config: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| BuildError::new(format!("{}: {e}", file.display())))?;
    let auths = &config["auths"];
    for key in [
        host.to_string(),
        format!("https://{host}"),
        format!("http://{host}"),
    ] {
        if let Some(auth) = auths[&key]["auth"].as_str() {
            let valid = base64::engine::general_purpose::STANDARD
                .decode(auth)
                .is_ok_and(|raw| raw.contains(&b':'));
            if !valid {
                return Err(BuildError::new(format!(
                    "{}: the auth of {key} is not base64 of user:password",
                    file.display()
                )));
            }
            return Ok(Some(auth.to_string()));
        }
    }
    Ok(None)
}

/// A registry's refusal, with the first line of what it said.
fn refused(what: &str, status: StatusCode, body: &str) -> BuildError {
    let said = body.lines().next().unwrap_or("").trim();
    BuildError::new(format!("the registry refused {what}: {status} {said}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_name_their_registry() {
        let t = target("registry.example.com/team/app:1.2", "1.2");
        assert_eq!(
            (t.host.as_str(), t.repository.as_str()),
            ("registry.example.com", "team/app")
        );
        let t = target("127.0.0.1:5000/app:latest", "latest");
        assert_eq!(
            (t.host.as_str(), t.repository.as_str()),
            ("127.0.0.1:5000", "app")
        );
        let t = target("hello:latest", "latest");
        assert_eq!(t.repository, "library/hello");
        assert_eq!(t.host, "registry-1.docker.io");
    }

    #[test]
    fn bearer_challenges_are_read() {
        let params = challenge_params(
            r#"Bearer realm="https://auth.example.com/token",service="registry.example.com""#,
        );
        assert_eq!(
            params[0],
            ("realm".into(), "https://auth.example.com/token".into())
        );
        assert_eq!(params[1], ("service".into(), "registry.example.com".into()));
    }
}
