//! The office's domain types, apart from how they are stored or shown: residents,
//! cards, windows, statuses, roles, alert kinds and the state a resident is in today.
//!
//! No SQL, HTTP or HTML here; `store` keeps these, `dashboard` and `api` show and
//! take them. Names shared with the tablets (alert kinds, intents) come from `vocab`.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

pub use vocab::AlertKind;

/// A resident (one person checked on daily).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResidentId(pub i64);

/// An enrolled tablet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId(pub i64);

/// A safety-confirmation campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CampaignId(pub i64);

/// A piece of town news staff published for the tablets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AnnouncementId(pub i64);

/// A dashboard user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub i64);

/// The card a resident signs in with: the lowercase hex SHA-256 of their JPKI
/// user-authentication certificate. Never the individual number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CardIdentity(String);

impl CardIdentity {
    /// Accepts exactly 64 hex digits (any case); anything else is `None`.
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Self(text.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A resident's daily check-in window in local (Japan) time, and the grace after it.
/// A window whose end is before its start crosses midnight (22:00–01:00): it belongs
/// to the day it starts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckinWindow {
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub grace_minutes: u32,
}

impl CheckinWindow {
    pub fn crosses_midnight(&self) -> bool {
        self.end < self.start
    }

    /// The day whose window a check-in at `t` answers: the local day, except in the
    /// small hours before a midnight-crossing window's end, which still belong to
    /// the window that started the evening before.
    pub fn day_of(&self, t: DateTime<Utc>) -> NaiveDate {
        let local = t.with_timezone(&crate::clock::town_offset());
        let day = local.date_naive();
        if self.crosses_midnight() && local.time() < self.start { day.pred_opt().unwrap_or(day) } else { day }
    }

    /// When day `day`'s window and its grace are over.
    pub fn due(&self, day: NaiveDate) -> DateTime<Utc> {
        let end_day = if self.crosses_midnight() { day.succ_opt().unwrap_or(day) } else { day };
        crate::clock::at_local(end_day, self.end) + chrono::Duration::minutes(i64::from(self.grace_minutes))
    }
}

/// A resident's stored status for one day. No row means "not yet due / pending".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Confirmed,
    /// Checked in, but an answer needs someone to look (unwell, pain, a bad night, no
    /// appetite, wants to talk): checked in all the same, never 確認済み.
    Attention,
    Unconfirmed,
    NeedsHelp,
}

impl Status {
    /// The name stored and shown in histories.
    pub fn key(self) -> &'static str {
        match self {
            Status::Confirmed => "confirmed",
            Status::Attention => "attention",
            Status::Unconfirmed => "unconfirmed",
            Status::NeedsHelp => "needs_help",
        }
    }

    pub fn from_key(s: &str) -> Option<Status> {
        [Status::Confirmed, Status::Attention, Status::Unconfirmed, Status::NeedsHelp]
            .into_iter()
            .find(|x| x.key() == s)
    }
}

/// Dashboard roles. 民生委員 (`Minsei`) see only their own district; a
/// `Responder` (消防団, 自主防災組織 during a declared disaster) sees only the roster,
/// until the account expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Officer,
    Staff,
    Minsei,
    Responder,
}

impl Role {
    /// `admin`, `officer`, `staff`, `minsei` or `responder`.
    pub fn from_key(s: &str) -> Option<Role> {
        [Role::Admin, Role::Officer, Role::Staff, Role::Minsei, Role::Responder]
            .into_iter()
            .find(|r| r.key() == s)
    }

    pub fn key(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Officer => "officer",
            Role::Staff => "staff",
            Role::Minsei => "minsei",
            Role::Responder => "responder",
        }
    }

    /// What the dashboard calls the role.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "管理者",
            Role::Officer => "福祉担当職員",
            Role::Staff => "デジタル支援員",
            Role::Minsei => "民生委員",
            Role::Responder => "避難支援者",
        }
    }
}

/// The help a resident needs to leave home in a disaster, as the roster lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SupportNeed {
    /// Walks only with help or a stick.
    Mobility,
    Wheelchair,
    /// Home oxygen: needs power or cylinders.
    Oxygen,
    Dialysis,
    Hearing,
    Sight,
    /// Dementia: may not understand an evacuation call.
    Cognition,
    Bedridden,
}

impl SupportNeed {
    pub const ALL: [SupportNeed; 8] = [
        SupportNeed::Mobility,
        SupportNeed::Wheelchair,
        SupportNeed::Oxygen,
        SupportNeed::Dialysis,
        SupportNeed::Hearing,
        SupportNeed::Sight,
        SupportNeed::Cognition,
        SupportNeed::Bedridden,
    ];

