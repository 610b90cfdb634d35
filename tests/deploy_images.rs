//! Services built from their own Dockerfiles, end to end: apply makes each built service's
//! ECR repository (moto), builds its context with podman, pushes to a real OCI registry on
//! loopback (`STACKC_ECR_REGISTRY`, which stands for the account's ECR host; moto's
//! DescribeImages reads what it holds, tests/support/moto_patches/ecr.py), and deploys a
//! version whose Dockerrun runs each image by the digest the registry computed. A second apply
//! builds and pushes nothing (counted: podman's commands and the registry's pushes); a changed
//! file rebuilds that one image; a failing build stops apply before the environment changes,
//! with the build's last lines.

mod common;

use std::path::Path;

use common::images::{Podman, Registry, write_tree};
use common::{moto_with, ok, stackc, text, write_program};
use serde_json::Value;

const PROGRAM: &str = r#"
stack shop { region = "us-east-1" }

environment shop-env { }

service web {
  build     = "./web"
  memory    = 64 MiB
  essential = true
  ports     = [80:80]
  links     = [api]
}

service api {
  build {
    context    = "./api"
    dockerfile = "Dockerfile.prod"
  }
  memory = 64 MiB
}

service worker {
  build  = "./worker"
  memory = 64 MiB
}

service cache {
  image  = "redis:7.2"
  memory = 64 MiB
}

firewall {
  allow 80 from internet to web
}
"#;

const BUILT: [&str; 3] = ["web", "api", "worker"];

fn contexts(dir: &Path) {
    write_tree(
        dir,
        &[
            (
                "web/Dockerfile",
                "FROM scratch\nCOPY index.html /index.html\n",
            ),
            ("web/index.html", "<h1>shop</h1>\n"),
            (
                "api/Dockerfile.prod",
                "FROM scratch\nCOPY api.txt /api.txt\n",
            ),
            ("api/api.txt", "v1\n"),
            ("worker/Dockerfile", "FROM scratch\nCOPY job.txt /job.txt\n"),
            ("worker/job.txt", "every minute\n"),
        ],
    );
}

/// The images the deployed version runs, by container (`stackc status`, which reads them
/// from the version's bundle).
fn running(url: &str, file: &str, env: &[(&str, &str)]) -> Vec<(String, String)> {
    let out = stackc(url, &["status", file, "--format", "json"], env);
    let status: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("status is JSON ({e}): {}", text(&out)));
    serde_json::from_value(status["running"]["images"].clone()).expect("[name, image] pairs")
}

/// The variables stackc runs with: podman's store, the container CLI, the registry.
fn variables(podman: &Podman, cli: &str, registry: &str) -> Vec<(String, String)> {
    podman
        .env()
        .into_iter()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .chain([
            ("STACKC_CONTAINER_CLI".into(), cli.to_string()),
            ("STACKC_ECR_REGISTRY".into(), registry.to_string()),
        ])
        .collect()
}

