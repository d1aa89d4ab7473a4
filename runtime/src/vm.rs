//! The virtual machine: process-wide interpreter state and the entry points the CLI uses.
//!
//! A [`Vm`] owns the global slot table shared by all modules, the builtins, loaded modules and
//! its view of stdout (the sink itself is `output.rs`). Code runs in `Fiber`s through the
//! dispatch loop in `interpreter.rs`; this file loads compiled functions into runtime [`Code`],
//! runs files and REPL lines, and lets native code call back into scripts.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::rc::{Rc, Weak};

use cn_compiler::bytecode::{Constant, FunctionProto, Op};
use cn_compiler::compile::{compile_source, CompileEnv, GlobalSlots, ModuleScope};
use cn_compiler::Diagnostic;

use crate::fault::{Fault, FaultKind};
use crate::modules::{module_key, module_name};
use crate::native::ModuleInit;
use crate::object::{Closure, Code, Module, ModuleMembers};
use crate::source::SourceFile;
use crate::symbol::Symbol;
use crate::tasks::{Lifecycle, NativeFuture, Task, VmRef};
use crate::value::Value;

/// Why running a program stopped.
#[derive(Debug)]
pub enum RunError {
    /// The source did not compile.
    Compile {
        /// The file.
        file: Rc<SourceFile>,
        /// Every error found.
        diagnostics: Vec<Diagnostic>,
    },
    /// A fault ended the program (or `exit` was called).
    Fault(Fault),
    /// The file could not be read.
    Io(String),
}

/// A compiled main program, between loading and running.
pub(crate) struct MainProgram {
    pub(crate) body: Rc<Closure>,
    pub(crate) scope: ModuleScope,
    name: String,
    key: String,
}

pub(crate) enum ModuleState {
    Loading,
    Loaded(Rc<Module>),
}

/// The VM's view of standard output: the process-wide sink (`crate::output`), which goes quiet
/// once its reader has gone away.
struct Output {
    closed: bool,
}

impl Drop for Output {
    /// A VM that goes away (at exit, or unwinding from a panic) leaves nothing unwritten.
    fn drop(&mut self) {
        if !self.closed {
            let _ = crate::output::flush_stdout();
        }
    }
}

/// The interpreter.
pub struct Vm {
    pub(crate) globals: Vec<Value>,
    pub(crate) global_names: Vec<Rc<str>>,
    pub(crate) builtins: Vec<Value>,
    builtin_names: Vec<&'static str>,
    /// What the compiler knows of the library: module names, the members of those imported so
    /// far, and the variants library functions return.
    pub(crate) library: cn_compiler::compile::Library,
    slots: GlobalSlots,
    pub(crate) modules: HashMap<String, ModuleState>,
    pub(crate) native_modules: HashMap<&'static str, ModuleInit>,
    repl: Option<(ModuleScope, Rc<SourceFile>)>,
    output: Output,
    pub(crate) nested_calls: usize,
    /// Arguments after the script path (`args()`).
    pub script_args: Vec<String>,
    /// The future a native handed to [`Vm::suspend`], until the driver takes it.
    pub(crate) suspended: Option<NativeFuture>,
    /// Whether `suspended` only another task can complete (`Vm::suspend_on_tasks`).
    pub(crate) waits_on_tasks: bool,
    /// The task whose fiber is running.
    pub(crate) current: Option<Rc<Task>>,
    /// Every task that has started and not ended, by id.
    pub(crate) running: HashMap<u64, Rc<Task>, ahash::RandomState>,
    next_task: u64,
    /// The process lifecycle (signals, shutdown hooks, exit).
    pub lifecycle: Rc<Lifecycle>,
    /// Returns freed memory to the system (set by the binary, which owns the allocator); run
    /// after the resident size grew (`tasks::memory`).
    pub memory_release: Option<fn()>,
    /// This VM as tasks share it; set by [`crate::Runtime::new`].
    pub(crate) this: Weak<RefCell<Vm>>,
    /// `fn(leave, error): leave(error)`, the frame in which native cleanups that may wait run.
    pub(crate) cleanup_trampoline: Rc<Closure>,
}

