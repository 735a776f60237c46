//! "Did you mean ...?": the closest known names to a misspelt one.

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    ranked(word, candidates, 1).into_iter().next()
}

/// Up to `count` candidates close to `word`, closest first.
pub fn ranked<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    count: usize,
) -> Vec<&'a str> {
    let lower = word.to_lowercase();
    let mut scored: Vec<(f64, &str)> = candidates
        .into_iter()
        .map(|candidate| (similarity(&lower, &candidate.to_lowercase()), candidate))
        .filter(|(score, _)| *score >= 0.8)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored
        .into_iter()
        .take(count)
        .map(|(_, name)| name)
        .collect()
}

fn similarity(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    let jaro = strsim::jaro_winkler(a, b);
    let edits = strsim::levenshtein(a, b);
    if edits <= 2 && a.len().min(b.len()) > edits {
        jaro.max(0.85)
    } else {
        jaro
    }
}

/// `did you mean `X`?` for a suggestion, or nothing.
pub fn did_you_mean(suggestion: Option<&str>) -> Option<String> {
    suggestion.map(|name| format!("did you mean `{name}`?"))
}
