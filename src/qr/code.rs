//! The QR code itself: its modules, the bare code as a PNG, and the code drawn into a
//! poster's square.

use anyhow::Context;
pub use fast_qr::ECL as EcLevel;

/// Error correction of poster codes: level Q restores up to 25 % of the code, enough for a
/// scuffed, taped-over or glare-struck poster in a stairwell, and a URL of about 60 bytes
/// still fits version 5 (37 × 37 modules), about 2.4 mm a module on the A4 poster.
pub const POSTER_EC: EcLevel = EcLevel::Q;
/// Light modules around the code on every side: the standard's minimum of 4, which phone
/// scanners need to find the finder patterns against a busy door.
pub const QUIET_ZONE: u32 = 4;

/// Where a template's QR code goes, in its user units.
#[derive(Debug, Clone, Copy)]
pub struct QrBox {
    pub x: f64,
    pub y: f64,
    pub size: f64,
}

/// A QR code's modules, row by row: `true` is dark.
#[derive(Debug, Clone)]
pub struct Matrix {
    /// Modules a side (without the quiet zone).
    pub size: usize,
    dark: Vec<bool>,
}

impl Matrix {
    /// The code of `data` at error-correction level `ec`, the smallest version that holds it.
    pub fn encode(data: &str, ec: EcLevel) -> anyhow::Result<Self> {
        let code = fast_qr::QRBuilder::new(data.as_bytes())
            .ecl(ec)
            .build()
            .map_err(|e| anyhow::anyhow!("the URL does not fit in a QR code: {e:?}"))?;
        let size = code.size;
        let dark = code.data[..size * size].iter().map(|m| m.value()).collect();
        Ok(Self { size, dark })
    }

    /// Whether the module at column `x`, row `y` is dark.
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        self.dark[y * self.size + x]
    }
}

/// Pixels per QR module of the bare code: one byte of a 1-bit row per module.
const MODULE_PX: usize = 8;
/// Light modules around the bare code (the standard's minimum).
const BARE_QUIET_ZONE: usize = 4;

/// The bare QR code of `url` as a black-and-white PNG (1 bit a pixel), 8 pixels a module,
/// with the 4-module quiet zone, at error-correction level `ec`.
pub fn qr_png_with(url: &str, ec: EcLevel) -> anyhow::Result<Vec<u8>> {
    let code = Matrix::encode(url, ec)?;
    let n = code.size;
    let modules = n + 2 * BARE_QUIET_ZONE;
    let side = modules * MODULE_PX;
    // A module is exactly one byte of a 1-bit row: white 0xFF, black 0x00.
    let mut pixels = Vec::with_capacity(modules * side);
    let mut row = vec![0xFF_u8; modules];
    for y in 0..modules {
        row.fill(0xFF);
        if (BARE_QUIET_ZONE..BARE_QUIET_ZONE + n).contains(&y) {
            for x in 0..n {
                if code.is_dark(x, y - BARE_QUIET_ZONE) {
                    row[x + BARE_QUIET_ZONE] = 0x00;
                }
            }
        }
        for _ in 0..MODULE_PX {
            pixels.extend_from_slice(&row);
        }
    }
    let mut out = Vec::with_capacity(pixels.len() / 8);
    let mut encoder = png::Encoder::new(&mut out, side as u32, side as u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    let mut writer = encoder.write_header().context("encoding the PNG")?;
    writer
        .write_image_data(&pixels)
        .context("encoding the PNG")?;
    writer.finish().context("encoding the PNG")?;
    Ok(out)
}

/// The QR code of `url` as SVG drawn in `square`: a white square with the quiet zone, then
/// one path of dark modules.
pub(super) fn qr_svg(url: &str, square: QrBox) -> anyhow::Result<String> {
    let code = Matrix::encode(url, POSTER_EC)?;
    let modules = code.size as u32;
    let side = modules + 2 * QUIET_ZONE;
    let unit = square.size / f64::from(side);
    let mut path = String::with_capacity(code.size * code.size * 8);
    for y in 0..code.size {
        for x in 0..code.size {
            if code.is_dark(x, y) {
                let (x, y) = (x as u32 + QUIET_ZONE, y as u32 + QUIET_ZONE);
                path.push_str(&format!("M{x} {y}h1v1h-1z"));
            }
        }
    }
    Ok(format!(
        r##"<g transform="translate({} {}) scale({unit})"><rect width="{side}" height="{side}" fill="#ffffff"/><path d="{path}" fill="#000000" shape-rendering="crispEdges"/></g>"##,
        square.x, square.y
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bare_code_is_a_png_of_whole_modules() {
        let url = "http://127.0.0.1:8080/q/AAAAAAAAAAAAAAAAAAAAAAAA";
        let png = qr_png_with(url, EcLevel::Q).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let img = image::load_from_memory(&png).unwrap().to_luma8();
        assert_eq!(img.width() as usize % MODULE_PX, 0);
        assert_eq!(img.width(), img.height());
        // Level Q, 48 bytes of URL: version 5, 37 modules, and the quiet zone.
        assert_eq!(Matrix::encode(url, EcLevel::Q).unwrap().size, 37);
        assert_eq!(img.width() as usize, (37 + 8) * MODULE_PX);
        let mut prepared = rqrr::PreparedImage::prepare(img);
        let (_, text) = prepared.detect_grids()[0].decode().unwrap();
        assert_eq!(text, url);
    }
}
