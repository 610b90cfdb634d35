//! `stackc graph`: a program, or its provisioning plan, as a graph in Graphviz DOT or Mermaid.
//!
//! Two steps, both pure: [`model_graph`] and [`plan_graph`] build a [`Graph`] (nodes, clusters,
//! edges, in a fixed order), and [`render`] writes it in either language. Every name and label
//! is escaped for the target language, so any image or resource text renders as written.
//! Deterministic: nothing is taken from a hash map's order.
//!
//! The program graph shows who can reach what: traffic sources (`internet`, CIDR blocks) to the
//! host ports of services (through the load balancer for `tier = load_balanced`), links between
//! services, and each service's reads of a data store (which the firewall must allow). The
//! plan graph shows the steps of `plan.json` and their `depends_on`.

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::check::{EnvValue, Export, Model, RedisEngine, StoreKind, Tier};
use crate::diagnostic::is_unsafe;
use crate::lower::Plan;

/// The language of the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Graphviz DOT (`dot -Tsvg`).
    Dot,
    /// A Mermaid flowchart (GitHub renders it in a ```` ```mermaid ```` block).
    Mermaid,
}

/// A graph, independent of the language it is written in.
#[derive(Clone, Debug, PartialEq)]
pub struct Graph {
    /// What the graph shows, one line.
    pub title: String,
    pub direction: Direction,
    pub nodes: Vec<Node>,
    pub clusters: Vec<Cluster>,
    pub edges: Vec<Edge>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    LeftRight,
    TopDown,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Unique among the graph's nodes and clusters; readable (`service:web`).
    pub key: String,
    /// The label, one entry per line; the first is the name.
    pub lines: Vec<String>,
    pub shape: Shape,
    /// Drawn with a heavier border (an essential service).
    pub bold: bool,
    /// A colour class (the AWS service of a plan step), if any.
    pub class: Option<&'static str>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A service or a plan step.
    Box,
    /// A data store.
    Cylinder,
    /// A traffic source: the internet or a CIDR block.
    Source,
    /// The load balancer.
    Hexagon,
}

