//! The tidy checks over the real tree: part of the normal test suite.

#[test]
fn the_tree_is_tidy() {
    let violations = xtask::tidy::run(&xtask::project_root()).unwrap();
    let listed: Vec<String> = violations.iter().map(ToString::to_string).collect();
    assert!(listed.is_empty(), "tidy violations:\n{}", listed.join("\n"));
}
