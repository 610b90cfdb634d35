//! Tests of `stackc graph`: for every `examples/*.stack`,
//!
//! - the program graph and the plan graph, in DOT and in Mermaid, match the snapshots in
//!   `tests/graph/`;
//! - Graphviz (`dot -Tsvg`, Debian's `graphviz`, installed by `tests/run.sh`) renders every DOT
//!   output without error;
//! - every Mermaid output has the shape GitHub's Mermaid reads (checked line by line here);
//! - the binary prints exactly the in-process text, and refuses a file with errors.
//!
//! Names and labels are escaped for both languages: a program whose strings hold quotes,
//! backslashes and markup still renders.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use stackc::lower::graph::{self, Format};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
use common::examples;

/// The four outputs of a program: (name, text).
fn outputs(src: &str) -> Vec<(&'static str, String)> {
    let (model, diags) = stackc::compile(src);
    let model = model.unwrap_or_else(|| panic!("the program has errors: {diags:?}"));
    model_outputs(&model)
}

/// The four outputs of a model.
fn model_outputs(model: &stackc::check::Model) -> Vec<(&'static str, String)> {
    let g = graph::model_graph(model);
    let p = graph::plan_graph(&stackc::lower::lower(model).plan);
    vec![
        ("dot", graph::render(&g, Format::Dot)),
        ("mermaid", graph::render(&g, Format::Mermaid)),
        ("plan.dot", graph::render(&p, Format::Dot)),
        ("plan.mermaid", graph::render(&p, Format::Mermaid)),
    ]
}

#[test]
fn snapshots() {
    let mut seen = 0;
    insta::glob!("../examples", "*.stack", |path| {
        let src = std::fs::read_to_string(path).expect("readable example");
        insta::with_settings!({
            omit_expression => true,
            prepend_module_to_snapshot => false,
            snapshot_path => "graph",
        }, {
            for (name, text) in outputs(&src) {
                insta::assert_snapshot!(name, text);
            }
        });
        seen += 1;
    });
    assert_eq!(seen, examples().len(), "the glob saw every example");
}

#[test]
fn graphs_are_deterministic() {
    for (path, src) in examples() {
        assert_eq!(outputs(&src), outputs(&src), "{}", path.display());
    }
}

/// Renders DOT with Graphviz; panics with its stderr when it fails.
fn dot_svg(what: &str, text: &str) -> String {
    let child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = child.unwrap_or_else(|e| {
        panic!("cannot run Graphviz's `dot` ({e}): install it (`apt-get install graphviz`; `bash tests/run.sh` does)")
    });
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(text.as_bytes())
        .expect("write to dot");
    let o = child.wait_with_output().expect("dot runs");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success(),
        "{what}: `dot -Tsvg` failed ({}):\n{stderr}\n--- input ---\n{text}",
        o.status
    );
    // Graphviz prints syntax problems as warnings and still exits 0 on some of them.
    assert!(!stderr.contains("syntax error"), "{what}: {stderr}");
    let svg = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(svg.contains("<svg"), "{what}: no SVG");
    svg
}

#[test]
fn graphviz_renders_every_dot_output() {
    for (path, src) in examples() {
        for (name, text) in outputs(&src) {
            if name.ends_with("dot") {
                let svg = dot_svg(&format!("{} {name}", path.display()), &text);
                assert!(
                    svg.contains("class=\"node\""),
                    "{}: {name} has no node",
                    path.display()
                );
            }
        }
    }
}