impl Vm {
    /// A VM with the builtins installed and no native modules.
    pub fn new(script_args: Vec<String>) -> Vm {
        let (builtin_names, builtins) = crate::builtins::all().into_iter().unzip();
        Vm {
            globals: Vec::new(),
            global_names: Vec::new(),
            builtins,
            builtin_names,
            library: Default::default(),
            slots: GlobalSlots::default(),
            modules: HashMap::new(),
            native_modules: HashMap::new(),
            repl: None,
            output: Output { closed: false },
            memory_release: None,
            nested_calls: 0,
            script_args,
            suspended: None,
            waits_on_tasks: false,
            current: None,
            running: HashMap::default(),
            next_task: 0,
            lifecycle: Rc::default(),
            this: Weak::new(),
            cleanup_trampoline: cleanup_trampoline(),
        }
    }

    /// The task whose code is running, if any.
    pub fn current_task(&self) -> Option<&Rc<Task>> {
        self.current.as_ref()
    }

    /// A fresh task id.
    pub(crate) fn next_task_id(&mut self) -> u64 {
        self.next_task += 1;
        self.next_task
    }

    /// This VM as tasks share it.
    ///
    /// # Panics
    /// If the VM is not inside a [`crate::Runtime`], which owns every VM that runs tasks.
    pub fn handle(&self) -> VmRef {
        self.this
            .upgrade()
            .expect("a VM that runs tasks lives inside a Runtime")
    }

    /// Makes `import name` load a native module filled by `init` on first import.
    pub fn register_module(&mut self, name: &'static str, init: ModuleInit) {
        self.native_modules.insert(name, init);
        self.library.module_names.push(name.to_string());
    }

    /// Declares variant names library functions return, so that patterns naming them compile
    /// and misspellings do not (see `cn_compiler::compile::Library`).
    pub fn register_variants(&mut self, names: &[&str]) {
        self.library
            .variants
            .extend(names.iter().map(|n| n.to_string()));
    }

    /// Names of the builtins, for REPL completion.
    pub fn builtin_names(&self) -> &[&'static str] {
        &self.builtin_names
    }

    /// Names of native modules that can be imported.
    pub fn native_module_names(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self.native_modules.keys().copied().collect();
        names.sort_unstable();
        names
    }

    // ---- output ----

    /// Writes script output (print) to the stdout sink, waiting while it is far behind; a closed
    /// pipe ends the program quietly.
    pub fn write_out(&mut self, text: &str) -> Result<(), Fault> {
        if self.output.closed {
            return Err(Fault::exit(0));
        }
        crate::output::stdout()
            .write(text.as_bytes())
            .map_err(|e| self.output_failed(e))
    }

    /// `print`: writes `text` to stdout, or, when the output is too far behind (a stalled
    /// reader), waits for room as the printing task, so every other task goes on meanwhile.
    /// Where a task cannot wait (inside a sort key) the thread waits, as before.
    pub fn print(&mut self, text: String) -> Result<Value, Fault> {
        if self.output.closed {
            return Err(Fault::exit(0));
        }
        let sink = crate::output::stdout();
        match sink.try_write(text.as_bytes()) {
            Ok(true) => return Ok(Value::Nil),
            Ok(false) if self.can_suspend() => {}
            Ok(false) => return self.write_out(&text).map(|()| Value::Nil),
            Err(error) => return Err(self.output_failed(error)),
        }
        let handle = self.handle();
        Ok(self.suspend(async move {
            loop {
                sink.room(text.len()).await;
                match sink.try_write(text.as_bytes()) {
                    Ok(true) => return Ok(Value::Nil),
                    Ok(false) => {}
                    Err(error) => return Err(handle.borrow_mut().output_failed(error)),
                }
            }
        }))
    }

    /// Waits until everything written to stdout so far is out (before faults are printed to
    /// stderr, so the two stay in order, and at exit).
    pub fn flush(&mut self) {
        if !self.output.closed && crate::output::flush_stdout().is_err() {
            self.output.closed = true;
        }
    }

