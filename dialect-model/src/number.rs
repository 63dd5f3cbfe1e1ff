//! A count said in an answer (「十二回」「12回くらい」「じゅうにかい」), for the questions
//! that ask how many: the recogniser writes numbers as digits, kanji or kana.
//!
//! A kanji or kana number counts only where a count ends (回, くらい, です, the end of
//! the answer…), so 「一緒に」 or 「にわとり」 are not numbers.

/// What may follow a count: a counter, an approximation, a copula, or nothing.
const AFTER: [&str; 12] =
    ["回", "かい", "カイ", "くらい", "ぐらい", "位", "ほど", "です", "だ", "。", "、", "！"];

/// The first count said in `text`, if any (at most 255).
pub fn spoken_count(text: &str) -> Option<u8> {
    let text: String = text
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            _ => c,
        })
        .collect();
    let chars: Vec<char> = text.chars().collect();
    // Digits need no context: a recogniser writes 「12回」 only for a number.
    if let Some(start) = chars.iter().position(char::is_ascii_digit) {
        let digits: String = chars[start..].iter().take_while(|c| c.is_ascii_digit()).collect();
        return digits.parse::<u32>().ok().map(|n| n.min(255) as u8);
    }
    for start in 0..chars.len() {
        let rest: String = chars[start..].iter().collect();
        if let Some((n, len)) = kanji_at(&rest).or_else(|| kana_at(&rest))
            && ends_a_count(&rest[len..])
        {
            return Some(n.min(255) as u8);
        }
    }
    None
}

fn ends_a_count(after: &str) -> bool {
    let after = after.trim_start();
    after.is_empty() || AFTER.iter().any(|a| after.starts_with(a))
}

/// A kanji number at the start of `s` (一 to 九十九), with its length in bytes.
fn kanji_at(s: &str) -> Option<(u32, usize)> {
    let digit = |c: char| "〇一二三四五六七八九".chars().position(|d| d == c).map(|d| d as u32);
    let mut value = 0;
    let mut current: Option<u32> = None;
    let mut len = 0;
    for c in s.chars() {
        if let Some(d) = digit(c) {
            if current.is_some() {
                break;
            }
            current = Some(d);
        } else if c == '十' {
            if value > 0 {
                break;
            }
            value = current.unwrap_or(1) * 10;
            current = None;
        } else {
            break;
        }
        len += c.len_utf8();
    }
    (len > 0).then(|| (value + current.unwrap_or(0), len))
}

/// The kana readings of one to nine, as said before a counter.
const ONES: [(&str, u32); 12] = [
    ("いち", 1),
    ("いっ", 1),
    ("に", 2),
    ("さん", 3),
    ("よん", 4),
    ("ご", 5),
    ("ろく", 6),
    ("ろっ", 6),
    ("なな", 7),
    ("はち", 8),
    ("はっ", 8),
    ("きゅう", 9),
];

/// A kana number at the start of `s` (いち to きゅうじゅうきゅう), with its length in bytes.
fn kana_at(s: &str) -> Option<(u32, usize)> {
    let one = |s: &str| ONES.iter().find(|(r, _)| s.starts_with(r)).map(|(r, n)| (*n, r.len()));
    let (mut value, mut len) = (0, 0);
    if let Some((n, l)) = one(s) {
        (value, len) = (n, l);
    }
    let tens = ["じゅう", "じっ", "じゅっ"].into_iter().find(|t| s[len..].starts_with(t));
    if let Some(t) = tens {
        value = value.max(1) * 10;
        len += t.len();
        if let Some((n, l)) = one(&s[len..]) {
            value += n;
            len += l;
        }
    }
    (len > 0).then_some((value, len))
}
