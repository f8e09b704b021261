//! Public tips (线索举报): what a tip may say, its triage states, its reference number and
//! its photo.

use std::io::Cursor;

use chrono::NaiveDate;
use image::{ImageDecoder, ImageFormat, ImageReader};

use super::{FieldError, has_control};
use crate::wire_enum;

wire_enum!(
    /// What a tip reports.
    Category {
        DailyRental = "daily_rental" / "日租房",
        GroupRental = "group_rental" / "群租房",
        Unregistered = "unregistered" / "住户未登记",
        IllegalWiring = "illegal_wiring" / "私搭乱接",
        StructuralAlteration = "structural_alteration" / "改变房屋结构",
        Other = "other" / "其他",
    }
);

wire_enum!(
    /// Where a tip stands with staff.
    TipState {
        New = "new" / "待处理",
        Checking = "checking" / "已派上门核查",
        Closed = "closed" / "已办结",
        Dismissed = "dismissed" / "不予处理",
    }
);

impl TipState {
    /// How the state reads to the person who sent the tip, looking it up by its reference.
    pub fn public_label_zh(self) -> &'static str {
        match self {
            TipState::New => "已收到，等待处理",
            TipState::Checking => "已派员上门核查",
            TipState::Closed => "已核查办结",
            TipState::Dismissed => "已处理，不予立案",
        }
    }
}

/// A tip's reference number, `TIP-20261204-0042`: the local date it was received and its
/// place in that day's sequence, 4 digits or more. Only the canonical form parses, so one
/// tip has one way to be written (after full-width folding and upper-casing).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TipReference(String);

/// Characters of a tip's check: no 0/O or 1/I to misread when it is read out on the phone.
pub const CHECK_ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
/// Characters in a tip's check (30 bits).
pub const CHECK_CHARS: usize = 6;

impl TipReference {
    /// The reference of the `seq`-th tip (from 1) received on local `day`.
    pub fn new(day: NaiveDate, seq: i64) -> Self {
        Self(format!("TIP-{}-{seq:04}", day.format("%Y%m%d")))
    }

    /// A reference as someone typed it, or `None` if it cannot be one.
    pub fn parse(raw: &str) -> Option<Self> {
        if raw.chars().count() > 40 {
            return None;
        }
        let folded = super::fold_width(raw).to_ascii_uppercase();
        let rest = folded.strip_prefix("TIP-")?;
        let (day, seq) = rest.split_once('-')?;
        if day.len() != 8 || !seq.bytes().all(|b| b.is_ascii_digit()) || seq.len() > 9 {
            return None;
        }
        let day = NaiveDate::parse_from_str(day, "%Y%m%d").ok()?;
        let seq: i64 = seq.parse().ok().filter(|n| *n > 0)?;
        Some(Self::new(day, seq)).filter(|r| r.0 == folded)
    }

    /// A receipt as someone typed it, `TIP-20261204-0042-K7QD9X`: the reference and the
    /// check its sender holds (not verified here), or `None` if it cannot be one.
    pub fn parse_receipt(raw: &str) -> Option<(Self, String)> {
        let folded = super::fold_width(raw).to_ascii_uppercase();
        let (reference, check) = folded.rsplit_once('-')?;
        let fits = check.len() == CHECK_CHARS && check.bytes().all(|b| CHECK_ALPHABET.contains(&b));
        fits.then_some(())?;
        Some((Self::parse(reference)?, check.to_string()))
    }

    /// The date part, `YYYYMMDD`, as the per-day counter is keyed.
    pub fn day_key(day: NaiveDate) -> String {
        day.format("%Y%m%d").to_string()
    }
}

impl AsRef<str> for TipReference {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for TipReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Part of a reference as staff type it into a search (`0042`, `20261204`, a whole one):
/// folded and upper-cased, or `None` if it holds anything a reference cannot.
pub fn reference_fragment(raw: &str) -> Option<String> {
    let folded = super::fold_width(raw).to_ascii_uppercase();
    let fits = !folded.is_empty()
        && folded.len() <= 24
        && folded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    fits.then_some(folded)
}

/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1_000;
/// Largest photo accepted, in bytes, before re-encoding.
pub const MAX_PHOTO_BYTES: usize = 8 * 1024 * 1024;
/// Longest side of a stored photo, in pixels: enough to see a door or a notice.
const STORED_SIDE: u32 = 1_600;
/// Largest picture decoded, in pixels per side.
pub const MAX_DECODED_SIDE: u32 = 10_000;
/// Largest picture decoded, in bytes of pixels (width × height × bytes per pixel): a
/// 4,000 × 4,000 phone photo with an alpha channel. A few hundred kilobytes of PNG can
/// declare far more, so the header is checked against this before any pixel is decoded;
/// with two decodes at a time and a turned copy each, a photo bomb costs at most a few
/// hundred megabytes.
pub const MAX_DECODED_BYTES: u64 = 4_000 * 4_000 * 4;

/// A checked description: trimmed, not empty, not too long; line breaks allowed.
pub fn parse_description(raw: &str) -> Result<String, FieldError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(FieldError::new(
            "description",
            "required",
            "请描述您看到的情况",
            "Please describe what you saw",
        ));
    }
    let bad_control = text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r');
    if text.chars().count() > MAX_DESCRIPTION_CHARS || bad_control {
        return Err(FieldError::new(
            "description",
            "format",
            "描述过长（最多 1000 字）或含有无效字符",
            "The description is too long (1,000 characters at most) or has invalid characters",
        ));
    }
    Ok(text.to_string())
}

