//! Rows as records: `row.name` and `row["name"]` (a column whose name is no identifier,
//! `count(*)`, is reached by key), printed as `Row(id=1, name="ann")`, and written by
//! `json.encode`, logs and `http.Response.json` as objects. Rows of one column list share one
//! record type, so attribute reads hit the VM's inline caches; the types are kept per database
//! (at most [`MAX_TYPES`] column lists; past that each query gets a fresh type).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use cn_compiler::bytecode::TypeAnnotation;
use cn_runtime::object::{FieldInfo, Record, RecordType};
use cn_runtime::symbol::Symbol;
use cn_runtime::Value;

const MAX_TYPES: usize = 512;

/// Record types by column list.
#[derive(Default)]
pub struct RowTypes(RefCell<HashMap<Vec<String>, Rc<RecordType>>>);

impl RowTypes {
    /// The type of rows with these columns.
    pub fn for_columns(&self, columns: Vec<String>) -> Rc<RecordType> {
        if let Some(ty) = self.0.borrow().get(&columns) {
            return ty.clone();
        }
        let ty = row_type("Row", &columns);
        let mut types = self.0.borrow_mut();
        if types.len() < MAX_TYPES {
            types.insert(columns, ty.clone());
        }
        ty
    }
}

/// A keyed record type named `name` with these fields.
pub fn row_type(name: &str, columns: &[String]) -> Rc<RecordType> {
    let fields = columns
        .iter()
        .map(|column| FieldInfo {
            name: Symbol::intern(column),
            ty: TypeAnnotation::Name("any".into()),
            default: None,
            decorators: Vec::new(),
        })
        .collect();
    Rc::new(RecordType {
        id: cn_runtime::inline_cache::next_type_id(),
        name: name.into(),
        fields,
        methods: Vec::new(),
        keyed: true,
    })
}

/// A row of type `ty`.
pub fn row(ty: &Rc<RecordType>, values: Vec<Value>) -> Value {
    Record::value(ty.clone(), values)
}

thread_local! {
    static EXECUTED: Rc<RecordType> =
        row_type("Executed", &["rows_affected".to_string(), "last_insert_id".to_string()]);
}

/// What `db.execute` returns: `Executed(rows_affected=1, last_insert_id=7)` (`last_insert_id`
/// is SQLite's rowid of the last insert; nil on PostgreSQL, where `RETURNING id` says it).
pub fn executed(rows_affected: u64, last_insert_id: Option<i64>) -> Value {
    let affected = Value::Int(i64::try_from(rows_affected).unwrap_or(i64::MAX));
    let id = last_insert_id.map_or(Value::Nil, Value::Int);
    EXECUTED.with(|ty| Record::value(ty.clone(), vec![affected, id]))
}
