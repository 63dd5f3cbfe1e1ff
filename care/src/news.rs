//! Town news read aloud: staff's announcement cut into lines a frail listener can
//! hold (at most [`crate::speech::MAX_MORAE`] each), and the lines around it
//! (`[news]` in the dialogue file).

use serde::Deserialize;

use crate::dialogue::Button;
use crate::speech::{MAX_MORAE, morae};

/// The news lines of the dialogue file (`[news]`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewsLines {
    /// Before the first announcement: 「町から、お知らせがあります。」
    pub first: String,
    /// Before each further one: 「もうひとつ、お知らせです。」
    pub next: String,
    /// After it was read: 「もういちど、聞きますか？」
    pub again: String,
    /// Hear it again (`yes`) and understood (`no`), in screen order.
    pub buttons: Vec<Button>,
}

impl NewsLines {
    /// Every fixed line, for the length and wording checks.
    pub fn all_lines(&self) -> Vec<String> {
        vec![self.first.clone(), self.next.clone(), self.again.clone()]
    }
}

/// How many announcements are read after one check-in: the rest wait for the next.
pub const AT_ONCE: usize = 2;

/// The most characters said (and captioned) at once: what the caption shows whole at
/// the largest text size, so the words on screen are always the words being said.
pub const PAGE_CHARS: usize = 50;

/// [`lines`] gathered into pages of at most [`PAGE_CHARS`] characters (a line longer
/// than that is a page of its own), said and captioned one after the other.
pub fn pages(message: &str) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut chars = 0;
    for line in lines(message) {
        let n = line.chars().count();
        match out.last_mut() {
            Some(page) if chars + n <= PAGE_CHARS => page.push(line),
            _ => {
                out.push(vec![line]);
                chars = 0;
            }
        }
        chars += n;
    }
    out
}

/// Staff's words as spoken lines: one per sentence (ended by 。！？ or a line break),
/// and a sentence longer than [`MAX_MORAE`] cut after its commas, or failing that
/// into equal pieces, so no line is longer than a listener can hold.
pub fn lines(message: &str) -> Vec<String> {
    let mut out = Vec::new();
    for sentence in sentences(message) {
        if morae(&sentence) <= MAX_MORAE {
            out.push(sentence);
            continue;
        }
        let mut line = String::new();
        for clause in sentence.split_inclusive(['、', ',']) {
            if !line.is_empty() && morae(&line) + morae(clause) > MAX_MORAE {
                out.push(std::mem::take(&mut line));
            }
            line.push_str(clause);
        }
        for piece in cut(&line) {
            out.push(piece);
        }
    }
    out
}

fn sentences(message: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in message.chars() {
        if c == '\n' || c == '\r' {
            push_trimmed(&mut out, &mut current);
            continue;
        }
        current.push(c);
        if matches!(c, '。' | '！' | '？' | '!' | '?') {
            push_trimmed(&mut out, &mut current);
        }
    }
    push_trimmed(&mut out, &mut current);
    out
}

fn push_trimmed(out: &mut Vec<String>, current: &mut String) {
    let s = current.trim();
    if !s.is_empty() {
        out.push(s.to_owned());
    }
    current.clear();
}

/// A clause still too long (no comma to cut at): equal pieces by morae.
fn cut(text: &str) -> Vec<String> {
    let total = morae(text);
    if total <= MAX_MORAE {
        return vec![text.to_owned()];
    }
    let pieces = total.div_ceil(MAX_MORAE);
    let each = total.div_ceil(pieces);
    let mut out = Vec::new();
    let mut line = String::new();
    for c in text.chars() {
        if morae(&line) + morae(&c.to_string()) > each && !line.is_empty() {
            out.push(std::mem::take(&mut line));
        }
        line.push(c);
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}
