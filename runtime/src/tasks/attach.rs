//! `cn run --repl`: a prompt inside the running service. The service listens on a Unix socket
//! in a folder only its user may enter (the socket itself is owner-only too), and `cn repl
//! --attach` sends entries there. Each entry is compiled against the main script's globals (so
//! `config`, a server, a counter can be looked at) and runs as a task of the service, between its
//! requests; the value or the fault report goes back. What the entry prints goes to the
//! service's own output, as any of its `print`s do.
//!
//! Framing, both ways: the byte length in decimal, a newline, then that many bytes of UTF-8.

use std::path::{Path, PathBuf};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

use crate::fault::FaultKind;
use crate::format;
use crate::tasks::runtime::run_in_task;
use crate::tasks::task::Task;
use crate::tasks::VmRef;
use crate::value::Value;
use crate::vm::RunError;

/// The largest entry a client may send.
const ENTRY_LIMIT: usize = 1 << 20;

/// Where the service with process id `pid` listens: `$XDG_RUNTIME_DIR/cn/` (per user by
/// definition), else `/tmp/cn-<uid>/`.
pub fn socket_path(pid: u32) -> PathBuf {
    socket_folder().join(format!("{pid}.sock"))
}

fn socket_folder() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir).join("cn"),
        _ => {
            use std::os::unix::fs::MetadataExt;
            let uid = std::fs::metadata("/proc/self").map_or(0, |m| m.uid());
            std::env::temp_dir().join(format!("cn-{uid}"))
        }
    }
}

/// Makes the owner-only folder and binds the socket in it (replacing a stale one).
pub(crate) fn listen(path: &Path) -> std::io::Result<UnixListener> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if let Some(folder) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(folder)?;
        // A folder that existed already may have been made by someone else or left open.
        let meta = std::fs::metadata(folder)?;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(std::io::Error::other(format!(
                "{} is open to other users; it must be 0700",
                folder.display()
            )));
        }
    }
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}

/// Accepts attach sessions until the service ends.
pub(crate) async fn serve(vm: VmRef, listener: UnixListener) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::task::spawn_local(session(vm.clone(), stream));
    }
}

async fn session(vm: VmRef, stream: UnixStream) {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    while let Some(entry) = receive(&mut read).await {
        let reply = evaluate(&vm, &entry).await;
        if send(&mut write, &reply).await.is_err() {
            return;
        }
    }
}

/// One framed message, or `None` at the end of the stream or on a malformed frame.
async fn receive<R: tokio::io::AsyncBufRead + Unpin>(read: &mut R) -> Option<String> {
    let mut header = String::new();
    let mut limited = read.take(24);
    limited.read_line(&mut header).await.ok()?;
    let length: usize = header.trim_end().parse().ok()?;
    if length > ENTRY_LIMIT {
        return None;
    }
    let mut body = vec![0; length];
    read.read_exact(&mut body).await.ok()?;
    String::from_utf8(body).ok()
}

pub(crate) async fn send<W: tokio::io::AsyncWrite + Unpin>(
    write: &mut W,
    text: &str,
) -> std::io::Result<()> {
    write
        .write_all(format!("{}\n{text}", text.len()).as_bytes())
        .await?;
    write.flush().await
}

/// Runs one entry as a task of the service; the value's `repr`, the fault report, or the compile
/// errors, as text.
async fn evaluate(vm: &VmRef, source: &str) -> String {
    let body = vm.borrow_mut().compile_repl(source);
    let body = match body {
        Ok(body) => body,
        Err(RunError::Compile { file, diagnostics }) => {
            return diagnostics
                .iter()
                .map(|d| {
                    let (line, col) = file.line_col(d.span);
                    format!("<attach>:{line}:{col}: {} [{}]\n", d.message, d.code)
                })
                .collect();
        }
        Err(other) => return format!("{other:?}\n"),
    };
    let task = Task::new(vm.borrow_mut().next_task_id(), Default::default());
    let result = run_in_task(vm, &task, Value::Function(body)).await;
    vm.borrow_mut().flush();
    match result {
        Ok(Value::Nil) => String::new(),
        Ok(value) => format!("{}\n", format::repr(&value)),
        Err(fault) if matches!(fault.kind, FaultKind::Exit(_)) => {
            "exit() ends the service only from its own code; nothing happened\n".into()
        }
        Err(fault) => fault.report(),
    }
}
