//! The content hash of a build context (`images::context`) on real directories: it changes
//! with everything a build sees and with nothing else, and is the same whatever the machine
//! or the order files were made in. Which files are sent is checked against podman itself in
//! tests/images.rs.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::process::Command;

use common::images::{spec, write_tree};
use stackc::images::{BuildSpec, ContentHash, ContextError, Platform, content_hash, sent_entries};

fn hash(spec: &BuildSpec) -> ContentHash {
    content_hash(spec).unwrap_or_else(|e| panic!("hashing {}: {e}", spec.context.display()))
}

/// A small app's context.
fn app(dir: &Path) {
    write_tree(
        dir,
        &[
            ("Dockerfile", "FROM scratch\nCOPY . /app\n"),
            ("src/main.js", "console.log('hi')\n"),
            ("src/lib/util.js", "module.exports = 1\n"),
            ("README.md", "# app\n"),
            ("bin/run.sh", "#!/bin/sh\nnode src/main.js\n"),
        ],
    );
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[test]
fn the_hash_changes_with_everything_the_build_sees() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ctx = dir.path();
    app(ctx);
    let base = spec(ctx);
    let h0 = hash(&base);

    // Each change, then its undoing: the hash moves, then comes back.
    type Step<'a> = (&'a str, Box<dyn Fn() + 'a>, Box<dyn Fn() + 'a>);
    let p = |rel: &str| ctx.join(rel);
    let steps: Vec<Step> = vec![
        (
            "a file's content",
            Box::new(move || std::fs::write(p("src/main.js"), "console.log('ho')\n").expect("w")),
            Box::new(move || std::fs::write(p("src/main.js"), "console.log('hi')\n").expect("w")),
        ),
        (
            "a new file",
            Box::new(move || std::fs::write(p("src/new.js"), "").expect("w")),
            Box::new(move || std::fs::remove_file(p("src/new.js")).expect("rm")),
        ),
        (
            "a renamed file",
            Box::new(move || std::fs::rename(p("README.md"), p("READ.md")).expect("mv")),
            Box::new(move || std::fs::rename(p("READ.md"), p("README.md")).expect("mv")),
        ),
        (
            "a file moved to another directory",
            Box::new(move || std::fs::rename(p("src/lib/util.js"), p("src/util.js")).expect("mv")),
            Box::new(move || std::fs::rename(p("src/util.js"), p("src/lib/util.js")).expect("mv")),
        ),
        (
            "the executable bit",
            Box::new(move || chmod(&p("bin/run.sh"), 0o755)),
            Box::new(move || chmod(&p("bin/run.sh"), 0o644)),
        ),
        (
            "an empty directory",
            Box::new(move || std::fs::create_dir(p("empty")).expect("mkdir")),
            Box::new(move || std::fs::remove_dir(p("empty")).expect("rmdir")),
        ),
        (
            "a symbolic link",
            Box::new(move || symlink("src/main.js", p("main")).expect("ln")),
            Box::new(move || std::fs::remove_file(p("main")).expect("rm")),
        ),
        (
            "the Dockerfile",
            Box::new(move || std::fs::write(p("Dockerfile"), "FROM scratch\n").expect("w")),
            Box::new(move || {
                std::fs::write(p("Dockerfile"), "FROM scratch\nCOPY . /app\n").expect("w")
            }),
        ),
    ];
    chmod(&ctx.join("bin/run.sh"), 0o644);
    assert_eq!(hash(&base), h0, "bin/run.sh was made not executable");
    let mut seen = vec![h0];
    for (what, change, undo) in &steps {
        change();
        let h = hash(&base);
        assert!(!seen.contains(&h), "changing {what} must change the hash");
        seen.push(h);
        undo();
        assert_eq!(hash(&base), h0, "undoing {what} must restore the hash");
    }

    // What the build is asked, beside the files.
    let variants = [
        BuildSpec {
            target: Some("prod".into()),
            ..base.clone()
        },
        BuildSpec {
            target: Some("dev".into()),
            ..base.clone()
        },
        BuildSpec {
            args: BTreeMap::from([("NODE_ENV".into(), "production".into())]),
            ..base.clone()
        },
        BuildSpec {
            args: BTreeMap::from([("NODE_ENV".into(), "development".into())]),
            ..base.clone()
        },
        BuildSpec {
            args: BTreeMap::from([("NODE_ENVX".into(), "production".into())]),
            ..base.clone()
        },
        BuildSpec {
            platform: Platform::LinuxArm64,
            ..base.clone()
        },
    ];
    for v in &variants {
        let h = hash(v);
        assert!(!seen.contains(&h), "{v:?} must hash differently");
        seen.push(h);
    }
}

