//! Pass 4: links. `links` and `depends_on` become ECS links, the only way one container
//! reaches another by name on Elastic Beanstalk, then the links inferred from env values
//! (`API_URL=http://api:3000`); a link that would close a cycle is refused
//! (`stack::link_cycle`). A dependency on a store makes the service one of its readers: the
//! firewall admits it.

use std::collections::BTreeSet;

use crate::import::Warnings;

use super::{Out, Plan, quoted};

pub(super) fn resolve(plan: &mut Plan<'_>, w: &mut Warnings) {
    let n = plan.svcs.len();
    let mut wanted: Vec<Vec<(usize, String, usize)>> = vec![Vec::new(); n];
    let mut store_deps: Vec<Vec<usize>> = vec![Vec::new(); n];
    for si in 0..n {
        let raw = plan.svcs[si].raw;
        let explicit = raw
            .links
            .iter()
            .map(|(t, alias, line)| (t, alias.as_deref(), *line, "links"));
        let deps = raw
            .depends_on
            .iter()
            .map(|(t, line)| (t, None, *line, "depends_on"));
        for (target, alias, line, source) in explicit.chain(deps) {
            let Some(&r) = plan.answers.get(target.as_str()) else {
                w.add(line, format!("`{source}` of service `{}` names `{target}`, which the file does not define; dropped", raw.name));
                continue;
            };
            if let Some(st) = plan.store_of[r] {
                if !store_deps[si].contains(&st) {
                    store_deps[si].push(st);
                }
                continue;
            }
            if let Some(a) = alias.filter(|a| *a != target.as_str()) {
                w.add(line, format!("the link alias `{a}` of service `{}` is not carried over: the container is reached as `{}`", raw.name, plan.names[r]));
            }
            if let Some(t) = plan.svc_of[r] {
                wanted[si].push((t, source.to_string(), line));
            }
        }
    }
    link(plan, &wanted, w);
    for (si, deps) in store_deps.into_iter().enumerate() {
        for st in deps {
            depends_on_store(plan, si, st, w);
        }
    }
}

/// Declared links first, then those inferred from env values.
fn link(plan: &mut Plan<'_>, wanted: &[Vec<(usize, String, usize)>], w: &mut Warnings) {
    let n = plan.svcs.len();
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut sources: Vec<Vec<(usize, String)>> = vec![Vec::new(); n];
    for phase in 0..2 {
        for si in 0..n {
            let candidates: Vec<(usize, String, usize)> = if phase == 0 {
                wanted[si].clone()
            } else {
                plan.svcs[si].inferred.clone()
            };
            for (t, source, line) in candidates {
                if t == si {
                    continue;
                }
                if let Some(existing) = sources[si].iter_mut().find(|(x, _)| *x == t) {
                    if phase == 0 && !existing.1.contains(&source) {
                        existing.1 = format!("{}, {source}", existing.1);
                    }
                    continue;
                }
                if reaches(&edges, t, si) {
                    w.add(line, format!(
                        "service `{}` is not linked to `{}` ({source}): the link would close a cycle, which ECS refuses",
                        plan.svcs[si].name, plan.svcs[t].name
                    ));
                    continue;
                }
                edges[si].push(t);
                sources[si].push((t, source));
            }
        }
    }
    for (si, s) in sources.into_iter().enumerate() {
        plan.svcs[si].links = s;
    }
}

/// `depends_on: [db]` with `db` a store: the service reaches it. When no env variable of the
/// service names the store, the app finds it by a host name compose gave it, which does not
/// exist on AWS: that is a TODO.
fn depends_on_store(plan: &mut Plan<'_>, si: usize, st: usize, w: &mut Warnings) {
    let reads = plan.svcs[si]
        .env
        .iter()
        .any(|e| matches!(e.value, Out::Ref(s, _) if s == st))
        || plan.stores[st].other_readers.contains(&si);
    let store = &plan.stores[st];
    let raw_name = plan.app.services[store.raw].name.clone();
    let (name, on) = (
        store.name.clone(),
        if store.kind == crate::check::Kind::Postgres {
            "RDS"
        } else {
            "ElastiCache"
        },
    );
    if reads {
        plan.svcs[si].notes.push(format!(
            "compose started it after `{raw_name}`, now the store `{name}` on {on}, which exists before the environment"
        ));
        return;
    }
    let svc = plan.svcs[si].raw;
    let line = svc
        .depends_on
        .iter()
        .find(|(t, _)| {
            plan.answers
                .get(t.as_str())
                .is_some_and(|&r| plan.store_of[r] == Some(st))
        })
        .map_or(svc.line, |(_, l)| *l);
    w.add(line, format!(
        "service `{}` depends on `{raw_name}` but no env variable of it names {}: if the app connects to the host `{raw_name}`, which will not exist on AWS, have it read `{name}.host` from an env variable; the firewall lets it reach the store",
        svc.name,
        quoted([&raw_name])
    ));
    let key = if on == "RDS" { "DB_HOST" } else { "REDIS_HOST" };
    plan.svcs[si].notes.push(format!(
        "TODO: compose started it after `{raw_name}`, but no env variable names it: if the app connects to the host `{raw_name}`, pass the store's address instead (e.g. `{key} = {name}.host`)"
    ));
    plan.stores[st].other_readers.push(si);
}

/// Whether `from` reaches `to` through `edges`.
fn reaches(edges: &[Vec<usize>], from: usize, to: usize) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from];
    while let Some(n) = stack.pop() {
        if n == to {
            return true;
        }
        if seen.insert(n) {
            stack.extend(edges.get(n).into_iter().flatten().copied());
        }
    }
    false
}
