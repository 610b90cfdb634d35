//! Pass 8: the program. The plan is built as a syntax tree with `stackc fmt`'s builder and
//! printed by its printer, so the output is in the canonical layout. Values that a `.stack`
//! file cannot hold (an image with a control character, a host name that is not one) are
//! replaced or dropped here, with a warning.

use crate::check::{Kind, names};
use crate::fmt::build::{Builder, Val, representable};
use crate::import::{SourceKind, Warnings};
use crate::syntax::ast::SizeUnit;

use super::firewall::Rule;
use super::memory::size_words;
use super::{EnvOut, Out, Plan, Svc, stores};

/// One attribute with its comments.
pub(super) struct Line {
    pub notes: Vec<String>,
    pub key: String,
    pub value: Option<Val>,
    pub comment: Option<String>,
}

impl Line {
    pub fn attr(key: &str, value: Val) -> Line {
        Line {
            notes: Vec::new(),
            key: key.into(),
            value: Some(value),
            comment: None,
        }
    }

    /// Comments alone.
    pub fn note_only(note: String) -> Line {
        Line {
            notes: vec![note],
            key: String::new(),
            value: None,
            comment: None,
        }
    }

    pub fn comment(mut self, c: impl Into<String>) -> Line {
        self.comment = Some(c.into());
        self
    }

    pub fn note(mut self, n: impl Into<String>) -> Line {
        self.notes.push(n.into());
        self
    }
}

fn write_lines(b: &mut Builder, lines: &[Line]) {
    for l in lines {
        for n in &l.notes {
            b.comment(n);
        }
        if let Some(v) = &l.value {
            b.attr(&l.key, v, l.comment.as_deref());
        }
    }
}

/// A size in MiB, in the largest unit that keeps it whole.
fn size(mib: u32) -> Val {
    if mib >= 1024 && mib % 1024 == 0 {
        Val::Size(u64::from(mib / 1024), SizeUnit::GiB)
    } else {
        Val::Size(u64::from(mib), SizeUnit::MiB)
    }
}

pub(super) fn write(
    plan: &mut Plan<'_>,
    source_name: &str,
    rules: &[Rule],
    w: &mut Warnings,
) -> String {
    let mut b = Builder::new();
    header(&mut b, plan, source_name);
    b.blank();

    b.open_block("stack", &plan.stack);
    b.comment("TODO: the AWS region; without it, the region of your AWS configuration is used");
    b.comment("region = \"us-east-1\"");
    b.close();

    b.open_block("environment", &plan.env_name);
    let mut env_lines = Vec::new();
    match plan.instance_type {
        Some(t) => env_lines.push(
            Line::attr("instance_type", Val::Str(t.into()))
                .comment(format!("holds the services' {}", size_words(plan.need_mib))),
        ),
        None => env_lines.push(
            Line::attr(
                "instance_type",
                Val::Str(
                    crate::check::instances::LADDER[crate::check::instances::LADDER.len() - 1]
                        .into(),
                ),
            )
            .note(format!(
                "TODO: the services need {}, more than this type has: lower their memory",
                size_words(plan.need_mib)
            )),
        ),
    }
    let valid_role = plan.app.execution_role.as_ref().and_then(|(role, line)| {
        if names::role_arn(role).is_none() {
            Some(role.clone())
        } else {
            w.add(
                *line,
                format!("`executionRoleArn` `{role}` is not an IAM role ARN; not carried over"),
            );
            None
        }
    });
    // Without one, apply makes the execution role a managed password needs (the import
    // writes no `instance_profile`, so apply makes the instance role that passes it too).
    if let Some(role) = valid_role {
        env_lines.push(Line::attr("execution_role", Val::Str(role)));
    }
    write_lines(&mut b, &env_lines);
    b.close();

    for i in 0..plan.svcs.len() {
        // Each service's env is freed once written: the tree holds it now.
        let env = std::mem::take(&mut plan.svcs[i].env);
        service(&mut b, plan, &plan.svcs[i], &env, w);
    }
    for st in &plan.stores {
        b.open_block(st.kind.keyword(), &st.name);
        for n in &st.notes {
            b.comment(n);
        }
        write_lines(&mut b, &stores::attrs(st, plan, w));
        b.close();
    }
    if !rules.is_empty() {
        b.open_firewall();
        for r in rules {
            for n in &r.notes {
                b.comment(n);
            }
            if let Some((subjects, sources, target)) = &r.rule {
                b.rule(subjects, sources, target.as_deref());
            }
        }
        b.close();
    }
    b.finish()
}

fn header(b: &mut Builder, plan: &Plan<'_>, source_name: &str) {
    b.comment(&format!("Imported by `stackc import` from {source_name}."));
    b.comment("Check it with `stackc check`, and settle every TODO before `stackc apply`.");
    b.comment("");
    if !plan.stores.is_empty() {
        let list: Vec<String> = plan
            .stores
            .iter()
            .map(|s| {
                let on = match s.kind {
                    Kind::Postgres => "postgres on RDS",
                    _ => "redis on ElastiCache",
                };
                format!("`{}` ({on})", s.name)
            })
            .collect();
        b.comment(&format!(
            "Data stores: {}; the env values that named them read the stores' exports, or are read at apply time where a value cannot be built from them (URLs).",
            super::and_list(&list)
        ));
    }
    b.comment(match plan.kind {
        SourceKind::Compose => "Links: `links` and `depends_on` (and env values naming another service) became ECS links, the only way one container reaches another by name on Elastic Beanstalk.",
        SourceKind::Dockerrun => "Links and essential flags are the Dockerrun's own.",
    });
    match plan.public.first() {
        Some(&i) => b.comment(&format!(
            "Public: `{}` serves the app on port 80 ({}); it is open to the internet, and every other published port stays closed.",
            plan.svcs[i].name, plan.public_why
        )),
        None => b.comment("Public: no service publishes a web port, so nothing is open to the internet."),
    }
    if !plan.stores.is_empty() {
        b.comment("Each store admits the services that read it.");
    }
}

