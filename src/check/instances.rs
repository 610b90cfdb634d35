//! Memory of the EC2 instance types the compiler knows, for the `stack::memory` check.

/// Instance types from small to large, each with more memory than the one before: what
/// `stack::memory` suggests and `stackc import` chooses from.
pub const LADDER: [&str; 10] = [
    "t3.small",
    "t3.medium",
    "t3.large",
    "t3.xlarge",
    "t3.2xlarge",
    "m6i.4xlarge",
    "m6i.8xlarge",
    "m6i.16xlarge",
    "m6i.32xlarge",
    "r6i.32xlarge",
];

/// The smallest type of the [`LADDER`] with at least `mib` MiB.
pub fn smallest_holding(mib: u64) -> Option<&'static str> {
    LADDER
        .into_iter()
        .find(|t| memory_mib(t).is_some_and(|m| m >= mib))
}

/// Memory in MiB of `instance_type`, or None when the compiler does not know the type (an
/// unknown family, or a size the family does not have, such as `m5.3xlarge`).
pub fn memory_mib(instance_type: &str) -> Option<u64> {
    let (family, size) = instance_type.split_once('.')?;
    // General-purpose families: 4 GiB per vCPU from `large` up; burstable ones below.
    let gib_x10: u64 = match family {
        "t2" | "t3" | "t3a" | "t4g" => match size {
            "nano" => 5,
            "micro" => 10,
            "small" => 20,
            "medium" => 40,
            "large" => 80,
            "xlarge" => 160,
            "2xlarge" => 320,
            _ => return None,
        },
        "m5" | "m5a" | "m6i" | "m6a" | "m6g" | "m7i" | "m7g" => 10 * 4 * vcpus(size, family)?,
        "c5" | "c5a" | "c6i" | "c6g" | "c7i" | "c7g" => 10 * 2 * vcpus(size, family)?,
        "r5" | "r6i" | "r6g" | "r7i" => 10 * 8 * vcpus(size, family)?,
        _ => return None,
    };
    Some(gib_x10 * 1024 / 10)
}

/// The sizes of a family of the m/c/r table: the `Nxlarge` multipliers it has, whether it has
/// `medium` (Graviton), and the vCPUs of its bare-metal sizes.
struct Sizes {
    xlarge: &'static [u64],
    medium: bool,
    metal: &'static [(&'static str, u64)],
}

fn sizes(family: &str) -> Option<Sizes> {
    const INTEL_5: &[u64] = &[2, 4, 8, 12, 16, 24];
    const GEN_6: &[u64] = &[2, 4, 8, 12, 16, 24, 32];
    const GRAVITON: &[u64] = &[2, 4, 8, 12, 16];
    const GEN_7: &[u64] = &[2, 4, 8, 12, 16, 24, 48];
    const METAL_7: &[(&str, u64)] = &[("metal-24xl", 96), ("metal-48xl", 192)];
    Some(match family {
        "m5" | "r5" => Sizes {
            xlarge: INTEL_5,
            medium: false,
            metal: &[("metal", 96)],
        },
        "m5a" | "c5a" => Sizes {
            xlarge: INTEL_5,
            medium: false,
            metal: &[],
        },
        "c5" => Sizes {
            xlarge: &[2, 4, 9, 12, 18, 24],
            medium: false,
            metal: &[("metal", 96)],
        },
        "m6i" | "c6i" | "r6i" => Sizes {
            xlarge: GEN_6,
            medium: false,
            metal: &[("metal", 128)],
        },
        "m6a" => Sizes {
            xlarge: &[2, 4, 8, 12, 16, 24, 32, 48],
            medium: false,
            metal: &[("metal", 192)],
        },
        "m6g" | "m7g" | "c6g" | "c7g" | "r6g" => Sizes {
            xlarge: GRAVITON,
            medium: true,
            metal: &[("metal", 64)],
        },
        "m7i" | "c7i" | "r7i" => Sizes {
            xlarge: GEN_7,
            medium: false,
            metal: METAL_7,
        },
        _ => return None,
    })
}

