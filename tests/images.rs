//! Images built and pushed for real (`images::cli`): podman builds `FROM scratch` contexts (no
//! registry is reachable to pull a base image) and pushes them to the CNCF distribution
//! registry on a loopback port; what the CLI reports is checked against what the registry
//! holds. These tests fail, saying what to install, where podman or the registry is missing
//! (tests/images/README.md).

mod common;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::Path;
use std::process::Command;

use common::images::{PASSWORD, Podman, Registry, USER, require, spec, static_busybox, write_tree};
use stackc::images::{
    BuildSpec, CliError, ContainerCli, DetectError, Digest, ImageRef, Kind, Platform, Unusable,
    content_hash, sent_entries,
};

/// The image `spec` names in `registry`'s repository `repository`: its content-hash tag.
fn image(registry: &str, repository: &str, spec: &BuildSpec) -> ImageRef {
    let hash = content_hash(spec).expect("the context hashes");
    ImageRef::new(registry, repository, &hash.tag()).expect("a valid reference")
}

/// A context whose image holds one file.
fn hello(dir: &Path, content: &str) {
    write_tree(
        dir,
        &[
            ("Dockerfile", "FROM scratch\nCOPY hello.txt /hello.txt\n"),
            ("hello.txt", content),
        ],
    );
}

#[test]
fn a_pushed_image_s_digest_is_the_one_the_registry_holds() {
    let podman = Podman::new();
    let registry = Registry::start();
    let cli = podman.cli();
    assert_eq!(cli.kind(), Kind::Podman);
    let dir = tempfile::tempdir().expect("temp dir");
    hello(dir.path(), "hello\n");
    let s = spec(dir.path());
    let img = image(&registry.host(), "shop/server", &s);

    cli.build(&s, &img).expect("the image builds");
    assert_eq!(podman.files(&img.to_string(), "/"), ["hello.txt"]);
    let digest = cli.push(&img).expect("the image is pushed");

    let held = registry.manifest_digest("shop/server", img.tag());
    assert_eq!(held.as_deref(), Some(digest.as_str()));
    // The Dockerrun's name for it, by digest, is one the registry serves.
    assert_eq!(
        img.at(&digest),
        format!("{}/shop/server@{digest}", registry.host())
    );
    assert_eq!(
        registry
            .manifest_digest("shop/server", digest.as_str())
            .as_deref(),
        Some(digest.as_str())
    );
    assert_eq!(
        registry.manifest_pushes(),
        [format!("shop/server:{}", img.tag())]
    );

    // Another content, another tag and another digest; the first stays.
    std::fs::write(dir.path().join("hello.txt"), "changed\n").expect("w");
    let img2 = image(&registry.host(), "shop/server", &s);
    assert_ne!(img2.tag(), img.tag());
    cli.build(&s, &img2).expect("the image builds");
    let digest2 = cli.push(&img2).expect("the image is pushed");
    assert_ne!(digest2, digest);
    assert_eq!(
        registry
            .manifest_digest("shop/server", img2.tag())
            .as_deref(),
        Some(digest2.as_str())
    );
    assert_eq!(
        registry
            .manifest_digest("shop/server", img.tag())
            .as_deref(),
        Some(digest.as_str())
    );
}

#[test]
fn the_image_is_built_for_the_platform_of_the_instances() {
    let podman = Podman::new();
    let registry = Registry::start();
    let cli = podman.cli();
    let dir = tempfile::tempdir().expect("temp dir");
    hello(dir.path(), "hello\n");
    for (instance, arch) in [("t4g.small", "arm64"), ("t3.small", "amd64")] {
        let s = BuildSpec {
            platform: Platform::of_instance_type(instance),
            ..spec(dir.path())
        };
        let img = image(&registry.host(), "shop/server", &s);
        cli.build(&s, &img).expect("the image builds");
        cli.push(&img).expect("the image is pushed");
        assert_eq!(
            registry.architecture("shop/server", img.tag()),
            arch,
            "{instance}"
        );
    }
}

