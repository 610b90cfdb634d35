//! The message loop: JSON-RPC over stdio through `lsp-server`, the open documents, and the
//! dispatch of each request to the pure modules. Thin on purpose: every answer is computed by
//! [`super::query`], [`super::complete`], [`super::diagnostics`] or `stackc::fmt`.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument,
    Notification as NotificationTrait, PublishDiagnostics,
};
use lsp_types::request::{
    Completion, Formatting, GotoDefinition, HoverRequest, Request as RequestTrait,
};
use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionOptions, CompletionParams, CompletionResponse,
    DocumentFormattingParams, Documentation, GotoDefinitionParams, GotoDefinitionResponse, Hover,
    HoverContents, HoverParams, HoverProviderCapability, Location, MarkupContent, MarkupKind,
    OneOf, PublishDiagnosticsParams, Range, ServerCapabilities, ServerInfo,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextEdit, Uri,
};
use serde::de::DeserializeOwned;
use serde_json::Value;
use stackc::check::lints::Options;

use super::complete::{self, ItemKind};
use super::index::{LineIndex, apply_change};
use super::{diagnostics, query};
use crate::cli::input::MAX_INPUT;

/// What the server advertises.
pub fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(
            TextDocumentSyncKind::INCREMENTAL,
        )),
        definition_provider: Some(OneOf::Left(true)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".into(), "[".into(), ",".into()]),
            ..Default::default()
        }),
        document_formatting_provider: Some(OneOf::Left(true)),
        ..Default::default()
    }
}

/// An open document.
struct Doc {
    uri: Uri,
    text: String,
    version: i32,
}

struct Server<'c> {
    conn: &'c Connection,
    /// By URI as written by the client.
    docs: HashMap<String, Doc>,
    options: Options,
}

/// Serves one client until `exit`: true when `shutdown` came first (a clean exit).
///
/// Before `initialize`, requests are answered "not initialized" and notifications dropped, as
/// the protocol says; after it, everything is served (`initialized` says nothing we need, and
/// a client that sends `didOpen` before it is not turned away).
pub fn serve(conn: &Connection) -> bool {
    let send = |msg: Message| {
        let _ = conn.sender.send(msg);
    };
    let (id, params) = loop {
        match conn.receiver.recv() {
            Err(_) => return false,
            Ok(Message::Request(req)) if req.method == "initialize" => break (req.id, req.params),
            Ok(Message::Request(req)) => send(
                Response::new_err(
                    req.id,
                    ErrorCode::ServerNotInitialized as i32,
                    "the server is not initialized yet".into(),
                )
                .into(),
            ),
            Ok(Message::Notification(n)) if n.method == "exit" => return false,
            Ok(_) => {}
        }
    };
    // `initializationOptions: {"strict": true}` runs the strict lints, as `check --strict`.
    let strict = params
        .pointer("/initializationOptions/strict")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let result = serde_json::json!({
        "capabilities": capabilities(),
        "serverInfo": ServerInfo {
            name: "stackc".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        },
    });
    send(Response::new_ok(id, result).into());
    let mut server = Server {
        conn,
        docs: HashMap::new(),
        options: Options { strict },
    };
    let mut shut_down = false;
    for msg in &conn.receiver {
        match msg {
            Message::Request(req) if shut_down => server.send(Response::new_err(
                req.id,
                ErrorCode::InvalidRequest as i32,
                "the server is shutting down".into(),
            )),
            Message::Request(req) if req.method == "initialize" => server.send(Response::new_err(
                req.id,
                ErrorCode::InvalidRequest as i32,
                "the server is already initialized".into(),
            )),
            Message::Request(req) if req.method == "shutdown" => {
                shut_down = true;
                server.send(Response::new_ok(req.id, ()));
            }
            Message::Request(req) => {
                let id = req.id.clone();
                // A bug of ours must not end the session: answer with an error and go on.
                let response = catch_unwind(AssertUnwindSafe(|| server.request(req)))
                    .unwrap_or_else(|_| internal_error(id));
                server.send(response);
            }
            Message::Notification(n) if n.method == "exit" => return shut_down,
            Message::Notification(n) => {
                let _ = catch_unwind(AssertUnwindSafe(|| server.notification(n)));
            }
            Message::Response(_) => {}
        }
    }
    // The client went away without `exit`.
    false
}

