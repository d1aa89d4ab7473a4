//! `cn lsp`: a language server over stdio for editors (Neovim, VS Code, Helix, ...).
//!
//! It keeps the text of each open document (full sync), publishes the compiler's diagnostics
//! whenever one opens or changes, and answers hover, go-to-definition, completion, document
//! symbols and formatting (`features`) from the text, with the names defined in it (`index`)
//! and the library's own `help()` texts. The transport is rust-analyzer's `lsp-server`: one
//! message at a time on this thread, which is the interpreter thread (the compiler's passes
//! want its large stack).

mod features;
mod index;
mod position;

use std::collections::HashMap;

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, Notification as _,
    PublishDiagnostics,
};
use lsp_types::request::{
    Completion, DocumentSymbolRequest, Formatting, GotoDefinition, HoverRequest, Request as _,
};
use lsp_types::{
    CompletionOptions, DocumentSymbolResponse, GotoDefinitionResponse, HoverProviderCapability,
    OneOf, PublishDiagnosticsParams, ServerCapabilities, ServerInfo, TextDocumentSyncCapability,
    TextDocumentSyncKind, Uri,
};
use serde_json::Value as Json;

use features::Document;

/// Serves one client on stdin/stdout until it says `exit`; the exit status is 0 after a
/// `shutdown` request, 1 otherwise (as the protocol asks).
pub fn run() -> u8 {
    let (connection, io_threads) = Connection::stdio();
    let capabilities = ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".into()]),
            ..Default::default()
        }),
        document_symbol_provider: Some(OneOf::Left(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        ..Default::default()
    };
    let initialize = serde_json::json!({
        "capabilities": capabilities,
        "serverInfo": ServerInfo { name: "cn".into(), version: Some(env!("CARGO_PKG_VERSION").into()) },
    });
    let started = connection
        .initialize_start()
        .and_then(|(id, _params)| connection.initialize_finish(id, initialize));
    if let Err(e) = started {
        eprintln!("cn lsp: the client did not initialize: {e}");
        return 1;
    }
    let mut server = Server {
        vm: crate::new_vm(Vec::new()),
        documents: HashMap::new(),
        connection: &connection,
    };
    let clean = server.serve();
    drop(connection);
    if let Err(e) = io_threads.join() {
        eprintln!("cn lsp: {e}");
    }
    if !clean {
        eprintln!("cn lsp: the connection ended without a shutdown request");
    }
    u8::from(!clean)
}

struct Server<'a> {
    vm: cn_runtime::Vm,
    documents: HashMap<String, Document>,
    connection: &'a Connection,
}

impl Server<'_> {
    /// Handles messages until `exit`; true when a `shutdown` came first.
    fn serve(&mut self) -> bool {
        while let Ok(message) = self.connection.receiver.recv() {
            match message {
                Message::Request(request) => {
                    match self.connection.handle_shutdown(&request) {
                        Ok(true) => return true,
                        Ok(false) => {}
                        Err(_) => return false,
                    }
                    let response = self.answer(request);
                    if self.connection.sender.send(response.into()).is_err() {
                        return false;
                    }
                }
                Message::Notification(notification) => {
                    if notification.method == "exit" {
                        return false;
                    }
                    self.notified(notification);
                }
                Message::Response(_) => {}
            }
        }
        false
    }

    fn answer(&mut self, request: Request) -> Response {
        let id = request.id.clone();
        let result = match request.method.as_str() {
            HoverRequest::METHOD => self.at_position(&request, |server, doc, at| {
                json(features::hover(&mut server.vm, doc, at))
            }),
            GotoDefinition::METHOD => self.at_position(&request, |_, doc, at| {
                json(features::definition(doc, at).map(GotoDefinitionResponse::Scalar))
            }),
            Completion::METHOD => self.at_position(&request, |server, doc, at| {
                json(features::completion(&mut server.vm, doc, at))
            }),
            DocumentSymbolRequest::METHOD => self.in_document(&request, |_, doc| {
                json(DocumentSymbolResponse::Nested(features::symbols(doc)))
            }),
            Formatting::METHOD => {
                self.in_document(&request, |_, doc| json(features::formatting(doc)))
            }
            other => Err((
                ErrorCode::MethodNotFound,
                format!("cn lsp does not answer {other}"),
            )),
        };
        match result {
            Ok(value) => Response::new_ok(id, value),
            Err((code, message)) => Response::new_err(id, code as i32, message),
        }
    }

    /// Runs `f` on the document a request names.
    fn in_document(
        &mut self,
        request: &Request,
        f: impl FnOnce(&mut Self, &Document) -> Json,
    ) -> Result<Json, (ErrorCode, String)> {
        let uri = request.params["textDocument"]["uri"]
            .as_str()
            .ok_or((ErrorCode::InvalidParams, "no textDocument.uri".to_string()))?;
        let Some(doc) = self.documents.remove(uri) else {
            return Ok(Json::Null);
        };
        let result = f(self, &doc);
        self.documents.insert(uri.to_string(), doc);
        Ok(result)
    }

    /// Runs `f` on the document and position a request names.
    fn at_position(
        &mut self,
        request: &Request,
        f: impl FnOnce(&mut Self, &Document, lsp_types::Position) -> Json,
    ) -> Result<Json, (ErrorCode, String)> {
        let at: lsp_types::Position = serde_json::from_value(request.params["position"].clone())
            .map_err(|e| (ErrorCode::InvalidParams, format!("position: {e}")))?;
        self.in_document(request, |server, doc| f(server, doc, at))
    }

    fn notified(&mut self, notification: Notification) {
        let params = &notification.params;
        let uri = params["textDocument"]["uri"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        match notification.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let text = params["textDocument"]["text"].as_str().unwrap_or_default();
                self.opened(uri, text.to_string());
            }
            DidChangeTextDocument::METHOD => {
                // Full sync: the last change is the whole text.
                let changes = params["contentChanges"].as_array();
                if let Some(text) = changes
                    .and_then(|c| c.last())
                    .and_then(|c| c["text"].as_str())
                {
                    self.opened(uri, text.to_string());
                }
            }
            DidCloseTextDocument::METHOD => {
                self.documents.remove(&uri);
                self.publish(&uri, Vec::new());
            }
            _ => {}
        }
    }

    fn opened(&mut self, uri: String, text: String) {
        let Ok(parsed) = uri.parse::<Uri>() else {
            return;
        };
        let doc = Document { uri: parsed, text };
        let diagnostics = features::diagnostics(&mut self.vm, &doc);
        self.documents.insert(uri.clone(), doc);
        self.publish(&uri, diagnostics);
    }

    fn publish(&self, uri: &str, diagnostics: Vec<lsp_types::Diagnostic>) {
        let Ok(uri) = uri.parse::<Uri>() else { return };
        let params = PublishDiagnosticsParams {
            uri,
            diagnostics,
            version: None,
        };
        let notification = Notification::new(PublishDiagnostics::METHOD.to_string(), params);
        let _ = self.connection.sender.send(notification.into());
    }
}

fn json<T: serde::Serialize>(value: T) -> Json {
    serde_json::to_value(value).unwrap_or(Json::Null)
}