/// Whether a free-text one-line field is acceptable (the address of a tip, a note).
pub fn one_line(text: &str, max_chars: usize) -> bool {
    text.chars().count() <= max_chars && !has_control(text)
}

/// Why a photo is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PhotoError {
    #[error("{}", self.field().message_zh)]
    TooLarge,
    #[error("{}", self.field().message_zh)]
    TooManyPixels,
    #[error("{}", self.field().message_zh)]
    NotJpegOrPng,
    #[error("{}", self.field().message_zh)]
    Unreadable,
}

impl PhotoError {
    /// The rejected field.
    pub fn field(self) -> FieldError {
        let (code, zh, en) = match self {
            PhotoError::TooLarge => (
                "too_large",
                "照片过大（最多 8 MB）",
                "The photo is over 8 MB",
            ),
            PhotoError::TooManyPixels => (
                "too_many_pixels",
                "照片像素过多（最多约 1600 万像素，每边最多 10000 像素），请缩小后再上传",
                "The photo has too many pixels (about 16 megapixels, 10,000 px a side at most)",
            ),
            PhotoError::NotJpegOrPng => (
                "format",
                "照片只能是 JPEG 或 PNG 格式",
                "The photo must be a JPEG or PNG",
            ),
            PhotoError::Unreadable => (
                "unreadable",
                "照片无法打开，可能已损坏",
                "The photo cannot be read",
            ),
        };
        FieldError::new("photo", code, zh, en)
    }
}

/// Checks a photo by its content (not its name), turns it upright, shrinks it to a stored
/// size, and re-encodes it as a fresh JPEG, which carries no EXIF block: no GPS position, no
/// camera, no time. CPU work: call it off the async workers.
pub fn reencode_photo(bytes: &[u8]) -> Result<Vec<u8>, PhotoError> {
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(PhotoError::TooLarge);
    }
    let format = image::guess_format(bytes).map_err(|_| PhotoError::NotJpegOrPng)?;
    if !matches!(format, ImageFormat::Jpeg | ImageFormat::Png) {
        return Err(PhotoError::NotJpegOrPng);
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_DECODED_SIDE);
    limits.max_image_height = Some(MAX_DECODED_SIDE);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(refusal)?;
    // The decoder has read the header only: refuse by the declared size, before the pixels
    // are allocated (the decoding itself does not hold to `max_alloc`).
    let (width, height) = decoder.dimensions();
    if width.max(height) > MAX_DECODED_SIDE || decoder.total_bytes() > MAX_DECODED_BYTES {
        return Err(PhotoError::TooManyPixels);
    }
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut picture = image::DynamicImage::from_decoder(decoder).map_err(refusal)?;
    picture.apply_orientation(orientation);
    if picture.width().max(picture.height()) > STORED_SIDE {
        picture = picture.resize(
            STORED_SIDE,
            STORED_SIDE,
            image::imageops::FilterType::Triangle,
        );
    }
    let rgb = picture.to_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 82)
        .encode_image(&rgb)
        .map_err(|_| PhotoError::Unreadable)?;
    Ok(out)
}

/// A decoding error as a refusal: a limit of the decoder's is the photo's size.
fn refusal(err: image::ImageError) -> PhotoError {
    match err {
        image::ImageError::Limits(_) => PhotoError::TooManyPixels,
        _ => PhotoError::Unreadable,
    }
}

