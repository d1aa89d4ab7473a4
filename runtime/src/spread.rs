//! Calls with spread arguments (`f(*xs, **d)`, spec/semantics.md §4.8): the compiler gathers the
//! positional arguments into a list and the keyword arguments into a dict (`ListExtend`,
//! `MergeKeywords`), and `CallSpread` lays them out on the stack as an ordinary call with
//! keywords would have them, then calls through the general path.

use crate::dict::Key;
use crate::fault::Fault;
use crate::fiber::Fiber;
use crate::symbol::Symbol;
use crate::value::Value;
use crate::vm::Vm;

impl Vm {
    /// `ListExtend`: the items of the iterable on top go onto the end of the list below it.
    pub(crate) fn extend_arguments(&mut self, fiber: &mut Fiber) -> Result<(), Fault> {
        let iterable = fiber.stack.pop().unwrap_or_default();
        let items = crate::iter::collect(&iterable).map_err(|_| {
            Fault::new(format!(
                "argument after * must be iterable, not {}",
                iterable.type_name()
            ))
        })?;
        if let Some(Value::List(list)) = fiber.stack.last() {
            list.borrow_mut().extend(items);
        }
        Ok(())
    }

    /// `MergeKeywords`: the entries of the dict on top join the keyword arguments below it.
    pub(crate) fn merge_keywords(&mut self, fiber: &mut Fiber) -> Result<(), Fault> {
        let given = fiber.stack.pop().unwrap_or_default();
        let Value::Dict(given) = given else {
            return Err(Fault::new(format!(
                "argument after ** must be a dict, not {}",
                given.type_name()
            )));
        };
        let Some(Value::Dict(into)) = fiber.stack.last() else {
            return Ok(());
        };
        // `f(**d, **d)`: the same dict twice; read it before writing the other.
        let entries: Vec<(Key, Value)> = given
            .borrow()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut into = into.borrow_mut();
        for (key, value) in entries {
            let Value::Str(name) = key.value() else {
                return Err(Fault::new(format!(
                    "keywords must be strs, not {} ({})",
                    key.value().type_name(),
                    crate::format::repr(key.value())
                )));
            };
            if into.contains_key(&key) {
                return Err(Fault::new(format!(
                    "got multiple values for keyword argument '{name}'"
                )));
            }
            into.insert(key, value);
        }
        Ok(())
    }

    /// `CallSpread`: calls the callee below the gathered list and dict. Returns whether a
    /// script frame was pushed.
    pub(crate) fn call_spread(&mut self, fiber: &mut Fiber) -> Result<bool, Fault> {
        let keywords = fiber.stack.pop().unwrap_or_default();
        let positional = fiber.stack.pop().unwrap_or_default();
        let ret = fiber.stack.len() - 1;
        let mut argc = 0;
        if let Value::List(items) = &positional {
            let items = items.borrow();
            argc = items.len();
            fiber.stack.extend(items.iter().cloned());
        }
        let mut names: Vec<Symbol> = Vec::new();
        if let Value::Dict(entries) = &keywords {
            for (key, value) in entries.borrow().iter() {
                if let Value::Str(name) = key.value() {
                    names.push(Symbol::intern(name));
                    fiber.stack.push(value.clone());
                }
            }
        }
        self.call_general(fiber, ret, argc, &names)
    }
}
