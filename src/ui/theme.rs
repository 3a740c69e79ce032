//! Colours and emphasis: dark, light, and mono (also for `NO_COLOR`).

use ratatui::style::{Color, Modifier, Style};

use crate::config::ThemeName;

#[derive(Clone, Copy, Debug)]
pub struct Theme {
    pub base: Style,
    pub header: Style,
    pub title: Style,
    pub muted: Style,
    pub accent: Style,
    pub selected: Style,
    pub key: Style,
    pub warn: Style,
    pub error: Style,
    pub success: Style,
    pub field: Style,
    pub field_focused: Style,
}

impl Theme {
    /// The theme; a kiosk gets high contrast (no dimmed text) whatever the theme.
    pub fn new(name: ThemeName, kiosk: bool) -> Theme {
        let theme = Theme::named(name);
        if kiosk {
            Theme {
                muted: theme.base.add_modifier(Modifier::BOLD),
                ..theme
            }
        } else {
            theme
        }
    }

    fn named(name: ThemeName) -> Theme {
        let bold = Modifier::BOLD;
        match name {
            ThemeName::Dark => Theme {
                base: Style::new(),
                header: Style::new().fg(Color::Black).bg(Color::Cyan),
                title: Style::new().fg(Color::Cyan).add_modifier(bold),
                muted: Style::new().fg(Color::Gray),
                accent: Style::new().fg(Color::Cyan),
                selected: Style::new()
                    .fg(Color::Black)
                    .bg(Color::LightCyan)
                    .add_modifier(bold),
                key: Style::new().fg(Color::Yellow).add_modifier(bold),
                warn: Style::new().fg(Color::LightYellow).add_modifier(bold),
                error: Style::new().fg(Color::LightRed).add_modifier(bold),
                success: Style::new().fg(Color::LightGreen).add_modifier(bold),
                field: Style::new().fg(Color::White).bg(Color::DarkGray),
                field_focused: Style::new().fg(Color::Black).bg(Color::White),
            },
            ThemeName::Light => Theme {
                base: Style::new(),
                header: Style::new().fg(Color::White).bg(Color::Blue),
                title: Style::new().fg(Color::Blue).add_modifier(bold),
                muted: Style::new().fg(Color::DarkGray),
                accent: Style::new().fg(Color::Blue),
                selected: Style::new()
                    .fg(Color::White)
                    .bg(Color::Blue)
                    .add_modifier(bold),
                key: Style::new().fg(Color::Magenta).add_modifier(bold),
                warn: Style::new().fg(Color::Red).add_modifier(bold),
                error: Style::new().fg(Color::Red).add_modifier(bold),
                success: Style::new().fg(Color::Green).add_modifier(bold),
                field: Style::new().fg(Color::Black).bg(Color::Gray),
                field_focused: Style::new()
                    .fg(Color::Black)
                    .bg(Color::White)
                    .add_modifier(Modifier::UNDERLINED),
            },
            ThemeName::Mono => Theme {
                base: Style::new(),
                header: Style::new().add_modifier(Modifier::REVERSED),
                title: Style::new().add_modifier(bold),
                muted: Style::new(),
                accent: Style::new(),
                selected: Style::new().add_modifier(Modifier::REVERSED | bold),
                key: Style::new().add_modifier(bold),
                warn: Style::new().add_modifier(bold),
                error: Style::new().add_modifier(bold),
                success: Style::new().add_modifier(bold),
                field: Style::new().add_modifier(Modifier::UNDERLINED),
                field_focused: Style::new().add_modifier(Modifier::REVERSED),
            },
        }
    }
}
