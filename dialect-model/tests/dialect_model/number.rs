//! Counts said in an answer (the chair-stand test asks 「何回、立てましたか？」), as a
//! recogniser may write them: digits, full-width digits, kanji, kana; and words that
//! only look like numbers.

use dialect_model::number::spoken_count;

fn check(text: &str, expected: Option<u8>) {
    assert_eq!(spoken_count(text), expected, "{text:?}");
}

#[test]
fn counts_as_a_recogniser_writes_them() {
    for (text, n) in [
        ("12回", Some(12)),
        ("１２回です。", Some(12)),
        ("えーと、8回ぐらいだな", Some(8)),
        ("十二回", Some(12)),
        ("二十回くらい", Some(20)),
        ("二十三", Some(23)),
        ("十回", Some(10)),
        ("九回だっけ", Some(9)),
        ("じゅうにかい", Some(12)),
        ("にじゅっかい", Some(20)),
        ("ろっかい", Some(6)),
        ("はっかいです", Some(8)),
        ("じゅうごかいぐらい", Some(15)),
        ("300回", Some(255)),
        // Not counts.
        ("一緒に数えてけろ", None),
        ("にわとりがいる", None),
        ("わがんねぇ", None),
        ("", None),
        ("一番つらかった", None),
    ] {
        check(text, n);
    }
}
