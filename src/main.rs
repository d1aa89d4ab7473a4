//! The `cn` command: run, check, disassemble and explore cn programs, and build them into images.
//!
//! Exit status: 0 when the program ran to the end, 1 when a runtime fault ended it, 2 for compile
//! errors and usage errors. The interpreter runs on a thread with a large stack so that the
//! recursive compiler passes and native callbacks have room on any input.

mod attach;
mod files;
mod fmt;
mod lsp;
mod memory;
mod repl;
mod report;
mod test;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use cn_runtime::{RunError, Runtime, Vm};

// Scripts allocate many small strings, lists and records; mimalloc is markedly faster than the
// system allocator at that (measured in bench/README.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// cn: a scripting language whose standard library makes cloud-native patterns the default.
#[derive(Parser)]
#[command(name = "cn", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run a script: its top-level code, then `main()` if it defines one.
    Run {
        /// Read environment variables from a dotenv file (`KEY=value` lines) before the script
        /// starts; the process environment wins over it, and later files over earlier ones.
        #[arg(long = "env-file", value_name = "PATH")]
        env_file: Vec<PathBuf>,
        /// Let `cn repl --attach PID` open a prompt inside the running script (an owner-only
        /// Unix socket under $XDG_RUNTIME_DIR/cn or /tmp/cn-UID).
        #[arg(long)]
        repl: bool,
        /// The script to run.
        file: PathBuf,
        /// Arguments for the script, available as `args()`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Parse and resolve scripts without running them; report every error.
    Check {
        /// The scripts to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Rewrite .cn files in the one canonical layout (every comment kept, meaning unchanged).
    Fmt {
        /// Change nothing; list the files that are not formatted and exit 1 if there are any.
        #[arg(long, conflicts_with = "diff")]
        check: bool,
        /// Change nothing; print what would change as a unified diff.
        #[arg(long)]
        diff: bool,
        /// Files or folders (default: the current folder); `-` formats standard input to
        /// standard output.
        paths: Vec<PathBuf>,
    },
    /// Run the tests: every `fn test_*()` in the `*_test.cn` files under the paths.
    Test {
        /// Files or folders (default: the current folder).
        paths: Vec<PathBuf>,
        /// Run only the tests whose name matches this regular expression.
        #[arg(long, value_name = "REGEX")]
        filter: Option<String>,
        /// List every test, passed ones too, with what it printed.
        #[arg(short, long)]
        verbose: bool,
        /// Also write the results as JUnit XML (for CI systems).
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// How long one test may run before it is cancelled (e.g. 500ms, 30s, 2m).
        #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_limit)]
        timeout: std::time::Duration,
        /// Files run at once, each in a process of its own (default: the number of CPUs).
        #[arg(short = 'j', long, value_name = "N")]
        jobs: Option<usize>,
        /// Run one file and report through standard output (what `cn test` starts per file).
        #[arg(long, value_name = "NONCE", hide = true)]
        worker: Option<String>,
    },
    /// Start the interactive prompt (also what a bare `cn` does).
    Repl {
        /// Open the prompt inside a running `cn run --repl` service instead: its process id or
        /// socket path.
        #[arg(long, value_name = "PID|SOCKET")]
        attach: Option<String>,
    },
    /// Serve the Language Server Protocol on stdin/stdout (for editors).
    Lsp,
    /// Package a script into an OCI image (build/image) and Kubernetes manifests (build/k8s),
    /// without a Docker daemon.
    Build {
        /// The script (its local modules are found and packaged with it).
        file: PathBuf,
        /// Where image/ and k8s/ go.
        #[arg(short = 'o', long = "out", value_name = "DIR", default_value = "build")]
        out: PathBuf,
        /// The image reference, e.g. registry.example.com/team/app:1.2 (default <script>:latest).
        #[arg(short = 't', long = "tag", value_name = "REF")]
        tag: Option<String>,
        /// Also write the image as one archive that docker load, podman load and skopeo accept.
        #[arg(long = "tar", value_name = "FILE")]
        tar: Option<PathBuf>,
        /// A file or folder (inside the script's folder) the app needs at run time.
        #[arg(long = "include", value_name = "PATH")]
        include: Vec<PathBuf>,
        /// The cn binary to put in the image (statically linked): PATH, or PLATFORM=PATH for one
        /// platform of --platform; default the running cn.
        #[arg(long = "runtime", value_name = "[PLATFORM=]PATH")]
        runtime: Vec<String>,
        /// Build an image index over these platforms (linux/amd64,linux/arm64), each with its
        /// own runtime and the one shared app layer.
        #[arg(long = "platform", value_name = "LIST")]
        platform: Vec<String>,
        /// Replicas in the Deployment; above 1 an HPA scales from there to three times as many.
        #[arg(long = "replicas", value_name = "N", default_value_t = 1)]
        replicas: u32,
        /// CPU request of the container.
        #[arg(long = "cpu", value_name = "CPU", default_value = "100m")]
        cpu: String,
        /// Memory request and limit of the container.
        #[arg(long = "memory", value_name = "SIZE", default_value = "128Mi")]
        memory: String,
        /// Push the image to the registry its reference (-t) names.
        #[arg(long = "push")]
        push: bool,
        /// Speak plain http to the registry (one on localhost).
        #[arg(long = "insecure")]
        insecure: bool,
    },
    /// Print the bytecode a script compiles to.
    Dis {
        /// The script to disassemble.
        file: PathBuf,
    },
}

/// Stack for the interpreter thread: compiler passes recurse on the tree and natives may call
/// back into scripts, both bounded, but deeper than a default 8 MiB main thread allows.
const INTERPRETER_STACK: usize = 256 << 20;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Run { env_file, .. }) = &cli.command {
        if !load_env_files(env_file) {
            return ExitCode::from(2);
        }
    }
    let worker = std::thread::Builder::new()
        .name("cn-interpreter".into())
        .stack_size(INTERPRETER_STACK);
    match worker
        .spawn(move || run_command(cli))
        .map(|handle| handle.join())
    {
        Ok(Ok(code)) => ExitCode::from(code),
        Ok(Err(_)) => ExitCode::from(101),
        Err(e) => {
            eprintln!("cn: cannot start the interpreter thread: {e}");
            ExitCode::from(2)
        }
    }
}

