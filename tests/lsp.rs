//! `stackc lsp` as an editor sees it: the real binary driven over stdio with Content-Length
//! framing, every read under a timeout so that a hung server fails the test. Also: a smoke
//! test with Neovim as the client (skipped when `nvim` is absent), and checks of the VS Code
//! extension's JSON files and grammar.
#![allow(clippy::unwrap_used)] // helpers of a test crate: a panic is the failure report

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod common;

const TIMEOUT: Duration = Duration::from_secs(20);
const URI: &str = "file:///tmp/stackc-lsp-test/app.stack";

/// A program with one mistake: `memroy` on line 6 (0-based), columns 2 to 8.
const BROKEN: &str = r#"stack shop { region = "eu-west-1" }
environment shop-prod { }

service api {
  image     = "ghcr.io/example/api:1.4"
  essential = true
  memroy    = 512 MiB
  ports     = [80:8080]
  links     = [worker]
  env {
    DB_HOST = db.host
  }
}

service worker { image = "worker:1" working_dir = "/w🦀" memory = 128 MiB }

postgres db {
  database = "shop"
  password = managed
}

firewall {
  allow 80 from internet to api
  allow db from api
}
"#;

/// An editor's end of the connection.
struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    messages: Receiver<Value>,
    /// Messages read while waiting for another one.
    backlog: Vec<Value>,
    next_id: i64,
}

impl Client {
    fn start() -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_stackc"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("stackc lsp starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        // Reads framed messages on a thread, so that the test can wait with a timeout.
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(n) = line.strip_prefix("Content-Length: ") {
                        length = n.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; length.expect("a Content-Length header")];
                if r.read_exact(&mut body).is_err() {
                    return;
                }
                let msg: Value = serde_json::from_slice(&body).expect("a JSON body");
                if tx.send(msg).is_err() {
                    return;
                }
            }
        });
        Client {
            child,
            stdin: Some(stdin),
            messages: rx,
            backlog: Vec::new(),
            next_id: 0,
        }
    }

    fn send(&mut self, msg: Value) {
        let body = serde_json::to_string(&msg).unwrap();
        let stdin = self.stdin.as_mut().expect("stdin is open");
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        stdin.flush().unwrap();
    }

    /// Sends bytes as they are: frames a client may get wrong.
    fn send_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and returns its whole response.
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.wait_for(&format!("the response to {method}"), |m| {
            m["id"] == json!(id) && m.get("method").is_none()
        })
    }

    /// The result of a request, which must succeed.
    fn call(&mut self, method: &str, params: Value) -> Value {
        let response = self.request(method, params);
        assert!(response.get("error").is_none(), "{method}: {response}");
        response["result"].clone()
    }

    /// The next message that matches, from the backlog first.
    fn wait_for(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.backlog.iter().position(&pred) {
            return self.backlog.remove(i);
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok(m) if pred(&m) => return m,
                Ok(m) => self.backlog.push(m),
                Err(RecvTimeoutError::Timeout) => {
                    let _ = self.child.kill();
                    panic!(
                        "timed out waiting for {what}; read meanwhile: {:?}",
                        self.backlog
                    )
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("the server closed stdout while waiting for {what}")
                }
            }
        }
    }

    /// The next diagnostics published for the test document.
    fn diagnostics(&mut self) -> Vec<Value> {
        let m = self.wait_for("publishDiagnostics", |m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == URI
        });
        m["params"]["diagnostics"].as_array().unwrap().clone()
    }

    fn initialize(&mut self) -> Value {
        let result = self.call(
            "initialize",
            json!({"processId": null, "rootUri": null, "capabilities": {}}),
        );
        self.notify("initialized", json!({}));
        result
    }

    /// The exit status after `exit`, waiting at most the timeout.
    fn exit_status(mut self) -> i32 {
        self.notify("exit", Value::Null);
        drop(self.stdin.take());
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().expect("an exit code, not a signal");
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("stackc lsp did not exit");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        // A failed test must not leave a server behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pos(line: u32, character: u32) -> Value {
    json!({"line": line, "character": character})
}

