//! QR codes drawn with half blocks: two modules per character cell, the quiet zone kept.

use qrcode::{Color as Module, EcLevel, QrCode};

/// The quiet zone around the code, in modules, as the standard asks.
pub(super) const QUIET: usize = 4;

/// The code as lines of `█ ▀ ▄` and spaces (dark = drawn), each line two module rows.
pub fn qr_lines(data: &str) -> Option<Vec<String>> {
    qr_lines_with_quiet(data, QUIET)
}

/// The same with a narrower quiet zone, for a screen that has no room for the full one
/// (phones read a code with two modules of it).
pub fn qr_lines_with_quiet(data: &str, quiet_zone: usize) -> Option<Vec<String>> {
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::L).ok()?;
    let width = code.width();
    let modules = code.to_colors();
    let size = width + 2 * quiet_zone;
    let dark = |x: usize, y: usize| -> bool {
        if x < quiet_zone || y < quiet_zone || x >= width + quiet_zone || y >= width + quiet_zone {
            return false;
        }
        modules[(y - quiet_zone) * width + (x - quiet_zone)] == Module::Dark
    };
    let mut lines = Vec::with_capacity(size.div_ceil(2));
    for y in (0..size).step_by(2) {
        let line = (0..size)
            .map(|x| match (dark(x, y), dark(x, y + 1)) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            })
            .collect();
        lines.push(line);
    }
    Some(lines)
}

/// Cells a QR code of `data` needs: (columns, lines).
pub fn qr_size(data: &str) -> Option<(u16, u16)> {
    let lines = qr_lines(data)?;
    let width = lines.first().map_or(0, |l| l.chars().count());
    Some((width as u16, lines.len() as u16))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Reads the drawn code back as a picture and decodes it, as a phone's camera would.
    pub fn decode(lines: &[String]) -> String {
        let scale = 4;
        let columns = lines[0].chars().count();
        let rows = lines.len() * 2;
        let grid: Vec<Vec<bool>> = lines
            .iter()
            .flat_map(|line| {
                let (top, bottom): (Vec<bool>, Vec<bool>) = line
                    .chars()
                    .map(|ch| match ch {
                        '█' => (true, true),
                        '▀' => (true, false),
                        '▄' => (false, true),
                        _ => (false, false),
                    })
                    .unzip();
                [top, bottom]
            })
            .collect();
        let mut image =
            rqrr::PreparedImage::prepare_from_greyscale(columns * scale, rows * scale, |x, y| {
                if grid[y / scale][x / scale] { 0 } else { 255 }
            });
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1, "one code is found");
        grids[0].decode().expect("the code decodes").1
    }

    #[test]
    fn the_drawn_code_decodes_back_to_the_address() {
        let url = "http://127.0.0.1:8080/sumup-sandbox/pay/6f1c1a52-77c4-4bd6-8e45-0a9b1f3c2d11";
        let lines = qr_lines(url).unwrap();
        assert_eq!(decode(&lines), url);
        let (width, height) = qr_size(url).unwrap();
        assert_eq!(width as usize, lines[0].chars().count());
        assert_eq!(height as usize, lines.len());
    }

    #[test]
    fn the_quiet_zone_is_kept() {
        let lines = qr_lines("7KQ2-M9XD").unwrap();
        assert!(lines[0].chars().all(|c| c == ' '), "top quiet rows");
        assert!(
            lines
                .iter()
                .all(|l| l.starts_with("    ") && l.ends_with("    "))
        );
        assert_eq!(decode(&lines), "7KQ2-M9XD");
    }
}
