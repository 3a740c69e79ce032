//! The README's pictures are what the app renders today.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[test]
fn the_committed_screenshots_match_the_rendering() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/screenshots");
    for (name, app) in storefront::app::gallery::pictures() {
        let path = dir.join(format!("{name}.svg"));
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == storefront::ui::svg::picture(&app),
            "{} is out of date: run `cargo run --example screenshots` and commit the result",
            path.display()
        );
    }
}