#[test]
fn the_dockerfile_named_by_the_spec_is_the_one_hashed() {
    let dir = tempfile::tempdir().expect("temp dir");
    app(dir.path());
    write_tree(dir.path(), &[("docker/Dockerfile.prod", "FROM scratch\n")]);
    let prod = BuildSpec {
        dockerfile: "docker/Dockerfile.prod".into(),
        ..spec(dir.path())
    };
    let before = hash(&prod);
    // The default Dockerfile is only a file of the context here.
    std::fs::write(dir.path().join("Dockerfile"), "FROM other\n").expect("w");
    let other = hash(&prod);
    assert_ne!(before, other);
    std::fs::write(
        dir.path().join("docker/Dockerfile.prod"),
        "FROM scratch\nUSER 1\n",
    )
    .expect("w");
    assert_ne!(hash(&prod), other);
}

#[test]
fn the_hash_leaves_out_what_the_build_does_not_see() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ctx = dir.path();
    app(ctx);
    write_tree(
        ctx,
        &[
            (".dockerignore", "node_modules\n**/*.log\n!keep.log\n"),
            ("node_modules/left-pad/index.js", "a"),
            ("debug.log", "a"),
            ("src/trace.log", "a"),
            ("keep.log", "a"),
        ],
    );
    let s = spec(ctx);
    let h0 = hash(&s);
    for ignored in [
        "node_modules/left-pad/index.js",
        "debug.log",
        "src/trace.log",
    ] {
        std::fs::write(ctx.join(ignored), "changed").expect("w");
        assert_eq!(hash(&s), h0, "{ignored} is ignored");
    }
    std::fs::create_dir_all(ctx.join("node_modules/new/deep")).expect("mkdir");
    std::fs::write(ctx.join("node_modules/new/deep/x.js"), "").expect("w");
    std::fs::write(ctx.join("fresh.log"), "").expect("w");
    assert_eq!(hash(&s), h0, "new ignored files");

    // Times and permission bits a checkout sets are not the content.
    let readme = ctx.join("README.md");
    let file = std::fs::File::options()
        .write(true)
        .open(&readme)
        .expect("open");
    file.set_modified(std::time::SystemTime::UNIX_EPOCH)
        .expect("set mtime");
    chmod(&readme, 0o600);
    assert_eq!(hash(&s), h0, "modification time and read/write bits");

    std::fs::write(ctx.join("keep.log"), "changed").expect("w");
    assert_ne!(hash(&s), h0, "keep.log is an exception: it is sent");
}

#[test]
fn the_hash_is_the_same_whatever_the_order_files_were_made_in_or_where() {
    let a = tempfile::tempdir().expect("temp dir");
    let b = tempfile::tempdir().expect("temp dir");
    let files: Vec<(String, String)> = (0..200)
        .map(|i| (format!("d{}/f{i:03}.txt", i % 7), format!("content {i}")))
        .collect();
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    let mut reversed = borrowed.clone();
    reversed.reverse();
    write_tree(a.path(), &borrowed);
    write_tree(b.path(), &reversed);
    for dir in [a.path(), b.path()] {
        std::fs::write(dir.join("Dockerfile"), "FROM scratch\n").expect("w");
    }
    assert_eq!(hash(&spec(a.path())), hash(&spec(b.path())));
    assert_eq!(
        sent_entries(&spec(a.path())).expect("entries"),
        sent_entries(&spec(b.path())).expect("entries")
    );
}

#[test]
fn links_are_hashed_as_links_and_never_followed() {
    let outside = tempfile::tempdir().expect("temp dir");
    std::fs::write(outside.path().join("secret"), "one").expect("w");
    let dir = tempfile::tempdir().expect("temp dir");
    app(dir.path());
    symlink(outside.path().join("secret"), dir.path().join("link")).expect("ln");
    // A link to its own directory: following links would never end.
    symlink(".", dir.path().join("src/loop")).expect("ln");
    let s = spec(dir.path());
    let h0 = hash(&s);
    std::fs::write(outside.path().join("secret"), "two").expect("w");
    assert_eq!(hash(&s), h0, "the link's target is not read");
    std::fs::remove_file(dir.path().join("link")).expect("rm");
    symlink(outside.path().join("other"), dir.path().join("link")).expect("ln");
    assert_ne!(hash(&s), h0, "where the link points is hashed");
}

#[test]
fn a_fifo_in_the_context_is_hashed_without_being_opened() {
    let dir = tempfile::tempdir().expect("temp dir");
    app(dir.path());
    let status = Command::new("mkfifo")
        .arg(dir.path().join("pipe"))
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
    let with = hash(&spec(dir.path()));
    std::fs::remove_file(dir.path().join("pipe")).expect("rm");
    assert_ne!(hash(&spec(dir.path())), with);
}

