//! Did-you-mean: the closest known name, when it is close enough to be a likely typo.

/// The candidate most similar to `name`, if any scores at least 0.6 (Nickel's threshold).
/// Only called on failure, so its cost never touches a clean check.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (c, strsim::normalized_damerau_levenshtein(name, c)))
        .filter(|(c, score)| *score >= 0.6 && *c != name)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(c, _)| c)
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(did_you_mean("memroy", ["memory", "image"]), Some("memory"));
        assert_eq!(did_you_mean("servr", ["server", "worker"]), Some("server"));
        assert_eq!(did_you_mean("xyz", ["server", "worker"]), None);
        assert_eq!(did_you_mean("server", ["server"]), None);
    }
}