#[test]
fn the_target_and_the_build_arguments_reach_the_build() {
    let podman = Podman::new();
    let cli = podman.cli();
    let dir = tempfile::tempdir().expect("temp dir");
    write_tree(
        dir.path(),
        &[
            (
                "Dockerfile.prod",
                "FROM scratch AS dev\nARG FLAVOUR=plain\nCOPY dev.txt /$FLAVOUR.txt\n\
                 FROM scratch AS prod\nARG FLAVOUR=plain\nCOPY prod.txt /$FLAVOUR.txt\n",
            ),
            ("dev.txt", "dev"),
            ("prod.txt", "prod"),
        ],
    );
    let base = BuildSpec {
        dockerfile: "Dockerfile.prod".into(),
        ..spec(dir.path())
    };
    for (target, flavour, want) in [
        (None, None, "plain.txt"),
        (Some("dev"), Some("salty"), "salty.txt"),
        (Some("prod"), Some("sweet"), "sweet.txt"),
    ] {
        let s = BuildSpec {
            target: target.map(str::to_string),
            args: flavour
                .map(|f| BTreeMap::from([("FLAVOUR".to_string(), f.to_string())]))
                .unwrap_or_default(),
            ..base.clone()
        };
        let img = image("localhost", "shop/client", &s);
        cli.build(&s, &img).expect("the image builds");
        assert_eq!(podman.files(&img.to_string(), "/"), [want]);
        let mount = podman.run(&["image", "mount", &img.to_string()]);
        let content = std::fs::read_to_string(Path::new(mount.trim()).join(want)).expect("read");
        podman.run(&["image", "unmount", &img.to_string()]);
        // No target: the last stage.
        assert_eq!(content, if target == Some("dev") { "dev" } else { "prod" });
    }
}

#[test]
fn a_failing_build_reports_the_end_of_its_log() {
    let podman = Podman::new();
    let cli = podman.cli();
    let busybox = static_busybox();
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(&busybox, dir.path().join("busybox")).expect("copy busybox");
    write_tree(
        dir.path(),
        &[(
            "Dockerfile",
            "FROM scratch\nCOPY busybox /bin/busybox\n\
             RUN [\"/bin/busybox\", \"sh\", \"-c\", \"i=1; while [ $i -le 100 ]; do echo step $i; i=$((i+1)); done; exit 3\"]\n",
        )],
    );
    let s = spec(dir.path());
    let img = image("localhost", "shop/worker", &s);
    let err = cli.build(&s, &img).expect_err("the RUN step fails");
    let CliError::Failed { command, tail, .. } = &err else {
        panic!("expected a failed build, got {err:?}");
    };
    assert_eq!(command, "podman build");
    // The RUN step ran (chroot isolation) and its last lines are kept, not its first.
    assert!(tail.iter().any(|l| l == "step 100"), "{tail:?}");
    assert!(!tail.iter().any(|l| l == "step 60"), "{tail:?}");
    assert!(tail.len() <= 2 * stackc::images::cli::TAIL_LINES);
    assert!(
        tail.last().is_some_and(|l| l.contains("exit status 3")),
        "{tail:?}"
    );
    let shown = err.to_string();
    assert!(
        shown.starts_with("`podman build` failed (exit status: "),
        "{shown}"
    );
    assert!(shown.contains("\n  | step 100\n"), "{shown}");
}

#[test]
fn a_build_that_copies_a_missing_file_says_which() {
    let podman = Podman::new();
    let cli = podman.cli();
    let dir = tempfile::tempdir().expect("temp dir");
    write_tree(
        dir.path(),
        &[("Dockerfile", "FROM scratch\nCOPY missing.txt /\n")],
    );
    let s = spec(dir.path());
    let err = cli
        .build(&s, &image("localhost", "shop/nginx", &s))
        .expect_err("the COPY fails");
    assert!(
        err.tail().iter().any(|l| l.contains("missing.txt")),
        "{err}"
    );
}

#[test]
fn what_the_hash_covers_is_what_podman_sends() {
    // `COPY . /ctx/` copies exactly what the CLI sent: the image's /ctx is the oracle.
    let podman = Podman::new();
    let cli = podman.cli();
    let files = [
        "src/main.js",
        "src/lib/util.js",
        "src/lib/util.test.js",
        "node_modules/left-pad/index.js",
        "node_modules/keep/index.js",
        "README.md",
        "CHANGES.md",
        "docs/guide.md",
        "docs/README.md",
        "somedir/temporary.txt",
        "somedir/subdir/temporary.txt",
        "tempa",
        "temporary",
        "logs/a.log",
        "build/out/x.o",
        "build/out/keep.me",
        ".env",
        "bin/run",
    ];
    // Each `.dockerignore`, and what the hash covers that podman 4.3 does not send: the
    // Dockerfile and the ignore file when they are ignored (the docker CLI sends them), and
    // what an exception with a wildcard brings back from an excluded directory (BuildKit walks
    // into it; podman, like the classic docker builder, does not).
    let cases: [(&str, &[&str]); 8] = [
        ("# comment\n*/temp*\n*/*/temp*\ntemp?\n", &[]),
        ("*.md\n!README*.md\nREADME-secret.md\n", &[]),
        ("node_modules\n!node_modules/keep\n", &[]),
        ("**/*.test.js\n**/*.log\n/.env\n", &[]),
        ("*\n!src\n!Dockerfile\n", &[".dockerignore"]),
        (
            "build\n!**/keep.me\ndocs/\n",
            &["build", "build/out", "build/out/keep.me"],
        ),
        ("src/lib/\n!src/lib/util.js\n", &[]),
        (
            "Dockerfile\n.dockerignore\nbin\n",
            &[".dockerignore", "Dockerfile"],
        ),
    ];
    for (ignore, extra) in cases {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut tree: Vec<(&str, &str)> = files.iter().map(|f| (*f, *f)).collect();
        tree.push(("Dockerfile", "FROM scratch\nCOPY . /ctx/\n"));
        tree.push((".dockerignore", ignore));
        write_tree(dir.path(), &tree);
        std::fs::create_dir(dir.path().join("empty")).expect("mkdir");
        let s = spec(dir.path());
        let img = image("localhost", "shop/oracle", &s);
        cli.build(&s, &img).expect("the image builds");
        let mut sent = podman.files(&img.to_string(), "/ctx");
        sent.extend(extra.iter().map(|e| e.to_string()));
        sent.sort();
        let mut ours = sent_entries(&s).expect("entries");
        ours.sort();
        assert_eq!(ours, sent, ".dockerignore:\n{ignore}");
    }
}

