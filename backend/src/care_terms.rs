//! care's vocabulary as the office needs it: the contraindication names the exercise
//! catalogue uses, with Japanese labels for staff.
//!
//! The names mirror `care/src/catalogue.rs`; the backend does not link care, so the
//! list is repeated here and a unit test reads care's source and fails when they drift.

/// Contraindication names and labels.
pub const CONTRAINDICATIONS: &[(&str, &str)] = &[
    ("knee", "膝"),
    ("hip", "股関節"),
    ("back", "腰・背中"),
    ("shoulder", "肩"),
    ("balance", "ふらつき"),
    ("heart", "心臓"),
    ("recent_fall", "最近の転倒"),
];

pub fn contraindication_label(name: &str) -> &str {
    CONTRAINDICATIONS.iter().find(|(n, _)| *n == name).map_or(name, |(_, l)| l)
}

pub fn is_contraindication(name: &str) -> bool {
    CONTRAINDICATIONS.iter().any(|(n, _)| *n == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_matches_the_catalogue() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../care/src/catalogue.rs");
        let source = std::fs::read_to_string(path).unwrap();
        let body = source.split("fn parse_contraindication").nth(1).unwrap().split("_ =>").next().unwrap();
        let names: Vec<&str> =
            body.lines().filter_map(|l| l.trim().strip_prefix('"')?.split('"').next()).collect();
        assert_eq!(names, CONTRAINDICATIONS.iter().map(|(n, _)| *n).collect::<Vec<_>>());
        assert_eq!(contraindication_label("heart"), "心臓");
        assert!(!is_contraindication("ankle"));
    }
}
