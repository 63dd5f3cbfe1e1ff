//! A vocabulary name as it travels: one of ours, or a plausible one from a newer build.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use vocab::Vocabulary;

/// A name of vocabulary `V` on the wire. A newer tablet may know an intent this office
/// does not; its name is kept (and shown as sent) rather than failing the event. Only
/// plausible names (`a-z` and `_`, 1–40) are read, so such a field never carries text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Name<V> {
    Known(V),
    /// A name this build does not know.
    Newer(String),
}

impl<V: Vocabulary> Name<V> {
    pub fn known(&self) -> Option<V> {
        match self {
            Name::Known(v) => Some(*v),
            Name::Newer(_) => None,
        }
    }

    pub fn key(&self) -> &str {
        match self {
            Name::Known(v) => v.key(),
            Name::Newer(n) => n,
        }
    }

    /// The staff label, or the name as sent when it is a newer one.
    pub fn label(&self) -> &str {
        match self {
            Name::Known(v) => v.label(),
            Name::Newer(n) => n,
        }
    }

    /// Reads a name: ours, a plausible newer one, or an error.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.parse::<V>() {
            Ok(v) => Ok(Name::Known(v)),
            Err(_) if vocab::is_plausible_name(s) => Ok(Name::Newer(s.to_owned())),
            Err(_) => Err(format!("{:?} is not a {} name", s.chars().take(40).collect::<String>(), V::KIND)),
        }
    }
}

impl<V: Vocabulary> From<V> for Name<V> {
    fn from(v: V) -> Self {
        Name::Known(v)
    }
}

impl<V: Vocabulary> fmt::Display for Name<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl<V: Vocabulary> Serialize for Name<V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.key())
    }
}

impl<'de, V: Vocabulary> Deserialize<'de> for Name<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Name::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vocab::Intent;

    #[test]
    fn ours_newer_and_not_names() {
        let read = |j: &str| serde_json::from_str::<Name<Intent>>(j);
        assert_eq!(read(r#""pain""#).unwrap(), Name::Known(Intent::Pain));
        assert_eq!(read(r#""lonely""#).unwrap(), Name::Known(Intent::Lonely));
        assert_eq!(read(r#""homesick""#).unwrap(), Name::Newer("homesick".into()));
        assert_eq!(read(r#""homesick""#).unwrap().label(), "homesick");
        assert_eq!(Name::Known(Intent::Pain).label(), "痛みがある");
        for bad in [r#""膝が痛い""#, r#""pain; DROP""#, "3", r#""""#] {
            assert!(read(bad).is_err(), "{bad}");
        }
        assert_eq!(serde_json::to_string(&Name::Known(Intent::NeedHelp)).unwrap(), r#""need_help""#);
    }
}
