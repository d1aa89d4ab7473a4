//! The answers: diagnostics, hover, go-to-definition, completion, the outline and formatting,
//! each computed from the document's text when asked (a file parses in well under a millisecond,
//! so nothing is cached between requests).

use std::path::{Path, PathBuf};

use cn_compiler::syntax;
use cn_runtime::Vm;
use lsp_types::{
    CompletionItem, CompletionItemKind, Diagnostic, DiagnosticSeverity, DocumentSymbol,
    Documentation, Hover, HoverContents, Location, MarkupContent, MarkupKind, NumberOrString,
    Position, SymbolKind, TextEdit, Uri,
};

use super::index::{doc_comment, Def, DefKind, Index};
use super::position::{word_at, LineIndex};

/// One open document.
pub struct Document {
    pub uri: Uri,
    pub text: String,
}

impl Document {
    fn index(&self) -> Index {
        Index::new(&syntax::parse(&self.text).0, &self.text)
    }

    /// The folder of the file, where `import helpers` finds `helpers.cn`.
    fn folder(&self) -> Option<PathBuf> {
        let path = self.uri.as_str().strip_prefix("file://")?;
        let path = cn_stdlib_percent_decode(path);
        Path::new(&path).parent().map(Path::to_path_buf)
    }
}

/// `%20` and friends in a file URI's path.
fn cn_stdlib_percent_decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every compile error of the document, as `cn check` reports them.
pub fn diagnostics(vm: &mut Vm, doc: &Document) -> Vec<Diagnostic> {
    let lines = LineIndex::new(&doc.text);
    vm.check_source(&doc.text)
        .into_iter()
        .map(|d| {
            let mut message = d.message.clone();
            if d.label != "here" && !d.label.is_empty() {
                message.push_str(&format!(" ({})", d.label));
            }
            if let Some(help) = &d.help {
                message.push_str(&format!("\nhelp: {help}"));
            }
            Diagnostic {
                range: lines.range(d.span.start as usize, d.span.end as usize),
                severity: Some(DiagnosticSeverity::ERROR),
                code: Some(NumberOrString::String(d.code.to_string())),
                source: Some("cn".into()),
                message,
                ..Default::default()
            }
        })
        .collect()
}

/// What the name under the cursor is: a library member's or builtin's `help()` text, or a
/// definition's signature and doc comment.
pub fn hover(vm: &mut Vm, doc: &Document, at: Position) -> Option<Hover> {
    let lines = LineIndex::new(&doc.text);
    let offset = lines.offset(at);
    let word = word_at(&doc.text, offset);
    if word.word.is_empty() {
        return None;
    }
    let index = doc.index();
    let text = match word.receiver {
        Some(receiver) => {
            let module = library_module(vm, &index, receiver, offset);
            match module {
                Some(module) => {
                    let (_, members) = vm.library_members(&module)?;
                    members.into_iter().find(|(n, _)| n == word.word)?.1
                }
                None => {
                    let owner = owner_of(&index, receiver, offset)?;
                    let def = index.members_of(&owner).find(|d| d.name == word.word)?;
                    described(&doc.text, def)
                }
            }
        }
        None => match index.resolve(word.word, offset) {
            Some(def) if def.kind == DefKind::Import => {
                let module = def.module.clone().unwrap_or_default();
                match vm.library_members(&module) {
                    Some((module_doc, _)) => format!("module {module}\n\n{module_doc}"),
                    None => def.detail.clone(),
                }
            }
            Some(def) => described(&doc.text, def),
            None => vm.builtin_help(word.word)?,
        },
    };
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: format!("```text\n{}\n```", text.trim_end()),
        }),
        range: Some(lines.range(word.start, word.start + word.word.len())),
    })
}

/// A definition's signature, with its doc comment under it.
fn described(text: &str, def: &Def) -> String {
    let doc = doc_comment(text, def.extent.start as usize);
    if doc.is_empty() {
        def.detail.clone()
    } else {
        format!("{}\n\n{doc}", def.detail)
    }
}

