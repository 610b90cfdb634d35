//! The deploy side's layout, checked on the source: each AWS API operation is called from
//! exactly one resource type's code (its file `resources/<type>.rs`, with `resources/<type>/`
//! when the type has a folder), so a resource's calls cannot spread over several types again,
//! and no operation is called outside `src/deploy/`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Whose code a file is: `resources/<type>.rs` and `resources/<type>/*.rs` are the type's.
fn owner(file: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    let mut parts = file.components().peekable();
    while let Some(c) = parts.next() {
        out.push(c);
        if c.as_os_str() == "resources" {
            if let Some(next) = parts.next() {
                let name = next.as_os_str().to_string_lossy();
                out.push(name.trim_end_matches(".rs"));
            }
            return out;
        }
    }
    file.to_path_buf()
}

/// The SDK clients of `aws::Clients`, read from its declaration (`pub ec2: aws_sdk_ec2::Client`),
/// so that a new client is scanned without a list here to update.
fn clients() -> Vec<String> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/deploy/aws/clients.rs"
    ))
    .expect("clients.rs is readable");
    let found: Vec<String> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub "))
        .filter_map(|l| l.split_once(": aws_sdk_"))
        .map(|(name, _)| name.to_string())
        .collect();
    assert!(found.len() >= 7, "the clients are found: {found:?}");
    found
}

/// `(client, operation)` of every SDK call in `text`: `ctx.clients.rds.create_db_instance()`
/// or, through a local alias, `let ec = &ctx.clients.elasticache; ... ec.describe_...()`.
fn calls(text: &str) -> BTreeSet<(String, String)> {
    // Chains split over lines by rustfmt read as one.
    let mut flat = String::with_capacity(text.len());
    for line in text.lines() {
        let t = line.trim_start();
        if !t.starts_with('.') && !flat.is_empty() {
            flat.push('\n');
        }
        flat.push_str(t);
    }
    let mut aliases: BTreeMap<String, String> =
        clients().into_iter().map(|c| (c.clone(), c)).collect();
    for line in flat.lines() {
        if let Some(rest) = line.trim().strip_prefix("let ") {
            if let Some((name, value)) = rest.split_once(" = &ctx.clients.") {
                aliases.insert(
                    name.trim().to_string(),
                    value.trim_end_matches(';').to_string(),
                );
            }
        }
    }
    let mut out = BTreeSet::new();
    for (alias, client) in &aliases {
        for pattern in [format!("clients.{alias}."), format!("{alias}.")] {
            let mut rest = flat.as_str();
            while let Some(at) = rest.find(&pattern) {
                let before = rest[..at].chars().last();
                rest = &rest[at + pattern.len()..];
                if pattern.starts_with(alias.as_str())
                    && before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
                {
                    continue;
                }
                let op: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                if op.contains('_') && rest[op.len()..].starts_with("()") {
                    out.insert((client.clone(), op));
                }
            }
        }
    }
    out
}

#[test]
fn each_aws_operation_is_called_from_one_file() {
    let mut files = Vec::new();
    rust_files(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
        &mut files,
    );
    let mut by_op: BTreeMap<(String, String), BTreeSet<PathBuf>> = BTreeMap::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("a readable source file");
        for call in calls(&text) {
            by_op.entry(call).or_default().insert(owner(f));
        }
    }
    assert!(by_op.len() > 40, "the scan finds the SDK calls: {by_op:?}");
    for ((client, op), files) in &by_op {
        assert_eq!(
            files.len(),
            1,
            "{client}.{op} is called from {files:?}: it belongs to one resource type's code"
        );
        let file = files
            .iter()
            .next()
            .expect("one owner")
            .to_string_lossy()
            .into_owned();
        assert!(
            file.contains("/src/deploy/"),
            "{client}.{op} is called outside src/deploy: {file}"
        );
    }
}

/// The IAM action of an SDK call: the operation in CamelCase under the service's prefix, but
/// for S3, whose actions are not its operations' names.
fn action(client: &str, op: &str) -> String {
    let service = match client {
        "eb" => "elasticbeanstalk",
        "elbv2" => "elasticloadbalancing",
        other => other,
    };
    let name = match (client, op) {
        ("s3", "list_objects_v2") => "listbucket".to_string(),
        ("s3", "delete_objects") => "deleteobject".to_string(),
        _ => op.replace('_', ""),
    };
    format!("{service}:{name}")
}

/// Every call a resource type's code makes is an action the type declares, so that
/// `stackc iam-policy` grants it.
#[test]
fn each_aws_call_is_an_action_its_type_declares() {
    use stackc::deploy::resources::Kind;
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src/deploy/resources"));
    let mut files = Vec::new();
    rust_files(root, &mut files);
    let mut checked = 0;
    for f in &files {
        let rel = f.strip_prefix(root).expect("under resources/");
        let module = rel
            .components()
            .next()
            .expect("a module")
            .as_os_str()
            .to_string_lossy();
        let module = module.trim_end_matches(".rs");
        let declared: BTreeSet<String> = Kind::ALL
            .iter()
            .filter(|k| k.module() == module)
            .flat_map(|k| k.actions())
            .map(|a| a.to_ascii_lowercase())
            .collect();
        for (client, op) in calls(&std::fs::read_to_string(f).expect("readable")) {
            let action = action(&client, &op);
            assert!(
                declared.contains(&action),
                "{}: calls {client}.{op} ({action}) but its types declare only {declared:?}",
                f.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 40, "the scan finds the calls: {checked}");
}

#[test]
fn the_scan_reads_chains_and_aliases() {
    let text = "let ec = &ctx.clients.elasticache;\nec.describe_cache_clusters()\n    .send();\nctx.clients\n    .rds\n    .create_db_instance()\n";
    let found = calls(text);
    assert!(
        found.contains(&("elasticache".into(), "describe_cache_clusters".into())),
        "{found:?}"
    );
    assert!(
        found.contains(&("rds".into(), "create_db_instance".into())),
        "{found:?}"
    );
}