    pub fn key(self) -> &'static str {
        match self {
            SupportNeed::Mobility => "mobility",
            SupportNeed::Wheelchair => "wheelchair",
            SupportNeed::Oxygen => "oxygen",
            SupportNeed::Dialysis => "dialysis",
            SupportNeed::Hearing => "hearing",
            SupportNeed::Sight => "sight",
            SupportNeed::Cognition => "cognition",
            SupportNeed::Bedridden => "bedridden",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SupportNeed::Mobility => "歩行に介助",
            SupportNeed::Wheelchair => "車いす",
            SupportNeed::Oxygen => "在宅酸素",
            SupportNeed::Dialysis => "人工透析",
            SupportNeed::Hearing => "耳が遠い",
            SupportNeed::Sight => "目が不自由",
            SupportNeed::Cognition => "認知症",
            SupportNeed::Bedridden => "寝たきり",
        }
    }

    pub fn from_key(s: &str) -> Option<SupportNeed> {
        SupportNeed::ALL.into_iter().find(|n| n.key() == s)
    }
}

/// A resident's state on today's board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BoardState {
    // Ordered by risk: the board lists the first ones first.
    NeedsHelp,
    Attention,
    Unconfirmed,
    DeviceOffline,
    Pending,
    Paused,
    Confirmed,
}

impl BoardState {
    /// Every state, in risk order (a state's position is its code in the store's
    /// one query of the state today).
    pub const ALL: [BoardState; 7] = [
        BoardState::NeedsHelp,
        BoardState::Attention,
        BoardState::Unconfirmed,
        BoardState::DeviceOffline,
        BoardState::Pending,
        BoardState::Paused,
        BoardState::Confirmed,
    ];

    /// What the board shows.
    pub fn label(self) -> &'static str {
        match self {
            BoardState::NeedsHelp => "要支援",
            BoardState::Attention => "要確認",
            BoardState::Unconfirmed => "未確認",
            BoardState::DeviceOffline => "端末オフライン",
            BoardState::Pending => "確認待ち",
            BoardState::Paused => "一時停止",
            BoardState::Confirmed => "確認済み",
        }
    }
}

/// One answer of a check-in, as the office keeps it (answers in names this office
/// does not know are dropped at the API edge).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckInAnswer {
    pub question: vocab::Question,
    pub intent: vocab::Intent,
    pub body_part: Option<vocab::BodyPart>,
}

impl CheckInAnswer {
    /// 「話を聞いてほしい」: yes to the open question, or loneliness said there
    /// (「誰とも話してねえ」); someone should call or visit.
    pub fn wants_visit(&self) -> bool {
        self.question == vocab::Question::Open
            && matches!(self.intent, vocab::Intent::Yes | vocab::Intent::Lonely)
    }

    /// An answer someone should look at the same day: unwell, pain, a bad night, no
    /// appetite. (Tired alone is too common after a snowy day to call anyone for.)
    pub fn is_health_concern(&self) -> bool {
        use vocab::Intent as I;
        matches!(self.intent, I::FeelingUnwell | I::Pain | I::SleptBadly | I::AppetitePoor)
    }

    /// Several answers as staff read them, in order: 「具合が悪い・痛みがある（膝）」.
    pub fn labels(answers: &[CheckInAnswer]) -> String {
        answers.iter().map(CheckInAnswer::label).collect::<Vec<_>>().join("・")
    }

    /// What staff read: the intent's label, with the body part when one was named
    /// (「痛みがある（膝）」).
    pub fn label(&self) -> String {
        let said = match (self.question, self.intent) {
            // A bare はい/いいえ means nothing on its own to the open question.
            (vocab::Question::Open, vocab::Intent::Yes) => "話を聞いてほしい",
            (vocab::Question::Open, vocab::Intent::No) => "話は特になし",
            (_, intent) => intent.label(),
        };
        match self.body_part {
            Some(part) => format!("{said}（{}）", part.label()),
            None => said.to_owned(),
        }
    }
}

/// The usual ("普通") range of the 30-second chair-stand test for an age group: the
/// middle of five bands in 中谷敏昭ほか「30秒椅子立ち上がりテスト（CS-30テスト）成績の
/// 加齢変化と標準値の作成」臨床スポーツ医学 20(3):349-355, 2003.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChairStandUsual {
    pub ages: &'static str,
    /// (from, to) stands in 30 seconds.
    pub men: (u8, u8),
    pub women: (u8, u8),
}

/// The usual range for someone `age` years old (60 and over; `None` below).
pub fn chair_stand_usual(age: i32) -> Option<ChairStandUsual> {
    const BANDS: [(i32, ChairStandUsual); 5] = [
        (80, ChairStandUsual { ages: "80歳以上", men: (14, 16), women: (13, 16) }),
        (75, ChairStandUsual { ages: "75〜79歳", men: (15, 17), women: (13, 17) }),
        (70, ChairStandUsual { ages: "70〜74歳", men: (16, 20), women: (15, 19) }),
        (65, ChairStandUsual { ages: "65〜69歳", men: (18, 21), women: (17, 21) }),
        (60, ChairStandUsual { ages: "60〜64歳", men: (20, 25), women: (19, 23) }),
    ];
    BANDS.iter().find(|(from, _)| age >= *from).map(|(_, u)| *u)
}
