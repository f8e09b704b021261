//! Why a poster could not be made.

/// Why a poster could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PosterError {
    /// No such template.
    #[error("no poster template named {0:?}")]
    UnknownTemplate(String),
    /// The unit's data has characters the poster font lacks.
    #[error("the poster font has no glyph for {}", .0.iter().collect::<String>())]
    MissingGlyphs(Vec<char>),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}
