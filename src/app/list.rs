//! Selection and scrolling of a list, kept in the model so that clicks can be mapped to rows.

use super::keys::Action;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ListState {
    pub selected: usize,
    /// The first row shown.
    pub offset: usize,
}

impl ListState {
    /// Selects `index` (clamped to the list) and scrolls so that it shows in `visible` rows.
    pub fn select(&mut self, index: usize, len: usize, visible: usize) {
        self.selected = index.min(len.saturating_sub(1));
        self.scroll_into_view(len, visible);
    }

    pub fn move_by(&mut self, delta: isize, len: usize, visible: usize) {
        let target = self.selected.saturating_add_signed(delta);
        self.select(target, len, visible);
    }

    pub fn scroll_into_view(&mut self, len: usize, visible: usize) {
        let visible = visible.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + visible {
            self.offset = self.selected + 1 - visible;
        }
        // Never leave empty rows below the end when the list could fill them.
        self.offset = self.offset.min(len.saturating_sub(visible));
    }

    /// Moves the selection as a list key asks; `false` for an action that is not a move.
    pub fn navigate(&mut self, action: Action, len: usize, visible: usize) -> bool {
        let page = visible.max(1) as isize;
        match action {
            Action::Up => self.move_by(-1, len, visible),
            Action::Down => self.move_by(1, len, visible),
            Action::PageUp => self.move_by(-page, len, visible),
            Action::PageDown => self.move_by(page, len, visible),
            Action::Home => self.select(0, len, visible),
            Action::End => self.select(len.saturating_sub(1), len, visible),
            _ => return false,
        }
        true
    }

    /// The row under a click `row` rows below the list's top, if there is one.
    pub fn row_at(&self, row: usize, len: usize) -> Option<usize> {
        let index = self.offset + row;
        (index < len).then_some(index)
    }
}

/// Scrolls a list of rows (some of them headings) so that row `at` shows, with row `top`
/// (its heading, or itself) when there is room.
pub fn follow_rows(offset: &mut usize, top: usize, at: usize, rows: usize, visible: usize) {
    let visible = visible.max(1);
    if top < *offset {
        *offset = top;
    } else if at >= *offset + visible {
        *offset = at + 1 - visible;
    }
    *offset = (*offset).min(rows.saturating_sub(visible));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_stays_visible_and_in_range() {
        let mut list = ListState::default();
        list.move_by(1, 10, 3);
        list.move_by(1, 10, 3);
        list.move_by(1, 10, 3);
        assert_eq!((list.selected, list.offset), (3, 1));
        list.move_by(100, 10, 3);
        assert_eq!((list.selected, list.offset), (9, 7));
        list.move_by(-100, 10, 3);
        assert_eq!((list.selected, list.offset), (0, 0));
        list.select(5, 0, 3);
        assert_eq!((list.selected, list.offset), (0, 0));
        assert_eq!(list.row_at(2, 10), Some(2));
        assert_eq!(list.row_at(2, 2), None);
    }
}
