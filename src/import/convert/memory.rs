//! Pass 6: memory. Limits and reservations come from `mem_limit`/`mem_reservation`,
//! `deploy.resources` or the Dockerrun's `memory`, in whole MiB within ECS's range; a
//! service with none gets a guess with a TODO (saying so, when the file's value could not be
//! read). The instance type is the smallest of the ladder that holds them all.

use crate::check::{attrs, instances};
use crate::import::Warnings;

use super::Plan;

/// Memory given to a service that declares none, MiB.
const DEFAULT_MEMORY: u32 = 256;

pub(super) fn size(plan: &mut Plan<'_>, w: &mut Warnings) {
    let (min, max) = attrs::MEMORY_MIB;
    for svc in &mut plan.svcs {
        let raw = svc.raw;
        let to_mib = |(bytes, line): (u64, usize), what: &str, w: &mut Warnings| -> u32 {
            let mib = bytes.div_ceil(1 << 20);
            if mib.saturating_mul(1 << 20) != bytes {
                w.add(line, format!("{what} of service `{}` is not a whole number of MiB; rounded up to {mib} MiB", raw.name));
            }
            let clamped = mib.clamp(min, max);
            if clamped != mib {
                w.add(line, format!("{what} of service `{}` is {mib} MiB; ECS takes {min} MiB to {} TiB, so {clamped} MiB", raw.name, max >> 20));
            }
            u32::try_from(clamped).unwrap_or(u32::MAX)
        };
        let memory = raw.memory.map(|m| to_mib(m, "the memory limit", w));
        let mut reservation = raw
            .memory_reservation
            .map(|m| to_mib(m, "the memory reservation", w));
        if let (Some(m), Some(r)) = (memory, reservation) {
            if r >= m {
                if let Some((_, line)) = raw.memory_reservation {
                    w.add(line, format!("the memory reservation of service `{}` ({r} MiB) is not below its limit ({m} MiB); dropped", raw.name));
                }
                reservation = None;
            }
        }
        svc.memory = memory;
        svc.reservation = reservation;
        if memory.is_none() && reservation.is_none() {
            svc.memory = Some(DEFAULT_MEMORY);
            svc.memory_comment = Some(if raw.memory_unreadable {
                "TODO: a guess, as the file's limit could not be read; measure with `docker stats`"
                    .into()
            } else {
                "TODO: a guess, no limit was set; measure with `docker stats`".into()
            });
        }
    }
    plan.need_mib = plan
        .svcs
        .iter()
        .map(|s| u64::from(s.reservation.or(s.memory).unwrap_or(0)))
        .sum();
    plan.instance_type = instances::smallest_holding(plan.need_mib);
    if plan.instance_type.is_none() {
        let largest = instances::LADDER[instances::LADDER.len() - 1];
        w.general(format!(
            "the services need {} in all, more than the largest instance type the import knows ({largest}, {}) holds: the program does not check (`stack::memory`) until their memory is lowered",
            size_words(plan.need_mib),
            size_words(instances::memory_mib(largest).unwrap_or_default()),
        ));
    }
}

/// A size in MiB, in the largest unit that keeps it whole.
pub(super) fn size_words(mib: u64) -> String {
    if mib >= 1 << 20 && mib % (1 << 20) == 0 {
        format!("{} TiB", mib >> 20)
    } else if mib >= 1024 && mib % 1024 == 0 {
        format!("{} GiB", mib >> 10)
    } else {
        format!("{mib} MiB")
    }
}
