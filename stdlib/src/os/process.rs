//! Subprocesses: `os.run(cmd, ...)` runs a program to its end and returns what it wrote;
//! `os.spawn(cmd, ...)` starts one and streams its stdout.
//!
//! A program is started directly (`cmd` is a list: no shell, so no quoting mistakes and no
//! injection through arguments). Its environment is the process's with `os.setenv`'s changes and
//! `env=` on top. The child belongs to the task that started it: when that task is cancelled (a
//! request's deadline, shutdown) or `timeout=` passes, the child is killed (SIGKILL) and reaped,
//! never left running behind the program. Only the child itself is killed, not processes it
//! started in turn (as in Python and Go).

use std::cell::RefCell;
use std::process::Stdio;
use std::rc::Rc;

use futures_util::StreamExt;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

use cn_runtime::native::{Member, Members, Table};
use cn_runtime::object::{NativeObject, NativeType};
use cn_runtime::{Args, Fault, Value, Vm};

use crate::fs::errors::FsError;

/// What `cmd=` and the keyword arguments ask for.
struct Spec {
    program: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
    cwd: Option<String>,
}

impl Spec {
    fn read(args: &Args<'_>) -> Result<Spec, Fault> {
        let parts: Vec<String> = match args.value(0)? {
            Value::List(items) => items
                .borrow()
                .iter()
                .map(|part| match part {
                    Value::Str(s) if !s.contains('\0') => Ok(s.to_string()),
                    other => Err(Fault::new(format!(
                        "{}: every part of the command must be a str, got {}",
                        args.function,
                        other.type_name()
                    ))),
                })
                .collect::<Result<_, _>>()?,
            Value::Str(s) => {
                return Err(Fault::new(format!(
                    "{}: the command is a list of program and arguments, not a str: [{:?}, ...] (cn runs no shell; for one, [\"sh\", \"-c\", {s:?}])",
                    args.function,
                    s.split_whitespace().next().unwrap_or("")
                )))
            }
            other => return Err(args.wrong_type(0, "list of str", other)),
        };
        let Some((program, rest)) = parts.split_first() else {
            return Err(Fault::new(format!(
                "{}: the command is empty",
                args.function
            )));
        };
        let mut env = Vec::new();
        match args.named("env") {
            None | Some(Value::Nil) => {}
            Some(Value::Dict(dict)) => {
                for (key, value) in dict.borrow().iter() {
                    match (key.value(), value) {
                        (Value::Str(k), Value::Str(v)) => env.push((k.to_string(), v.to_string())),
                        _ => {
                            return Err(Fault::new(format!(
                                "{}: env must map strs to strs",
                                args.function
                            )))
                        }
                    }
                }
            }
            Some(other) => return Err(args.wrong_keyword("env", "a dict of strs", other)),
        }
        let cwd = args.str_option("cwd")?.map(|s| s.to_string());
        Ok(Spec {
            program: program.clone(),
            args: rest.to_vec(),
            env,
            cwd,
        })
    }

    /// The command, with pipes for stdout and stderr, killed when dropped.
    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (name, value) in super::overlay() {
            match value {
                Some(value) => command.env(name, value),
                None => command.env_remove(name),
            };
        }
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        if let Some(dir) = &self.cwd {
            command.current_dir(dir);
        }
        command
    }

    /// The `Err` for a child that could not start: the directory when it is the one missing.
    fn start_error(&self, error: std::io::Error) -> Value {
        let at = match &self.cwd {
            Some(dir) if !std::path::Path::new(dir).is_dir() => dir.clone(),
            _ => self.program.clone(),
        };
        FsError::new(at, error).into_value()
    }
}

/// A child's exit status as scripts see it: the code, or minus the signal that killed it (as
/// Python reports it).
fn status_code(status: std::process::ExitStatus) -> i64 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => i64::from(code),
        (None, Some(signal)) => -i64::from(signal),
        (None, None) => -1,
    }
}

