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

/// One line of text being typed, with a cursor: the sign-in fields and the filters.
/// Printable characters go in at the cursor (up to a length), Backspace and Delete take the
/// character before and under it, Left, Right, Home and End (Ctrl-A, Ctrl-E) move it,
/// Ctrl-U clears what is before it and Ctrl-W the word before it.
///
/// It reads as the `String` it holds; the cursor is kept as the number of characters after
/// it, so that text set or cleared from outside leaves the cursor at the end.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineInput {
    text: String,
    /// Characters after the cursor.
    after: usize,
}

impl LineInput {
    /// The cursor as a byte index into the text.
    fn cursor(&self) -> usize {
        let chars = self.text.chars().count();
        let at = chars - self.after.min(chars);
        self.text
            .char_indices()
            .nth(at)
            .map_or(self.text.len(), |(i, _)| i)
    }

    /// Characters before the cursor.
    fn before(&self) -> usize {
        self.text.chars().count() - self.after.min(self.text.chars().count())
    }

    /// Applies a key; `true` when the text changed.
    pub fn edit(&mut self, key: crossterm::event::KeyEvent, max: usize) -> bool {
        use crossterm::event::{KeyCode, KeyModifiers};
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let count = self.text.chars().count();
        self.after = self.after.min(count);
        let cursor = self.cursor();
        match key.code {
            KeyCode::Left => {
                self.after = (self.after + 1).min(count);
                false
            }
            KeyCode::Right => {
                self.after = self.after.saturating_sub(1);
                false
            }
            KeyCode::Home => {
                self.after = count;
                false
            }
            KeyCode::Char('a') if ctrl => {
                self.after = count;
                false
            }
            KeyCode::End => {
                self.after = 0;
                false
            }
            KeyCode::Char('e') if ctrl => {
                self.after = 0;
                false
            }
            KeyCode::Backspace => match self.text[..cursor].chars().next_back() {
                Some(ch) => {
                    self.text.replace_range(cursor - ch.len_utf8()..cursor, "");
                    true
                }
                None => false,
            },
            KeyCode::Delete => match self.text[cursor..].chars().next() {
                Some(ch) => {
                    self.text.replace_range(cursor..cursor + ch.len_utf8(), "");
                    self.after -= 1;
                    true
                }
                None => false,
            },
            KeyCode::Char('u') if ctrl => {
                self.text.replace_range(..cursor, "");
                cursor > 0
            }
            KeyCode::Char('w') if ctrl => {
                let head = &self.text[..cursor];
                let kept = head.trim_end().rfind(' ').map_or(0, |at| at + 1);
                self.text.replace_range(kept..cursor, "");
                kept < cursor
            }
            KeyCode::Char(ch) if !ctrl && !ch.is_control() && count < max => {
                self.text.insert(cursor, ch);
                true
            }
            _ => false,
        }
    }

    /// The text with `▏` at the cursor, for the field that has the focus; `mask` stands for
    /// each character (a password's `•`).
    pub fn with_cursor(&self, mask: Option<char>) -> String {
        let shown: String = match mask {
            Some(mask) => std::iter::repeat_n(mask, self.text.chars().count()).collect(),
            None => self.text.clone(),
        };
        let at = self.before();
        let mut out: String = shown.chars().take(at).collect();
        out.push('▏');
        out.extend(shown.chars().skip(at));
        out
    }
}

impl LineInput {
    /// [`with_cursor`](Self::with_cursor) in at most `cells` cells: a long text shows the part
    /// around the cursor, where the typing happens.
    pub fn window(&self, mask: Option<char>, cells: usize) -> String {
        let shown = self.with_cursor(mask);
        if width(&shown) <= cells {
            return shown;
        }
        let cursor = shown.chars().position(|c| c == '▏').unwrap_or(0);
        let skip = (cursor + 1).saturating_sub(cells);
        shown.chars().skip(skip).take(cells).collect()
    }
}

impl std::ops::Deref for LineInput {
    type Target = String;

    fn deref(&self) -> &String {
        &self.text
    }
}

impl std::ops::DerefMut for LineInput {
    /// Text changed from outside: the cursor goes to its end.
    fn deref_mut(&mut self) -> &mut String {
        self.after = 0;
        &mut self.text
    }
}

impl From<&str> for LineInput {
    fn from(text: &str) -> LineInput {
        LineInput {
            text: text.to_owned(),
            after: 0,
        }
    }
}

