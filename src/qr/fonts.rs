//! The poster fonts: a subset of Noto Sans CJK SC shipped in `assets/fonts/` (8,105
//! characters of the 通用规范汉字表, GB 2312, ASCII and punctuation) built into the binary,
//! or a font file named by `RENFANG_POSTER_FONT`. A character that no loaded face has is
//! reported by name, never printed as a box.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use resvg::usvg;

/// A font face: its file's bytes and its index in a collection.
pub(crate) type FaceSource = (Arc<Vec<u8>>, u32);

/// The family of the shipped font, which the templates name.
const SHIPPED_FAMILY: &str = "Noto Sans CJK SC";
const SHIPPED_REGULAR: &[u8] =
    include_bytes!("../../assets/fonts/NotoSansCJKsc-Regular-subset.otf");
const SHIPPED_BOLD: &[u8] = include_bytes!("../../assets/fonts/NotoSansCJKsc-Bold-subset.otf");

/// The loaded font files and their faces.
pub struct Fonts {
    /// Each font file, as loaded into the SVG renderer's font database.
    files: Vec<Arc<Vec<u8>>>,
    /// Each face, those of `family` first: widths and PDF text are taken from the first face
    /// of each weight.
    faces: Vec<FaceSource>,
    /// The family posters are set in.
    family: String,
    /// Whether `family` also stands for the generic sans-serif family (a font file of
    /// its own, whose family the templates may not name).
    sans_serif: bool,
}

impl Fonts {
    /// The shipped font, or the font file `font` instead.
    pub fn load(font: Option<&Path>) -> anyhow::Result<Self> {
        let files: Vec<Arc<Vec<u8>>> = match font {
            Some(path) => {
                vec![Arc::new(std::fs::read(path).with_context(|| {
                    format!("reading the poster font {}", path.display())
                })?)]
            }
            None => vec![
                Arc::new(SHIPPED_REGULAR.to_vec()),
                Arc::new(SHIPPED_BOLD.to_vec()),
            ],
        };
        let mut faces = Vec::new();
        for data in &files {
            let count = ttf_parser::fonts_in_collection(data).unwrap_or(1);
            for index in 0..count {
                ttf_parser::Face::parse(data, index)
                    .map_err(|e| anyhow::anyhow!("the poster font is not readable: {e}"))?;
                faces.push((data.clone(), index));
            }
        }
        let Some(path) = font else {
            return Ok(Self {
                files,
                faces,
                family: SHIPPED_FAMILY.into(),
                sans_serif: false,
            });
        };
        // A font file of its own: the family the templates name if it has it (a CJK
        // collection holds Japanese, Korean and Chinese faces), or else its first.
        let families: Vec<String> = faces.iter().filter_map(face_family).collect();
        let family = families
            .iter()
            .find(|f| f.as_str() == SHIPPED_FAMILY)
            .or(families.first())
            .cloned()
            .with_context(|| format!("{} holds no font", path.display()))?;
        faces.sort_by_key(|face| face_family(face).as_deref() != Some(family.as_str()));
        Ok(Self {
            files,
            faces,
            family,
            sans_serif: true,
        })
    }

    /// Options for the SVG renderer that find these fonts.
    pub fn svg_options(&self) -> usvg::Options<'static> {
        let mut options = usvg::Options {
            font_family: self.family.clone(),
            ..usvg::Options::default()
        };
        let db = options.fontdb_mut();
        for data in &self.files {
            db.load_font_source(usvg::fontdb::Source::Binary(data.clone()));
        }
        if self.sans_serif {
            db.set_sans_serif_family(self.family.clone());
        }
        options
    }

    fn parsed(&self) -> impl Iterator<Item = ttf_parser::Face<'_>> {
        self.faces
            .iter()
            .filter_map(|(data, index)| ttf_parser::Face::parse(data, *index).ok())
    }

    /// The characters of `text` that no loaded face has (white space aside).
    pub fn missing_glyphs(&self, text: &str) -> Vec<char> {
        let faces: Vec<ttf_parser::Face<'_>> = self.parsed().collect();
        let mut missing: Vec<char> = Vec::new();
        for c in text.chars().filter(|c| !c.is_whitespace()) {
            if !missing.contains(&c) && !faces.iter().any(|f| f.glyph_index(c).is_some()) {
                missing.push(c);
            }
        }
        missing
    }

    /// The first face of the wanted weight, or the first face.
    pub(crate) fn face_source(&self, bold: bool) -> &FaceSource {
        self.faces
            .iter()
            .find(|(data, index)| {
                ttf_parser::Face::parse(data, *index).is_ok_and(|f| f.is_bold() == bold)
            })
            .unwrap_or(&self.faces[0])
    }

    /// The advance width of `text` at `font_size`, from the first loaded face of the wanted
    /// weight (the first face otherwise); a character without a glyph counts one em.
    pub fn text_width(&self, text: &str, font_size: f64, bold: bool) -> f64 {
        let (data, index) = self.face_source(bold);
        let Ok(face) = ttf_parser::Face::parse(data, *index) else {
            return 0.0;
        };
        let units = f64::from(face.units_per_em());
        text.chars()
            .map(|c| {
                face.glyph_index(c)
                    .and_then(|g| face.glyph_hor_advance(g))
                    .map_or(units, f64::from)
            })
            .sum::<f64>()
            / units
            * font_size
    }
}

/// A face's family: its typographic family name if it has one, else its family name.
fn face_family((data, index): &FaceSource) -> Option<String> {
    let face = ttf_parser::Face::parse(data, *index).ok()?;
    let names = face.names();
    let named = |id: u16| {
        names
            .into_iter()
            .filter(|n| n.name_id == id && n.is_unicode())
            .find_map(|n| n.to_string())
    };
    named(ttf_parser::name_id::TYPOGRAPHIC_FAMILY).or_else(|| named(ttf_parser::name_id::FAMILY))
}
