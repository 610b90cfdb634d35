//! Pass 2: services whose image runs PostgreSQL or Redis become data stores (RDS,
//! ElastiCache); the others stay containers. A store keeps what its own env says of it
//! (`POSTGRES_USER`, `POSTGRES_DB`); its development password is dropped for RDS's managed
//! one.

use crate::check::{Kind, names};
use crate::fmt::build::Val;
use crate::import::raw::{EnvLiteral, image_repo_and_tag};
use crate::import::{ImportError, SourceKind, Warnings, store_kind};

use super::program::Line;
use super::{Plan, Store, Svc};

pub(super) fn find(plan: &mut Plan<'_>, w: &mut Warnings) -> Result<(), ImportError> {
    let app = plan.app;
    let kinds: Vec<Option<Kind>> = app
        .services
        .iter()
        .map(|s| s.image.as_deref().and_then(store_kind))
        .collect();
    if kinds.iter().all(Option::is_some) {
        return Err(ImportError {
            line: None,
            message: "every service runs postgres or redis, which become data stores: no container would be left to run".into(),
        });
    }
    for (i, s) in app.services.iter().enumerate() {
        let Some(kind) = kinds[i] else {
            let mut notes: Vec<String> = s.todos.iter().map(|t| format!("TODO: {t}")).collect();
            if let Some(what) = s.image.as_deref().and_then(unmanaged_store) {
                w.add(s.line, format!("service `{}` runs {what}, which has no data store in a .stack file: it stays a container on the instance, and its data lasts only as long as the container", s.name));
                notes.push(format!("TODO: {what} has no managed store here: its data is lost when the container stops; move it to a managed service (e.g. Amazon DocumentDB, RDS) and pass its address in `env`"));
            }
            plan.svc_of[i] = Some(plan.svcs.len());
            plan.svcs.push(Svc {
                raw: s,
                name: plan.names[i].clone(),
                env: Vec::new(),
                links: Vec::new(),
                inferred: Vec::new(),
                ports: Vec::new(),
                ports_comment: None,
                memory: None,
                reservation: None,
                memory_comment: None,
                essential: false,
                essential_comment: None,
                notes,
            });
            continue;
        };
        let image = s.image.clone().unwrap_or_default();
        let mut st = Store {
            raw: i,
            name: plan.names[i].clone(),
            kind,
            username: None,
            database: None,
            seen_username: None,
            seen_database: None,
            other_readers: Vec::new(),
            notes: vec![format!("was the service `{}` (image `{image}`)", s.name)],
        };
        if image_repo_and_tag(&image).0 == "postgis" {
            st.notes.push("TODO: the image was PostGIS: run `CREATE EXTENSION postgis;` in the database (RDS has the extension)".into());
        }
        for e in &plan.envs[i] {
            let text = e.value.text();
            match (kind, e.key.as_str()) {
                (Kind::Postgres, "POSTGRES_USER") => st.username = text,
                (Kind::Postgres, "POSTGRES_DB") => st.database = text,
                // RDS keeps the password (`password = managed`); a development one is dropped.
                (Kind::Postgres, "POSTGRES_PASSWORD" | "POSTGRES_PASSWORD_FILE") => {}
                (_, k) => w.add(
                    e.line,
                    format!(
                        "`{k}` of {} service `{}` is not carried over to {}",
                        kind.keyword(),
                        s.name,
                        if kind == Kind::Postgres {
                            "RDS"
                        } else {
                            "ElastiCache"
                        }
                    ),
                ),
            }
            if let EnvLiteral::FromShell(var) = &e.value {
                if e.key == "POSTGRES_USER" || e.key == "POSTGRES_DB" {
                    w.add(e.line, format!("`{}` of postgres service `{}` is `${var}`, which is not set: the store's default is used", e.key, s.name));
                }
            }
        }
        if plan.kind == SourceKind::Dockerrun
            && (!s.ports.is_empty()
                || !s.links.is_empty()
                || s.command.is_some()
                || s.memory.is_some())
        {
            w.add(s.line, format!("container `{}` becomes a data store: its ports, links, command and memory are not carried over", s.name));
        }
        plan.store_of[i] = Some(plan.stores.len());
        plan.stores.push(st);
    }
    Ok(())
}

