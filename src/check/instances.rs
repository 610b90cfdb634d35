//! Memory of the EC2 instance types the compiler knows, for the `stack::memory` check.

/// Memory in MiB of `instance_type`, or None when the compiler does not know the type.
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

/// vCPUs of a size in the m/c/r families (c5 has its own odd sizes).
fn vcpus(size: &str, family: &str) -> Option<u64> {
    let n = match size {
        "large" => 2,
        "xlarge" => 4,
        "metal" => match family {
            "c5" => 96,
            "m5" | "m5a" | "r5" => 96,
            _ => 128,
        },
        s => {
            let k: u64 = s.strip_suffix("xlarge")?.parse().ok()?;
            if family == "c5" && ![2, 4, 9, 12, 18, 24].contains(&k) {
                return None;
            }
            k * 4
        }
    };
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::memory_mib;

    #[test]
    fn known_families() {
        assert_eq!(memory_mib("t3.small"), Some(2048));
        assert_eq!(memory_mib("t3.nano"), Some(512));
        assert_eq!(memory_mib("t4g.medium"), Some(4096));
        assert_eq!(memory_mib("m5.large"), Some(8192));
        assert_eq!(memory_mib("m6i.4xlarge"), Some(65536));
        assert_eq!(memory_mib("c5.large"), Some(4096));
        assert_eq!(memory_mib("c5.9xlarge"), Some(73728));
        assert_eq!(memory_mib("c5.3xlarge"), None);
        assert_eq!(memory_mib("x1e.xlarge"), None);
    }
}