#[test]
fn apply_builds_pushes_and_deploys_each_image_by_digest() {
    let podman = Podman::new();
    let registry = Registry::start();
    let host = registry.host();
    let aws = moto_with(&[("STACKC_ECR_REGISTRY", &host)]);
    let url = aws.url();
    let dir = tempfile::tempdir().expect("tempdir");
    contexts(dir.path());
    let file = write_program(dir.path(), "shop.stack", PROGRAM, &[]);
    let f = file.to_str().expect("utf-8");
    // podman through a script that writes down each command it is given.
    let calls = dir.path().join("podman-calls.log");
    let wrapper = dir.path().join("podman");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho \"$1\" >> '{}'\nexec '{}' \"$@\"\n",
            calls.display(),
            common::images::require("podman").display()
        ),
    )
    .expect("the wrapper");
    let mut permissions = std::fs::metadata(&wrapper).expect("metadata").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&wrapper, permissions).expect("executable");
    let builds_and_pushes = || {
        std::fs::read_to_string(&calls)
            .unwrap_or_default()
            .lines()
            .filter(|l| *l == "build" || *l == "push")
            .count()
    };
    let vars = variables(&podman, &wrapper.to_string_lossy(), &host);
    let env: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();

    let plan = ok(&stackc(&url, &["plan", f], &env));
    for s in BUILT {
        assert!(
            plan.contains(&format!("image shop/{s}:c-"))
                && plan
                    .contains("(build and push): the repository has no image of this content hash"),
            "{plan}"
        );
    }
    ok(&stackc(&url, &["apply", f, "--yes"], &env));
    // Healthy: the instance role stackc made may pull exactly these repositories (the emulator
    // refuses the pull otherwise, as ECS does).
    let status = stackc(&url, &["status", f], &env);
    assert_eq!(status.status.code(), Some(0), "{}", text(&status));
    let policy = common::boto(
        &url,
        "iam",
        "c.get_role_policy(RoleName='shop-eb-ec2', PolicyName='pull-built-images')['PolicyDocument']",
    );
    let pulls = policy.to_string();
    for s in BUILT {
        assert!(pulls.contains(&format!("repository/shop/{s}\"")), "{pulls}");
    }

    // Each built image is in the registry under its content-hash tag, and the deployed version
    // runs exactly what was pushed, by digest; the image service runs its image as written.
    let pushes = registry.manifest_pushes();
    assert_eq!(pushes.len(), 3, "{pushes:?}");
    assert_eq!(builds_and_pushes(), 6, "three builds and three pushes");
    let images = running(&url, f, &env);
    for s in BUILT {
        let pushed = pushes
            .iter()
            .find(|p| p.starts_with(&format!("shop/{s}:c-")))
            .unwrap_or_else(|| panic!("shop/{s} was pushed: {pushes:?}"));
        let tag = pushed.rsplit_once(':').expect("a tag").1;
        let digest = registry
            .manifest_digest(&format!("shop/{s}"), tag)
            .expect("the registry holds it");
        let (_, image) = images
            .iter()
            .find(|(name, _)| name == s)
            .unwrap_or_else(|| panic!("{s} runs: {images:?}"));
        assert_eq!(image, &format!("{host}/shop/{s}@{digest}"));
    }
    assert!(images.contains(&("cache".into(), "redis:7.2".into())));
    let repositories = common::boto(
        &url,
        "ecr",
        "sorted((r['repositoryName'], r['imageTagMutability'], r['imageScanningConfiguration']['scanOnPush']) for r in c.describe_repositories()['repositories'])",
    );
    assert_eq!(
        repositories,
        serde_json::json!([
            ["shop/api", "IMMUTABLE", true],
            ["shop/web", "IMMUTABLE", true],
            ["shop/worker", "IMMUTABLE", true]
        ])
    );

    // Unchanged contexts: nothing built, nothing pushed, nothing changed.
    let again = ok(&stackc(&url, &["apply", f, "--yes"], &env));
    assert!(again.contains("No changes"), "{again}");
    assert_eq!(registry.manifest_pushes().len(), 3);
    assert_eq!(builds_and_pushes(), 6, "nothing built or pushed again");

    // One file changed: that image only is built and pushed, and a new version runs it.
    write_tree(dir.path(), &[("api/api.txt", "v2\n")]);
    ok(&stackc(&url, &["apply", f, "--yes"], &env));
    let pushes = registry.manifest_pushes();
    assert_eq!(pushes.len(), 4, "{pushes:?}");
    assert!(pushes[3].starts_with("shop/api:c-"), "{pushes:?}");
    assert_eq!(builds_and_pushes(), 8, "one build and one push more");
    let after = running(&url, f, &env);
    for (name, image) in &after {
        let before = &images
            .iter()
            .find(|(n, _)| n == name)
            .expect("same containers")
            .1;
        assert_eq!(
            image != before,
            name == "api",
            "{name}: {before} -> {image}"
        );
    }

    // A build that fails stops apply before the environment changes, with the build's output.
    write_tree(
        dir.path(),
        &[("worker/Dockerfile", "FROM scratch\nCOPY missing.txt /x\n")],
    );
    let failed = stackc(&url, &["apply", f, "--yes"], &env);
    assert_eq!(failed.status.code(), Some(1), "{}", text(&failed));
    assert!(text(&failed).contains("missing.txt"), "{}", text(&failed));
    assert_eq!(running(&url, f, &env), after);

    // Destroy keeps the repositories (images are data) unless asked.
    let out = ok(&stackc(&url, &["destroy", f, "--yes"], &env));
    assert!(out.contains("--delete-images"), "{out}");
    let left = common::boto(
        &url,
        "ecr",
        "len(c.describe_repositories()['repositories'])",
    );
    assert_eq!(left, 3);
    ok(&stackc(
        &url,
        &["destroy", f, "--yes", "--delete-images"],
        &env,
    ));
    let left = common::boto(
        &url,
        "ecr",
        "len(c.describe_repositories()['repositories'])",
    );
    assert_eq!(left, 0);
}

/// A preview takes its images with it: destroying it deletes its repositories, as its data.
#[test]
fn destroying_a_preview_deletes_its_repositories() {
    let podman = Podman::new();
    let registry = Registry::start();
    let host = registry.host();
    let aws = moto_with(&[("STACKC_ECR_REGISTRY", &host)]);
    let url = aws.url();
    let dir = tempfile::tempdir().expect("tempdir");
    contexts(dir.path());
    let file = write_program(
        dir.path(),
        "shop.stack",
        PROGRAM,
        &[(
            "environment shop-env { }",
            "environment staging { }\n\nenvironment preview {\n  template = true\n}",
        )],
    );
    let f = file.to_str().expect("utf-8");
    let vars = variables(&podman, "podman", &host);
    let env: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let preview = ["--env", "preview", "--name", "pr-7"];
    ok(&stackc(
        &url,
        &[&["apply", f][..], &preview, &["--yes"]].concat(),
        &env,
    ));
    let names = || {
        common::boto(
            &url,
            "ecr",
            "sorted(r['repositoryName'] for r in c.describe_repositories()['repositories'])",
        )
    };
    assert_eq!(
        names(),
        serde_json::json!(["shop-pr-7/api", "shop-pr-7/web", "shop-pr-7/worker"])
    );
    ok(&stackc(
        &url,
        &[&["destroy", f][..], &preview, &["--yes"]].concat(),
        &env,
    ));
    assert_eq!(names(), serde_json::json!([]));
}