/// A group of nodes drawn in one frame (the environment's instances).
#[derive(Clone, Debug, PartialEq)]
pub struct Cluster {
    pub key: String,
    pub label: String,
    /// Indices into [`Graph::nodes`].
    pub nodes: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Edge {
    /// A node index, or a cluster when `from_cluster` is set.
    pub from: usize,
    pub from_cluster: bool,
    pub to: usize,
    pub label: Option<String>,
    pub style: EdgeStyle,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeStyle {
    /// Network traffic the firewall admits.
    Solid,
    /// A relation that is not a connection (an ECS link), or an opening nobody uses.
    Dashed,
}

/// The program's graph: sources, services, stores, links, reads and firewall paths.
pub fn model_graph(model: &Model) -> Graph {
    let mut g = Graph {
        title: format!("stack {}", model.stack.name),
        direction: Direction::LeftRight,
        nodes: Vec::new(),
        clusters: Vec::new(),
        edges: Vec::new(),
    };

    // Traffic sources, in the order the firewall first names them.
    let mut sources: Vec<&str> = Vec::new();
    for i in &model.firewall.ingress {
        if !sources.contains(&i.cidr.as_str()) {
            sources.push(&i.cidr);
        }
    }
    let source_nodes: Vec<usize> = sources
        .iter()
        .map(|cidr| {
            let name = if *cidr == "0.0.0.0/0" {
                "internet".to_string()
            } else {
                cidr.to_string()
            };
            let lines = if *cidr == "0.0.0.0/0" {
                vec![name.clone(), "0.0.0.0/0".into()]
            } else {
                vec![name.clone()]
            };
            g.node(format!("source:{name}"), lines, Shape::Source)
        })
        .collect();

    let lb = model.environment.tier == Tier::LoadBalanced && !model.firewall.ingress.is_empty();
    let lb_node = lb.then(|| {
        g.node(
            "load-balancer".into(),
            vec!["load balancer".into(), "Application Load Balancer".into()],
            Shape::Hexagon,
        )
    });

    // Services, in the environment's frame.
    let first_service = g.nodes.len();
    for s in &model.services {
        let mut lines = vec![s.name.to_string(), s.image.to_string()];
        if !s.ports.is_empty() {
            let ports: Vec<String> = s
                .ports
                .iter()
                .map(|p| format!("{}:{}/{}", p.host, p.container, p.protocol.as_str()))
                .collect();
            lines.push(format!("ports {}", ports.join(", ")));
        }
        let mut memory = Vec::new();
        if let Some(m) = s.memory {
            memory.push(format!("{m} MiB"));
        }
        if let Some(r) = s.memory_reservation {
            memory.push(format!("{r} MiB reserved"));
        }
        if !memory.is_empty() {
            lines.push(memory.join(", "));
        }
        if s.essential {
            lines.push("essential".into());
        }
        let i = g.node(format!("service:{}", s.name), lines, Shape::Box);
        g.nodes[i].bold = s.essential;
    }
    let service_index = |name: &str| {
        model
            .services
            .iter()
            .position(|s| s.name == name)
            .map(|i| first_service + i)
    };
    let env = &model.environment;
    let tier = match env.tier {
        Tier::Single => "single instance",
        Tier::LoadBalanced => "load balanced",
    };
    g.clusters.push(Cluster {
        key: "environment".into(),
        label: format!("environment {} ({}, {tier})", env.name, env.instance_type),
        nodes: (first_service..first_service + model.services.len()).collect(),
    });

    // Data stores.
    let first_store = g.nodes.len();
    for s in &model.stores {
        let (engine, identifier) = match &s.kind {
            StoreKind::Postgres(p) => (format!("PostgreSQL {} on RDS", p.version), &p.identifier),
            StoreKind::Redis(r) => (
                format!(
                    "{} {} on ElastiCache",
                    match r.engine {
                        RedisEngine::Redis => "Redis",
                        RedisEngine::Valkey => "Valkey",
                    },
                    r.version
                ),
                &r.identifier,
            ),
        };
        let lines = vec![
            s.name.clone(),
            engine,
            format!("{identifier} :{}", s.port()),
        ];
        g.node(format!("store:{}", s.name), lines, Shape::Cylinder);
    }

    // Ingress: source → (load balancer →) service, one edge per pair with all its ports.
    let mut pairs: Vec<(usize, usize, Vec<String>)> = Vec::new();
    let mut lb_pairs: Vec<(usize, usize, Vec<String>)> = Vec::new();
    for i in &model.firewall.ingress {
        let port = format!("{}/{}", i.port, i.protocol.as_str());
        let src = source_nodes[sources.iter().position(|c| *c == i.cidr).unwrap_or(0)];
        let Some(svc) = service_index(&i.service) else {
            continue;
        };
        match lb_node {
            Some(lb) => {
                add_port(&mut pairs, src, lb, &port);
                add_port(&mut lb_pairs, lb, svc, &port);
            }
            None => add_port(&mut pairs, src, svc, &port),
        }
    }
    for (from, to, ports) in pairs.into_iter().chain(lb_pairs) {
        g.edge(from, to, Some(ports.join(", ")), EdgeStyle::Solid);
    }

    // Links.
    for (i, s) in model.services.iter().enumerate() {
        for l in &s.links {
            if let Some(to) = service_index(l) {
                g.edge(
                    first_service + i,
                    to,
                    Some("link".into()),
                    EdgeStyle::Dashed,
                );
            }
        }
    }

    // Reads: service → store, with the exports it reads.
    let mut read = vec![false; model.stores.len()];
    for (i, s) in model.services.iter().enumerate() {
        let mut by_store: Vec<(usize, BTreeSet<Export>)> = Vec::new();
        for e in &s.env {
            if let EnvValue::Store { store, export } = &e.value {
                match by_store.iter_mut().find(|(st, _)| st == store) {
                    Some((_, exports)) => {
                        exports.insert(*export);
                    }
                    None => by_store.push((*store, BTreeSet::from([*export]))),
                }
            }
        }
        for (store, exports) in by_store {
            read[store] = true;
            let exports: Vec<&str> = exports.iter().map(|e| e.as_str()).collect();
            let port = model.stores[store].port();
            g.edge(
                first_service + i,
                first_store + store,
                Some(format!("reads {} ({port}/tcp)", exports.join(", "))),
                EdgeStyle::Solid,
            );
        }
    }
    // A store the firewall opens that nobody reads: from the whole environment.
    for &st in &model.firewall.reachable_stores {
        if !read.get(st).copied().unwrap_or(true) {
            let port = model.stores[st].port();
            g.edges.push(Edge {
                from: 0,
                from_cluster: true,
                to: first_store + st,
                label: Some(format!("{port}/tcp open, not read")),
                style: EdgeStyle::Dashed,
            });
        }
    }
    g
}

/// Merges `port` into the edge `from → to` of `pairs`.
fn add_port(pairs: &mut Vec<(usize, usize, Vec<String>)>, from: usize, to: usize, port: &str) {
    match pairs.iter_mut().find(|(f, t, _)| *f == from && *t == to) {
        Some((_, _, ports)) => {
            if !ports.iter().any(|p| p == port) {
                ports.push(port.to_string());
            }
        }
        None => pairs.push((from, to, vec![port.to_string()])),
    }
}

/// The provisioning plan: one node per step, an edge from each dependency to its dependant.
pub fn plan_graph(plan: &Plan) -> Graph {
    let mut g = Graph {
        title: format!("plan of stack {}", plan.stack),
        direction: Direction::TopDown,
        nodes: Vec::new(),
        clusters: Vec::new(),
        edges: Vec::new(),
    };
    for s in &plan.steps {
        let i = g.node(
            format!("step:{}", s.id),
            vec![s.id.clone(), s.action().to_string(), s.resource.clone()],
            Shape::Box,
        );
        g.nodes[i].class = Some(aws_service_class(s.action()));
    }
    for (i, s) in plan.steps.iter().enumerate() {
        for d in &s.depends_on {
            if let Some(from) = plan.steps.iter().position(|p| &p.id == d) {
                g.edge(from, i, None, EdgeStyle::Solid);
            }
        }
    }
    g
}

/// The colour class of a step: the AWS service of its action (`ec2:...` → `ec2`), when it has a
/// colour of its own.
fn aws_service_class(action: &str) -> &'static str {
    let service = action.split(':').next().unwrap_or("");
    CLASS_COLOURS
        .iter()
        .map(|(class, _)| *class)
        .find(|class| *class == service)
        .unwrap_or("other")
}

/// Fill colours of the plan's classes, the same in both languages.
const CLASS_COLOURS: [(&str, &str); 8] = [
    ("ec2", "#fde2c8"),
    ("rds", "#d6e4f7"),
    ("elasticache", "#f7d6d6"),
    ("iam", "#e6dcf5"),
    ("elasticbeanstalk", "#d9f2d9"),
    ("s3", "#f5efc8"),
    ("logs", "#d4f0f0"),
    ("other", "#eeeeee"),
];

impl Graph {
    fn node(&mut self, key: String, lines: Vec<String>, shape: Shape) -> usize {
        self.nodes.push(Node {
            key,
            lines,
            shape,
            bold: false,
            class: None,
        });
        self.nodes.len() - 1
    }

