//! Rules for what the kiosk says aloud: a length measure in morae, counting aloud, plain words.
//!
//! Slow synthesised speech runs at about 5 morae a second, so a 40-mora line is about
//! eight seconds: the longest a frail listener should have to hold in mind at once.
//!
//! **How morae are counted** ([`morae`]): each hiragana or katakana counts one, except
//! the small ゃゅょぁぃぅぇぉゎ (and katakana forms), which join the kana before them and
//! count nothing; っ, ん and ー count one each. Text without a reading is counted
//! conservatively: each kanji as two morae (most readings are one or two morae: 雪 ゆき,
//! 体操 たいそう, 今日 きょう), each digit as two (十 じゅう), each Latin letter as one.
//! Punctuation, spaces and placeholders' braces count nothing. The figure may
//! overestimate a line a little, which errs on the side of shorter lines.

/// The most morae a spoken line may have.
pub const MAX_MORAE: usize = 40;

/// Counts a line's morae as the module documentation describes.
pub fn morae(text: &str) -> usize {
    text.chars().map(char_morae).sum()
}

fn char_morae(c: char) -> usize {
    const SMALL: &str = "ゃゅょぁぃぅぇぉゎャュョァィゥェォヮ";
    match c {
        _ if SMALL.contains(c) => 0,
        // Hiragana and katakana, including っ ッ ん ン and the long mark ー.
        '\u{3041}'..='\u{3096}' | '\u{30A1}'..='\u{30FA}' | 'ー' => 1,
        // CJK ideographs and the iteration mark 々.
        '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '々' => 2,
        '0'..='9' | '０'..='９' => 2,
        'a'..='z' | 'A'..='Z' => 1,
        _ => 0,
    }
}

const NUMBERS: [&str; 31] = [
    "ゼロ",
    "いち",
    "に",
    "さん",
    "し",
    "ご",
    "ろく",
    "なな",
    "はち",
    "きゅう",
    "じゅう",
    "じゅういち",
    "じゅうに",
    "じゅうさん",
    "じゅうし",
    "じゅうご",
    "じゅうろく",
    "じゅうなな",
    "じゅうはち",
    "じゅうく",
    "にじゅう",
    "にじゅういち",
    "にじゅうに",
    "にじゅうさん",
    "にじゅうし",
    "にじゅうご",
    "にじゅうろく",
    "にじゅうなな",
    "にじゅうはち",
    "にじゅうく",
    "さんじゅう",
];

/// The most a `#count` line may count to.
pub const MAX_COUNT: u32 = 30;

/// Counting aloud from one to `n` (1..=30), broken into lines of at most about 30
/// morae (「いち、に、さん。」), so each line stays short.
pub fn counting(n: u32) -> Vec<String> {
    let n = n.clamp(1, MAX_COUNT) as usize;
    let mut lines = Vec::new();
    let mut words: Vec<&str> = Vec::new();
    for word in &NUMBERS[1..=n] {
        let len: usize = words.iter().map(|w| morae(w)).sum();
        if len + morae(word) > 30 {
            lines.push(format!("{}。", words.join("、")));
            words.clear();
        }
        words.push(word);
    }
    lines.push(format!("{}。", words.join("、")));
    lines
}

/// Words too stiff or technical for a resident; plain ones say the same thing
/// (転倒 → 転ぶ, 水分補給 → 水を飲む).
const STIFF_WORDS: [&str; 14] = [
    "転倒",
    "実施",
    "推奨",
    "摂取",
    "水分補給",
    "負荷",
    "可動域",
    "筋力",
    "有酸素",
    "実行",
    "入力",
    "エラー",
    "確認",
    "認証",
];

/// Why a spoken line is not fit to say, or `None` if it is: too long, stiff words,
/// or Latin letters (which the synthesiser spells out).
pub fn line_problem(text: &str) -> Option<String> {
    let n = morae(text);
    if n > MAX_MORAE {
        return Some(format!("{n} morae (at most {MAX_MORAE})"));
    }
    if let Some(word) = STIFF_WORDS.iter().find(|w| text.contains(*w)) {
        return Some(format!("stiff word {word:?}"));
    }
    // A placeholder's name (`{name}`) is filled in before the line is said.
    let mut in_placeholder = false;
    let latin = text.chars().any(|c| {
        match c {
            '{' => in_placeholder = true,
            '}' => in_placeholder = false,
            _ => {}
        }
        !in_placeholder && c.is_ascii_alphabetic()
    });
    if latin {
        return Some("Latin letters".into());
    }
    if text.trim().is_empty() {
        return Some("empty line".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: usize) {
        assert_eq!(morae(text), expected, "{text}");
    }

    #[test]
    fn mora_counts() {
        check("きょうは", 3); // きょ う は
        check("がっこう", 4);
        check("コーヒー", 4);
        check("しんぶん", 4);
        check("雪", 2);
        check("いち、に。", 3);
        check("{name}さん", 6); // braces count nothing; "name" counts four letters
    }

    #[test]
    fn counting_lines_stay_short() {
        assert_eq!(counting(3), vec!["いち、に、さん。".to_string()]);
        let lines = counting(30);
        assert!(
            lines[0].starts_with("いち、に、さん、し、ご、ろく、なな、はち、きゅう、じゅう、"),
            "{lines:?}"
        );
        assert!(lines.last().unwrap().ends_with("さんじゅう。"), "{lines:?}");
        assert!(lines.iter().all(|l| morae(l) <= MAX_MORAE), "{lines:?}");
    }

    #[test]
    fn unfit_lines_are_named() {
        assert_eq!(line_problem("今日は、体操をしましょう。"), None);
        assert!(line_problem(&"あ".repeat(41)).is_some_and(|p| p.contains("41 morae")));
        assert!(line_problem("転倒に気をつけましょう。").is_some_and(|p| p.contains("転倒")));
        assert!(line_problem("OKです。").is_some_and(|p| p.contains("Latin")));
        assert_eq!(line_problem("{name}さん、おはようございます。"), None);
        assert!(line_problem("{name}さん、OKです。").is_some_and(|p| p.contains("Latin")));
        assert!(line_problem(" ").is_some());
    }
}