    /// The fault a failed stdout write raises in a script: a closed pipe ends the program
    /// quietly (`cn run x.cn | head`), anything else is reported.
    pub fn output_failed(&mut self, error: std::io::Error) -> Fault {
        self.output.closed = true;
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            Fault::exit(0)
        } else {
            Fault::new(format!("cannot write to stdout: {error}"))
        }
    }

    // ---- loading code ----

    fn compile_env(&self, echo: bool) -> CompileEnv<'_> {
        CompileEnv {
            builtins: &self.builtin_names,
            echo_last_expression: echo,
            library: Some(&self.library),
        }
    }

    /// Turns a compiled function (and its nested functions) into runtime code.
    pub(crate) fn load_code(&self, proto: Rc<FunctionProto>, file: &Rc<SourceFile>) -> Rc<Code> {
        load_runtime_code(proto, file)
    }
}

/// Turns a compiled function (and its nested functions) into runtime code.
fn load_runtime_code(proto: Rc<FunctionProto>, file: &Rc<SourceFile>) -> Rc<Code> {
    let mut consts = Vec::with_capacity(proto.constants.len());
    let mut keyword_lists = Vec::with_capacity(proto.constants.len());
    for constant in &proto.constants {
        let mut keywords: Rc<[Symbol]> = Rc::from(Vec::new());
        consts.push(match constant {
            Constant::Int(i) => Value::Int(*i),
            Constant::Float(f) => Value::Float(*f),
            Constant::Str(s) => Value::str(&**s),
            Constant::FormatSpec(None) => Value::Nil,
            Constant::FormatSpec(Some(spec)) => Value::str(&**spec),
            Constant::Names(names) => {
                keywords = names.iter().map(|n| Symbol::intern(n)).collect();
                Value::Nil
            }
            Constant::Function(inner) => {
                let code = load_runtime_code(inner.clone(), file);
                Value::Function(Closure::new_rc(code, Box::new([]), Box::new([])))
            }
            Constant::Type(_) | Constant::Enum(_) => Value::Nil,
        });
        keyword_lists.push(keywords);
    }
    let ops = verified_ops(&proto.code);
    Rc::new(Code {
        // No call of a function with `*args`/`**kwargs` matches the fast paths' exact count.
        arity: if proto.rest || proto.rest_keywords {
            u32::MAX
        } else {
            proto.params.len() as u32
        },
        locals: proto.locals,
        sites: crate::inline_cache::sites(ops.len()),
        ops,
        consts: consts.into_boxed_slice(),
        names: proto.names.iter().map(|n| Symbol::intern(n)).collect(),
        params: proto.params.iter().map(|n| Symbol::intern(n)).collect(),
        keyword_lists: keyword_lists.into_boxed_slice(),
        file: file.clone(),
        proto,
    })
}

/// The instructions as the dispatch loop reads them, without bounds checks: the compiler ends
/// every function with `Return` and jumps only inside it, and this makes sure of both, so `ip`
/// cannot leave the slice. (A function that did not end in a terminator, or a jump to its end,
/// gets `Nil; Return` appended; a jump past the end is pointed there too.)
fn verified_ops(code: &[Op]) -> Rc<[Op]> {
    let len = code.len() as u32;
    let ends = matches!(code.last(), Some(Op::Return | Op::Jump(_)));
    let mut ops = code.to_vec();
    let mut needs_tail = !ends;
    for op in &mut ops {
        if let Some(target) = jump_target(op) {
            if *target >= len {
                debug_assert!(*target == len, "jump past the end of a function");
                *target = len;
                needs_tail = true;
            }
        }
    }
    if needs_tail {
        ops.extend([Op::Nil, Op::Return]);
    }
    Rc::from(ops)
}

/// Where `op` may jump to, if it jumps.
fn jump_target(op: &mut Op) -> Option<&mut u32> {
    match op {
        Op::Jump(t)
        | Op::JumpIfFalse(t)
        | Op::JumpIfTrue(t)
        | Op::JumpIfFalseOrPop(t)
        | Op::JumpIfTrueOrPop(t)
        | Op::JumpUnless(_, t)
        | Op::JumpIf(_, t)
        | Op::JumpUnlessLocalLtInt(_, _, t)
        | Op::JumpIfNil(t)
        | Op::JumpUnlessNil(t)
        | Op::ForIter(t)
        | Op::ForIterLocal(_, t)
        | Op::ForRange(_, t) => Some(t),
        _ => None,
    }
}

