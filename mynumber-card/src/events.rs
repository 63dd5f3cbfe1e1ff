//! Reader and card events from pcscd: readers plugged and unplugged, cards held to
//! a reader and taken away, and pcscd itself going and coming back.
//!
//! The first status call for a reader only learns its current state: an empty reader
//! then is not a removal, and a card already there is reported as present.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::time::Duration;

use pcsc::{Context, ReaderState, Scope, State};

/// Something that happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardEvent {
    ReaderAdded(String),
    ReaderRemoved(String),
    CardPresent(String),
    CardRemoved(String),
    /// pcscd went away: every card is gone until it is back.
    ServiceLost,
    ServiceBack,
}

#[derive(Debug)]
struct Known {
    present: bool,
    /// `None` until the first status call has told the reader's state.
    last: Option<State>,
    event_count: u32,
}

/// Watches pcscd. Call [`Monitor::poll`] in a loop on a thread of its own.
pub struct Monitor {
    context: Option<Context>,
    readers: BTreeMap<String, Known>,
    /// Whether the service was ever reached and then lost (for ServiceBack).
    lost: bool,
    /// Whether ServiceLost was already reported for the current outage.
    lost_reported: bool,
    pnp_state: State,
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor").field("readers", &self.readers.keys().collect::<Vec<_>>()).finish()
    }
}

impl Default for Monitor {
    fn default() -> Self {
        Self::new()
    }
}

impl Monitor {
    /// A monitor that connects to pcscd on its first poll (pcscd need not run yet).
    pub fn new() -> Self {
        Self {
            context: None,
            readers: BTreeMap::new(),
            lost: false,
            lost_reported: false,
            pnp_state: State::UNAWARE,
        }
    }

    /// Whether a card is in `reader`, as far as the monitor knows.
    pub fn card_present(&self, reader: &str) -> bool {
        self.readers.get(reader).is_some_and(|k| k.present)
    }

    /// Waits up to `timeout` for changes and returns them (empty on timeout). While
    /// pcscd is down it returns after `timeout` (ServiceLost once), and reports
    /// ServiceBack with the current readers and cards once it returns.
    pub fn poll(&mut self, timeout: Duration) -> Vec<CardEvent> {
        let mut events = Vec::new();
        let Some(ctx) = self.connect(&mut events, timeout) else {
            return events;
        };
        // Readers may have come or gone while we were not looking.
        match ctx.list_readers_owned() {
            Ok(names) => {
                let names: Vec<String> = names.iter().map(|n| n.to_string_lossy().into_owned()).collect();
                self.sync_readers(&names, &mut events);
            }
            Err(pcsc::Error::NoReadersAvailable) => self.sync_readers(&[], &mut events),
            Err(_) => {
                self.service_lost(&mut events);
                return events;
            }
        }
        // New readers: learn their state at once (UNAWARE answers immediately).
        let mut states = self.reader_states(true);
        if !states.is_empty() {
            if ctx.get_status_change(Duration::ZERO, &mut states).is_err() {
                self.service_lost(&mut events);
                return events;
            }
            self.apply(&states, &mut events);
        }
        if !events.is_empty() {
            return events;
        }
        let mut states = self.reader_states(false);
        // pcscd's reader-list notification wakes us when readers come or go.
        states.push(ReaderState::new(pcsc::PNP_NOTIFICATION(), self.pnp_state));
        match ctx.get_status_change(timeout, &mut states) {
            Ok(()) => {
                if let Some(pnp) = states.pop() {
                    self.pnp_state = pnp.event_state() - State::CHANGED;
                }
                self.apply(&states, &mut events);
            }
            Err(pcsc::Error::Timeout) => {}
            // A reader list change can make pcscd answer these: the next poll re-lists.
            Err(pcsc::Error::UnknownReader | pcsc::Error::Cancelled | pcsc::Error::ReaderUnavailable) => {}
            Err(_) => self.service_lost(&mut events),
        }
        events
    }

