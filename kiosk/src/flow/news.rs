//! Town news after the check-in: each announcement the office sent is read to each
//! resident once, captioned (「町から、お知らせがあります。」 and staff's words in short
//! lines, a caption's page at a time, so the words on screen are the words said), then 「もういちど、聞きますか？」 with もういちど／わかった; read again once if
//! asked. It counts as heard when all of it was said, and only then is the office told; a call for help or anything else taking the screen first
//! leaves it unheard, for the next check-in. Then on to the small talk's offer and
//! where the check-in was going.

use super::*;

/// The news being read.
#[derive(Debug)]
pub(super) struct NewsState {
    /// What is read this time, oldest first (at most `care::news::AT_ONCE`).
    items: Vec<crate::store::Announcement>,
    at: usize,
    /// The page of the current one being said.
    page: usize,
    /// The current one was read whole (or acknowledged): recorded as heard.
    heard: bool,
    /// The current one was read again already: the offer is not repeated.
    again: bool,
    /// The 「もういちど」 question is on screen.
    asking: bool,
    /// Where the check-in was going.
    after: Then,
}

impl Flow<'_> {
    /// At the end of a completed check-in: news to read, when the resident has any not
    /// yet heard whose last day is today or later. Returns whether it will be read.
    pub(super) fn plan_news(&mut self, after: Then) -> bool {
        let Some(resident) = self.resident.as_ref() else { return false };
        let today = self.now.date();
        let items: Vec<_> =
            resident.news.iter().filter(|n| n.until >= today).take(care::news::AT_ONCE).cloned().collect();
        if items.is_empty() {
            return false;
        }
        self.news =
            Some(NewsState { items, at: 0, page: 0, heard: false, again: false, asking: false, after });
        self.then = Then::ReadNews;
        true
    }

    /// Whether news (or its question) is on screen.
    pub(super) fn reading_news(&self) -> bool {
        self.news.is_some()
    }

    /// Says the current page of the current announcement, captioned, without buttons;
    /// the opening line (none when read again) stands alone before the first page.
    pub(super) fn read_news(&mut self, fx: &mut Vec<Effect>) {
        let Some(n) = self.news.as_mut() else { return };
        let Some(item) = n.items.get(n.at) else { return };
        n.asking = false;
        let lines = &self.care.script.news;
        let mut pages = care::news::pages(&item.message);
        if !n.again {
            pages.insert(0, vec![if n.at == 0 { lines.first.clone() } else { lines.next.clone() }]);
        }
        let say = pages.get(n.page).cloned().unwrap_or_default();
        self.say_last(say, Then::NewsRead, fx);
    }

    /// A page was said: the next, or, all of it said, heard; then 「もういちど、聞きますか？」,
    /// once.
    pub(super) fn news_read(&mut self, fx: &mut Vec<Effect>) {
        let Some(n) = self.news.as_mut() else { return };
        let Some(item) = n.items.get(n.at) else { return };
        let pages = care::news::pages(&item.message).len() + usize::from(!n.again);
        if n.page + 1 < pages {
            n.page += 1;
            self.read_news(fx);
            return;
        }
        self.news_heard_whole(fx);
        let Some(n) = self.news.as_mut() else { return };
        if n.again {
            self.next_news(fx);
            return;
        }
        n.asking = true;
        let lines = &self.care.script.news;
        self.ask_on_screen(vec![lines.again.clone()], lines.buttons.clone(), QuestionId::Confirm, fx);
    }

    fn news_heard_whole(&mut self, fx: &mut Vec<Effect>) {
        let Some(n) = self.news.as_mut() else { return };
        if n.heard {
            return;
        }
        n.heard = true;
        let Some(item) = n.items.get(n.at) else { return };
        let announcement = item.id;
        if let Some(r) = self.resident.as_mut() {
            r.news.retain(|x| x.id != announcement);
            fx.push(Effect::Record(Record::NewsHeard { resident: r.id, announcement }));
        }
    }

    /// A button: もういちど (`Yes`) or わかった.
    pub(super) fn news_button(&mut self, intent: Intent, fx: &mut Vec<Effect>) {
        fx.push(Effect::StopListening);
        fx.push(Effect::StopSpeaking);
        self.news_answer(intent == Intent::Yes, fx);
    }

    /// What the speech worker understood at 「もういちど、聞きますか？」.
    pub(super) fn news_heard(&mut self, u: Understanding, fx: &mut Vec<Effect>) {
        if u.critical || u.intent.is_critical() {
            self.news = None;
            if let Some(resident) = self.resident.clone() {
                self.danger_heard(resident, u, fx);
            }
            return;
        }
        self.news_answer(u.intent == Intent::Yes, fx);
    }

    /// Silence, or nothing for a while: understood, on to the next.
    pub(super) fn news_silence(&mut self, fx: &mut Vec<Effect>) {
        self.news_answer(false, fx);
    }

    fn news_answer(&mut self, again: bool, fx: &mut Vec<Effect>) {
        let Some(n) = self.news.as_mut() else { return };
        if !n.asking {
            return;
        }
        self.answer_since = None;
        if again {
            n.again = true;
            n.page = 0;
            self.read_news(fx);
        } else {
            self.next_news(fx);
        }
    }

    fn next_news(&mut self, fx: &mut Vec<Effect>) {
        let Some(n) = self.news.as_mut() else { return };
        n.at += 1;
        n.page = 0;
        n.heard = false;
        n.again = false;
        n.asking = false;
        if n.at < n.items.len() {
            self.read_news(fx);
            return;
        }
        let after = n.after;
        self.news = None;
        self.buttons.clear();
        self.view.checkin.buttons.clear();
        self.then = Then::Nothing;
        if self.plan_talk_offer(after) {
            self.offer_talk(fx);
        } else {
            self.continue_after(after, fx);
        }
    }
}