/// A line-by-line check of the Mermaid flowchart subset stackc writes: a comment, the
/// header, node definitions, subgraphs, edges, and class lines; every label quoted, with no
/// raw `"` inside.
fn check_mermaid(what: &str, text: &str) {
    let mut lines = text.lines();
    assert!(
        lines.next().is_some_and(|l| l.starts_with("%% ")),
        "{what}: starts with a comment"
    );
    let header = lines.next().unwrap_or_default();
    assert!(
        header == "flowchart LR" || header == "flowchart TD",
        "{what}: header `{header}`"
    );
    let mut depth = 0;
    let quoted_ok = |s: &str| s.matches('"').count() % 2 == 0;
    let is_id = |s: &str| {
        (s.starts_with('n') || s.starts_with('c'))
            && s.len() > 1
            && s[1..].chars().all(|c| c.is_ascii_digit())
    };
    for line in lines {
        let t = line.trim();
        assert!(quoted_ok(t), "{what}: unbalanced quotes in `{t}`");
        if let Some(rest) = t.strip_prefix("subgraph ") {
            let id = rest.split('[').next().unwrap_or_default();
            assert!(is_id(id) && rest.ends_with("\"]"), "{what}: subgraph `{t}`");
            depth += 1;
        } else if t == "end" {
            depth -= 1;
            assert!(depth >= 0, "{what}: stray end");
        } else if t.starts_with("classDef ") || t.starts_with("class ") {
        } else if t.contains("-->") || t.contains("-.->") {
            let parts: Vec<&str> = t.split_whitespace().collect();
            assert!(is_id(parts[0]), "{what}: edge source in `{t}`");
            assert!(
                is_id(parts[parts.len() - 1]),
                "{what}: edge target in `{t}`"
            );
        } else {
            let id: String = t.chars().take_while(char::is_ascii_alphanumeric).collect();
            assert!(is_id(&id), "{what}: node id in `{t}`");
            let shape = &t[id.len()..];
            let shape = shape.split(":::").next().unwrap_or_default();
            let ok = [
                ("[\"", "\"]"),
                ("[(\"", "\")]"),
                ("([\"", "\"])"),
                ("{{\"", "\"}}"),
            ]
            .iter()
            .any(|(a, b)| shape.starts_with(a) && shape.ends_with(b));
            assert!(ok, "{what}: node shape in `{t}`");
            let label = &shape[shape.find('"').unwrap_or(0) + 1..shape.rfind('"').unwrap_or(0)];
            assert!(
                !label.contains('"'),
                "{what}: a raw quote in the label of `{t}`"
            );
        }
    }
    assert_eq!(depth, 0, "{what}: unclosed subgraph");
}

#[test]
fn mermaid_outputs_have_the_shape_github_reads() {
    for (path, src) in examples() {
        for (name, text) in outputs(&src) {
            if name.ends_with("mermaid") {
                check_mermaid(&format!("{} {name}", path.display()), &text);
            }
        }
    }
}

/// Strings that are syntax in DOT or Mermaid, in every place a string reaches a label (an
/// image holds only what ECS takes: letters, digits, `-`, `_`, `:`, `.`, `/` and `#`).
const TRICKY: &str = r#"
stack tricky { }
environment tricky-env { tier = load_balanced }
service web {
  image     = "ex.ample/N_b-amp:x#1"
  memory    = 128 MiB
  essential = true
  ports     = [80:8080, 8125]
  links     = [api]
  env { DB = db.host }
}
service api { image = "subgraph/end:1" memory = 64 MiB }
postgres db { database = "app" identifier = "tricky-db" }
redis idle { }
firewall {
  allow 80, 8125 from internet to web
  allow 80 from 10.0.0.0/16 to web
  allow db from web
  allow idle from web
}
"#;

#[test]
fn labels_are_escaped() {
    let outs = outputs(TRICKY);
    for (name, text) in &outs {
        if name.ends_with("dot") {
            let svg = dot_svg(&format!("tricky {name}"), text);
            if *name == "dot" {
                // Graphviz shows the image as written.
                assert!(svg.contains("ex.ample/N_b&#45;amp:x#1"), "{svg}");
                // The store opened to nobody is drawn from the environment's frame.
                assert!(text.contains("ltail=\"cluster_environment\""), "{text}");
            }
        } else {
            check_mermaid(&format!("tricky {name}"), text);
        }
    }
    let mermaid = &outs[1].1;
    assert!(mermaid.contains("ex.ample/N_b-amp:x#35;1"), "{mermaid}");
    assert!(mermaid.contains("{{\"load balancer"), "{mermaid}");
    assert!(
        mermaid.contains("c0 -.->|\"6379/tcp open, not read\"|"),
        "{mermaid}"
    );
}

/// Text that Mermaid or Graphviz would read as something else than a label: a Mermaid
/// directive (`%%{init: ...}%%`, which Mermaid honours anywhere in the text), and an image
/// long enough to pass Graphviz's 16 KiB limit on a string. `stackc check` refuses both
/// images (ECS takes neither), so no program carries them to `graph`: they are put into the
/// model of a valid program, to test the renderer on its own.
const HOSTILE: &str = r#"
stack hostile { }
environment hostile-env { }
service web {
  image     = "nginx"
  memory    = 128 MiB
  essential = true
  links     = [api]
}
service api { image = "nginx" memory = 64 MiB }
"#;

/// The four outputs of [`HOSTILE`] with its hostile images.
fn hostile_outputs() -> Vec<(&'static str, String)> {
    let (model, diags) = stackc::compile(HOSTILE);
    let mut model = model.unwrap_or_else(|| panic!("the program has errors: {diags:?}"));
    model.services[0].image = "%%{init:{'theme':'dark'}}%%".into();
    model.services[1].image = "x".repeat(20_000).into();
    model_outputs(&model)
}

