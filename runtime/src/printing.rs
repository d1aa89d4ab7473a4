//! How values print where a script asks for text (`print`, `str()`, f-strings): as
//! `format::display` shows them, except a record whose type defines a `str(self)` method,
//! which shows what that method returns (Python's `__str__`). Inside containers and in `repr`
//! records keep their generated form, so a list of records stays unambiguous.

use crate::fault::Fault;
use crate::format;
use crate::symbol;
use crate::value::Value;
use crate::vm::Vm;

impl Vm {
    /// Appends `value`'s text to `out`, calling the record's own `str` method if it has one.
    pub(crate) fn display_into(&mut self, out: &mut String, value: &Value) -> Result<(), Fault> {
        let Value::Record(record) = value else {
            format::display_into(out, value);
            return Ok(());
        };
        let method = record
            .ty
            .methods
            .iter()
            .find(|(name, _)| *name == symbol::STR)
            .map(|(_, method)| method.clone());
        let Some(method) = method else {
            format::display_into(out, value);
            return Ok(());
        };
        match self.call_value(&method, std::slice::from_ref(value))? {
            Value::Str(text) => {
                out.push_str(&text);
                Ok(())
            }
            other => Err(Fault::new(format!(
                "{}.str() must return a str, not {}",
                record.ty.name,
                other.type_name()
            ))),
        }
    }

    /// `value`'s text (see [`Vm::display_into`]).
    pub(crate) fn display(&mut self, value: &Value) -> Result<String, Fault> {
        let mut out = String::new();
        self.display_into(&mut out, value)?;
        Ok(out)
    }
}