/// The library module `name` stands for at `offset`, if it is an imported one.
fn library_module(vm: &Vm, index: &Index, name: &str, offset: usize) -> Option<String> {
    let def = index.resolve(name, offset)?;
    let module = def.module.as_ref()?;
    vm.is_native_module(module).then(|| module.clone())
}

/// The record type or enum `receiver` is (`Point.`), or is known to hold (`p.` after
/// `p = Point(..)` or `p: Point`).
fn owner_of(index: &Index, receiver: &str, offset: usize) -> Option<String> {
    let def = index.resolve(receiver, offset)?;
    match def.kind {
        DefKind::Type | DefKind::Enum => Some(def.name.clone()),
        _ => def.owner.clone(),
    }
}

/// Where the name under the cursor is defined: in this file, or for `helpers.name` in the
/// imported `helpers.cn` beside it.
pub fn definition(doc: &Document, at: Position) -> Option<Location> {
    let lines = LineIndex::new(&doc.text);
    let offset = lines.offset(at);
    let word = word_at(&doc.text, offset);
    if word.word.is_empty() {
        return None;
    }
    let index = doc.index();
    let here = |def: &Def| Location {
        uri: doc.uri.clone(),
        range: lines.range(def.span.start as usize, def.span.end as usize),
    };
    match word.receiver {
        None => index.resolve(word.word, offset).map(here),
        Some(receiver) => {
            if let Some(owner) = owner_of(&index, receiver, offset) {
                return index
                    .members_of(&owner)
                    .find(|d| d.name == word.word)
                    .map(here);
            }
            let module = index.resolve(receiver, offset)?.module.clone()?;
            let path = doc
                .folder()?
                .join(module.replace('.', "/"))
                .with_extension("cn");
            let text = std::fs::read_to_string(&path).ok()?;
            let other = Index::new(&syntax::parse(&text).0, &text);
            let def = other.defs.iter().find(|d| {
                d.name == word.word && d.scope.start == 0 && d.scope.len() == text.len()
            })?;
            let other_lines = LineIndex::new(&text);
            let uri = format!("file://{}", path.display()).parse().ok()?;
            Some(Location {
                uri,
                range: other_lines.range(def.span.start as usize, def.span.end as usize),
            })
        }
    }
}

/// What may be typed here: after `x.` the members of what `x` is; elsewhere keywords,
/// builtins, library modules and the names visible at the cursor.
pub fn completion(vm: &mut Vm, doc: &Document, at: Position) -> Vec<CompletionItem> {
    let lines = LineIndex::new(&doc.text);
    let offset = lines.offset(at);
    let word = word_at(&doc.text, offset);
    let index = doc.index();
    let item =
        |label: String, kind: CompletionItemKind, detail: Option<String>, docs: Option<String>| {
            CompletionItem {
                label,
                kind: Some(kind),
                detail,
                documentation: docs.map(|d| {
                    Documentation::MarkupContent(MarkupContent {
                        kind: MarkupKind::Markdown,
                        value: format!("```text\n{}\n```", d.trim_end()),
                    })
                }),
                ..Default::default()
            }
        };
    if let Some(receiver) = word.receiver {
        if let Some(module) = library_module(vm, &index, receiver, offset) {
            let (_, members) = vm.library_members(&module).unwrap_or_default();
            return members
                .into_iter()
                .map(|(name, help)| {
                    let kind = if name.starts_with(char::is_uppercase) {
                        CompletionItemKind::CLASS
                    } else {
                        CompletionItemKind::FUNCTION
                    };
                    let first = help.lines().next().map(str::to_string);
                    item(name, kind, first, Some(help))
                })
                .collect();
        }
        return match owner_of(&index, receiver, offset) {
            Some(owner) => index
                .members_of(&owner)
                .map(|d| {
                    item(
                        d.name.clone(),
                        kind_of(d.kind),
                        Some(d.detail.clone()),
                        None,
                    )
                })
                .collect(),
            None => Vec::new(),
        };
    }
    let mut items: Vec<CompletionItem> = index
        .visible_at(offset)
        .into_iter()
        .map(|d| {
            let doc_text = doc_comment(&doc.text, d.extent.start as usize);
            let docs = (!doc_text.is_empty()).then_some(doc_text);
            item(
                d.name.clone(),
                kind_of(d.kind),
                Some(d.detail.clone()),
                docs,
            )
        })
        .collect();
    items.extend(
        syntax::keywords().map(|k| item(k.to_string(), CompletionItemKind::KEYWORD, None, None)),
    );
    for name in vm.builtin_names().to_vec() {
        let help = vm.builtin_help(name);
        let first = help
            .as_deref()
            .and_then(|h| h.lines().next())
            .map(str::to_string);
        items.push(item(
            name.to_string(),
            CompletionItemKind::FUNCTION,
            first,
            help,
        ));
    }
    for module in vm.native_module_names() {
        items.push(item(
            module.to_string(),
            CompletionItemKind::MODULE,
            Some(format!("import {module}")),
            None,
        ));
    }
    items
}

