//! A rendered buffer as an SVG picture, colours included: how the README's screenshots are
//! made from the app's own rendering.

use std::fmt::Write;

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

const CELL_WIDTH: f32 = 8.4;
const CELL_HEIGHT: f32 = 18.0;
const FONT_SIZE: f32 = 14.0;
const BACKGROUND: &str = "#1b1d23";
const FOREGROUND: &str = "#d8dee9";

/// The terminal palette the pictures are drawn with.
fn hex(color: Color, default: &'static str) -> String {
    let named = match color {
        Color::Reset => default,
        Color::Black => "#1b1d23",
        Color::Red => "#bf616a",
        Color::Green => "#a3be8c",
        Color::Yellow => "#ebcb8b",
        Color::Blue => "#5e81ac",
        Color::Magenta => "#b48ead",
        Color::Cyan => "#88c0d0",
        Color::Gray => "#aab1be",
        Color::DarkGray => "#4c566a",
        Color::LightRed => "#ff7b85",
        Color::LightGreen => "#b8e0a0",
        Color::LightYellow => "#ffe2a0",
        Color::LightBlue => "#81a1c1",
        Color::LightMagenta => "#d0a8e0",
        Color::LightCyan => "#a8e4f0",
        Color::White => "#eceff4",
        Color::Rgb(r, g, b) => return format!("#{r:02x}{g:02x}{b:02x}"),
        Color::Indexed(i) => return format!("#{i:02x}{i:02x}{i:02x}"),
    };
    named.to_owned()
}

/// Half and full blocks are drawn as rectangles: as font glyphs they leave gaps between rows,
/// which would stripe the QR codes. `(top, bottom)` halves filled.
fn block(symbol: &str) -> Option<(bool, bool)> {
    match symbol {
        "█" => Some((true, true)),
        "▀" => Some((true, false)),
        "▄" => Some((false, true)),
        _ => None,
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Draws every cell: backgrounds as rectangles, text in runs of one style.
pub fn to_svg(buffer: &Buffer) -> String {
    let area = buffer.area;
    let (width, height) = (
        area.width as f32 * CELL_WIDTH,
        area.height as f32 * CELL_HEIGHT,
    );
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {width:.1} {height:.1}\" font-family=\"DejaVu Sans Mono, Menlo, Consolas, monospace\" \
         font-size=\"{FONT_SIZE}\" shape-rendering=\"crispEdges\">\n<rect width=\"100%\" height=\"100%\" fill=\"{BACKGROUND}\"/>\n"
    );
    // Blocks go over the backgrounds, so they are written last.
    let mut blocks = String::new();
    for y in 0..area.height {
        let mut x = 0;
        while x < area.width {
            let cell = &buffer[(area.x + x, area.y + y)];
            let reversed = cell.modifier.contains(Modifier::REVERSED);
            let (fg, bg) = if reversed {
                (hex(cell.bg, BACKGROUND), hex(cell.fg, FOREGROUND))
            } else {
                (hex(cell.fg, FOREGROUND), hex(cell.bg, BACKGROUND))
            };
            // A run: the following cells of the same colours and emphasis.
            let mut run = String::new();
            let start = x;
            while x < area.width {
                let next = &buffer[(area.x + x, area.y + y)];
                if next.fg != cell.fg || next.bg != cell.bg || next.modifier != cell.modifier {
                    break;
                }
                match block(next.symbol()) {
                    Some((top, bottom)) => {
                        let fill = if reversed {
                            hex(next.bg, BACKGROUND)
                        } else {
                            hex(next.fg, FOREGROUND)
                        };
                        let (bx, by) = (
                            (area.x + x - area.x) as f32 * CELL_WIDTH,
                            y as f32 * CELL_HEIGHT,
                        );
                        let half = CELL_HEIGHT / 2.0;
                        let (ry, rh) = match (top, bottom) {
                            (true, true) => (by, CELL_HEIGHT),
                            (true, false) => (by, half),
                            _ => (by + half, half),
                        };
                        let _ = writeln!(
                            blocks,
                            // A little overlap so that neighbouring blocks leave no hairline gaps.
                            "<rect x=\"{bx:.1}\" y=\"{ry:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{fill}\"/>",
                            CELL_WIDTH + 0.5,
                            rh + 0.5
                        );
                        run.push(' ');
                    }
                    None => run.push_str(next.symbol()),
                }
                x += 1;
            }
            let (px, py) = (start as f32 * CELL_WIDTH, y as f32 * CELL_HEIGHT);
            let cells = (x - start) as f32;
            if bg != BACKGROUND {
                let _ = writeln!(
                    svg,
                    "<rect x=\"{px:.1}\" y=\"{py:.1}\" width=\"{:.1}\" height=\"{CELL_HEIGHT}\" fill=\"{bg}\"/>",
                    cells * CELL_WIDTH
                );
            }
            if run.trim().is_empty() {
                continue;
            }
            let weight = if cell.modifier.contains(Modifier::BOLD) {
                " font-weight=\"bold\""
            } else {
                ""
            };
            let underline = if cell.modifier.contains(Modifier::UNDERLINED) {
                " text-decoration=\"underline\""
            } else {
                ""
            };
            let _ = writeln!(
                svg,
                "<text x=\"{px:.1}\" y=\"{:.1}\" fill=\"{fg}\"{weight}{underline} textLength=\"{:.1}\" \
                 lengthAdjust=\"spacingAndGlyphs\" xml:space=\"preserve\">{}</text>",
                py + CELL_HEIGHT * 0.75,
                cells * CELL_WIDTH,
                escape(&run)
            );
        }
    }
    svg.push_str(&blocks);
    svg.push_str("</svg>\n");
    svg
}

/// Renders a state of the app to an SVG picture of its size.
pub fn picture(app: &crate::app::App) -> String {
    let (width, height) = app.size;
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(width, height))
        .expect("a test terminal");
    let frame = terminal
        .draw(|frame| super::view(app, frame))
        .expect("drawing to memory cannot fail");
    to_svg(frame.buffer)
}
