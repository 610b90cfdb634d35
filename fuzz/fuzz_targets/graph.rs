//! Graphs in DOT and Mermaid with arbitrary names and labels: the output stays within what
//! Graphviz and Mermaid read as intended — no raw control character but tab, no DOT string over
//! Graphviz's 16 KiB, no Mermaid directive (`%%{`) and no unbalanced quote in a Mermaid line.
//! Half of each input is also compiled as a program, whose graphs must hold the same.

#![no_main]

use libfuzzer_sys::fuzz_target;
use stackc::lower::graph::{
    self, Cluster, Direction, Edge, EdgeStyle, Format, Graph, Node, Shape,
};

/// Every DOT quoted string (escapes skipped) is at most 16 KiB.
fn check_dot(text: &str) {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'"' {
            let start = i;
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            assert!(i - start <= 16384, "a DOT string of {} bytes", i - start);
        }
        i += 1;
    }
}

fn check_mermaid(text: &str) {
    assert!(!text.contains("%%{"), "a Mermaid directive:\n{text}");
    for line in text.lines().skip(1) {
        assert!(!line.trim_start().starts_with("%%"), "a Mermaid comment: {line}");
        assert!(line.matches('"').count() % 2 == 0, "unbalanced quotes: {line}");
    }
}

fn check(g: &Graph) {
    for format in [Format::Dot, Format::Mermaid] {
        let text = graph::render(g, format);
        if let Some(c) = text.chars().find(|&c| c.is_control() && c != '\n' && c != '\t') {
            panic!("a raw {c:?} in the {format:?} output:\n{text}");
        }
        match format {
            Format::Dot => check_dot(&text),
            Format::Mermaid => check_mermaid(&text),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (program, rest) = text.split_at(text.floor_char_boundary(text.len() / 2));
    if let (Some(model), _) = stackc::compile(program) {
        check(&graph::model_graph(&model));
        check(&graph::plan_graph(&stackc::lower::lower(&model).plan));
    }
    // A graph of arbitrary strings: `\u{1}` separates them.
    let parts: Vec<&str> = rest.split('\u{1}').collect();
    let part = |i: usize| parts.get(i % parts.len()).copied().unwrap_or("").to_string();
    let nodes: Vec<Node> = (0..parts.len().min(8))
        .map(|i| Node {
            key: format!("n{i}:{}", part(i)),
            lines: vec![part(i + 1), part(i + 2)],
            shape: [Shape::Box, Shape::Cylinder, Shape::Source, Shape::Hexagon][i % 4],
            bold: i % 2 == 0,
            class: None,
        })
        .collect();
    let n = nodes.len();
    let g = Graph {
        title: part(0),
        direction: Direction::LeftRight,
        clusters: vec![Cluster {
            key: part(3),
            label: part(4),
            nodes: (0..n).step_by(2).collect(),
        }],
        edges: (0..n)
            .map(|i| Edge {
                from: i,
                from_cluster: i == 0,
                to: (i + 1) % n,
                label: Some(part(i + 5)),
                style: EdgeStyle::Dashed,
            })
            .collect(),
        nodes,
    };
    if n > 0 {
        check(&g);
    }
});
