//! The architecture an EC2 instance type runs, as a container platform: images are built for
//! the environment's instances, whatever machine builds them.

use std::fmt;

/// A container platform stackc builds for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Platform {
    /// x86-64: Intel and AMD instance types.
    LinuxAmd64,
    /// 64-bit Arm: AWS Graviton instance types.
    LinuxArm64,
}

impl Platform {
    /// The platform as the container CLIs' `--platform` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::LinuxAmd64 => "linux/amd64",
            Platform::LinuxArm64 => "linux/arm64",
        }
    }

    /// The platform `as_str` names.
    pub fn parse(s: &str) -> Option<Platform> {
        [Platform::LinuxAmd64, Platform::LinuxArm64]
            .into_iter()
            .find(|p| p.as_str() == s)
    }

    /// The platform of an instance type such as `t3.small` or `m7g.large`.
    ///
    /// An instance type's family is a series (`m`, `c`, `im`, `hpc`...), a generation number
    /// and attribute letters; the attribute `g` marks AWS Graviton (`t4g`, `m7g`, `c6gn`,
    /// `m6gd`, `is4gen`, and the GPU series' `g5g`). The first Graviton family, `a1`, predates
    /// that convention. Everything else is x86-64.
    pub fn of_instance_type(instance_type: &str) -> Platform {
        let family = instance_type
            .split_once('.')
            .map_or(instance_type, |(family, _)| family);
        if family == "a1" {
            return Platform::LinuxArm64;
        }
        let attributes = family
            .trim_start_matches(|c: char| !c.is_ascii_digit())
            .trim_start_matches(|c: char| c.is_ascii_digit());
        let attributes = attributes
            .split(|c: char| !c.is_ascii_lowercase())
            .next()
            .unwrap_or_default();
        if attributes.contains('g') {
            Platform::LinuxArm64
        } else {
            Platform::LinuxAmd64
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Platform::{self, LinuxAmd64, LinuxArm64};
    use crate::check::instances::memory_mib;

    /// Every family the checker knows (`check/instances.rs`), with its architecture from
    /// AWS's instance type pages, and families beyond it that test the naming rule.
    const FAMILIES: &[(&str, Platform)] = &[
        ("t2", LinuxAmd64),
        ("t3", LinuxAmd64),
        ("t3a", LinuxAmd64),
        ("t4g", LinuxArm64),
        ("m5", LinuxAmd64),
        ("m5a", LinuxAmd64),
        ("m6i", LinuxAmd64),
        ("m6a", LinuxAmd64),
        ("m6g", LinuxArm64),
        ("m7i", LinuxAmd64),
        ("m7g", LinuxArm64),
        ("c5", LinuxAmd64),
        ("c5a", LinuxAmd64),
        ("c6i", LinuxAmd64),
        ("c6g", LinuxArm64),
        ("c7i", LinuxAmd64),
        ("c7g", LinuxArm64),
        ("r5", LinuxAmd64),
        ("r6i", LinuxAmd64),
        ("r6g", LinuxArm64),
        ("r7i", LinuxAmd64),
        // Beyond the checker's table.
        ("a1", LinuxArm64),
        ("c6gn", LinuxArm64),
        ("c7gn", LinuxArm64),
        ("m6gd", LinuxArm64),
        ("r7gd", LinuxArm64),
        ("x2gd", LinuxArm64),
        ("im4gn", LinuxArm64),
        ("is4gen", LinuxArm64),
        ("g5g", LinuxArm64),
        ("hpc7g", LinuxArm64),
        ("m8g", LinuxArm64),
        ("g4dn", LinuxAmd64),
        ("g4ad", LinuxAmd64),
        ("g5", LinuxAmd64),
        ("i3en", LinuxAmd64),
        ("m5zn", LinuxAmd64),
        ("x2iedn", LinuxAmd64),
        ("c7i-flex", LinuxAmd64),
        ("inf2", LinuxAmd64),
        ("u-6tb1", LinuxAmd64),
    ];

    #[test]
    fn every_family_builds_for_its_architecture() {
        for &(family, want) in FAMILIES {
            for size in ["medium", "large", "2xlarge", "metal"] {
                let t = format!("{family}.{size}");
                assert_eq!(Platform::of_instance_type(&t), want, "{t}");
            }
        }
        assert_eq!(Platform::LinuxArm64.as_str(), "linux/arm64");
        assert_eq!(Platform::LinuxAmd64.to_string(), "linux/amd64");
    }

    #[test]
    fn the_table_covers_every_family_the_checker_knows() {
        // The family names quoted in the checker's table (`"m7g" | "c6g" => ...`) that it
        // gives a memory for: a family added there must be added here.
        let source = include_str!("../check/instances.rs");
        let known: Vec<&str> = source
            .split('"')
            .skip(1)
            .step_by(2)
            .filter(|s| {
                let digit = s.find(|c: char| c.is_ascii_digit());
                digit.is_some_and(|i| i > 0 && s[..i].bytes().all(|b| b.is_ascii_lowercase()))
                    && s.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                    && memory_mib(&format!("{s}.large")).is_some()
            })
            .collect();
        assert!(known.len() >= 20, "found only {known:?}");
        for family in known {
            assert!(
                FAMILIES.iter().any(|(f, _)| *f == family),
                "{family} is known to the checker but not to this test"
            );
        }
    }
}