impl Vm {
    /// Grows the global table after a compilation declared new globals.
    fn sync_globals(&mut self, scope: &ModuleScope) {
        let size = self.slots.next as usize;
        if self.globals.len() < size {
            self.globals.resize(size, Value::Undefined);
            self.global_names.resize(size, "?".into());
        }
        for (name, slot) in scope.iter() {
            self.global_names[slot as usize] = name.clone();
        }
    }

    /// Compiles `source` as a module body against `scope`.
    pub(crate) fn compile(
        &mut self,
        file: &Rc<SourceFile>,
        scope: &mut ModuleScope,
        echo: bool,
    ) -> Result<Rc<Closure>, RunError> {
        self.prepare_library(&file.text);
        let mut slots = self.slots.clone();
        let env = self.compile_env(echo);
        let proto = compile_source(&file.text, scope, &mut slots, env).map_err(|diagnostics| {
            RunError::Compile {
                file: file.clone(),
                diagnostics,
            }
        })?;
        self.slots = slots;
        self.sync_globals(scope);
        let code = self.load_code(Rc::new(proto), file);
        Ok(Closure::new_rc(code, Box::new([]), Box::new([])))
    }

    /// Parses and resolves a file without running it (`cn check`).
    pub fn check(&mut self, path: &Path) -> Result<(), RunError> {
        self.compile_file(path).map(|_| ())
    }

    /// Every compile error of `text` (what an editor shows as the user types), found as
    /// `cn check` finds them.
    pub fn check_source(&mut self, text: &str) -> Vec<cn_compiler::Diagnostic> {
        self.prepare_library(text);
        let mut scope = ModuleScope::default();
        let mut slots = GlobalSlots::default();
        let env = self.compile_env(false);
        compile_source(text, &mut scope, &mut slots, env)
            .err()
            .unwrap_or_default()
    }

    /// Compiles the script at `path` without running it (what `cn check` and `cn build` do)
    /// and returns its code.
    pub fn compile_file(&mut self, path: &Path) -> Result<FunctionProto, RunError> {
        let file = read_source(path)?;
        self.prepare_library(&file.text);
        let mut scope = ModuleScope::default();
        let mut slots = GlobalSlots::default();
        let env = self.compile_env(false);
        compile_source(&file.text, &mut scope, &mut slots, env)
            .map_err(|diagnostics| RunError::Compile { file, diagnostics })
    }

    /// Whether `import name` finds a module of the standard library (which wins over a file of
    /// that name).
    pub fn is_native_module(&self, name: &str) -> bool {
        self.native_modules.contains_key(name)
    }

    // ---- running ----

    /// Compiles a script file to run as the main program (see [`crate::Runtime::run_file`]).
    pub(crate) fn load_main(&mut self, path: &Path) -> Result<MainProgram, RunError> {
        let file = read_source(path)?;
        let mut scope = ModuleScope::default();
        let body = self.compile(&file, &mut scope, false)?;
        // The script counts as loading, so importing it back is a cycle, not a second run.
        self.modules.insert(module_key(path), ModuleState::Loading);
        Ok(MainProgram {
            body,
            scope,
            name: module_name(path),
            key: module_key(path),
        })
    }

    /// The program's `main` function, if it defines one.
    pub(crate) fn main_function(&self, program: &MainProgram) -> Option<Value> {
        match program
            .scope
            .get("main")
            .map(|s| self.globals[s as usize].clone())
        {
            Some(main @ (Value::Function(_) | Value::Native(_))) => Some(main),
            _ => None,
        }
    }

    /// Registers the main program as a loaded module once its body and `main` have run.
    pub(crate) fn finish_main(&mut self, program: &MainProgram) {
        let module = Rc::new(Module {
            name: program.name.as_str().into(),
            members: ModuleMembers::Script(program.scope.clone()),
        });
        self.modules
            .insert(program.key.clone(), ModuleState::Loaded(module));
    }

