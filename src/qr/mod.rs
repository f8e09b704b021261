//! QR codes and posters.
//!
//! `code` makes the codes, `template` reads the SVG templates, `fonts` holds the poster
//! fonts, `poster` fills a template for one unit (SVG, PNG, PDF), `pdf` writes many posters
//! into one PDF, and `batch` does a whole community.

pub mod batch;
pub mod code;
pub mod error;
pub mod fonts;
pub mod pdf;
pub mod poster;
pub mod template;

pub use code::{EcLevel, Matrix, qr_png_with};
pub use error::PosterError;
pub use poster::Posters;
pub use template::PosterData;
