//! The pages' style sheets, built into the binary and served from `/assets/`: pages carry no
//! inline style, so their Content-Security-Policy can refuse any that an injection adds.

use actix_web::{HttpResponse, web};

use crate::error::AppError;

/// Every style sheet, by the name in its URL.
const SHEETS: &[(&str, &str)] = &[
    ("base.css", include_str!("../../assets/css/base.css")),
    ("console.css", include_str!("../../assets/css/console.css")),
    (
        "enforcement.css",
        include_str!("../../assets/css/enforcement.css"),
    ),
    ("ledger.css", include_str!("../../assets/css/ledger.css")),
    ("my_unit.css", include_str!("../../assets/css/my_unit.css")),
    (
        "my_units.css",
        include_str!("../../assets/css/my_units.css"),
    ),
    (
        "police_filings.css",
        include_str!("../../assets/css/police_filings.css"),
    ),
    (
        "police_offline.css",
        include_str!("../../assets/css/police_offline.css"),
    ),
    (
        "police_list.css",
        include_str!("../../assets/css/police_list.css"),
    ),
    (
        "police_unit.css",
        include_str!("../../assets/css/police_unit.css"),
    ),
];

/// Registers the style-sheet route, the police app's icons and the icon browsers ask every
/// site for.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/assets/{name}.png", web::get().to(icon))
        .route("/assets/{name}", web::get().to(sheet))
        .route("/favicon.ico", web::get().to(favicon));
}

/// The site's icon: a white house on the programme's blue, drawn once (an ICO holding one
/// 32 × 32 PNG), so a browser's automatic request is answered instead of logged as a 404.
async fn favicon() -> HttpResponse {
    static ICON: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let icon = ICON.get_or_init(|| ico(&house_png(SIDE)));
    HttpResponse::Ok()
        .content_type("image/x-icon")
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .body(icon.clone())
}

const SIDE: u32 = 32;

/// The icons of the police app's manifest: the same house, drawn at the sizes a phone's
/// home screen asks for.
const ICON_SIDES: [u32; 2] = [192, 512];

async fn icon(name: web::Path<String>) -> Result<HttpResponse, AppError> {
    static ICONS: std::sync::OnceLock<Vec<(u32, Vec<u8>)>> = std::sync::OnceLock::new();
    let side = name
        .strip_prefix("icon-")
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|s| ICON_SIDES.contains(s))
        .ok_or(AppError::NotFound)?;
    let icons = ICONS.get_or_init(|| ICON_SIDES.iter().map(|&s| (s, house_png(s))).collect());
    let (_, png) = icons
        .iter()
        .find(|(s, _)| *s == side)
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type("image/png")
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .body(png.clone()))
}

/// `side` × `side` RGBA: a blue tile with a white roof and walls and a blue door, drawn on
/// a 32-step grid and scaled.
fn house_png(side: u32) -> Vec<u8> {
    let mut pixels = Vec::with_capacity((side * side * 4) as usize);
    for py in 0..side {
        for px in 0..side {
            let y = (py * SIDE / side) as i32;
            let x = (px * SIDE / side) as i32;
            let roof = (6..=15).contains(&y) && (x - 16).abs() <= y - 5;
            let walls = (15..=26).contains(&y) && (8..=23).contains(&x);
            let door = (19..=26).contains(&y) && (14..=17).contains(&x);
            let white = (roof || walls) && !door;
            pixels.extend_from_slice(if white {
                &[255, 255, 255, 255]
            } else {
                &[11, 107, 203, 255]
            });
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().expect("an in-memory PNG header");
    writer
        .write_image_data(&pixels)
        .expect("an in-memory PNG body");
    drop(writer);
    out
}

/// An ICO file of one PNG image (the format Windows Vista and every browser since reads).
fn ico(png: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 1, 0, 1, 0];
    out.extend_from_slice(&[SIDE as u8, SIDE as u8, 0, 0, 1, 0, 32, 0]);
    out.extend_from_slice(&(png.len() as u32).to_le_bytes());
    out.extend_from_slice(&22u32.to_le_bytes());
    out.extend_from_slice(png);
    out
}

async fn sheet(name: web::Path<String>) -> Result<HttpResponse, AppError> {
    let (_, text) = SHEETS
        .iter()
        .find(|(n, _)| *n == name.as_str())
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        // An hour: a new release's styles reach every phone within one.
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(*text))
}