/// os.run(cmd, input=, timeout=, env=, cwd=, binary=)
pub(super) fn run(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let spec = Spec::read(&args)?;
    let input: Option<Vec<u8>> = match args.named("input") {
        None | Some(Value::Nil) => None,
        Some(Value::Str(s)) => Some(s.as_bytes().to_vec()),
        Some(Value::Bytes(b)) => Some(b.to_vec()),
        Some(other) => return Err(args.wrong_keyword("input", "a str or bytes", other)),
    };
    let timeout = match args.named("timeout") {
        None | Some(Value::Nil) => None,
        Some(_) => Some(crate::time::duration_option(
            &args,
            usize::MAX,
            "timeout",
            std::time::Duration::ZERO,
        )?),
    };
    let binary = args.flag("binary")?;
    Ok(vm.suspend(async move {
        let mut command = spec.command();
        if input.is_some() {
            command.stdin(Stdio::piped());
        }
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(error) => return Ok(spec.start_error(error)),
        };
        let stdin = child.stdin.take();
        // Feeding the input and reading the output at once: a child that writes before it has
        // read everything would otherwise fill a pipe and wait forever.
        let feed = async move {
            if let (Some(mut stdin), Some(data)) = (stdin, input) {
                let _ = stdin.write_all(&data).await;
            }
        };
        let finished = async move {
            let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
            let (_, stdout, stderr) = tokio::join!(feed, capture(stdout), capture(stderr));
            let (stdout, stderr) = match (stdout, stderr) {
                (Ok(stdout), Ok(stderr)) => (stdout, stderr),
                (Err(error), _) | (_, Err(error)) => {
                    let _ = child.start_kill();
                    return Err(error);
                }
            };
            let status = child.wait().await?;
            Ok(std::process::Output {
                status,
                stdout,
                stderr,
            })
        };
        let output = match timeout {
            Some(limit) => match tokio::time::timeout(limit, finished).await {
                Ok(output) => output,
                // Dropping the child killed it (`kill_on_drop`); tokio reaps it.
                Err(_) => return Ok(Value::err(crate::time::timeout_error())),
            },
            None => finished.await,
        };
        let output = match output {
            Ok(output) => output,
            Err(error) => return Ok(FsError::new(spec.program, error).into_value()),
        };
        Ok(Value::ok(NativeObject::value(Completed {
            status: status_code(output.status),
            stdout: output.stdout,
            stderr: output.stderr,
            binary,
        })))
    }))
}

/// All of a child's output pipe, up to the read limit (past it the child is killed and the run
/// is an error: an endless writer must not exhaust memory).
async fn capture(pipe: Option<impl tokio::io::AsyncRead + Unpin>) -> std::io::Result<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut data = Vec::new();
    if let Some(pipe) = pipe {
        pipe.take(crate::fs::READ_LIMIT + 1)
            .read_to_end(&mut data)
            .await?;
    }
    if data.len() as u64 > crate::fs::READ_LIMIT {
        return Err(crate::fs::too_large("the output"));
    }
    Ok(data)
}

/// What `os.run` returns.
struct Completed {
    status: i64,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    binary: bool,
}

impl Completed {
    /// Output as a str (invalid UTF-8 replaced by U+FFFD), or bytes with `binary=true`.
    fn output(&self, data: &[u8]) -> Value {
        if self.binary {
            Value::Bytes(Rc::new(bytes::Bytes::copy_from_slice(data)))
        } else {
            Value::str(String::from_utf8_lossy(data))
        }
    }
}

type C = Member<Completed>;

static COMPLETED: Table<Completed> = Table::new(
    "os.Completed",
    "A finished subprocess, as `os.run` returns it.",
    &[
        C::attribute("status", |c, _| Ok(Value::Int(c.status))).doc(
            "status\nThe exit code; minus the signal number if a signal ended it (-9: killed).",
        ),
        C::attribute("ok", |c, _| Ok(Value::Bool(c.status == 0)))
            .doc("ok\nWhether the exit code was 0."),
        C::attribute("stdout", |c, _| Ok(c.output(&c.stdout)))
            .doc("stdout\nWhat it wrote to stdout: a str (bytes with `binary=true`)."),
        C::attribute("stderr", |c, _| Ok(c.output(&c.stderr)))
            .doc("stderr\nWhat it wrote to stderr: a str (bytes with `binary=true`)."),
    ],
);