/// vCPUs of a size in the m/c/r families, when the family has that size.
fn vcpus(size: &str, family: &str) -> Option<u64> {
    let sizes = sizes(family)?;
    match size {
        "medium" if sizes.medium => Some(1),
        "large" => Some(2),
        "xlarge" => Some(4),
        s if s.starts_with("metal") => sizes
            .metal
            .iter()
            .find(|(name, _)| *name == s)
            .map(|&(_, n)| n),
        s => {
            let k: u64 = s.strip_suffix("xlarge")?.parse().ok()?;
            sizes.xlarge.contains(&k).then_some(k * 4)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{LADDER, memory_mib, smallest_holding};

    const GIB: u64 = 1024;

    #[test]
    fn known_families() {
        assert_eq!(memory_mib("t3.small"), Some(2048));
        for pair in LADDER.windows(2) {
            let (a, b) = (memory_mib(pair[0]), memory_mib(pair[1]));
            assert!(a.is_some() && a < b, "{pair:?}");
        }
        assert_eq!(smallest_holding(2049), Some("t3.medium"));
        assert_eq!(smallest_holding(2 << 30), None);
        assert_eq!(memory_mib("t3.nano"), Some(512));
        assert_eq!(memory_mib("t4g.medium"), Some(4096));
        assert_eq!(memory_mib("m5.large"), Some(8192));
        assert_eq!(memory_mib("m6i.4xlarge"), Some(65536));
        assert_eq!(memory_mib("c5.large"), Some(4096));
        assert_eq!(memory_mib("c5.9xlarge"), Some(73728));
        assert_eq!(memory_mib("c5.3xlarge"), None);
        assert_eq!(memory_mib("x1e.xlarge"), None);
    }

    #[test]
    fn bare_metal_sizes_have_their_own_vcpu_counts() {
        // Graviton metal: 64 vCPUs.
        assert_eq!(memory_mib("m6g.metal"), Some(256 * GIB));
        assert_eq!(memory_mib("m7g.metal"), Some(256 * GIB));
        assert_eq!(memory_mib("c6g.metal"), Some(128 * GIB));
        assert_eq!(memory_mib("c7g.metal"), Some(128 * GIB));
        assert_eq!(memory_mib("r6g.metal"), Some(512 * GIB));
        // AMD m6a: 192 vCPUs; Intel 6th generation: 128; 5th: 96.
        assert_eq!(memory_mib("m6a.metal"), Some(768 * GIB));
        assert_eq!(memory_mib("m6i.metal"), Some(512 * GIB));
        assert_eq!(memory_mib("c6i.metal"), Some(256 * GIB));
        assert_eq!(memory_mib("r6i.metal"), Some(1024 * GIB));
        assert_eq!(memory_mib("m5.metal"), Some(384 * GIB));
        assert_eq!(memory_mib("c5.metal"), Some(192 * GIB));
        assert_eq!(memory_mib("r5.metal"), Some(768 * GIB));
        // Intel 7th generation: two metal sizes, no bare `metal`.
        assert_eq!(memory_mib("m7i.metal-24xl"), Some(384 * GIB));
        assert_eq!(memory_mib("m7i.metal-48xl"), Some(768 * GIB));
        assert_eq!(memory_mib("c7i.metal-48xl"), Some(384 * GIB));
        assert_eq!(memory_mib("r7i.metal-24xl"), Some(768 * GIB));
        assert_eq!(memory_mib("m7i.metal"), None);
        assert_eq!(memory_mib("m5a.metal"), None);
        assert_eq!(memory_mib("m6g.metal-24xl"), None);
    }

    #[test]
    fn sizes_a_family_does_not_have_are_unknown() {
        assert_eq!(memory_mib("m5.3xlarge"), None);
        assert_eq!(memory_mib("m5.32xlarge"), None);
        assert_eq!(memory_mib("m6g.24xlarge"), None);
        assert_eq!(memory_mib("m6i.48xlarge"), None);
        assert_eq!(memory_mib("m5.medium"), None);
        assert_eq!(memory_mib("m6a.48xlarge"), Some(768 * GIB));
        assert_eq!(memory_mib("m7i.48xlarge"), Some(768 * GIB));
        assert_eq!(memory_mib("m6g.medium"), Some(4 * GIB));
        assert_eq!(memory_mib("c6g.medium"), Some(2 * GIB));
        assert_eq!(memory_mib("c5.18xlarge"), Some(144 * GIB));
    }
}
