//! The text analysis of one answer, shared by understanding and training: the folded
//! key, the lexicon concepts found in it (longest match wins, alarms always kept), the
//! bare-answer kind, and whether a concept is negated in its clause.

use crate::lexicon::{Hit, Lexicon};

/// Longest input looked at, in characters: a spoken answer is far shorter, and a cap
/// keeps garbage input cheap.
pub const MAX_CHARS: usize = 2_000;

/// What the text analysis of one answer found (shared by training and understanding).
#[derive(Debug, Clone)]
pub struct Analysis {
    pub folded: String,
    pub hits: Vec<Hit>,
    pub bare: Option<String>,
}

/// Concepts that carry an answer's content (not yes/no, grammar or small talk).
pub(crate) fn is_content(concept: &str) -> bool {
    matches!(
        concept,
        "sleep"
            | "sleep_bad"
            | "eat"
            | "eat_bad"
            | "tasty"
            | "not_tasty"
            | "exercise"
            | "pain"
            | "tired"
            | "unwell"
            | "snow"
            | "thanks"
            | "greeting"
            | "help"
            | "repeat"
            | "critical"
            | "critical_chest"
    ) || concept.starts_with("body:")
}

/// Concepts that call for help: never taken from a near miss.
pub(crate) fn is_alarm(concept: &str) -> bool {
    matches!(concept, "help" | "critical" | "critical_chest")
}

/// Folds `text` (at most `MAX_CHARS`) and finds its lexicon concepts.
pub fn analyse(lexicon: &Lexicon, text: &str) -> Analysis {
    let capped: String = text.chars().take(MAX_CHARS).collect();
    let folded = lexicon.key(&capped);
    let mut hits = longest_matches(lexicon.hits(&folded));
    // Near misses only where no content word was found as written, and never for
    // help or danger: a false alarm from a misspelling would call staff out.
    // Body parts do not count as found: 「かた」 (肩) is also every past tense.
    if !hits.iter().any(|h| is_content(&h.concept) && !h.concept.starts_with("body:")) {
        let near = lexicon.fuzzy_hits(&folded, &hits);
        let wanted = |c: &str| (is_content(c) || c == "good") && !is_alarm(c);
        hits.extend(near.into_iter().filter(|h| wanted(&h.concept)));
        hits.sort_by(|a, b| (a.start, b.end).cmp(&(b.start, a.end)));
    }
    let bare = lexicon.bare(&folded).map(String::from);
    Analysis { folded, hits, bare }
}

/// Drops a hit that overlaps a longer hit of another concept (the longest match wins,
/// as in any dictionary segmentation: はらなにやにやする is 腹 + にやにやする, not
/// 何 "what?"). Help and danger words are never dropped, nor body parts, which name
/// where inside a longer phrase (胸 in 胸いだい) the trouble is.
fn longest_matches(hits: Vec<Hit>) -> Vec<Hit> {
    let overlaps = |a: &Hit, b: &Hit| a.start < b.end && b.start < a.end;
    let len = |h: &Hit| h.end - h.start;
    hits.iter()
        .filter(|h| {
            is_alarm(&h.concept)
                || h.concept.starts_with("body:")
                || !hits.iter().any(|o| o.concept != h.concept && overlaps(h, o) && len(o) > len(h))
        })
        .cloned()
        .collect()
}

/// Whether the concept hit is followed, within its clause, by a negation
/// (‑ね, ‑ない, ‑なえ, ‑らんね/‑んにぇ after folding).
pub fn negated(folded: &str, hit: &Hit) -> bool {
    let rest: String = folded.chars().skip(hit.end).take_while(|&c| c != '|').take(5).collect();
    let rest = rest.split("けんと").next().unwrap_or("").split("けと").next().unwrap_or("");
    // 〜てけねが / 〜てくれない (won't you…?) is a request, not a negation.
    if ["けね", "けんね", "くれね", "くれない"].iter().any(|r| rest.starts_with(r)) {
        return false;
    }
    ["ね", "ない", "なく", "なか", "なi"].iter().any(|n| rest.contains(n))
}