fn kind_of(kind: DefKind) -> CompletionItemKind {
    match kind {
        DefKind::Function => CompletionItemKind::FUNCTION,
        DefKind::Method => CompletionItemKind::METHOD,
        DefKind::Type => CompletionItemKind::STRUCT,
        DefKind::Field => CompletionItemKind::FIELD,
        DefKind::Enum => CompletionItemKind::ENUM,
        DefKind::Variant => CompletionItemKind::ENUM_MEMBER,
        DefKind::Import => CompletionItemKind::MODULE,
        DefKind::Parameter | DefKind::Variable => CompletionItemKind::VARIABLE,
    }
}

/// The outline: top-level functions, types (with fields and methods), enums (with variants)
/// and module-level names.
#[allow(deprecated)] // DocumentSymbol::deprecated must be written out
pub fn symbols(doc: &Document) -> Vec<DocumentSymbol> {
    let lines = LineIndex::new(&doc.text);
    let index = doc.index();
    let symbol = |def: &Def, children: Option<Vec<DocumentSymbol>>| DocumentSymbol {
        name: def.name.clone(),
        detail: Some(def.detail.clone()),
        kind: match def.kind {
            DefKind::Function => SymbolKind::FUNCTION,
            DefKind::Method => SymbolKind::METHOD,
            DefKind::Type => SymbolKind::STRUCT,
            DefKind::Field => SymbolKind::FIELD,
            DefKind::Enum => SymbolKind::ENUM,
            DefKind::Variant => SymbolKind::ENUM_MEMBER,
            DefKind::Import => SymbolKind::MODULE,
            DefKind::Parameter | DefKind::Variable => SymbolKind::VARIABLE,
        },
        tags: None,
        deprecated: None,
        range: lines.range(def.extent.start as usize, def.extent.end as usize),
        selection_range: lines.range(def.span.start as usize, def.span.end as usize),
        children,
    };
    index
        .defs
        .iter()
        .filter(|d| {
            d.scope.start == 0
                && d.scope.len() == doc.text.len()
                && !matches!(d.kind, DefKind::Field | DefKind::Method | DefKind::Variant)
        })
        .map(|def| {
            let children: Vec<DocumentSymbol> = match def.kind {
                DefKind::Type | DefKind::Enum => index
                    .members_of(&def.name)
                    .map(|m| symbol(m, None))
                    .collect(),
                _ => Vec::new(),
            };
            symbol(def, (!children.is_empty()).then_some(children))
        })
        .collect()
}

/// The document in `cn fmt`'s layout, as one edit; nothing when it is formatted already or does
/// not parse.
pub fn formatting(doc: &Document) -> Vec<TextEdit> {
    match cn_compiler::syntax::format::format(&doc.text) {
        Ok(formatted) if formatted != doc.text => {
            let lines = LineIndex::new(&doc.text);
            vec![TextEdit {
                range: lines.range(0, doc.text.len()),
                new_text: formatted,
            }]
        }
        _ => Vec::new(),
    }
}
