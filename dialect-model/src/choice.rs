//! Which of a few expected words an answer names (「火曜日だべ」 names 火曜日 among
//! three days; 「さくらと、ねこ」 names two of three words), for the questions whose
//! answers are a short known list rather than an intent.
//!
//! Both the answer and every written form of every choice go through the same kana
//! reading and folding, so 月曜日, げつようび and ゲツヨウ all name the same choice.

use crate::normalise::fold;
use crate::reading::Reader;

/// The choices named in `text`: a mask (bit `i` for `choices[i]`) and the choice named
/// last, which is the answer when the resident corrects herself (「月曜、いや火曜だ」).
/// At most 16 choices are read; an empty form names nothing.
pub fn named(text: &str, reader: Option<&Reader>, choices: &[Vec<String>]) -> (u16, Option<u8>) {
    let key = |s: &str| fold(&reader.map_or_else(|| s.to_owned(), |r| r.kana(s)));
    let heard = key(text);
    let mut mask = 0u16;
    let mut last: Option<(usize, u8)> = None;
    for (i, forms) in choices.iter().enumerate().take(16) {
        let at = forms
            .iter()
            .map(|f| key(f))
            .filter(|f| !f.is_empty())
            .filter_map(|f| heard.rfind(&f).map(|p| p + f.len()))
            .max();
        if let Some(end) = at {
            mask |= 1 << i;
            if last.is_none_or(|(e, _)| end > e) {
                last = Some((end, i as u8));
            }
        }
    }
    (mask, last.map(|(_, i)| i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days() -> Vec<Vec<String>> {
        // As care writes them: the kanji (read ゲツヨービ, folded けつよひ) and the kana.
        [
            ["月曜日", "げつようび", "げつよう", "月曜"],
            ["火曜日", "かようび", "かよう", "火曜"],
            ["水曜日", "すいようび", "すいよう", "水曜"],
        ]
        .iter()
        .map(|d| d.iter().map(|s| (*s).to_owned()).collect())
        .collect()
    }

    fn check(text: &str, choices: &[Vec<String>], mask: u16, last: Option<u8>) {
        let reader = Reader::shared().ok();
        assert_eq!(named(text, reader.as_deref(), choices), (mask, last), "{text}");
    }

    #[test]
    fn the_choice_named_last_is_the_answer() {
        check("火曜日だべ", &days(), 0b010, Some(1));
        check("かようびだっけが", &days(), 0b010, Some(1));
        check("ゲツヨウ", &days(), 0b001, Some(0));
        check("月曜、いや、水曜だ", &days(), 0b101, Some(2));
        check("わがんね", &days(), 0, None);
        check("", &days(), 0, None);
        let words: Vec<Vec<String>> = [vec!["うさぎ", "兎"], vec!["すずめ", "雀"], vec!["はさみ", "鋏"]]
            .iter()
            .map(|w| w.iter().map(|s| (*s).to_owned()).collect())
            .collect();
        check("ウサギと、はさみ", &words, 0b101, Some(2));
        check("雀だったな", &words, 0b010, Some(1));
        check("", &[vec![String::new()]], 0, None);
    }
}