    fn edge(&mut self, from: usize, to: usize, label: Option<String>, style: EdgeStyle) {
        self.edges.push(Edge {
            from,
            from_cluster: false,
            to,
            label,
            style,
        });
    }
}

/// Writes a graph in the given language; the text ends with a newline.
pub fn render(g: &Graph, format: Format) -> String {
    match format {
        Format::Dot => dot(g),
        Format::Mermaid => mermaid(g),
    }
}

// ----- DOT ---------------------------------------------------------------------------------

/// A DOT double-quoted string: `"` and `\` escaped, `&` as `&amp;` (Graphviz reads HTML
/// entities in strings), newlines as DOT's `\n` (centred lines), and any other control
/// character (Graphviz refuses a NUL) shown as its escape, `\u{1b}`.
pub fn dot_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '&' => out.push_str("&amp;"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if is_unsafe(c) => out.push_str(&format!("\\\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The longest line of a label, in characters: a longer one (an image of 20,000 characters)
/// is cut, as Graphviz refuses strings over 16 KiB and Mermaid diagrams over 50,000
/// characters.
const MAX_LABEL_LINE: usize = 200;

/// The longest node or cluster key used as a DOT id; a longer one is replaced by its index.
const MAX_DOT_ID: usize = 1000;

/// A label line as drawn: cut to [`MAX_LABEL_LINE`] characters.
fn clip(s: &str) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(MAX_LABEL_LINE) {
        Some((i, _)) => format!("{}…", &s[..i]).into(),
        None => s.into(),
    }
}

/// The DOT id of a node or a cluster: its key, or its index when the key is too long.
fn dot_id(key: &str, fallback: impl FnOnce() -> String) -> String {
    if key.len() <= MAX_DOT_ID {
        dot_quote(key)
    } else {
        dot_quote(&fallback())
    }
}

fn dot_label(lines: &[String]) -> String {
    let lines: Vec<_> = lines.iter().map(|l| clip(l)).collect();
    dot_quote(&lines.join("\n"))
}

fn dot(g: &Graph) -> String {
    let mut o = String::new();
    let rankdir = match g.direction {
        Direction::LeftRight => "LR",
        Direction::TopDown => "TB",
    };
    let title = clip(&g.title);
    let _ = writeln!(o, "digraph {} {{", dot_quote(&title));
    let _ = writeln!(
        o,
        "  graph [rankdir={rankdir}, compound=true, fontname=\"Helvetica\", fontsize=12, labelloc=t, label={}];",
        dot_quote(&title)
    );
    o.push_str("  node [fontname=\"Helvetica\", fontsize=11];\n");
    o.push_str("  edge [fontname=\"Helvetica\", fontsize=10];\n");

    let in_cluster: BTreeSet<usize> = g
        .clusters
        .iter()
        .flat_map(|c| c.nodes.iter().copied())
        .collect();
    let node_id = |i: usize| dot_id(&g.nodes[i].key, || format!("n{i}"));
    let cluster_id = |ci: usize| {
        let c = &g.clusters[ci];
        dot_id(&format!("cluster_{}", c.key), || format!("cluster_{ci}"))
    };
    let node_line = |i: usize, n: &Node| -> String {
        let mut attrs = vec![format!("label={}", dot_label(&n.lines))];
        match n.shape {
            Shape::Box => {
                attrs.push("shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\"".into())
            }
            Shape::Cylinder => {
                attrs.push("shape=cylinder, style=filled, fillcolor=\"#e8f0fe\"".into())
            }
            Shape::Source => attrs.push("shape=ellipse, style=dashed".into()),
            Shape::Hexagon => attrs.push("shape=hexagon".into()),
        }
        if n.bold {
            attrs.push("penwidth=2".into());
        }
        if let Some(class) = n.class {
            let colour = CLASS_COLOURS
                .iter()
                .find(|(c, _)| *c == class)
                .map_or("#eeeeee", |(_, col)| col);
            attrs.push(format!("fillcolor={}", dot_quote(colour)));
        }
        format!("{} [{}];", node_id(i), attrs.join(", "))
    };

    for (i, n) in g.nodes.iter().enumerate() {
        if !in_cluster.contains(&i) {
            let _ = writeln!(o, "  {}", node_line(i, n));
        }
    }
    for (ci, c) in g.clusters.iter().enumerate() {
        let _ = writeln!(o, "  subgraph {} {{", cluster_id(ci));
        let _ = writeln!(o, "    label={};", dot_quote(&clip(&c.label)));
        o.push_str("    style=\"rounded,dashed\";\n");
        for &i in &c.nodes {
            let _ = writeln!(o, "    {}", node_line(i, &g.nodes[i]));
        }
        o.push_str("  }\n");
    }
    for e in &g.edges {
        let mut attrs = Vec::new();
        let from = if e.from_cluster {
            // DOT draws edges between nodes: leave from a node of the cluster, clipped at its frame.
            attrs.push(format!("ltail={}", cluster_id(e.from)));
            match g.clusters[e.from].nodes.first() {
                Some(&i) => node_id(i),
                None => continue,
            }
        } else {
            node_id(e.from)
        };
        if let Some(l) = &e.label {
            attrs.push(format!("label={}", dot_quote(&clip(l))));
        }
        if e.style == EdgeStyle::Dashed {
            attrs.push("style=dashed".into());
        }
        let attrs = if attrs.is_empty() {
            String::new()
        } else {
            format!(" [{}]", attrs.join(", "))
        };
        let _ = writeln!(o, "  {from} -> {}{attrs};", node_id(e.to));
    }
    o.push_str("}\n");
    o
}

// ----- Mermaid -----------------------------------------------------------------------------

/// Text for inside a Mermaid `"..."` label: the characters Mermaid would read as syntax (`"`,
/// `#`, `<`, `>`, `&`, `|`, `` ` ``, and `%`, which starts a `%%{init: ...}%%` directive that
/// Mermaid honours anywhere in the text) as its entity codes, newlines as `<br>`, other
/// control characters shown as their escape (`\u{1b}`), cut to [`MAX_LABEL_LINE`].
pub fn mermaid_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in clip(s).chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '&' => out.push_str("#amp;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '|' => out.push_str("#124;"),
            '`' => out.push_str("#96;"),
            '%' => out.push_str("#37;"),
            '\n' => out.push_str("<br>"),
            '\r' => {}
            c if is_unsafe(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn mermaid_label(lines: &[String]) -> String {
    let lines: Vec<String> = lines.iter().map(|l| mermaid_text(l)).collect();
    format!("\"{}\"", lines.join("<br>"))
}

fn mermaid(g: &Graph) -> String {
    let mut o = String::new();
    let dir = match g.direction {
        Direction::LeftRight => "LR",
        Direction::TopDown => "TD",
    };
    // A comment line: the title as a label would show it (no line break, no `%`).
    let _ = writeln!(o, "%% {}", mermaid_text(&g.title.replace('\n', " ")));
    let _ = writeln!(o, "flowchart {dir}");
    // Ids are positional (`n3`, `c0`): names may hold `-`, and words like `end` are syntax.
    let id = |i: usize| format!("n{i}");
    let node_line = |i: usize, n: &Node| -> String {
        let label = mermaid_label(&n.lines);
        let shaped = match n.shape {
            Shape::Box => format!("[{label}]"),
            Shape::Cylinder => format!("[({label})]"),
            Shape::Source => format!("([{label}])"),
            Shape::Hexagon => format!("{{{{{label}}}}}"),
        };
        let class = n.class.map(|c| format!(":::{c}")).unwrap_or_default();
        format!("{}{shaped}{class}", id(i))
    };
    let in_cluster: BTreeSet<usize> = g
        .clusters
        .iter()
        .flat_map(|c| c.nodes.iter().copied())
        .collect();
    for (i, n) in g.nodes.iter().enumerate() {
        if !in_cluster.contains(&i) {
            let _ = writeln!(o, "  {}", node_line(i, n));
        }
    }
    for (ci, c) in g.clusters.iter().enumerate() {
        let _ = writeln!(o, "  subgraph c{ci}[\"{}\"]", mermaid_text(&c.label));
        for &i in &c.nodes {
            let _ = writeln!(o, "    {}", node_line(i, &g.nodes[i]));
        }
        o.push_str("  end\n");
    }
    for e in &g.edges {
        let from = if e.from_cluster {
            format!("c{}", e.from)
        } else {
            id(e.from)
        };
        let arrow = match e.style {
            EdgeStyle::Solid => "-->",
            EdgeStyle::Dashed => "-.->",
        };
        let label = e
            .label
            .as_ref()
            .map(|l| format!("|\"{}\"|", mermaid_text(l)))
            .unwrap_or_default();
        let _ = writeln!(o, "  {from} {arrow}{label} {}", id(e.to));
    }
    let bold: Vec<String> = g
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.bold)
        .map(|(i, _)| id(i))
        .collect();
    if !bold.is_empty() {
        o.push_str("  classDef essential stroke-width:3px\n");
        let _ = writeln!(o, "  class {} essential", bold.join(","));
    }
    let used: BTreeSet<&str> = g.nodes.iter().filter_map(|n| n.class).collect();
    for (class, colour) in CLASS_COLOURS {
        if used.contains(class) {
            let _ = writeln!(o, "  classDef {class} fill:{colour},stroke:#555555");
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_quote_escapes_quotes_backslashes_and_newlines() {
        assert_eq!(dot_quote(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(dot_quote("a\nb"), r#""a\nb""#);
        assert_eq!(dot_quote(r"\N"), r#""\\N""#);
        assert_eq!(dot_quote("&amp;"), r#""&amp;amp;""#);
    }

    #[test]
    fn mermaid_text_escapes_syntax() {
        assert_eq!(mermaid_text(r#"a"b"#), "a#quot;b");
        assert_eq!(mermaid_text("<x>|`#&"), "#lt;x#gt;#124;#96;#35;#amp;");
        assert_eq!(mermaid_text("a\nb"), "a<br>b");
        assert_eq!(mermaid_text("%%{init: {}}%%"), "#37;#37;{init: {}}#37;#37;");
        assert_eq!(mermaid_text("a\u{0}b\u{1b}"), "a\\u{0}b\\u{1b}");
    }

    #[test]
    fn dot_shows_control_characters_and_long_labels_are_cut() {
        assert_eq!(dot_quote("a\u{0}b"), r#""a\\u{0}b""#);
        let long = "x".repeat(20_000);
        assert_eq!(clip(&long).chars().count(), MAX_LABEL_LINE + 1);
        assert!(mermaid_text(&long).len() < 1000);
    }
}