/// Databases and brokers that have no store kind in the language, by image, in words.
fn unmanaged_store(image: &str) -> Option<&'static str> {
    let (repo, _) = image_repo_and_tag(image);
    Some(match repo.as_str() {
        "mongo" | "mongodb" | "mongodb-community-server" => "MongoDB",
        "mysql" | "mariadb" | "percona" => "MySQL",
        "elasticsearch" | "opensearch" => "a search engine",
        "rabbitmq" => "RabbitMQ",
        "memcached" => "Memcached",
        "cassandra" | "scylla" => "Cassandra",
        "kafka" | "cp-kafka" => "Kafka",
        "clickhouse-server" | "clickhouse" => "ClickHouse",
        "mssql" | "server" if image.contains("mssql") => "SQL Server",
        _ => return None,
    })
}

/// The attributes of a store's block.
pub(super) fn attrs(st: &Store, plan: &Plan<'_>, w: &mut Warnings) -> Vec<Line> {
    let raw = &plan.app.services[st.raw];
    let image = raw.image.clone().unwrap_or_default();
    let (_, tag) = image_repo_and_tag(&image);
    let major: Option<u32> = tag
        .as_deref()
        .and_then(|t| t.split(['.', '-']).next())
        .and_then(|m| m.parse().ok());
    let mut lines = Vec::new();
    let max = match st.kind {
        Kind::Postgres => 63,
        _ => 50,
    };
    let default_id = format!("{}-{}", plan.stack, st.name);
    if names::aws_identifier(&default_id, max).is_some() {
        let fixed = names::fix_identifier(&default_id, max)
            .unwrap_or_else(|| format!("{}-store", plan.stack));
        lines.push(Line::attr("identifier", Val::Str(fixed)));
    }
    let from_tag = || format!("from the image tag `{}`", tag.as_deref().unwrap_or(""));
    if st.kind == Kind::Postgres {
        let user = st
            .username
            .clone()
            .or_else(|| st.seen_username.clone())
            .filter(|u| !u.is_empty());
        let database = st
            .database
            .clone()
            .or_else(|| st.seen_database.clone())
            .filter(|d| !d.is_empty())
            .or_else(|| user.clone())
            .unwrap_or_else(|| "postgres".into());
        let database = if names::pg_name(&database, "database").is_none() {
            database
        } else {
            let fixed = names::fix_pg_name(&database, "database").unwrap_or_else(|| "app".into());
            w.add(
                raw.line,
                format!("the database name `{database}` is not one RDS takes; named `{fixed}`"),
            );
            fixed
        };
        lines.push(Line::attr("database", Val::Str(database)));
        if let Some(u) = user {
            if names::pg_name(&u, "user").is_none() {
                lines.push(Line::attr("username", Val::Str(u)));
            } else {
                w.add(
                    raw.line,
                    format!(
                        "the user name `{u}` is not one RDS takes; the default `postgres` is used"
                    ),
                );
            }
        }
        if let Some(m) = major {
            let mut l = Line::attr("version", Val::Str(m.to_string())).comment(from_tag());
            if m < 13 {
                l = l.note(
                    "TODO: RDS no longer creates PostgreSQL versions this old: choose 13 or later",
                );
            }
            lines.push(l);
        }
        lines.push(
            Line::attr("password", Val::Word("managed".into()))
                .comment("RDS keeps it in Secrets Manager; the compose password is not copied"),
        );
    } else {
        match major {
            Some(6) => {
                lines.push(Line::attr("version", Val::Str("6.2".into())).comment(from_tag()))
            }
            Some(m) if m < 6 => lines.push(Line::note_only(format!(
                "TODO: the image was redis {m}; ElastiCache runs 6.2 and 7.1 (the default)"
            ))),
            _ => {}
        }
    }
    lines
}