fn at(line: u32, character: u32) -> Value {
    json!({"textDocument": {"uri": URI}, "position": pos(line, character)})
}

fn codes(diags: &[Value]) -> Vec<String> {
    diags
        .iter()
        .map(|d| d["code"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn labels(result: &Value) -> Vec<String> {
    let items = match result {
        Value::Array(items) => items,
        other => other["items"].as_array().expect("completion items"),
    };
    items
        .iter()
        .map(|i| i["label"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn an_editor_session() {
    let mut c = Client::start();
    let init = c.initialize();
    let caps = &init["capabilities"];
    // 2: incremental text sync.
    assert_eq!(caps["textDocumentSync"], json!(2), "{caps}");
    assert_eq!(caps["definitionProvider"], json!(true));
    assert_eq!(caps["hoverProvider"], json!(true));
    assert_eq!(caps["documentFormattingProvider"], json!(true));
    assert!(caps["completionProvider"].is_object(), "{caps}");
    assert_eq!(init["serverInfo"]["name"], "stackc");

    // A document with an error gets exactly the diagnostics of `stackc check`.
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": URI, "languageId": "stack", "version": 1, "text": BROKEN}}),
    );
    let diags = c.diagnostics();
    assert_eq!(codes(&diags), ["stack::unknown_attribute"], "{diags:?}");
    let d = &diags[0];
    assert_eq!(d["range"], json!({"start": pos(6, 2), "end": pos(6, 8)}));
    assert_eq!(d["severity"], json!(1));
    assert_eq!(d["source"], "stackc");
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `memory`?"),
        "{d}"
    );

    // An incremental change fixes it.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 2},
               "contentChanges": [{"range": {"start": pos(6, 2), "end": pos(6, 8)}, "text": "memory"}]}),
    );
    assert_eq!(c.diagnostics(), Vec::<Value>::new());

    // A change after a surrogate pair: `🦀` is 4 bytes but 2 UTF-16 units, which is how
    // columns count.
    let line14 = BROKEN.lines().nth(14).unwrap();
    let byte = line14.find("memory").unwrap();
    let col = line14[..byte].encode_utf16().count() as u32;
    assert_eq!(col, byte as u32 - 2, "the crab is 4 bytes and 2 units");
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 3},
               "contentChanges": [{"range": {"start": pos(14, col), "end": pos(14, col + 6)}, "text": "memroy"}]}),
    );
    let diags = c.diagnostics();
    assert_eq!(codes(&diags), ["stack::unknown_attribute"], "{diags:?}");
    assert_eq!(
        diags[0]["range"],
        json!({"start": pos(14, col), "end": pos(14, col + 6)})
    );

    // Definition despite that error: a link, a reference and the names of a firewall rule.
    let worker = json!({"start": pos(14, 8), "end": pos(14, 14)});
    let def = c.call("textDocument/definition", at(8, 17));
    assert_eq!(def["uri"], URI);
    assert_eq!(def["range"], worker);
    let db = json!({"start": pos(16, 9), "end": pos(16, 11)});
    assert_eq!(c.call("textDocument/definition", at(10, 15))["range"], db);
    assert_eq!(c.call("textDocument/definition", at(23, 9))["range"], db);
    let api = json!({"start": pos(3, 8), "end": pos(3, 11)});
    assert_eq!(c.call("textDocument/definition", at(23, 16))["range"], api);
    assert_eq!(c.call("textDocument/definition", at(22, 29))["range"], api);
    // On nothing that names a block: null.
    assert_eq!(c.call("textDocument/definition", at(4, 20)), Value::Null);

    // Hover on an attribute key: type, default and doc from the attribute tables.
    let hover = c.call("textDocument/hover", at(7, 3));
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(text.contains("port mappings"), "{text}");
    assert!(text.contains("default: `[]`"), "{text}");
    assert_eq!(
        hover["range"],
        json!({"start": pos(7, 2), "end": pos(7, 7)})
    );
    let hover = c.call("textDocument/hover", at(16, 2));
    assert!(
        hover["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("RDS PostgreSQL"),
        "{hover}"
    );

    // Completion: attributes the postgres block does not have yet.
    let items = labels(&c.call("textDocument/completion", at(17, 19)));
    assert!(items.contains(&"backup_days".into()), "{items:?}");
    assert!(!items.contains(&"database".into()), "{items:?}");
    assert!(!items.contains(&"image".into()), "{items:?}");
    // Services in a half-typed firewall rule (the text does not parse meanwhile).
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 4},
               "contentChanges": [{"range": {"start": pos(24, 0), "end": pos(24, 0)}, "text": "  allow db from "}]}),
    );
    let diags = c.diagnostics();
    assert_eq!(codes(&diags), ["stack::syntax"], "{diags:?}");
    let items = labels(&c.call("textDocument/completion", at(24, 16)));
    assert_eq!(items, ["api", "worker"]);
    // Definition and hover still work while the file does not parse.
    assert_eq!(c.call("textDocument/definition", at(23, 16))["range"], api);
    let hover = c.call("textDocument/hover", at(7, 3));
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(text.contains("port mappings"), "{text}");
    // Formatting refuses a file with syntax errors, as `stackc fmt` does.
    let formatting =
        json!({"textDocument": {"uri": URI}, "options": {"tabSize": 2, "insertSpaces": true}});
    assert_eq!(
        c.call("textDocument/formatting", formatting.clone()),
        Value::Null
    );

    // A whole-text change: a messy but valid program, then formatting.
    let messy = BROKEN
        .replace("memroy", "memory")
        .replace("  essential = true", "essential=true");
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 5}, "contentChanges": [{"text": messy}]}),
    );
    assert_eq!(c.diagnostics(), Vec::<Value>::new());
    let edits = c.call("textDocument/formatting", formatting.clone());
    let want = stackc::fmt::format(&messy).expect("the messy program parses");
    assert_ne!(want, messy, "the program is messy");
    let lines = messy.lines().count() as u32;
    assert_eq!(
        edits,
        json!([{"range": {"start": pos(0, 0), "end": pos(lines, 0)}, "newText": want}])
    );
    // Once formatted, there is nothing to do.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 6}, "contentChanges": [{"text": want}]}),
    );
    assert_eq!(c.diagnostics(), Vec::<Value>::new());
    assert_eq!(
        c.call("textDocument/formatting", formatting.clone()),
        json!([])
    );

    // Bad input is answered, never fatal.
    let r = c.request("textDocument/references", json!({}));
    assert_eq!(r["error"]["code"], json!(-32601), "{r}");
    let r = c.request("textDocument/hover", json!({"nonsense": true}));
    assert_eq!(r["error"]["code"], json!(-32602), "{r}");
    let unknown = json!({"textDocument": {"uri": "file:///nowhere.stack"}, "position": pos(0, 0)});
    assert_eq!(c.call("textDocument/hover", unknown), Value::Null);
    assert_eq!(c.call("textDocument/hover", at(9999, 9999)), Value::Null);
    // Past the end is the end: the top level, where a block may start.
    let items = labels(&c.call("textDocument/completion", at(9999, 0)));
    assert!(items.contains(&"service".into()), "{items:?}");

    // Closing clears the diagnostics.
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": URI}}),
    );
    assert_eq!(c.diagnostics(), Vec::<Value>::new());

    assert_eq!(c.call("shutdown", Value::Null), Value::Null);
    assert_eq!(c.exit_status(), 0);
}