impl NativeType for Completed {
    fn type_name(&self) -> &str {
        "os.Completed"
    }

    fn members(&self) -> &'static dyn Members {
        &COMPLETED
    }

    fn display(&self) -> String {
        format!(
            "<os.Completed status {} stdout {} bytes stderr {} bytes>",
            self.status,
            self.stdout.len(),
            self.stderr.len()
        )
    }
}

/// os.spawn(cmd, env=, cwd=)
pub(super) fn spawn(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let spec = Spec::read(&args)?;
    let mut command = spec.command();
    // stderr goes where the program's own goes: a streaming child's diagnostics stay visible.
    command.stderr(Stdio::inherit());
    Ok(match command.spawn() {
        Ok(child) => Value::ok(NativeObject::value(Process {
            pid: child.id().map_or(-1, i64::from),
            child: Rc::new(RefCell::new(Some(child))),
        })),
        Err(error) => spec.start_error(error),
    })
}

/// A running subprocess (`os.spawn`). Dropped, it kills the child.
struct Process {
    pid: i64,
    /// Taken by `wait`, which owns the child until it has exited.
    child: Rc<RefCell<Option<Child>>>,
}

type P = Member<Process>;

static PROCESS: Table<Process> = Table::new(
    "os.Process",
    "A running subprocess, as `os.spawn` returns it.",
    &[
        P::attribute("pid", |p, _| Ok(Value::Int(p.pid))).doc("pid\nThe child's process id."),
        P::method("lines", |p, vm, _| {
            let stdout = p.child.borrow_mut().as_mut().and_then(|c| c.stdout.take());
            let Some(stdout) = stdout else {
                return Err(Fault::new("os.Process.lines(): the output is already being read"));
            };
            let lines = tokio::io::BufReader::new(stdout).lines();
            let items = futures_util::stream::unfold(lines, |mut lines| async move {
                match lines.next_line().await {
                    Ok(Some(line)) => Some((Ok(Value::str(line)), lines)),
                    Ok(None) => None,
                    Err(error) => Some((
                        Err(Fault::new(format!("os.Process.lines(): {error}"))),
                        lines,
                    )),
                }
            })
            .boxed_local();
            Ok(crate::stream::value(items, vm.lifecycle.clone()))
        })
        .doc("lines()\nAn iterator over the child's stdout lines (without newlines), as they come; it ends when the child closes its stdout."),
        P::method("wait", |p, vm, _| {
            let child = p.child.clone();
            Ok(vm.suspend(async move {
                let taken = child.borrow_mut().take();
                let Some(mut running) = taken else {
                    return Err(Fault::new("os.Process.wait(): already waited for"));
                };
                // The waiting task owns the child now: cancelled, it kills it.
                let status = running.wait().await;
                match status {
                    Ok(status) => Ok(Value::Int(status_code(status))),
                    Err(error) => Err(Fault::new(format!("os.Process.wait(): {error}"))),
                }
            }))
        })
        .doc("wait()\nWaits for the child to end; its status (the exit code, or minus the signal)."),
        P::method("kill", |p, _, _| {
            if let Some(child) = p.child.borrow_mut().as_mut() {
                let _ = child.start_kill();
            }
            Ok(Value::Nil)
        })
        .doc("kill()\nKills the child (SIGKILL); `wait()` then returns -9."),
    ],
);

impl NativeType for Process {
    fn type_name(&self) -> &str {
        "os.Process"
    }

    fn members(&self) -> &'static dyn Members {
        &PROCESS
    }

    fn display(&self) -> String {
        format!("<os.Process pid {}>", self.pid)
    }
}