#[test]
fn a_registry_that_requires_a_login_takes_a_push_after_one() {
    let podman = Podman::new();
    let registry = Registry::with_login();
    let cli = podman.cli();
    let dir = tempfile::tempdir().expect("temp dir");
    hello(dir.path(), "private\n");
    let s = spec(dir.path());
    let img = image(&registry.host(), "shop/server", &s);
    cli.build(&s, &img).expect("the image builds");

    let err = cli.push(&img).expect_err("no login yet");
    assert!(matches!(err, CliError::Failed { .. }), "{err:?}");

    let wrong = "not-the-password-0123";
    let err = cli
        .login(&registry.host(), USER, wrong)
        .expect_err("a wrong password");
    assert!(matches!(err, CliError::Failed { .. }), "{err:?}");
    assert!(!err.to_string().contains(wrong), "{err}");

    cli.login(&registry.host(), USER, PASSWORD)
        .expect("the login succeeds");
    let digest = cli.push(&img).expect("the push succeeds");
    assert_eq!(
        registry
            .manifest_digest("shop/server", img.tag())
            .as_deref(),
        Some(digest.as_str())
    );
    assert!(Digest::parse(digest.as_str()).is_some());

    let err = cli.login("-h", USER, PASSWORD).expect_err("not a registry");
    assert!(matches!(err, CliError::BadRegistry { .. }));
}

#[test]
fn the_container_cli_is_the_one_chosen_or_the_one_that_works() {
    let podman = Podman::new();
    let env = podman.env();
    let chosen = ContainerCli::detect_from(Some("podman".as_ref()), env.clone()).expect("podman");
    assert_eq!(chosen.kind(), Kind::Podman);
    let by_path = ContainerCli::detect_from(Some(require("podman").as_os_str()), env.clone())
        .expect("podman by its path");
    assert_eq!(by_path.kind(), Kind::Podman);

    // Without a choice: docker when its daemon answers, else podman.
    let docker_answers = Command::new("docker")
        .arg("info")
        .output()
        .is_ok_and(|o| o.status.success());
    let found = ContainerCli::detect_from(None, env.clone()).expect("a CLI");
    let expected = if docker_answers {
        Kind::Docker
    } else {
        Kind::Podman
    };
    assert_eq!(found.kind(), expected);

    let err = ContainerCli::detect_from(Some("/no/such/podman".as_ref()), env.clone())
        .expect_err("not there");
    assert!(
        matches!(&err, DetectError::Chosen { choice, reason }
            if choice == "/no/such/podman" && matches!(**reason, Unusable::Failed(CliError::Spawn { .. }))),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("STACKC_CONTAINER_CLI=/no/such/podman: cannot run /no/such/podman: "),
        "{err}"
    );

    let err = ContainerCli::detect_from(Some(require("true").as_os_str()), env.clone())
        .expect_err("not a container CLI");
    assert!(
        matches!(&err, DetectError::Chosen { reason, .. } if matches!(**reason, Unusable::Unrecognised(_))),
        "{err:?}"
    );

    // Neither on the PATH.
    let empty = tempfile::tempdir().expect("temp dir");
    let mut no_path = env;
    no_path.push((OsString::from("PATH"), empty.path().as_os_str().to_owned()));
    let err = ContainerCli::detect_from(None, no_path).expect_err("nothing works");
    assert!(matches!(err, DetectError::NoneWorks { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(
        shown.starts_with("no container CLI works (install docker or podman, or set STACKC_CONTAINER_CLI): docker: cannot run docker: "),
        "{shown}"
    );
}