/// A small JPEG with an EXIF block holding a GPS position, as phones write it: for the tests
/// of the re-encoding, here and through HTTP.
#[doc(hidden)]
pub fn sample_jpeg_with_gps() -> Vec<u8> {
    let picture =
        image::RgbImage::from_fn(40, 30, |x, y| image::Rgb([x as u8 * 6, y as u8 * 8, 90]));
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new(&mut plain)
        .encode_image(&picture)
        .unwrap();
    // APP1 "Exif\0\0" with a tiny TIFF whose text says where the photo was taken.
    let mut exif = b"Exif\0\0II*\0\x08\0\0\0\0\0".to_vec();
    exif.extend_from_slice(b"GPS 31.3957N 121.2534E");
    let mut app1 = vec![0xff, 0xe1];
    app1.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    app1.extend_from_slice(&exif);
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&app1);
    out.extend_from_slice(&plain[2..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_is_a_reference_and_a_check_of_six_unmistakable_characters() {
        let (reference, check) = TipReference::parse_receipt("tip-20261204-0042-k7qd9x").unwrap();
        assert_eq!(reference.as_ref(), "TIP-20261204-0042");
        assert_eq!(check, "K7QD9X");
        for bad in [
            "TIP-20261204-0042",
            "TIP-20261204-0042-K7QD9",
            "TIP-20261204-0042-K7QD9XX",
            "TIP-20261204-0042-K7QD0X",
            "TIP-20261204-0042-K7QDIX",
        ] {
            assert!(TipReference::parse_receipt(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn references_have_four_digits_or_more_and_parse_only_in_their_one_form() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        assert_eq!(TipReference::new(day, 42).as_ref(), "TIP-20261204-0042");
        assert_eq!(TipReference::new(day, 12345).as_ref(), "TIP-20261204-12345");
        for typed in [
            "TIP-20261204-0042",
            " tip-20261204-0042 ",
            "ＴＩＰ－２０２６１２０４－００４２",
        ] {
            assert_eq!(
                TipReference::parse(typed),
                Some(TipReference::new(day, 42)),
                "{typed}"
            );
        }
        assert_eq!(
            TipReference::parse("TIP-20261204-12345"),
            Some(TipReference::new(day, 12345))
        );
        for bad in [
            "",
            "TIP-20261204-042",
            "TIP-20261204-00042",
            "TIP-20261204-0000",
            "TIP-20261304-0042",
            "TIP-2026124-0042",
            "TIP-20261204-+042",
            "RF-20261204-0042",
            "TIP-20261204",
            "TIP-20261204-0042-1",
        ] {
            assert_eq!(TipReference::parse(bad), None, "{bad}");
        }
        assert_eq!(reference_fragment(" 0042 ").as_deref(), Some("0042"));
        assert_eq!(reference_fragment("tip-2026").as_deref(), Some("TIP-2026"));
        assert_eq!(reference_fragment("%"), None);
        assert_eq!(reference_fragment(""), None);
    }

    #[test]
    fn a_photo_comes_back_as_a_jpeg_without_its_exif_block() {
        let with_gps = sample_jpeg_with_gps();
        assert!(with_gps.windows(4).any(|w| w == b"Exif"));
        let out = reencode_photo(&with_gps).unwrap();
        assert_eq!(&out[..3], &[0xff, 0xd8, 0xff]);
        assert!(!out.windows(4).any(|w| w == b"Exif"));
        assert!(!out.windows(3).any(|w| w == b"GPS"));
        let back = image::load_from_memory(&out).unwrap();
        assert_eq!((back.width(), back.height()), (40, 30));
    }

    #[test]
    fn a_large_png_is_shrunk_and_stored_as_jpeg() {
        let picture = image::RgbaImage::from_pixel(3200, 800, image::Rgba([10, 200, 30, 255]));
        let mut png = Vec::new();
        picture
            .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
            .unwrap();
        let out = reencode_photo(&png).unwrap();
        let back = image::load_from_memory_with_format(&out, ImageFormat::Jpeg).unwrap();
        assert_eq!((back.width(), back.height()), (1600, 400));
    }

    #[test]
    fn a_photo_at_the_decoding_bound_passes_and_a_larger_header_is_refused_unread() {
        let at_bound = image::RgbaImage::from_pixel(4_000, 4_000, image::Rgba([9, 9, 9, 255]));
        let mut png = Vec::new();
        at_bound
            .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
            .unwrap();
        assert!(reencode_photo(&png).is_ok());
        // The header declares too much: the pixel data is cut off, and it is never read.
        let mut header = png[..41].to_vec();
        header[16..20].copy_from_slice(&4_001u32.to_be_bytes());
        let crc = crc_of(&header[12..29]);
        header[29..33].copy_from_slice(&crc.to_be_bytes());
        assert_eq!(reencode_photo(&header), Err(PhotoError::TooManyPixels));
    }

    /// The CRC-32 of a PNG chunk (type and data).
    fn crc_of(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn content_decides_not_the_name_and_only_jpeg_or_png_pass() {
        assert_eq!(
            reencode_photo(b"GIF89a\x01\x00\x01\x00"),
            Err(PhotoError::NotJpegOrPng)
        );
        assert_eq!(
            reencode_photo(b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
            Err(PhotoError::NotJpegOrPng)
        );
        assert_eq!(
            reencode_photo(b"\xff\xd8\xff\xe0broken"),
            Err(PhotoError::Unreadable)
        );
        assert_eq!(
            reencode_photo(&vec![0xff; MAX_PHOTO_BYTES + 1]),
            Err(PhotoError::TooLarge)
        );
    }
}
