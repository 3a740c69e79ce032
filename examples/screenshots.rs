//! Writes the README's pictures, `assets/screenshots/*.svg`, from the app's own rendering:
//! `cargo run --example screenshots`. A test fails when a committed picture is out of date.

#![allow(clippy::unwrap_used, clippy::expect_used)]

fn main() -> std::io::Result<()> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/screenshots");
    std::fs::create_dir_all(&dir)?;
    for (name, app) in storefront::app::gallery::pictures() {
        let path = dir.join(format!("{name}.svg"));
        std::fs::write(&path, storefront::ui::svg::picture(&app))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
