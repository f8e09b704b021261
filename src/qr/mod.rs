//! QR codes and posters.

pub mod batch;
pub mod pdf;
pub mod poster;

use anyhow::Context;
use image::{ImageFormat, Luma};
use qrcode::{EcLevel, QrCode};

/// Pixels per QR module of the bare code.
const MODULE_PX: u32 = 8;

/// The bare QR code of `url` as a PNG.
///
/// Level M (15 % recovery) keeps a ~60-character URL at version 4 (33×33 modules): large
/// modules for a phone camera in a dim stairwell, with enough redundancy for a scuffed
/// sticker. The standard 4-module quiet zone is kept.
pub fn qr_png(url: &str) -> anyhow::Result<Vec<u8>> {
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M)
        .context("the URL does not fit in a QR code")?;
    let image = code
        .render::<Luma<u8>>()
        .quiet_zone(true)
        .module_dimensions(MODULE_PX, MODULE_PX)
        .build();
    let mut out = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut out, ImageFormat::Png)
        .context("encoding the PNG")?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bare_code_is_a_png_of_whole_modules() {
        let png = qr_png("http://127.0.0.1:8080/q/AAAAAAAAAAAAAAAAAAAAAAAA").unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let img = image::load_from_memory(&png).unwrap();
        assert_eq!(img.width() % MODULE_PX, 0);
        assert_eq!(img.width(), img.height());
    }
}