/// `initializationOptions: {"strict": true}` runs the strict lints, as `check --strict`.
#[test]
fn strict_lints_on_request() {
    let src = "stack shop { }\nenvironment shop-env { }\n\
               service web { image = \"nginx:latest\" memory = 64 MiB essential = true }\n";
    for (strict, want) in [(false, vec![]), (true, vec!["stack::latest_tag"])] {
        let mut c = Client::start();
        c.call(
            "initialize",
            json!({"processId": null, "rootUri": null, "capabilities": {},
                   "initializationOptions": {"strict": strict}}),
        );
        c.notify("initialized", json!({}));
        c.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": URI, "languageId": "stack", "version": 1, "text": src}}),
        );
        assert_eq!(codes(&c.diagnostics()), want, "strict: {strict}");
        assert_eq!(c.call("shutdown", Value::Null), Value::Null);
        assert_eq!(c.exit_status(), 0);
    }
}

/// Frames a careless or hostile client sends are answered with JSON-RPC errors, and the
/// session goes on: invalid JSON, JSON that is not a message, a bad or missing
/// Content-Length, a message over the 64 MiB the server reads.
#[test]
fn bad_frames_get_error_replies_and_the_session_goes_on() {
    let mut c = Client::start();
    c.initialize();
    let error_with_null_id = |m: &Value, code: i64| m["id"].is_null() && m["error"]["code"] == code;
    c.send_raw(b"Content-Length: 9\r\n\r\n{not json");
    c.wait_for("a parse error", |m| error_with_null_id(m, -32700));
    c.send_raw(b"Content-Length: 23\r\n\r\n{\"id\": 77, \"method\": 3}");
    c.wait_for("an invalid request", |m| {
        m["id"] == 77 && m["error"]["code"] == -32600
    });
    c.send_raw(b"Content-Length: -5\r\n\r\n");
    c.wait_for("a bad length", |m| {
        error_with_null_id(m, -32700) && m["error"]["message"].as_str().unwrap().contains("-5")
    });
    c.send_raw(b"X-Nothing: here\r\n\r\n");
    c.wait_for("a frame without length", |m| error_with_null_id(m, -32700));
    let big = 64 * 1024 * 1024 + 1;
    let mut frame = format!("Content-Length: {big}\r\n\r\n").into_bytes();
    frame.resize(frame.len() + big, b' ');
    c.send_raw(&frame);
    c.wait_for("a message too big", |m| {
        error_with_null_id(m, -32700) && m["error"]["message"].as_str().unwrap().contains("64 MiB")
    });
    // Still serving.
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": URI, "languageId": "stack", "version": 1, "text": BROKEN}}),
    );
    assert_eq!(codes(&c.diagnostics()), ["stack::unknown_attribute"]);
    assert_eq!(c.call("shutdown", Value::Null), Value::Null);
    assert_eq!(c.exit_status(), 0);
}

