//! Modules: `import` of native modules (registered by the standard library) and of `.cn` files
//! beside the importing file, loaded once, with cycles reported; and module member lookup.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use cn_compiler::compile::ModuleScope;

use crate::fault::Fault;
use crate::native::ModuleBuilder;
use crate::object::{Module, ModuleMembers};
use crate::source::SourceFile;
use crate::symbol::Symbol;
use crate::value::Value;
use crate::vm::{read_source, ModuleState, RunError, Vm};

impl Vm {
    /// Loads (once) and returns the module `name`, searching native modules first, then
    /// `name.cn` beside `importer`.
    pub(crate) fn import(&mut self, name: &str, importer: &SourceFile) -> Result<Value, Fault> {
        if let Some(ModuleState::Loaded(m)) = self.modules.get(name) {
            return Ok(Value::Module(m.clone()));
        }
        if let Some(module) = self.load_native(name) {
            return Ok(Value::Module(module));
        }
        let dir = Path::new(&importer.path)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let path: PathBuf = dir.join(format!("{}.cn", name.replace('.', "/")));
        let key = module_key(&path);
        match self.modules.get(&key) {
            Some(ModuleState::Loaded(m)) => return Ok(Value::Module(m.clone())),
            Some(ModuleState::Loading) => {
                return Err(Fault::new(format!(
                    "import cycle: module '{name}' imports itself (through {})",
                    path.display()
                )))
            }
            None => {}
        }
        if !path.exists() {
            let mut message = format!("no module named '{name}' (looked for {})", path.display());
            if let Some(close) =
                cn_compiler::diagnostic::closest_name(name, self.native_modules.keys().copied())
            {
                message.push_str(&format!("; did you mean '{close}'?"));
            }
            return Err(Fault::new(message));
        }
        self.modules.insert(key.clone(), ModuleState::Loading);
        let result = self.load_script_module(name, &path);
        match result {
            Ok(module) => {
                self.modules
                    .insert(key, ModuleState::Loaded(module.clone()));
                Ok(Value::Module(module))
            }
            Err(fault) => {
                self.modules.remove(&key);
                Err(fault)
            }
        }
    }

    /// Builds library module `name` (once), if there is one.
    pub(crate) fn load_native(&mut self, name: &str) -> Option<Rc<Module>> {
        if let Some(ModuleState::Loaded(m)) = self.modules.get(name) {
            return Some(m.clone());
        }
        let (&name, &init) = self.native_modules.get_key_value(name)?;
        let mut builder = ModuleBuilder::new(name);
        init(&mut builder, self);
        let module = Rc::new(Module {
            name: name.into(),
            members: ModuleMembers::Native(builder.finish()),
        });
        self.modules
            .insert(name.to_string(), ModuleState::Loaded(module.clone()));
        Some(module)
    }

    /// Before compiling `text`, tells the compiler the members of the library modules it
    /// imports (building them, as running the imports would), so that `http.Sever` is a compile
    /// error. Imports are found by line (`import http`, `import time as t`); one this misses is
    /// simply not checked.
    pub(crate) fn prepare_library(&mut self, text: &str) {
        for line in text.lines() {
            let Some(rest) = line.trim_start().strip_prefix("import ") else {
                continue;
            };
            let name = rest.split_whitespace().next().unwrap_or("");
            if self.library.modules.contains_key(name) || !self.native_modules.contains_key(name) {
                continue;
            }
            if let Some(module) = self.load_native(name) {
                if let ModuleMembers::Native(native) = &module.members {
                    let members = native
                        .members
                        .iter()
                        .map(|m| m.name.name().to_string())
                        .collect();
                    self.library.modules.insert(name.to_string(), members);
                }
            }
        }
    }

    fn load_script_module(&mut self, name: &str, path: &Path) -> Result<Rc<Module>, Fault> {
        let file = read_source(path).map_err(|e| match e {
            RunError::Io(message) => Fault::new(message),
            _ => Fault::new(format!("cannot read {}", path.display())),
        })?;
        let mut scope = ModuleScope::default();
        let body = self
            .compile(&file, &mut scope, false)
            .map_err(|e| match e {
                RunError::Compile { file, diagnostics } => {
                    let mut fault = Fault::new(format!("module '{name}' does not compile"));
                    for d in diagnostics {
                        let (line, col) = file.line_col(d.span);
                        fault.notes.push(format!(
                            "{}:{line}:{col}: {} [{}]",
                            file.path, d.message, d.code
                        ));
                    }
                    fault
                }
                RunError::Fault(f) => f,
                RunError::Io(m) => Fault::new(m),
            })?;
        self.call_value(&Value::Function(body), &[])?;
        Ok(Rc::new(Module {
            name: name.into(),
            members: ModuleMembers::Script(scope),
        }))
    }

    /// A module's member by name.
    pub(crate) fn module_member(&self, module: &Module, name: Symbol) -> Option<Value> {
        match &module.members {
            ModuleMembers::Script(scope) => {
                let slot = scope.get(name.name())?;
                match self.globals.get(slot as usize) {
                    Some(Value::Undefined) | None => None,
                    Some(v) => Some(v.clone()),
                }
            }
            ModuleMembers::Native(native) => native
                .members
                .iter()
                .find(|m| m.name == name)
                .map(|m| m.value.clone()),
        }
    }

    /// Member names of an imported module, for REPL completion.
    pub fn module_members(&self, name: &str) -> Vec<String> {
        match self.modules.get(name) {
            Some(ModuleState::Loaded(m)) => match &m.members {
                ModuleMembers::Script(scope) => scope.iter().map(|(n, _)| n.to_string()).collect(),
                ModuleMembers::Native(native) => {
                    native.members.iter().map(|m| m.name.to_string()).collect()
                }
            },
            _ => Vec::new(),
        }
    }
}

pub(crate) fn module_key(path: &Path) -> String {
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .to_string_lossy()
        .to_string()
}

/// The module name a path is imported as.
pub(crate) fn module_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "main".into())
}