fn internal_error(id: RequestId) -> Response {
    Response::new_err(
        id,
        ErrorCode::InternalError as i32,
        "internal error of stackc".into(),
    )
}

/// A result as JSON; `None` is `null`, which the protocol reads as "nothing here".
fn json(result: impl serde::Serialize) -> Value {
    serde_json::to_value(result).unwrap_or(Value::Null)
}

fn params<P: DeserializeOwned>(v: Value) -> Result<P, String> {
    serde_json::from_value(v).map_err(|e| format!("invalid params: {e}"))
}

impl Server<'_> {
    fn send(&self, msg: impl Into<Message>) {
        // The writer thread is gone only when the client is: the loop ends on its own then.
        let _ = self.conn.sender.send(msg.into());
    }

    fn request(&self, req: Request) -> Response {
        let id = req.id.clone();
        let result = match req.method.as_str() {
            GotoDefinition::METHOD => params(req.params).map(|p| json(self.definition(p))),
            HoverRequest::METHOD => params(req.params).map(|p| json(self.hover(p))),
            Completion::METHOD => params(req.params).map(|p| json(self.completion(p))),
            Formatting::METHOD => params(req.params).map(|p| json(self.formatting(p))),
            _ => {
                return Response::new_err(
                    id,
                    ErrorCode::MethodNotFound as i32,
                    format!("unknown method {}", req.method),
                );
            }
        };
        match result {
            Ok(value) => Response::new_ok(id, value),
            Err(msg) => Response::new_err(id, ErrorCode::InvalidParams as i32, msg),
        }
    }

    fn notification(&mut self, n: Notification) {
        match n.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let Ok(p) = params::<lsp_types::DidOpenTextDocumentParams>(n.params) else {
                    return;
                };
                let doc = p.text_document;
                let key = doc.uri.as_str().to_string();
                self.docs.insert(
                    key.clone(),
                    Doc {
                        uri: doc.uri,
                        text: doc.text,
                        version: doc.version,
                    },
                );
                self.publish(&key);
            }
            DidChangeTextDocument::METHOD => {
                let Ok(p) = params::<lsp_types::DidChangeTextDocumentParams>(n.params) else {
                    return;
                };
                let key = p.text_document.uri.as_str().to_string();
                let Some(doc) = self.docs.get_mut(&key) else {
                    return;
                };
                for change in p.content_changes {
                    apply_change(&mut doc.text, change.range, &change.text);
                }
                doc.version = p.text_document.version;
                self.publish(&key);
            }
            DidCloseTextDocument::METHOD => {
                let Ok(p) = params::<lsp_types::DidCloseTextDocumentParams>(n.params) else {
                    return;
                };
                let key = p.text_document.uri.as_str().to_string();
                if let Some(doc) = self.docs.remove(&key) {
                    self.notify_diagnostics(doc.uri, Vec::new(), None);
                }
            }
            _ => {}
        }
    }

    /// Checks a document and publishes all its diagnostics (an empty list clears them).
    fn publish(&self, key: &str) {
        let Some(doc) = self.docs.get(key) else {
            return;
        };
        // As `stackc check` reads no file above this size, the server checks no document above
        // it (edits can grow one without bound); it says so instead.
        let diags = if doc.text.len() > MAX_INPUT {
            vec![lsp_types::Diagnostic {
                severity: Some(lsp_types::DiagnosticSeverity::ERROR),
                source: Some("stackc".into()),
                message: format!(
                    "the document is larger than {} MiB, the most stackc checks",
                    MAX_INPUT >> 20
                ),
                ..Default::default()
            }]
        } else {
            diagnostics::check(&doc.uri, &doc.text, &self.options)
        };
        self.notify_diagnostics(doc.uri.clone(), diags, Some(doc.version));
    }

    fn notify_diagnostics(
        &self,
        uri: Uri,
        diagnostics: Vec<lsp_types::Diagnostic>,
        version: Option<i32>,
    ) {
        let params = PublishDiagnosticsParams {
            uri,
            diagnostics,
            version,
        };
        self.send(Notification::new(
            PublishDiagnostics::METHOD.to_string(),
            params,
        ));
    }

    /// The document and the byte offset of a position in it.
    fn locate(&self, uri: &Uri, pos: lsp_types::Position) -> Option<(&Doc, usize)> {
        let doc = self.docs.get(uri.as_str())?;
        let offset = LineIndex::new(&doc.text).offset(pos);
        Some((doc, offset))
    }

    fn definition(&self, p: GotoDefinitionParams) -> Option<GotoDefinitionResponse> {
        let at = p.text_document_position_params;
        let (doc, offset) = self.locate(&at.text_document.uri, at.position)?;
        let spans = match stackc::syntax::parse(&doc.text).file {
            Some(file) => query::definition(&file, offset),
            // A file that does not parse (yet): the blocks a lexical reading finds.
            None => {
                let (word, _) = complete::word_at(&doc.text, offset)?;
                complete::blocks(&doc.text)
                    .into_iter()
                    .filter(|b| b.name == word)
                    .map(|b| b.name_span)
                    .collect()
            }
        };
        let index = LineIndex::new(&doc.text);
        let mut locations: Vec<Location> = spans
            .into_iter()
            .map(|s| Location::new(doc.uri.clone(), index.range(s)))
            .collect();
        match locations.len() {
            0 => None,
            1 => locations.pop().map(GotoDefinitionResponse::Scalar),
            _ => Some(GotoDefinitionResponse::Array(locations)),
        }
    }

    fn hover(&self, p: HoverParams) -> Option<Hover> {
        let at = p.text_document_position_params;
        let (doc, offset) = self.locate(&at.text_document.uri, at.position)?;
        let h = match stackc::syntax::parse(&doc.text).file {
            Some(file) => query::hover(&file, offset)?,
            // A file that does not parse (yet): what a lexical reading can tell.
            None => query::hover_lexical(&doc.text, offset)?,
        };
        Some(Hover {
            contents: HoverContents::Markup(markdown(h.markdown)),
            range: Some(LineIndex::new(&doc.text).range(h.span)),
        })
    }

    fn completion(&self, p: CompletionParams) -> Option<CompletionResponse> {
        let at = p.text_document_position;
        let (doc, offset) = self.locate(&at.text_document.uri, at.position)?;
        let items = complete::complete(&doc.text, offset)
            .into_iter()
            .map(|i| CompletionItem {
                label: i.label,
                kind: Some(match i.kind {
                    ItemKind::Keyword => CompletionItemKind::KEYWORD,
                    ItemKind::Attribute => CompletionItemKind::PROPERTY,
                    ItemKind::Name => CompletionItemKind::REFERENCE,
                    ItemKind::Value => CompletionItemKind::VALUE,
                }),
                detail: i.detail,
                documentation: i.doc.map(|d| Documentation::MarkupContent(markdown(d))),
                ..Default::default()
            })
            .collect();
        Some(CompletionResponse::Array(items))
    }

    /// One edit replacing the whole text, or none when the text is already formatted or does
    /// not parse (`stackc fmt` refuses to format a file with syntax errors).
    fn formatting(&self, p: DocumentFormattingParams) -> Option<Vec<TextEdit>> {
        let doc = self.docs.get(p.text_document.uri.as_str())?;
        let formatted = stackc::fmt::format(&doc.text).ok()?;
        if formatted == doc.text {
            return Some(Vec::new());
        }
        let end = LineIndex::new(&doc.text).position(doc.text.len());
        Some(vec![TextEdit::new(
            Range::new(lsp_types::Position::new(0, 0), end),
            formatted,
        )])
    }
}

fn markdown(value: String) -> MarkupContent {
    MarkupContent {
        kind: MarkupKind::Markdown,
        value,
    }
}