#[test]
fn the_tag_is_the_hash_s_first_twelve_hex_digits() {
    let dir = tempfile::tempdir().expect("temp dir");
    app(dir.path());
    let h = hash(&spec(dir.path()));
    let hex = h.hex();
    assert_eq!(hex.len(), 64);
    assert!(
        hex.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_eq!(h.tag(), format!("c-{}", &hex[..12]));
    assert_eq!(h.to_string(), hex);
}

#[test]
fn a_missing_or_wrong_path_is_a_typed_error_naming_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("server");
    let err = content_hash(&spec(&missing)).expect_err("no context");
    assert!(matches!(&err, ContextError::MissingContext { path } if *path == missing));
    assert_eq!(
        err.to_string(),
        format!("build context {} does not exist", missing.display())
    );

    std::fs::write(&missing, "").expect("w");
    let err = content_hash(&spec(&missing)).expect_err("a file");
    assert!(matches!(&err, ContextError::ContextNotDirectory { path } if *path == missing));
    std::fs::remove_file(&missing).expect("rm");

    std::fs::create_dir(&missing).expect("mkdir");
    let err = content_hash(&spec(&missing)).expect_err("no Dockerfile");
    let dockerfile = missing.join("Dockerfile");
    assert!(matches!(&err, ContextError::MissingDockerfile { path } if *path == dockerfile));
    assert_eq!(
        err.to_string(),
        format!("dockerfile {} does not exist", dockerfile.display())
    );

    std::fs::create_dir(&dockerfile).expect("mkdir");
    let err = content_hash(&spec(&missing)).expect_err("a directory");
    assert!(matches!(&err, ContextError::DockerfileNotFile { path } if *path == dockerfile));
    std::fs::remove_dir(&dockerfile).expect("rmdir");

    write_tree(
        &missing,
        &[
            ("Dockerfile", "FROM scratch\n"),
            (".dockerignore", "ok\nsrc/[a\n"),
        ],
    );
    let err = content_hash(&spec(&missing)).expect_err("a bad pattern");
    assert!(
        matches!(&err, ContextError::BadIgnorePattern { pattern, .. } if pattern == "src/[a"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{}: bad pattern `src/[a`",
            missing.join(".dockerignore").display()
        )
    );
}

#[test]
fn a_path_with_control_characters_is_shown_escaped() {
    let err = content_hash(&spec(Path::new("/no/such/\u{1b}[2Jdir"))).expect_err("missing");
    assert_eq!(
        err.to_string(),
        "build context /no/such/\\u{1b}[2Jdir does not exist"
    );
}

/// The entries `ignore` leaves of `files` (each a file with its name as content).
fn sent(ignore: &str, files: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut tree: Vec<(&str, &str)> = files.iter().map(|f| (*f, *f)).collect();
    tree.push((".dockerignore", ignore));
    if !files.contains(&"Dockerfile") {
        tree.push(("Dockerfile", "FROM scratch\n"));
    }
    write_tree(dir.path(), &tree);
    let mut out = sent_entries(&spec(dir.path())).expect("entries");
    out.sort();
    out
}

#[test]
fn dockerignore_cases_from_docker_s_documentation() {
    let files = [
        "somedir/temporary.txt",
        "somedir/subdir/temporary.txt",
        "somedir/keep.txt",
        "tempa",
        "temporary",
    ];
    assert_eq!(
        sent("# comment\n*/temp*\n*/*/temp*\ntemp?\n", &files),
        [
            ".dockerignore",
            "Dockerfile",
            "somedir",
            "somedir/keep.txt",
            "somedir/subdir",
            "temporary"
        ]
    );
    let md = ["README.md", "README-secret.md", "CHANGES.md", "src/a.md"];
    assert_eq!(
        sent("*.md\n!README*.md\nREADME-secret.md\n", &md),
        [
            ".dockerignore",
            "Dockerfile",
            "README.md",
            "src",
            "src/a.md"
        ]
    );
    assert_eq!(
        sent("*.md\nREADME-secret.md\n!README*.md\n", &md),
        [
            ".dockerignore",
            "Dockerfile",
            "README-secret.md",
            "README.md",
            "src",
            "src/a.md"
        ]
    );
    assert_eq!(
        sent("**/*.md\n", &md),
        [".dockerignore", "Dockerfile", "src"]
    );
}

#[test]
fn the_dockerfile_and_the_ignore_file_are_always_sent() {
    assert_eq!(sent("*\n", &["a", "b/c"]), [".dockerignore", "Dockerfile"]);
    assert_eq!(
        sent("Dockerfile\n.dockerignore\n", &["a"]),
        [".dockerignore", "Dockerfile", "a"]
    );
}

#[test]
fn an_excluded_directory_is_sent_as_the_parent_of_an_exception() {
    assert_eq!(
        sent(
            "node_modules\n!node_modules/keep/x.js\n",
            &[
                "node_modules/a/i.js",
                "node_modules/keep/x.js",
                "node_modules/keep/y.js"
            ]
        ),
        [
            ".dockerignore",
            "Dockerfile",
            "node_modules",
            "node_modules/keep",
            "node_modules/keep/x.js"
        ]
    );
    // An exception with a wildcard reaches into an excluded directory at any depth.
    assert_eq!(
        sent("build\n!**/*.keep\n", &["build/a/b.keep", "build/a/c.o"]),
        [
            ".dockerignore",
            "Dockerfile",
            "build",
            "build/a",
            "build/a/b.keep"
        ]
    );
}
