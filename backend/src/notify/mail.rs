//! Sending one message through the configured mail server (lettre over SMTP, with
//! STARTTLS or TLS), and the short Japanese text a phone's lock screen shows.

use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};

use crate::config::{NotifyConfig, SmtpSecurity};
use crate::store::Outgoing;

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// `[notify]` cannot make a transport (no host, a bad sender).
    #[error("[notify] {0}")]
    Config(String),
    /// The address cannot be a recipient; retrying will not help.
    #[error("not an address: {0:?}")]
    Address(String),
    /// The server refused for now (4xx), or could not be reached or was too slow.
    #[error("the mail server did not take the message: {0}")]
    Transient(String),
    /// The server refused for good (5xx).
    #[error("the mail server refused the message: {0}")]
    Permanent(String),
}

/// A connection recipe for the configured server; each send opens its own connection.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from.email.to_string()).finish_non_exhaustive()
    }
}

impl Mailer {
    /// The transport `config` describes.
    pub fn new(config: &NotifyConfig) -> Result<Self, MailError> {
        if !config.enabled() {
            return Err(MailError::Config("smtp_host is not set (or MIMAMORI_SMTP_HOST)".to_owned()));
        }
        let from: Mailbox = format!("みまもり <{}>", config.from)
            .parse()
            .map_err(|e| MailError::Config(format!("from = {:?}: {e}", config.from)))?;
        let host = config.smtp_host.as_str();
        let tls = |e: lettre::transport::smtp::Error| MailError::Config(format!("TLS for {host}: {e}"));
        let builder = match config.security {
            SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            SmtpSecurity::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host).map_err(tls)?
            }
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(tls)?,
        };
        let mut builder =
            builder.port(config.port()).timeout(Some(Duration::from_secs(config.timeout_secs.clamp(1, 300))));
        if let Some(login) = &config.credentials {
            builder = builder.credentials(Credentials::new(login.user.clone(), login.password.clone()));
        }
        Ok(Mailer { transport: builder.build(), from })
    }

    /// Sends one plain-text message; `message_id` is the same on every try of it, so
    /// a mail program can tell a resent copy.
    pub async fn send(&self, to: &str, subject: &str, body: &str, message_id: &str) -> Result<(), MailError> {
        let to: Mailbox = to.parse().map_err(|_| MailError::Address(to.to_owned()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(format!("<{message_id}>")))
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|e| MailError::Config(e.to_string()))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(MailError::Permanent(e.to_string())),
            Err(e) => Err(MailError::Transient(e.to_string())),
        }
    }

    /// The sender's domain, for message ids.
    pub fn domain(&self) -> String {
        self.from.email.domain().to_owned()
    }
}

/// What the office keeps and shows of a failure: its class and the server's code,
/// not the server's words (which often repeat the recipient's address).
pub fn short_reason(e: &MailError) -> String {
    let code = |text: &str| {
        text.split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 3 && (w.starts_with('4') || w.starts_with('5')))
            .map(str::to_owned)
    };
    match e {
        MailError::Config(_) => "設定の誤り".to_owned(),
        MailError::Address(_) => "宛先の形式が不正".to_owned(),
        MailError::Transient(t) => match code(t) {
            Some(c) => format!("メールサーバーが一時的に拒否 ({c})"),
            None if t.contains("timed out") || t.contains("Timeout") => "メールサーバーの応答なし".to_owned(),
            None => "メールサーバーに接続できません".to_owned(),
        },
        MailError::Permanent(t) => {
            format!("メールサーバーが拒否 ({})", code(t).unwrap_or_else(|| "5xx".to_owned()))
        }
    }
}

/// The subject and body of `m`, with `link` to acknowledge. What happened, who,
/// where and their phone: no danger named, no answer, nothing from a card.
pub fn text(m: &Outgoing, link: &str) -> (String, String) {
    let subject = format!("【見守り】{}：{}さん（{}）", m.kind.label(), m.resident_name, m.district);
    let raised = m.raised.with_timezone(&crate::clock::town_offset()).format("%-m月%-d日 %H:%M");
    let phone = if m.phone.is_empty() { "登録なし".to_owned() } else { m.phone.clone() };
    let still = if m.rung > 1 { "まだ誰も対応していません。\n" } else { "" };
    let body = format!(
        "{}さん（{}）\n{}\n発生：{raised}\n本人の電話：{phone}\n{still}\n\
         対応できる方は、次のリンクを開いて「対応します」を押してください。\n{link}\n\n\
         {}の方にお送りしています（{}段目）。\nみまもり",
        m.resident_name,
        m.district,
        m.kind.label(),
        m.as_whom,
        m.rung
    );
    (subject, body)
}
