//! `stack::latest_tag` [warning, `--strict` only]: an image with no tag or the tag `latest`;
//! a deploy of the same file can then run different code. A digest (`@sha256:...`) is pinned,
//! and so is a service's own build (its tag is the content hash of the build).

use super::{Cx, LintError};

/// The tag of an image reference, if any: `nginx:1.27` → `1.27`; a port of a registry host
/// (`localhost:5000/app`) is not a tag.
fn tag(image: &str) -> Option<&str> {
    let last = image.rsplit('/').next().unwrap_or(image);
    last.split_once(':').map(|(_, t)| t)
}

pub(super) fn check(cx: &mut Cx<'_>) {
    if !cx.options.strict {
        return;
    }
    let services = &cx.model.services;
    let mut found = Vec::new();
    // A built service's image is named by the content hash of its build: always pinned.
    for (s, image) in services.iter().filter_map(|s| Some((s, s.image()?))) {
        if image.contains('@') {
            continue;
        }
        match tag(image) {
            Some(t) if t != "latest" => {}
            t => found.push((s.name.clone(), image.to_string(), t.is_some())),
        }
    }
    for (service, image, latest) in found {
        let base = image.strip_suffix(":latest").unwrap_or(&image).to_string();
        let span = cx
            .attr(&service, "image")
            .map_or_else(|| cx.attr_or_name(&service, "image"), |a| a.value.span);
        cx.push(LintError::LatestTag {
            span,
            label: if latest {
                "`latest` moves with every push".into()
            } else {
                "no tag means `latest`".into()
            },
            help: format!(
                "pin a version or a digest: `image = \"{base}:1.2.3\"` or `image = \"{base}@sha256:...\"`"
            ),
            service: service.to_string(),
            image: image.to_string(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::tag;

    #[test]
    fn tags() {
        assert_eq!(tag("nginx"), None);
        assert_eq!(tag("nginx:1.27"), Some("1.27"));
        assert_eq!(tag("localhost:5000/app"), None);
        assert_eq!(tag("localhost:5000/app:2"), Some("2"));
        assert_eq!(tag("ghcr.io/a/b:latest"), Some("latest"));
    }
}