fn service(b: &mut Builder, plan: &Plan<'_>, svc: &Svc<'_>, env: &[EnvOut], w: &mut Warnings) {
    let raw = svc.raw;
    b.open_block("service", &svc.name);
    for n in &svc.notes {
        b.comment(n);
    }
    let mut lines = Vec::new();
    // `STACK-SERVICE`, cut to the length ECS takes.
    let mut placeholder = format!("{}-{}", plan.stack, svc.name);
    super::names::truncate(&mut placeholder, names::MAX_IMAGE);
    let image_ok = |i: &str| names::image(i).is_none();
    lines.push(match (&raw.image, &raw.build) {
        (Some(image), build) if image_ok(image) => {
            let mut l = Line::attr("image", Val::Str(image.clone()));
            if let Some(ctx) = build {
                w.add(raw.image_line, format!("service `{}` is built from `{ctx}` by compose: push the image `{image}` to a registry ECS can pull from", raw.name));
                l = l.note(format!("TODO: compose builds this image from `{ctx}`: push it to a registry ECS can pull from"));
            }
            l
        }
        (image, build) => {
            let note = match (image, build) {
                (Some(image), _) => {
                    let why = names::image(image).unwrap_or_default();
                    w.add(raw.image_line, format!("the image of service `{}` is not one ECS takes ({why}): its image is a placeholder, `{placeholder}`", raw.name));
                    format!("TODO: the image `{image}` is not one ECS takes: write the image's name here")
                }
                (None, Some(ctx)) => {
                    w.add(raw.image_line, format!("service `{}` is built from `{ctx}`: its image is a placeholder, `{placeholder}`", raw.name));
                    format!("TODO: compose builds this image from `{ctx}`: build it, push it to a registry ECS can pull from (ECR, Docker Hub, GHCR) and write its name here")
                }
                (None, None) => {
                    w.add(raw.image_line, format!("service `{}` has no image: its image is a placeholder, `{placeholder}`", raw.name));
                    "TODO: the service has no image: build one, push it to a registry ECS can pull from (ECR, Docker Hub, GHCR) and write its name here".to_string()
                }
            };
            Line::attr("image", Val::Str(placeholder.clone())).note(note)
        }
    });
    if let Some((h, line)) = &raw.hostname {
        if names::hostname(h).is_none() {
            lines.push(Line::attr("hostname", Val::Str(h.clone())));
        } else {
            w.add(
                *line,
                format!(
                    "the hostname `{h}` of service `{}` is not a valid hostname; not carried over",
                    raw.name
                ),
            );
        }
    }
    if svc.essential {
        let mut l = Line::attr("essential", Val::Bool(true));
        l.comment = svc.essential_comment.clone();
        lines.push(l);
    }
    if let Some(m) = svc.memory {
        let mut l = Line::attr("memory", size(m));
        l.comment = svc.memory_comment.clone();
        lines.push(l);
    }
    if let Some(r) = svc.reservation {
        lines.push(Line::attr("memory_reservation", size(r)));
    }
    if !svc.ports.is_empty() {
        let ports = svc
            .ports
            .iter()
            .map(|p| Val::Port(p.0, p.1, p.2 == crate::check::Protocol::Udp))
            .collect();
        let mut l = Line::attr("ports", Val::List(ports));
        l.comment = svc.ports_comment.clone();
        lines.push(l);
    }
    if !svc.links.is_empty() {
        let names = svc
            .links
            .iter()
            .map(|(t, _)| Val::Word(plan.svcs[*t].name.clone()))
            .collect();
        let mut why: Vec<String> = Vec::new();
        for (t, s) in &svc.links {
            let s = if s.starts_with("env ") {
                format!("{s} for {}", plan.svcs[*t].name)
            } else {
                s.clone()
            };
            if !why.contains(&s) {
                why.push(s);
            }
        }
        lines.push(
            Line::attr("links", Val::List(names)).comment(format!("from {}", why.join("; "))),
        );
    }
    let mut words = |ws: &Option<Vec<String>>, key: &str, what: &str| {
        let Some(ws) = ws else { return };
        if ws.iter().all(|x| representable(x)) {
            lines.push(Line::attr(
                key,
                Val::List(ws.iter().cloned().map(Val::Str).collect()),
            ));
        } else {
            w.add(raw.line, format!("the {what} of service `{}` holds a control character, which a .stack string cannot: not carried over", raw.name));
        }
    };
    words(&raw.command, "command", "command");
    words(&raw.entrypoint, "entrypoint", "entrypoint");
    if let Some(d) = &raw.working_dir {
        if representable(d) {
            lines.push(Line::attr("working_dir", Val::Str(d.clone())));
        } else {
            w.add(raw.line, format!("the working directory of service `{}` holds a control character; not carried over", raw.name));
        }
    }
    write_lines(b, &lines);
    if !env.is_empty() {
        b.open_nested("env");
        for e in env {
            let value = match &e.value {
                Out::Str(s) => Val::Str(s.to_string()),
                Out::Int(i) => Val::Int(*i),
                Out::Ref(st, export) => {
                    Val::Ref(plan.stores[*st].name.clone(), export.as_str().into())
                }
                Out::Secret(var) => Val::Secret(var.to_string()),
            };
            b.attr(&e.key, &value, e.comment.as_deref());
        }
        b.close();
    }
    b.close();
}