    /// Lets REPL entries (`cn run --repl`'s attached sessions) see the main script's globals.
    pub(crate) fn share_main_scope(&mut self, program: &MainProgram) {
        self.repl = Some((
            program.scope.clone(),
            Rc::new(SourceFile {
                path: "<attach>".into(),
                text: String::new(),
            }),
        ));
    }

    /// Compiles one REPL entry against the REPL's accumulated scope.
    pub(crate) fn compile_repl(&mut self, source: &str) -> Result<Rc<Closure>, RunError> {
        let (mut scope, _) = self.repl.take().unwrap_or_else(|| {
            (
                ModuleScope::default(),
                Rc::new(SourceFile {
                    path: "<repl>".into(),
                    text: String::new(),
                }),
            )
        });
        let file = Rc::new(SourceFile {
            path: "<repl>".into(),
            text: source.to_string(),
        });
        let result = self.compile(&file, &mut scope, true);
        self.repl = Some((scope, file));
        result
    }

    /// Global names defined in the REPL so far.
    pub fn repl_globals(&self) -> Vec<Rc<str>> {
        self.repl
            .as_ref()
            .map(|(scope, _)| scope.iter().map(|(n, _)| n.clone()).collect())
            .unwrap_or_default()
    }

    /// The value of REPL global `name`.
    pub fn repl_global(&self, name: &str) -> Option<Value> {
        let slot = self.repl.as_ref()?.0.get(name)?;
        self.globals.get(slot as usize).cloned()
    }

    /// Every defined module-level global called `name`, in whichever module defines it.
    ///
    /// For library code that resolves names kept as data: the `config` module finds the record
    /// type a field annotation names (`db: Database`) this way, since annotations are not
    /// compiled to slots.
    pub fn globals_named(&self, name: &str) -> Vec<Value> {
        self.global_names
            .iter()
            .zip(&self.globals)
            .filter(|(n, v)| &***n == name && !matches!(v, Value::Undefined))
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Whether a native may hand a future to `suspend` now: not inside a callback that a
    /// native runs to completion (a sort key), where waiting is impossible.
    pub fn can_suspend(&self) -> bool {
        self.nested_calls == 0
    }
}

/// The identity of a script module: its canonical path (so `./a.cn` and `a.cn` are one module).
/// The runtime's cleanup trampoline (see `Vm::cleanup_trampoline`); its frames are hidden from
/// stack traces.
fn cleanup_trampoline() -> Rc<Closure> {
    let file = Rc::new(SourceFile {
        path: RUNTIME_FILE.into(),
        text: "fn cleanup(leave, error):\n    return leave(error)\n".into(),
    });
    let mut scope = ModuleScope::default();
    let mut slots = GlobalSlots::default();
    let env = CompileEnv {
        builtins: &[],
        echo_last_expression: false,
        library: None,
    };
    let proto = compile_source(&file.text, &mut scope, &mut slots, env)
        .ok()
        .and_then(|module| {
            module.constants.iter().find_map(|c| match c {
                Constant::Function(f) => Some(f.clone()),
                _ => None,
            })
        })
        .expect("the cleanup trampoline compiles");
    Closure::new_rc(load_runtime_code(proto, &file), Box::new([]), Box::new([]))
}

/// Path of the runtime's own code in traces; frames from it are not shown.
pub(crate) const RUNTIME_FILE: &str = "<runtime>";

pub(crate) fn read_source(path: &Path) -> Result<Rc<SourceFile>, RunError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| RunError::Io(format!("cannot read {}: {e}", path.display())))?;
    Ok(Rc::new(SourceFile {
        path: path.to_string_lossy().to_string(),
        text,
    }))
}

impl RunError {
    /// The process exit status for this error: 2 for compile errors, the `exit` code, else 1.
    pub fn exit_status(&self) -> i32 {
        match self {
            RunError::Compile { .. } => 2,
            RunError::Fault(Fault {
                kind: FaultKind::Exit(code),
                ..
            }) => *code,
            RunError::Fault(_) => 1,
            RunError::Io(_) => 2,
        }
    }
}