impl From<String> for LineInput {
    fn from(text: String) -> LineInput {
        LineInput { text, after: 0 }
    }
}

impl PartialEq<&str> for LineInput {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

impl PartialEq<str> for LineInput {
    fn eq(&self, other: &str) -> bool {
        self.text == other
    }
}

impl std::fmt::Display for LineInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Words wrapped into lines at most `max` cells wide, as evenly as the words allow: as many
/// lines as a plain wrap needs, none of them left with one short word.
pub fn balanced_lines(text: &str, max: usize) -> Vec<String> {
    let wrap = |limit: usize| {
        let mut lines: Vec<String> = Vec::new();
        for word in text.split_whitespace() {
            match lines.last_mut() {
                Some(line) if width(line) + 1 + width(word) <= limit => {
                    line.push(' ');
                    line.push_str(word);
                }
                _ => lines.push(word.to_owned()),
            }
        }
        lines
    };
    let max = max.max(1);
    let plain = wrap(max);
    let count = plain.len().max(1);
    let even = width(text).div_ceil(count);
    (even..max)
        .map(wrap)
        .find(|lines| lines.len() <= count)
        .unwrap_or(plain)
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
        let key = |code| KeyEvent::new(code, KeyModifiers::NONE);
        let mut text = LineInput::default();
        for c in "late night jazz".chars() {
            assert!(text.edit(plain(c), 100));
        }
        assert!(text.edit(ctrl('w'), 100));
        assert_eq!(text, "late night ");
        assert!(text.edit(ctrl('w'), 100));
        assert_eq!(text, "late ");
        assert!(text.edit(key(KeyCode::Backspace), 100));
        assert_eq!(text, "late");
        assert!(text.edit(ctrl('u'), 100));
        assert!(text.is_empty());
        assert!(!text.edit(ctrl('u'), 100));
        assert!(!text.edit(plain('x'), 0), "at most max");
    }

    #[test]
    fn the_cursor_moves_and_typing_goes_in_where_it_is() {
        use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
        let plain = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        let ctrl = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);
        let key = |code| KeyEvent::new(code, KeyModifiers::NONE);
        let mut text = LineInput::from("dem@exämple.com");
        assert_eq!(text.with_cursor(None), "dem@exämple.com▏");
        // Home, three to the right, and the missing letter goes in.
        assert!(!text.edit(key(KeyCode::Home), 100));
        for _ in 0..3 {
            text.edit(key(KeyCode::Right), 100);
        }
        assert!(text.edit(plain('o'), 100));
        assert_eq!(text, "demo@exämple.com");
        assert_eq!(text.with_cursor(None), "demo▏@exämple.com");
        // Delete takes what is under the cursor; Backspace what is before it.
        assert!(text.edit(key(KeyCode::Delete), 100));
        assert_eq!(text, "demoexämple.com");
        assert!(text.edit(key(KeyCode::Backspace), 100));
        assert_eq!(text, "demexämple.com");
        // Moving past either end stays at it; End and Ctrl-A, Ctrl-E.
        for _ in 0..40 {
            text.edit(key(KeyCode::Left), 100);
        }
        assert!(!text.edit(key(KeyCode::Backspace), 100));
        assert_eq!(text.with_cursor(None), "▏demexämple.com");
        text.edit(ctrl('e'), 100);
        text.edit(key(KeyCode::Left), 100);
        text.edit(key(KeyCode::Left), 100);
        text.edit(key(KeyCode::Left), 100);
        text.edit(key(KeyCode::Left), 100);
        // Ctrl-U clears what is before the cursor only.
        assert!(text.edit(ctrl('u'), 100));
        assert_eq!(text, ".com");
        text.edit(ctrl('a'), 100);
        assert_eq!(text.with_cursor(Some('•')), "▏••••");
        // Text set from outside leaves the cursor at its end.
        text.clear();
        text.push_str("abc");
        assert_eq!(text.with_cursor(None), "abc▏");
    }

    #[test]
    fn wrapped_lines_are_balanced() {
        let error = "Cannot reach http://127.0.0.1:8080. Check the address and your connection.";
        let lines = balanced_lines(error, 56);
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|l| width(l) <= 56));
        let (a, b) = (width(&lines[0]), width(&lines[1]));
        assert!(a.abs_diff(b) <= 12, "{lines:?}");
        assert_eq!(balanced_lines("Short.", 56), ["Short."]);
        assert_eq!(lines.join(" "), error);
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