/// Before `initialize`, a request is refused (-32002) and the session goes on; a client that
/// opens a document before `initialized` is served.
#[test]
fn the_handshake_is_forgiving() {
    let mut c = Client::start();
    let early = c.request("textDocument/hover", at(0, 0));
    assert_eq!(early["error"]["code"], json!(-32002), "{early}");
    c.call(
        "initialize",
        json!({"processId": null, "rootUri": null, "capabilities": {}}),
    );
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": URI, "languageId": "stack", "version": 1, "text": BROKEN}}),
    );
    assert_eq!(codes(&c.diagnostics()), ["stack::unknown_attribute"]);
    c.notify("initialized", json!({}));
    assert_eq!(c.call("shutdown", Value::Null), Value::Null);
    assert_eq!(c.exit_status(), 0);
}

/// In a file with lone `\r` line ends, the server counts lines as the client does: a comment
/// ends at `\r`, diagnostics are placed on the right line, and the formatting edit replaces
/// exactly the whole document (it used to end on line 0, and the client kept the rest).
#[test]
fn lone_carriage_returns_end_lines_for_the_server_too() {
    let text = BROKEN.replace('\n', "\r");
    let mut c = Client::start();
    c.initialize();
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": URI, "languageId": "stack", "version": 1, "text": text}}),
    );
    let diags = c.diagnostics();
    assert_eq!(
        diags[0]["range"],
        json!({"start": pos(6, 2), "end": pos(6, 8)})
    );
    // Fix the mistake, then format: the edit spans the whole text.
    let fixed = text.replace("memroy   ", "memory   ");
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 2}, "contentChanges": [{"text": fixed}]}),
    );
    let edits = c.call(
        "textDocument/formatting",
        json!({"textDocument": {"uri": URI}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    let lines = fixed.split('\r').count() as u32;
    assert_eq!(edits[0]["range"]["start"], pos(0, 0), "{edits}");
    assert_eq!(edits[0]["range"]["end"], pos(lines - 1, 0), "{edits}");
    assert!(
        !edits[0]["newText"].as_str().unwrap().contains('\n'),
        "{edits}"
    );
    assert_eq!(c.call("shutdown", Value::Null), Value::Null);
    assert_eq!(c.exit_status(), 0);
}

#[test]
fn exit_without_shutdown_is_status_1() {
    let mut c = Client::start();
    c.initialize();
    assert_eq!(c.exit_status(), 1);
}

/// Neovim 0.7 (Debian's) as the client: it opens a file with an error, and the script writes
/// the diagnostics it received and where go-to-definition leads.
#[test]
fn neovim_shows_the_diagnostics() {
    if Command::new("nvim").arg("--version").output().is_err() {
        println!("skipped: nvim is not installed (tests/run.sh installs Debian's neovim)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.stack");
    std::fs::write(&file, BROKEN).unwrap();
    let out = dir.path().join("out.txt");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lsp/nvim.lua");
    let mut child = Command::new("nvim")
        .args(["--headless", "--clean", "-n", "-i", "NONE", "-u"])
        .arg(&script)
        .env("STACKC_BIN", env!("CARGO_BIN_EXE_stackc"))
        .env("STACKC_NVIM_FILE", &file)
        .env("STACKC_NVIM_OUT", &out)
        .env("HOME", dir.path())
        .env("XDG_STATE_HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nvim starts");
    let deadline = Instant::now() + TIMEOUT * 2;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("nvim did not finish");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let report = std::fs::read_to_string(&out).unwrap_or_default();
    assert!(status.success(), "nvim failed: {stderr}\n{report}");
    // `code line:col`, 0-based, as Neovim stores them.
    assert!(
        report.contains("diagnostic stack::unknown_attribute 6:2"),
        "{report}"
    );
    // From `worker` in `links = [worker]` to the name of `service worker`.
    assert!(report.contains("definition 14:8"), "{report}");
}

/// The VS Code extension: its JSON files parse, name the language and the server, and every
/// regular expression of the grammar compiles (Oniguruma syntax is close enough to these).
#[test]
fn the_vscode_extension_is_well_formed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("editors/vscode");
    let read = |p: &str| -> Value {
        let text = std::fs::read_to_string(root.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{p}: {e}"))
    };
    let pkg = read("package.json");
    let lang = &pkg["contributes"]["languages"][0];
    assert_eq!(lang["id"], "stack");
    assert_eq!(lang["extensions"], json!([".stack"]));
    let grammar_path = pkg["contributes"]["grammars"][0]["path"].as_str().unwrap();
    assert_eq!(
        pkg["contributes"]["grammars"][0]["scopeName"],
        "source.stack"
    );
    assert!(pkg["contributes"]["configuration"]["properties"]["stackc.path"].is_object());
    assert!(pkg["dependencies"]["vscode-languageclient"].is_string());
    let extension = std::fs::read_to_string(root.join("extension.js")).unwrap();
    assert!(
        extension.contains("'lsp'"),
        "the client starts `stackc lsp`"
    );
    if let Ok(out) = Command::new("node")
        .arg("--check")
        .arg(root.join("extension.js"))
        .output()
    {
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "extension.js: {err}");
    }

    let config = read("language-configuration.json");
    assert_eq!(config["comments"]["lineComment"], "#");

    let grammar = read(grammar_path.trim_start_matches("./"));
    assert_eq!(grammar["scopeName"], "source.stack");
    let mut regexes = Vec::new();
    collect_regexes(&grammar, &mut regexes);
    assert!(regexes.len() >= 10, "{regexes:?}");
    for r in &regexes {
        assert!(
            regex_compiles(r),
            "the grammar's regex does not compile: {r}"
        );
    }
}

/// The grammar as VS Code reads it: vscode-textmate and Oniguruma (the npm packages of
/// tests/lsp/textmate, which tests/run.sh installs) tokenise tests/lsp/highlight.stack.
#[test]
fn the_vscode_grammar_tokenises_like_vscode() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Some(support) = common::npm_support("lsp/textmate", "vscode-textmate") else {
        return;
    };
    let tokens: Vec<(u32, String, Vec<String>)> = common::node_json(
        &support.join("tokenize.js"),
        [
            root.join("editors/vscode/syntaxes/stack.tmLanguage.json"),
            root.join("tests/lsp/highlight.stack"),
        ],
    );
    // The scopes of the first token with this text on this line (0-based).
    let scopes = |line: u32, text: &str| -> Vec<String> {
        tokens
            .iter()
            .find(|(l, t, _)| *l == line && t == text)
            .unwrap_or_else(|| panic!("no token {text:?} on line {line}"))
            .2
            .clone()
    };
    let has = |line: u32, text: &str, scope: &str| {
        let s = scopes(line, text);
        assert!(
            s.iter().any(|x| x == scope),
            "{text:?} on line {line}: {s:?}, not {scope}"
        );
    };
    has(0, "# a comment", "comment.line.number-sign.stack");
    has(4, "service", "keyword.declaration.stack");
    has(4, "web", "entity.name.type.stack");
    has(5, "image", "variable.other.property.stack");
    has(5, "\\\"", "constant.character.escape.stack");
    has(5, "\\q", "invalid.illegal.escape.stack");
    has(5, "quoted", "string.quoted.double.stack");
    has(6, "512", "constant.numeric.size.stack");
    has(6, "MiB", "keyword.other.unit.stack");
    has(7, "true", "constant.language.boolean.stack");
    has(8, "80:8080", "constant.numeric.port.stack");
    has(8, "8125/udp", "constant.numeric.port.stack");
    has(10, "env", "keyword.declaration.stack");
    has(11, "db", "variable.other.object.stack");
    has(11, "host", "variable.other.property.stack");
    has(12, "secret", "support.function.secret.stack");
    has(16, "managed", "constant.language.managed.stack");
    has(18, "firewall", "keyword.declaration.stack");
    for kw in ["allow", "from", "to"] {
        has(19, kw, "keyword.control.stack");
    }
    has(19, "internet", "constant.language.internet.stack");
    has(19, "# public", "comment.line.number-sign.stack");
    has(20, "10.0.0.0/16", "constant.numeric.cidr.stack");
    has(21, "db", "variable.other.stack");
}

fn collect_regexes(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("match" | "begin" | "end" | "while", Value::String(s)) => out.push(s.clone()),
                    _ => collect_regexes(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_regexes(v, out)),
        _ => {}
    }
}

/// Compiles a regex with Node's engine when Node is installed (what VS Code's Oniguruma reads
/// is close to JavaScript's syntax for these patterns); otherwise checks that brackets and
/// groups balance.
fn regex_compiles(r: &str) -> bool {
    if let Ok(out) = Command::new("node")
        .args(["-e", "new RegExp(process.argv[1])", r])
        .output()
    {
        return out.status.success();
    }
    let mut depth = 0i32;
    let mut class = false;
    let mut chars = r.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '[' if !class => class = true,
            ']' if class => class = false,
            '(' if !class => depth += 1,
            ')' if !class => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    depth == 0 && !class
}
