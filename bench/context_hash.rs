//! The speed benchmark of the content hash of a build context (issue 11): a generated context
//! of 10,000 files sent (about 40 MB, in 3 levels of folders) beside an ignored `node_modules`
//! of 5,000 more, hashed by `stackc::images::content_hash` in a release build.
//!
//! Target: under 1 s for the 10,000 files. Prints the times and exits 1 when the target is
//! missed. The files are in the page cache (just written), as they are after an edit.
//! Usage: `cargo bench --no-default-features --bench context_hash [-- --files N --runs N]`

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use stackc::images::{BuildSpec, Platform, content_hash, sent_entries};

const TARGET: Duration = Duration::from_secs(1);

/// A deterministic pseudo-random sequence (xorshift64), so every run hashes the same tree.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Writes `count` files under `root/prefix`, in 3 levels of folders (20 × 10 × 10): one in 100
/// of 64 to 256 KiB (images, bundles), the rest up to 6 KiB. Returns the bytes written.
fn generate(root: &Path, prefix: &str, count: usize, rng: &mut Rng) -> u64 {
    let mut bytes = 0;
    let chunk: Vec<u8> = (0..256 * 1024).map(|i| (i * 31 % 251) as u8).collect();
    for i in 0..count {
        let dir = root.join(format!(
            "{prefix}/d{:02}/e{:02}/f{:02}",
            i % 20,
            i / 20 % 10,
            i / 200 % 10
        ));
        std::fs::create_dir_all(&dir).expect("create folders");
        let size = if rng.next() % 100 == 0 {
            64 * 1024 + (rng.next() % (192 * 1024)) as usize
        } else {
            (rng.next() % 6144) as usize
        };
        let start = (rng.next() % 1024) as usize;
        std::fs::write(dir.join(format!("file{i}.js")), &chunk[start..start + size])
            .expect("write");
        bytes += size as u64;
    }
    bytes
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> ExitCode {
    let files = arg("--files", 10_000);
    let runs = arg("--runs", 5);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = dir.path();
    let mut rng = Rng(0x5eed);
    let bytes = generate(root, "src", files, &mut rng);
    generate(root, "node_modules", files / 2, &mut rng);
    std::fs::write(root.join("Dockerfile"), "FROM node:20\nCOPY . /app\n").expect("write");
    std::fs::write(root.join(".dockerignore"), "node_modules\n**/*.log\n.git\n").expect("write");
    let spec = BuildSpec {
        context: PathBuf::from(root),
        dockerfile: PathBuf::from("Dockerfile"),
        target: None,
        args: BTreeMap::from([("NODE_ENV".to_string(), "production".to_string())]),
        platform: Platform::LinuxAmd64,
    };
    let sent = sent_entries(&spec).expect("the context lists");
    let sent_files = sent.iter().filter(|p| p.ends_with(".js")).count();
    assert_eq!(
        sent_files, files,
        "every generated file outside node_modules is sent"
    );

    let mut times = Vec::with_capacity(runs);
    let mut tag = String::new();
    for _ in 0..runs {
        let start = Instant::now();
        let hash = content_hash(&spec).expect("the context hashes");
        times.push(start.elapsed());
        tag = hash.tag();
    }
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "content hash of {sent_files} files ({:.1} MB; {} entries sent, {} ignored files beside): median {:.0} ms, min {:.0} ms, max {:.0} ms over {runs} runs (tag {tag}); target < {} ms",
        bytes as f64 / 1e6,
        sent.len(),
        files / 2,
        median.as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
        TARGET.as_millis()
    );
    if median < TARGET {
        ExitCode::SUCCESS
    } else {
        println!("MISSED: the median is over the target");
        ExitCode::FAILURE
    }
}
