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
    let g = graph::model_graph(&model);
    let p = graph::plan_graph(&stackc::lower::lower(&model).plan);
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
        let cases: [(&[&str], &str); 4] = [
            (&[], "dot"),
            (&["--format", "mermaid"], "mermaid"),
            (&["--plan"], "plan.dot"),
            (&["--plan", "--format", "mermaid"], "plan.mermaid"),
        ];
        for (flags, name) in cases {
            let mut args: Vec<&std::ffi::OsStr> = vec!["graph".as_ref(), path.as_os_str()];
            args.extend(flags.iter().map(|f| std::ffi::OsStr::new(*f)));
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