fn run_command(cli: Cli) -> u8 {
    match cli.command {
        None | Some(Command::Repl { attach: None }) => repl::run(),
        Some(Command::Repl {
            attach: Some(target),
        }) => attach::run(&target),
        Some(Command::Lsp) => lsp::run(),
        Some(Command::Run {
            file, args, repl, ..
        }) => {
            let mut runtime = match Runtime::new(new_vm(args)) {
                Ok(runtime) => runtime,
                Err(e) => {
                    eprintln!("cn: {e}");
                    return 1;
                }
            };
            if repl {
                runtime.accept_attach(cn_runtime::tasks::attach::socket_path(std::process::id()));
            }
            match runtime.run_file(&file) {
                Ok(()) => 0,
                Err(error) => {
                    report_run_error(&error);
                    error.exit_status() as u8
                }
            }
        }
        Some(Command::Fmt { check, diff, paths }) => {
            let mode = match (check, diff) {
                (true, _) => fmt::Mode::Check,
                (_, true) => fmt::Mode::Diff,
                _ => fmt::Mode::Write,
            };
            fmt::run(&paths, mode)
        }
        Some(Command::Test {
            paths,
            filter,
            verbose,
            junit,
            timeout,
            jobs,
            worker,
        }) => match worker {
            Some(nonce) => {
                let filter = filter.as_deref().and_then(|f| regex::Regex::new(f).ok());
                match paths.as_slice() {
                    [file] => test::worker::run(file, &nonce, filter.as_ref(), timeout),
                    _ => 2,
                }
            }
            None => test::run(test::Options {
                paths,
                filter,
                verbose,
                junit,
                limit: timeout,
                jobs,
            }),
        },
        Some(Command::Check { files }) => {
            let mut status = 0;
            for file in files {
                let mut vm = new_vm(Vec::new());
                if let Err(error) = vm.check(&file) {
                    report_run_error(&error);
                    status = 2;
                }
            }
            status
        }
        Some(Command::Build {
            file,
            out,
            tag,
            tar,
            include,
            runtime,
            platform,
            replicas,
            cpu,
            memory,
            push,
            insecure,
        }) => {
            let options = cn_build::BuildOptions {
                script: file,
                out,
                tag,
                tar,
                include,
                runtimes: runtime,
                platforms: platform,
                source_date_epoch: std::env::var("SOURCE_DATE_EPOCH").ok(),
                replicas,
                cpu,
                memory,
                push,
                insecure,
            };
            let mut vm = new_vm(Vec::new());
            match cn_build::build(&mut vm, &options) {
                Ok(built) => {
                    for line in &built.report {
                        eprintln!("{line}");
                    }
                    println!("{}@{}", built.reference, built.digest);
                    0
                }
                Err(cn_build::BuildError::Compile(error)) => {
                    report_run_error(&error);
                    eprintln!("cn build: the script does not compile; nothing was written");
                    1
                }
                Err(error) => {
                    eprintln!("cn build: {error}");
                    1
                }
            }
        }
        Some(Command::Dis { file }) => match std::fs::read_to_string(&file) {
            Ok(text) => {
                let vm = new_vm(Vec::new());
                match cn_compiler::compile::compile_source(
                    &text,
                    &mut Default::default(),
                    &mut Default::default(),
                    cn_compiler::compile::CompileEnv {
                        builtins: vm.builtin_names(),
                        echo_last_expression: false,
                        library: None,
                    },
                ) {
                    Ok(proto) => {
                        print!("{}", cn_compiler::bytecode::disassemble(&proto));
                        0
                    }
                    Err(diagnostics) => {
                        report::print_diagnostics(&file.to_string_lossy(), &text, &diagnostics);
                        2
                    }
                }
            }
            Err(e) => {
                eprintln!("cn: cannot read {}: {e}", file.display());
                2
            }
        },
    }
}

