//! Japanese lines that break between phrases, never inside a word: BudouX's model
//! splits a line into phrases (「今日の」「体の」「具合は、」), and a WORD JOINER
//! (U+2060) between the characters of each phrase tells the text layout (UAX #14) not
//! to break there. Spoken text is untouched; only what the screen shows is joined.

/// Does not break inside a phrase.
const JOINER: char = '\u{2060}';

/// `text` with its phrases held together; breaks stay possible between phrases and
/// at spaces and line ends.
pub fn keep_phrases(text: &str) -> String {
    let model = budoux::models::default_japanese_model();
    let mut out = String::with_capacity(text.len() * 2);
    for line in text.split_inclusive('\n') {
        for phrase in budoux::parse(model, line) {
            let mut chars = phrase.chars().peekable();
            while let Some(c) = chars.next() {
                out.push(c);
                if let Some(&next) = chars.peek()
                    && !c.is_whitespace()
                    && !next.is_whitespace()
                {
                    out.push(JOINER);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phrases(text: &str) -> Vec<String> {
        // Where a break may fall: between two characters with no joiner.
        let joined = keep_phrases(text);
        let mut out = vec![String::new()];
        let mut chars = joined.chars().peekable();
        while let Some(c) = chars.next() {
            if c == JOINER {
                continue;
            }
            out.last_mut().unwrap().push(c);
            if chars.peek().is_some_and(|n| *n != JOINER) {
                out.push(String::new());
            }
        }
        out
    }

    #[test]
    fn breaks_fall_between_phrases_only() {
        let p = phrases("山田さん、おはようございます。今日の体の具合は、いかがですか？");
        assert!(p.len() >= 4, "{p:?}");
        assert!(p.iter().all(|x| x.chars().count() <= 12), "{p:?}");
        assert!(p.contains(&"おはようございます。".to_owned()), "{p:?}");
        assert_eq!(keep_phrases("").len(), 0);
        assert_eq!(keep_phrases("a b").replace(JOINER, ""), "a b");
        // Nothing is lost or reordered.
        let line = "カードをかざしても始められます。";
        assert_eq!(keep_phrases(line).replace(JOINER, ""), line);
    }
}