    fn connect(&mut self, events: &mut Vec<CardEvent>, timeout: Duration) -> Option<Context> {
        if let Some(ctx) = &self.context {
            if ctx.is_valid().is_ok() {
                return Some(ctx.clone());
            }
            self.service_lost(events);
            return None;
        }
        match Context::establish(Scope::User) {
            Ok(ctx) => {
                self.pnp_state = State::UNAWARE;
                if self.lost {
                    events.push(CardEvent::ServiceBack);
                    self.lost = false;
                    self.lost_reported = false;
                }
                self.context = Some(ctx.clone());
                Some(ctx)
            }
            Err(_) => {
                if !self.lost_reported {
                    self.lost = true;
                    self.lost_reported = true;
                    events.push(CardEvent::ServiceLost);
                }
                std::thread::sleep(timeout);
                None
            }
        }
    }

    fn service_lost(&mut self, events: &mut Vec<CardEvent>) {
        self.context = None;
        for (name, known) in std::mem::take(&mut self.readers) {
            if known.present {
                events.push(CardEvent::CardRemoved(name.clone()));
            }
            events.push(CardEvent::ReaderRemoved(name));
        }
        if !self.lost_reported {
            events.push(CardEvent::ServiceLost);
        }
        self.lost = true;
        self.lost_reported = true;
    }

    fn sync_readers(&mut self, names: &[String], events: &mut Vec<CardEvent>) {
        let gone: Vec<String> = self.readers.keys().filter(|k| !names.contains(k)).cloned().collect();
        for name in gone {
            if self.readers.remove(&name).is_some_and(|k| k.present) {
                events.push(CardEvent::CardRemoved(name.clone()));
            }
            events.push(CardEvent::ReaderRemoved(name));
        }
        for name in names {
            if !self.readers.contains_key(name) {
                events.push(CardEvent::ReaderAdded(name.clone()));
                self.readers.insert(name.clone(), Known { present: false, last: None, event_count: 0 });
            }
        }
    }

    /// Reader states to ask about: only not-yet-learnt ones (`fresh`), or all known.
    fn reader_states(&self, fresh: bool) -> Vec<ReaderState> {
        self.readers
            .iter()
            .filter(|(_, k)| k.last.is_none() == fresh)
            .filter_map(|(name, k)| {
                Some(ReaderState::new(CString::new(name.as_str()).ok()?, k.last.unwrap_or(State::UNAWARE)))
            })
            .collect()
    }

    fn apply(&mut self, states: &[ReaderState], events: &mut Vec<CardEvent>) {
        for s in states {
            let name = s.name().to_string_lossy().into_owned();
            let Some(known) = self.readers.get_mut(&name) else { continue };
            let event = s.event_state();
            if event.intersects(State::UNKNOWN | State::IGNORE) {
                if self.readers.remove(&name).is_some_and(|k| k.present) {
                    events.push(CardEvent::CardRemoved(name.clone()));
                }
                events.push(CardEvent::ReaderRemoved(name));
                continue;
            }
            let present = event.contains(State::PRESENT) && !event.contains(State::MUTE);
            let first = known.last.is_none();
            let swapped = !first && present && known.present && s.event_count() != known.event_count;
            match (first, known.present, present) {
                (true, _, true) => events.push(CardEvent::CardPresent(name.clone())),
                // First look at an empty reader: nothing happened.
                (true, _, false) => {}
                (false, false, true) => events.push(CardEvent::CardPresent(name.clone())),
                (false, true, false) => events.push(CardEvent::CardRemoved(name.clone())),
                _ if swapped => {
                    // Pulled and another card (or the same) held up between two polls.
                    events.push(CardEvent::CardRemoved(name.clone()));
                    events.push(CardEvent::CardPresent(name.clone()));
                }
                _ => {}
            }
            known.present = present;
            known.event_count = s.event_count();
            known.last = Some(State::from_bits_retain(event.bits() & !State::CHANGED.bits()));
        }
    }
}
