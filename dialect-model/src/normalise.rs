//! Normalisation of recognised text to a folded kana key that survives how a
//! recogniser spells Murayama dialect, so that lexicon forms and transcripts compare.
//!
//! Folding (applied to both sides of every comparison):
//! - full-width ASCII to ASCII, katakana to hiragana, small vowels to full size;
//! - voiced and semi-voiced kana to unvoiced (medial k/t voicing: いだい = いたい, ワルイガラ = わるいから);
//! - し→す, ち→つ (the inland シ/ス, チ/ツ merger: 腰 こし = こす), じ/ぢ fall in with them;
//! - え→い for vowel-only morae (the イ/エ merger: いぐ = えぐ);
//! - っ and ー dropped (special morae drop: わかった = わがた), を→お;
//! - a moraic ん before an originally voiced stop after a vowel dropped (prenasalised うんで = うで);
//! - punctuation becomes one clause boundary `|`; other symbols and spaces vanish.
//!
//! Kanji are kept as they are here: `Lexicon::key` first replaces them with their kana
//! readings (`reading`), so 怖くて, こわくて and コワクテ fold alike. Folding merges
//! words that differ only in voicing, vowel length or the merged vowels; the classifier
//! and the lexicon see the same merged forms, so matching stays consistent, at the
//! cost of some homophones.

/// The folded key of `text`: see the module notes for what is merged.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let chars = palatal_e(text.chars().map(widen_to_ascii).map(to_hiragana));
    for (i, &c) in chars.iter().enumerate() {
        if is_boundary(c) {
            if !out.is_empty() && !out.ends_with('|') {
                out.push('|');
            }
            continue;
        }
        let before_voiced = chars.get(i + 1).is_some_and(|&n| is_voiced_stop(n));
        if c == 'ん' && i > 0 && is_vowel_final(chars[i - 1]) && before_voiced {
            continue;
        }
        match fold_kana(c) {
            Some(f) => out.push(f),
            None if c.is_alphanumeric() && !is_kana(c) => out.extend(c.to_lowercase()),
            None => {}
        }
    }
    while out.ends_with('|') {
        out.pop();
    }
    out
}

/// `text` as written, made comparable without folding: full-width ASCII to ASCII,
/// katakana to hiragana, punctuation to one clause boundary `|`, spaces dropped.
/// Kanji, voicing and long vowels are kept (the danger ontology matches on this and on
/// the folded key, so that 火事 is never confused with a folded おかず).
pub fn surface(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().map(widen_to_ascii).map(to_hiragana) {
        if is_boundary(c) {
            if !out.is_empty() && !out.ends_with('|') {
                out.push('|');
            }
        } else if !c.is_whitespace() {
            out.extend(c.to_lowercase());
        }
    }
    while out.ends_with('|') {
        out.pop();
    }
    out
}

/// Whether `folded` holds anything a person could have said (kana, kanji or digits).
pub fn has_speech(folded: &str) -> bool {
    folded.chars().any(|c| is_kana(c) || is_kanji(c))
}

/// Hiragana or katakana.
pub fn is_kana(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{309F}' | '\u{30A0}'..='\u{30FF}')
}

/// A CJK ideograph (the common block and extension A).
pub fn is_kanji(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '々')
}

/// しぇ→せ, にぇ→ね, ちぇ→て ...: a palatalised e is the plain e mora (しぇんしぇ = せんせ, いがんにぇ = いがんね).
fn palatal_e(chars: impl Iterator<Item = char>) -> Vec<char> {
    let mut out: Vec<char> = Vec::new();
    for c in chars {
        if c == 'ぇ' {
            let plain = match out.last() {
                Some('し') => Some('せ'),
                Some('じ') => Some('ぜ'),
                Some('ち') => Some('て'),
                Some('に') => Some('ね'),
                Some('ひ') => Some('へ'),
                Some('き') => Some('け'),
                Some('ぎ') => Some('げ'),
                Some('り') => Some('れ'),
                Some('み') => Some('め'),
                Some('び') => Some('べ'),
                _ => None,
            };
            if let Some(p) = plain {
                out.pop();
                out.push(p);
                continue;
            }
        }
        out.push(c);
    }
    out
}

fn widen_to_ascii(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

fn to_hiragana(c: char) -> char {
    match c {
        '\u{30A1}'..='\u{30F6}' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
        _ => c,
    }
}

fn is_boundary(c: char) -> bool {
    matches!(
        c,
        '、' | '。' | '，' | '．' | ',' | '.' | '！' | '？' | '!' | '?' | '\n' | '\t' | '…' | '；' | ';'
    )
}

fn is_vowel_final(c: char) -> bool {
    ('\u{3041}'..='\u{3093}').contains(&c) && !matches!(c, 'ん' | 'っ')
}

fn is_voiced_stop(c: char) -> bool {
    matches!(
        c,
        'が' | 'ぎ'
            | 'ぐ'
            | 'げ'
            | 'ご'
            | 'だ'
            | 'ぢ'
            | 'づ'
            | 'で'
            | 'ど'
            | 'ば'
            | 'び'
            | 'ぶ'
            | 'べ'
            | 'ぼ'
    )
}

/// One hiragana to its folded form; `None` for what folding drops or does not know.
fn fold_kana(c: char) -> Option<char> {
    let base = match c {
        'っ' | 'ー' | '〜' | '～' | '・' => return None,
        'ぁ' => 'あ',
        'ぃ' | 'ぇ' | 'え' | 'ゑ' | 'ゐ' => 'い',
        'ぅ' | 'ゔ' => 'う',
        'ぉ' | 'を' => 'お',
        'ゎ' => 'わ',
        'が' => 'か',
        'ぎ' => 'き',
        'ぐ' => 'く',
        'げ' => 'け',
        'ご' => 'こ',
        'ざ' => 'さ',
        'じ' | 'し' | 'ず' => 'す',
        'ぜ' => 'せ',
        'ぞ' => 'そ',
        'だ' => 'た',
        'ぢ' | 'ち' | 'づ' => 'つ',
        'で' => 'て',
        'ど' => 'と',
        'ば' | 'ぱ' => 'は',
        'び' | 'ぴ' => 'ひ',
        'ぶ' | 'ぷ' => 'ふ',
        'べ' | 'ぺ' => 'へ',
        'ぼ' | 'ぽ' => 'ほ',
        '\u{3041}'..='\u{3096}' => c,
        c if is_kanji(c) => c,
        _ => return None,
    };
    Some(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mergers_fold_together() {
        for (a, b) in [
            ("コスいだくて", "こしいたくて"),
            ("ワルイガラ", "わるいから"),
            ("いぐ", "えく"),
            ("わがった", "わかた"),
            ("うんで", "うで"),
            ("ねらんにぇ", "ねらんね"),
            ("しぇんしぇ", "せんせ"),
        ] {
            assert_eq!(fold(a), fold(b), "{a} vs {b}");
        }
        assert_eq!(fold("んだ、よぐ ねむっだ。"), "んた|よくねむた");
        assert_eq!(fold("!!!"), "");
    }
}
