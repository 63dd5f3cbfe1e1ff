//! Notifications: the background job that climbs the ladder of each open alert and
//! delivers the queued messages by e-mail, retrying with backoff until the mail
//! server takes them. Nothing here decides a status; it only tells people.
//!
//! Every 2 s: each open, unacknowledged alert whose next rung is due
//! ([`Ladder::next_rung`]) gets that rung's messages queued in the store; then the
//! messages due are sent one by one and marked sent only after the server's 250.
//! A crash between the 250 and the mark resends that one message (same Message-ID).

pub mod ladder;
pub mod mail;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};

pub use ladder::Ladder;
pub use mail::{MailError, Mailer};

use crate::clock::Clock;
use crate::config::NotifyConfig;
use crate::store::{Outgoing, Store, StoreError, TOP_RUNG};

/// How often the job looks: a help request is mailed within a few seconds.
pub const PERIOD: StdDuration = StdDuration::from_secs(2);

/// The wait before try `attempts + 1`: `retry_secs` (30 s unless configured),
/// doubling, at most 30 minutes. A server that refuses for good is still tried every
/// 30 minutes (it may be mended), and the dashboard shows the refusal meanwhile.
pub fn backoff(retry_secs: u64, attempts: u32) -> Duration {
    let first = i64::try_from(retry_secs.clamp(1, 1800)).unwrap_or(30);
    Duration::seconds(first * 2i64.pow(attempts.min(11))).min(Duration::minutes(30))
}

/// Queues each rung that is due at `now`. A rung with nobody to tell is passed at
/// once to the next, so a district without a 民生委員's address still reaches someone.
/// Returns how many messages were queued.
pub fn climb(store: &Store, ladder: &Ladder, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let mut queued = 0;
    for alert in store.ladder_alerts()? {
        let mut rung = ladder.next_rung(&alert, now);
        while let Some(r) = rung {
            let climbed = store.climb(alert.id, r, now)?;
            queued += climbed.queued;
            // Only a rung with nobody on it is passed; one whose people were all told
            // already (an officer on duty) still waits its time.
            rung = (climbed.recipients == 0 && r < TOP_RUNG).then_some(r + 1);
        }
    }
    Ok(queued)
}

/// Sends one queued message and records what happened.
async fn deliver(store: &Store, mailer: &Mailer, config: &NotifyConfig, m: Outgoing, clock: &dyn Clock) {
    // Someone may have taken the alert on while earlier messages of this batch went.
    let (s, id) = (store.clone(), m.id);
    if !matches!(tokio::task::spawn_blocking(move || s.notification_pending(id)).await, Ok(Ok(true))) {
        return;
    }
    let token = store.ack_token(m.id);
    let link = format!("{}/ack/{}/{token}", config.public_url.trim_end_matches('/'), m.id);
    let (subject, body) = mail::text(&m, &link);
    // Stable for the row, yet not the token: relays log Message-IDs.
    let message_id = format!(
        "mimamori.{}.{}@{}",
        m.id,
        &crate::store::sha256_label("message-id", &token)[..16],
        mailer.domain()
    );
    let result = mailer.send(&m.address, &subject, &body, &message_id).await;
    let (store, now, id, retry) = (store.clone(), clock.now(), m.id, backoff(config.retry_secs, m.attempts));
    let recorded = tokio::task::spawn_blocking(move || match &result {
        Ok(()) => store.notification_sent(id, now).map(|()| None),
        Err(e) => store.notification_failed(id, &mail::short_reason(e), now + retry).map(|()| Some(())),
    })
    .await;
    match recorded {
        // Ids and rung only: addresses and names stay out of the log.
        Ok(Ok(None)) => tracing::info!(notification = id, rung = m.rung, "notification sent"),
        Ok(Ok(Some(_))) => {
            tracing::warn!(notification = id, attempts = m.attempts + 1, "notification not taken; will retry")
        }
        Ok(Err(e)) => tracing::error!(error = %e, notification = id, "recording a notification failed"),
        Err(_) => tracing::error!("recording a notification panicked"),
    }
}

/// Runs the ladder and the queue every [`PERIOD`] until `shutdown` fires. Without a
/// configured mail server it only says so once: nothing is queued that could not go.
pub async fn run(
    store: Store,
    clock: Arc<dyn Clock>,
    config: NotifyConfig,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mailer = match Mailer::new(&config) {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(error = %e, "notifications are off: alerts wait on the dashboard only");
            return;
        }
    };
    let ladder = Ladder::from_config(&config);
    let mut ticks = tokio::time::interval(PERIOD);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = shutdown.changed() => return,
        }
        let now = clock.now();
        let (s, l) = (store.clone(), ladder.clone());
        let due = tokio::task::spawn_blocking(move || {
            let queued = climb(&s, &l, now)?;
            Ok::<_, StoreError>((queued, s.due_notifications(now, 20)?))
        })
        .await;
        let due = match due {
            Ok(Ok((queued, due))) => {
                if queued > 0 {
                    tracing::info!(queued, "notifications queued");
                }
                due
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "notification step failed");
                continue;
            }
            Err(_) => {
                tracing::error!("notification step panicked");
                continue;
            }
        };
        for m in due {
            tokio::select! {
                _ = deliver(&store, &mailer, &config, m, clock.as_ref()) => {}
                // A message cut off here stays queued and is tried after the restart.
                _ = shutdown.changed() => return,
            }
        }
    }
}

/// Sends one test message to `to` (`backend notify-test`), waiting for the server's
/// answer; the error carries the server's reason.
pub async fn send_test(config: &NotifyConfig, to: &str, now: DateTime<Utc>) -> Result<(), MailError> {
    let mailer = Mailer::new(config)?;
    let at = now.with_timezone(&crate::clock::town_offset()).format("%Y-%m-%d %H:%M");
    let id = format!("mimamori.test.{}@{}", now.timestamp_millis(), mailer.domain());
    mailer
        .send(
            to,
            "mimamori テスト",
            &format!("みまもりからのテストです（{at}）。\nこのメールが届けば、見守りのお知らせもこのアドレスに届きます。"),
            &id,
        )
        .await
}
