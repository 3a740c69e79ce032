//! Text from the server made safe and fitted for a terminal cell grid.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Whether a character could move the cursor, change colours, or reorder text when drawn:
/// C0 and C1 controls, DEL, and the Unicode bidirectional controls.
fn is_unsafe(ch: char) -> bool {
    ch.is_control()
        || matches!(ch, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Removes what [`is_unsafe`] names; line breaks and tabs become spaces so words stay apart.
pub fn sanitize(text: &str) -> String {
    if !text.chars().any(is_unsafe) {
        return text.to_owned();
    }
    text.chars()
        .filter_map(|ch| match ch {
            '\n' | '\r' | '\t' => Some(' '),
            ch if is_unsafe(ch) => None,
            ch => Some(ch),
        })
        .collect()
}

/// Sanitises every string in a JSON document, in place: done once, when an answer is decoded.
pub fn sanitize_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(text) if text.chars().any(is_unsafe) => *text = sanitize(text),
        serde_json::Value::Array(items) => items.iter_mut().for_each(sanitize_json),
        serde_json::Value::Object(map) => map.values_mut().for_each(sanitize_json),
        _ => {}
    }
}

/// One line of text being typed, edited as the sign-in fields and the events filter edit
/// it: printable characters add (up to `max`), Backspace takes the last one, Ctrl-U clears
/// the line and Ctrl-W the last word. `true` when the text changed.
pub fn edit_line(text: &mut String, key: crossterm::event::KeyEvent, max: usize) -> bool {
    use crossterm::event::{KeyCode, KeyModifiers};
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Backspace => text.pop().is_some(),
        KeyCode::Char('u') if ctrl => {
            let changed = !text.is_empty();
            text.clear();
            changed
        }
        KeyCode::Char('w') if ctrl => {
            let kept = text.trim_end().rfind(' ').map_or(0, |at| at + 1);
            let changed = kept < text.len();
            text.truncate(kept);
            changed
        }
        KeyCode::Char(ch) if !ctrl && !ch.is_control() && text.chars().count() < max => {
            text.push(ch);
            true
        }
        _ => false,
    }
}

/// The display width of text in terminal cells (wide characters count two).
pub fn width(text: &str) -> usize {
    UnicodeWidthStr::width(text)
}

/// Cuts text to at most `max` cells, ending with `…` when something was cut.
pub fn fit(text: &str, max: usize) -> String {
    if width(text) <= max {
        return text.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for ch in text.chars() {
        let w = UnicodeWidthChar::width(ch).unwrap_or(0);
        if used + w > max - 1 {
            break;
        }
        out.push(ch);
        used += w;
    }
    out.push('…');
    out
}

/// Pads (or cuts) text to exactly `cells` cells, left-aligned.
pub fn pad(text: &str, cells: usize) -> String {
    let fitted = fit(text, cells);
    let gap = cells.saturating_sub(width(&fitted));
    format!("{fitted}{}", " ".repeat(gap))
}

/// Pads (or cuts) text to exactly `cells` cells, right-aligned.
pub fn pad_left(text: &str, cells: usize) -> String {
    let fitted = fit(text, cells);
    let gap = cells.saturating_sub(width(&fitted));
    format!("{}{fitted}", " ".repeat(gap))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_edited_like_a_shell_line() {
        use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
        let plain = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        let ctrl = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);
        let mut text = String::new();
        for c in "late night jazz".chars() {
            assert!(edit_line(&mut text, plain(c), 100));
        }
        assert!(edit_line(&mut text, ctrl('w'), 100));
        assert_eq!(text, "late night ");
        assert!(edit_line(&mut text, ctrl('w'), 100));
        assert_eq!(text, "late ");
        assert!(edit_line(
            &mut text,
            KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE),
            100
        ));
        assert_eq!(text, "late");
        assert!(edit_line(&mut text, ctrl('u'), 100));
        assert!(text.is_empty());
        assert!(!edit_line(&mut text, ctrl('u'), 100));
        assert!(!edit_line(&mut text, plain('x'), 0), "at most max");
    }

    #[test]
    fn escape_sequences_and_bidi_controls_are_removed() {
        assert_eq!(sanitize("\u{1b}[31mred\u{1b}[0m"), "[31mred[0m");
        assert_eq!(sanitize("a\u{7}b\u{7f}c\u{9b}d"), "abcd");
        assert_eq!(sanitize("\u{202e}desrever\u{202c}"), "desrever");
        assert_eq!(sanitize("two\nlines\tand\u{2067}x"), "two lines andx");
        assert_eq!(sanitize("Café 🎷 日本"), "Café 🎷 日本");
    }

    #[test]
    fn json_is_sanitised_throughout() {
        let mut value = serde_json::json!({"a": ["\u{1b}[2Jx", {"b": "\u{200f}y"}], "n": 1});
        sanitize_json(&mut value);
        assert_eq!(
            value,
            serde_json::json!({"a": ["[2Jx", {"b": "y"}], "n": 1})
        );
    }

    #[test]
    fn fitting_counts_cells_not_bytes() {
        assert_eq!(fit("Wren Duo", 20), "Wren Duo");
        assert_eq!(fit("Wren Duo: Winter Songs", 10), "Wren Duo:…");
        assert_eq!(width(&fit("日本語のテキスト", 7)), 7);
        assert_eq!(fit("日本語のテキスト", 7), "日本語…");
        assert_eq!(fit("🎷🎷🎷", 4), "🎷…");
        assert_eq!(fit("abc", 0), "");
        assert_eq!(pad("日本", 6), "日本  ");
        assert_eq!(pad_left("£9.50", 8), "   £9.50");
    }
}