/// `cn run --env-file`: puts the variables of `files` into the environment, except those the
/// process environment already has (a later file or line overrides an earlier one). Runs before
/// the interpreter thread starts, while the process has one thread, since changing the
/// environment races with any thread reading it. Reports every problem of every file and returns
/// false if there was one.
fn load_env_files(files: &[PathBuf]) -> bool {
    let mut values = std::collections::HashMap::new();
    let mut order = Vec::new();
    let mut ok = true;
    for file in files {
        match cn_stdlib::config::dotenv::read_file(file) {
            Ok(entries) => {
                for entry in entries {
                    if values.insert(entry.key.clone(), entry.value).is_none() {
                        order.push(entry.key);
                    }
                }
            }
            Err(errors) => {
                ok = false;
                for error in errors {
                    eprintln!("cn: --env-file: {error}");
                }
            }
        }
    }
    if ok {
        for key in order {
            if let (None, Some(value)) = (std::env::var_os(&key), values.get(&key)) {
                std::env::set_var(&key, value);
            }
        }
    }
    ok
}

/// `--timeout`: a number and a unit (`ms`, `s`, `m`, `h`).
fn parse_limit(text: &str) -> Result<std::time::Duration, String> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale = match unit {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return Err("expected a number and a unit: 500ms, 30s, 2m, 1h".into()),
    };
    match number.parse::<f64>() {
        Ok(n) if n > 0.0 && (n * scale).is_finite() && n * scale < 1e9 => {
            Ok(std::time::Duration::from_secs_f64(n * scale))
        }
        _ => Err("expected a positive number and a unit: 500ms, 30s, 2m, 1h".into()),
    }
}

/// A VM with the standard library registered.
pub(crate) fn new_vm(args: Vec<String>) -> Vm {
    let mut vm = Vm::new(args);
    vm.memory_release = Some(memory::release);
    cn_stdlib::register(&mut vm);
    vm
}

/// Prints a run error to stderr in the form the user needs.
pub(crate) fn report_run_error(error: &RunError) {
    match error {
        RunError::Compile { file, diagnostics } => {
            report::print_diagnostics(&file.path, &file.text, diagnostics)
        }
        RunError::Fault(fault) => {
            if !matches!(fault.kind, cn_runtime::fault::FaultKind::Exit(_)) {
                eprint!("{}", fault.report());
            }
        }
        RunError::Io(message) => eprintln!("cn: {message}"),
    }
}