#[test]
fn graphviz_renders_hostile_labels() {
    for (name, text) in hostile_outputs() {
        if name.ends_with("dot") {
            let svg = dot_svg(&format!("hostile {name}"), &text);
            assert!(svg.contains("class=\"node\""), "hostile {name}");
        }
    }
}

/// Every Mermaid output, of the examples and of the tricky and hostile programs, read by
/// Mermaid's own parser (tests/graph/mermaid, pinned by its package-lock.json): it parses,
/// and no label text became configuration.
#[test]
fn mermaid_parses_every_output_and_no_label_is_a_directive() {
    let Some(support) = common::npm_support("graph/mermaid", "mermaid") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut programs: Vec<(String, Vec<(&str, String)>)> = examples()
        .into_iter()
        .map(|(p, s)| (p.display().to_string(), outputs(&s)))
        .collect();
    programs.push(("tricky".into(), outputs(TRICKY)));
    programs.push(("hostile".into(), hostile_outputs()));
    for (what, outs) in programs {
        for (name, text) in outs {
            if name.ends_with("mermaid") {
                let file = dir.path().join(format!("{}.mmd", files.len()));
                std::fs::write(&file, text).unwrap();
                files.push((format!("{what} {name}"), file));
            }
        }
    }
    // A control: the same directive written raw in a label is configuration to Mermaid.
    let raw = dir.path().join("raw.mmd");
    std::fs::write(
        &raw,
        "flowchart LR\n  n0[\"web %%{init: {'theme':'dark'}}%% x\"]\n",
    )
    .unwrap();
    let results: Vec<serde_json::Value> = common::node_json(
        &support.join("parse.mjs"),
        files.iter().map(|f| f.1.as_path()).chain([raw.as_path()]),
    );
    let (control, results) = results.split_last().unwrap();
    assert_eq!(control["config"]["theme"], "dark", "{control}");
    for ((what, _), r) in files.iter().zip(results) {
        assert_eq!(r["ok"], true, "{what}: {r}");
        assert_eq!(r["config"], serde_json::json!({}), "{what}: {r}");
    }
}

// ---------------------------------------------------------------------------------------
// The real binary.

fn stackc(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stackc"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the stackc binary runs")
}

#[test]
fn binary_prints_the_in_process_text() {
    for (path, src) in examples() {
        let outs = outputs(&src);
        // The in-process outputs are the first environment's; a file with several needs --env.
        let env = stackc::compile(&src)
            .0
            .and_then(|m| m.scoped_env().map(str::to_owned));
        let cases: [(&[&str], &str); 4] = [
            (&[], "dot"),
            (&["--format", "mermaid"], "mermaid"),
            (&["--plan"], "plan.dot"),
            (&["--plan", "--format", "mermaid"], "plan.mermaid"),
        ];
        for (flags, name) in cases {
            let mut args: Vec<&std::ffi::OsStr> = vec!["graph".as_ref(), path.as_os_str()];
            args.extend(flags.iter().map(|f| std::ffi::OsStr::new(*f)));
            if let Some(env) = &env {
                args.extend([std::ffi::OsStr::new("--env"), std::ffi::OsStr::new(env)]);
            }
            let o = stackc(&args);
            assert!(
                o.status.success(),
                "{} {name}: {}",
                path.display(),
                String::from_utf8_lossy(&o.stderr)
            );
            let expected = &outs.iter().find(|(n, _)| *n == name).expect("an output").1;
            assert_eq!(
                &String::from_utf8_lossy(&o.stdout),
                expected,
                "{} {name}",
                path.display()
            );
        }
    }
}

#[test]
fn binary_refuses_a_file_with_errors() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let file = tmp.path().join("broken.stack");
    std::fs::write(
        &file,
        "stack app { }\nenvironment app-env { }\nservice web { image = \"x\" memory = 128 }\n",
    )
    .expect("write");
    let o = stackc(&["graph".as_ref(), file.as_os_str()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty(), "nothing on stdout");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("stack::type_mismatch") && stderr.contains("no graph"),
        "{stderr}"
    );
    let o = stackc(&[
        "graph".as_ref(),
        Path::new(EXAMPLES).join("complex-docker.stack").as_os_str(),
        "--format".as_ref(),
        "svg".as_ref(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "an unknown format is a usage error"
    );
}
