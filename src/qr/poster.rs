//! Posters made from the SVG templates in `qr-templates/`.
//!
//! A template is an SVG file a designer may change without recompiling. Text placeholders
//! are written `{{name}}` (see [`PLACEHOLDERS`]); the QR code goes where the template has a
//! square `<rect id="qr" x=".." y=".." width=".." height=".."/>`. A `<text>` with
//! `data-fit="WIDTH"` is narrowed to that width (in the template's units) when its text is
//! longer, so a long address stays on the poster. Every template is checked when the
//! service starts: a file that is not SVG, names an unknown placeholder, has no QR square or
//! uses a character the poster font lacks stops the start with the reason.
//!
//! The font is a subset of Noto Sans CJK SC shipped in `assets/fonts/` (8,105 characters of
//! the 通用规范汉字表, GB 2312, ASCII and punctuation) built into the binary, or a font file
//! named by `RENFANG_POSTER_FONT`. A character of a unit's data that no loaded font has is
//! an error naming it, never a box on a printed poster.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use resvg::{tiny_skia, usvg};

use super::{EcLevel, Matrix};

use super::pdf::{Anchor, DynamicText, FaceSource, PdfBatch, PdfLayout};

/// The placeholders a template may use.
pub const PLACEHOLDERS: [&str; 6] = [
    "community",
    "address",
    "unit_no",
    "hotline",
    "date",
    "version",
];

/// Error correction of poster codes: level Q restores up to 25 % of the code, enough for a
/// scuffed, taped-over or glare-struck poster in a stairwell, and a URL of about 60 bytes
/// still fits version 5 (37 × 37 modules), about 2.4 mm a module on the A4 poster.
pub const POSTER_EC: EcLevel = EcLevel::Q;
/// Light modules around the code on every side: the standard's minimum of 4, which phone
/// scanners need to find the finder patterns against a busy door.
pub const QUIET_ZONE: u32 = 4;

/// Resolution of PNG posters by default (print quality).
pub const DEFAULT_DPI: u32 = 300;

/// The family of the shipped font, which the templates name.
const SHIPPED_FAMILY: &str = "Noto Sans CJK SC";
const SHIPPED_REGULAR: &[u8] =
    include_bytes!("../../assets/fonts/NotoSansCJKsc-Regular-subset.otf");
const SHIPPED_BOLD: &[u8] = include_bytes!("../../assets/fonts/NotoSansCJKsc-Bold-subset.otf");

/// What one poster shows.
#[derive(Debug, Clone)]
pub struct PosterData {
    /// The URL the code carries.
    pub url: String,
    pub community: String,
    pub address: String,
    /// A short number to quote on the phone.
    pub unit_no: String,
    pub hotline: String,
    /// Generation date, `YYYY-MM-DD`.
    pub date: String,
    /// Poster version (goes up with every rotation).
    pub version: String,
}

impl PosterData {
    pub(crate) fn value(&self, placeholder: &str) -> &str {
        match placeholder {
            "community" => &self.community,
            "address" => &self.address,
            "unit_no" => &self.unit_no,
            "hotline" => &self.hotline,
            "date" => &self.date,
            "version" => &self.version,
            _ => "",
        }
    }
}

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

/// Where a template's QR code goes, in its user units.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QrBox {
    pub x: f64,
    pub y: f64,
    pub size: f64,
}

#[derive(Debug, Clone)]
struct Template {
    /// The SVG text, its QR square replaced by the internal marker `{{qr}}`.
    source: String,
    qr: QrBox,
    /// The same template split for PDF: fixed part and text drawn per page.
    pdf: PdfLayout,
}

/// The loaded templates and fonts; cheap to share behind an `Arc`.
pub struct Posters {
    templates: BTreeMap<String, Template>,
    options: usvg::Options<'static>,
    /// Each loaded face's data and index, for glyph checks and text widths.
    faces: Vec<FaceSource>,
}

impl std::fmt::Debug for Posters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Posters")
            .field("templates", &self.templates.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The shipped templates, built in so that the binary prints posters from any working
/// folder; `RENFANG_QR_TEMPLATES` names a folder of others instead.
const BUILT_IN_TEMPLATES: [(&str, &str); 2] = [
    ("a4", include_str!("../../qr-templates/a4.svg")),
    ("a6", include_str!("../../qr-templates/a6.svg")),
];

impl Posters {
    /// Loads every `*.svg` of `dir` (the templates built into the binary when `None`) with
    /// the shipped font, or the font file `font`, and checks each template. Fails with the
    /// file and the reason.
    pub fn load(dir: Option<&Path>, font: Option<&Path>) -> anyhow::Result<Self> {
        let mut fonts: Vec<Arc<Vec<u8>>> = Vec::new();
        match font {
            Some(path) => fonts
                .push(Arc::new(std::fs::read(path).with_context(|| {
                    format!("reading the poster font {}", path.display())
                })?)),
            None => {
                fonts.push(Arc::new(SHIPPED_REGULAR.to_vec()));
                fonts.push(Arc::new(SHIPPED_BOLD.to_vec()));
            }
        }
        let mut options = usvg::Options {
            font_family: SHIPPED_FAMILY.into(),
            ..usvg::Options::default()
        };
        let mut faces = Vec::new();
        {
            let db = options.fontdb_mut();
            for data in &fonts {
                let count = ttf_parser::fonts_in_collection(data).unwrap_or(1);
                for index in 0..count {
                    ttf_parser::Face::parse(data, index)
                        .map_err(|e| anyhow::anyhow!("the poster font is not readable: {e}"))?;
                    faces.push((data.clone(), index));
                }
                db.load_font_source(usvg::fontdb::Source::Binary(data.clone()));
            }
        }
        if let Some(path) = font {
            // A font file of its own: the family the templates name if it has it (a CJK
            // collection holds Japanese, Korean and Chinese faces), or else its first.
            let families: Vec<String> = faces.iter().filter_map(face_family).collect();
            let family = families
                .iter()
                .find(|f| f.as_str() == SHIPPED_FAMILY)
                .or(families.first())
                .cloned()
                .with_context(|| format!("{} holds no font", path.display()))?;
            options.font_family = family.clone();
            options.fontdb_mut().set_sans_serif_family(family.clone());
            // Faces of that family first: widths and PDF text are taken from the first face
            // of each weight.
            faces.sort_by_key(|face| face_family(face).as_deref() != Some(family.as_str()));
        }
        let mut posters = Self {
            templates: BTreeMap::new(),
            options,
            faces,
        };
        let Some(dir) = dir else {
            for (name, text) in BUILT_IN_TEMPLATES {
                let template = posters
                    .check(text)
                    .with_context(|| format!("built-in poster template {name}"))?;
                posters.templates.insert(name.to_string(), template);
            }
            return Ok(posters);
        };
        let entries = std::fs::read_dir(dir).with_context(|| {
            format!(
                "reading the poster templates in {} (RENFANG_QR_TEMPLATES)",
                dir.display()
            )
        })?;
        let mut paths: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "svg"))
            .collect();
        paths.sort();
        for path in paths {
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .context("template file name")?
                .to_string();
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            let template = posters
                .check(&text)
                .with_context(|| format!("poster template {} is not usable", path.display()))?;
            posters.templates.insert(name, template);
        }
        if posters.templates.is_empty() {
            bail!("no poster template (*.svg) in {}", dir.display());
        }
        Ok(posters)
    }

    /// The template names, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.templates.keys().map(String::as_str).collect()
    }

    /// Parses a template: its placeholders, its QR square, its fixed text's glyphs, and a
    /// trial rendering with sample data.
    fn check(&self, text: &str) -> anyhow::Result<Template> {
        for name in placeholders(text)? {
            if !PLACEHOLDERS.contains(&name.as_str()) {
                bail!(
                    "unknown placeholder {{{{{name}}}}} (known: {})",
                    PLACEHOLDERS.join(", ")
                );
            }
        }
        let (start, end, qr) = find_qr_rect(text)?;
        let source = format!("{}{{{{qr}}}}{}", &text[..start], &text[end..]);
        let missing = self.missing_glyphs(&fixed_text(&source));
        if !missing.is_empty() {
            bail!(
                "the poster font has no glyph for {:?} in the template's own text",
                missing.iter().collect::<String>()
            );
        }
        let mut template = Template {
            source,
            qr,
            pdf: PdfLayout::default(),
        };
        let sample = PosterData {
            url: "https://example.invalid/q/AAAAAAAAAAAAAAAAAAAAAAAA".into(),
            community: "影佳".into(),
            address: "影佳路 100弄 1号 201室".into(),
            unit_no: "000001".into(),
            hotline: "12345".into(),
            date: "2026-01-01".into(),
            version: "1".into(),
        };
        let svg = self.fill(&template, &sample)?;
        usvg::Tree::from_str(&svg, &self.options).context("not a valid SVG")?;
        template.pdf = pdf_layout(&template.source)?;
        usvg::Tree::from_str(&template.pdf.fixed_svg, &self.options)
            .context("the template without its placeholder text is not a valid SVG")?;
        Ok(template)
    }

    /// The characters of `text` that no loaded face has (white space aside).
    pub fn missing_glyphs(&self, text: &str) -> Vec<char> {
        let faces: Vec<ttf_parser::Face<'_>> = self
            .faces
            .iter()
            .filter_map(|(data, index)| ttf_parser::Face::parse(data, *index).ok())
            .collect();
        let mut missing: Vec<char> = Vec::new();
        for c in text.chars().filter(|c| !c.is_whitespace()) {
            if !missing.contains(&c) && !faces.iter().any(|f| f.glyph_index(c).is_some()) {
                missing.push(c);
            }
        }
        missing
    }

    /// The poster as SVG text.
    pub fn svg(&self, template: &str, data: &PosterData) -> Result<String, PosterError> {
        let template = self
            .templates
            .get(template)
            .ok_or_else(|| PosterError::UnknownTemplate(template.to_string()))?;
        let values: String = PLACEHOLDERS.iter().map(|p| data.value(p)).collect();
        let missing = self.missing_glyphs(&values);
        if !missing.is_empty() {
            return Err(PosterError::MissingGlyphs(missing));
        }
        Ok(self.fill(template, data)?)
    }

    /// A PDF of many posters of one template, written to `out` a page at a time.
    pub fn pdf_batch<W: std::io::Write>(
        &self,
        template: &str,
        out: W,
    ) -> Result<PdfBatch<'_, W>, PosterError> {
        let found = self
            .templates
            .get(template)
            .ok_or_else(|| PosterError::UnknownTemplate(template.to_string()))?;
        let weight = |bold: bool| {
            self.faces
                .iter()
                .find(|(data, index)| {
                    ttf_parser::Face::parse(data, *index).is_ok_and(|f| f.is_bold() == bold)
                })
                .unwrap_or(&self.faces[0])
        };
        PdfBatch::start(
            self,
            found.pdf.clone(),
            found.qr,
            &self.options,
            (weight(false), weight(true)),
            out,
        )
    }

    /// One poster as a PDF.
    pub fn pdf(&self, template: &str, data: &PosterData) -> Result<Vec<u8>, PosterError> {
        let mut batch = self.pdf_batch(template, Vec::new())?;
        batch.add(data)?;
        batch.finish()
    }

    /// The poster as a PNG at `dpi` dots per inch (templates are in millimetres).
    pub fn png(&self, template: &str, data: &PosterData, dpi: u32) -> Result<Vec<u8>, PosterError> {
        let svg = self.svg(template, data)?;
        let tree = usvg::Tree::from_str(&svg, &self.options).context("rendering the poster")?;
        let size = tree.size();
        // usvg reads `mm` sizes at 96 px per inch.
        let scale = dpi as f32 / 96.0;
        let (w, h) = (
            (size.width() * scale).ceil() as u32,
            (size.height() * scale).ceil() as u32,
        );
        let mut pixmap = tiny_skia::Pixmap::new(w, h).context("poster size")?;
        pixmap.fill(tiny_skia::Color::WHITE);
        resvg::render(
            &tree,
            tiny_skia::Transform::from_scale(scale, scale),
            &mut pixmap.as_mut(),
        );
        let rgb: Vec<u8> = pixmap
            .pixels()
            .iter()
            .flat_map(|p| {
                let c = p.demultiply();
                [c.red(), c.green(), c.blue()]
            })
            .collect();
        let image = image::RgbImage::from_raw(w, h, rgb).context("poster pixels")?;
        let mut out = std::io::Cursor::new(Vec::new());
        image
            .write_to(&mut out, image::ImageFormat::Png)
            .context("encoding the poster PNG")?;
        Ok(out.into_inner())
    }

    /// The template with the data written in: escaped values, the QR code drawn in its
    /// square, long text narrowed to its `data-fit` width.
    fn fill(&self, template: &Template, data: &PosterData) -> anyhow::Result<String> {
        let mut svg = template.source.clone();
        for name in PLACEHOLDERS {
            svg = svg.replace(&format!("{{{{{name}}}}}"), &xml_escape(data.value(name)));
        }
        svg = svg.replace("{{qr}}", &qr_svg(&data.url, template.qr)?);
        Ok(self.fit_text(&svg))
    }

    /// Adds `textLength` to each `<text data-fit="W">` whose text is wider than W.
    fn fit_text(&self, svg: &str) -> String {
        let mut out = String::with_capacity(svg.len() + 64);
        let mut rest = svg;
        while let Some(at) = rest.find("<text") {
            out.push_str(&rest[..at]);
            rest = &rest[at..];
            let Some(open_end) = rest.find('>') else {
                break;
            };
            let tag = &rest[..open_end];
            let Some(close) = rest.find("</text>") else {
                break;
            };
            let content = &rest[open_end + 1..close];
            let fit = attribute(tag, "data-fit").and_then(|v| v.parse::<f64>().ok());
            let font_size = attribute(tag, "font-size")
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(16.0);
            let bold = attribute(tag, "font-weight").is_some_and(|w| w == "bold");
            out.push_str(tag);
            if let Some(fit) = fit
                && self.text_width(&xml_unescape(content), font_size, bold) > fit
            {
                out.push_str(&format!(
                    r#" textLength="{fit}" lengthAdjust="spacingAndGlyphs""#
                ));
            }
            out.push_str(&rest[open_end..close]);
            rest = &rest[close..];
        }
        out.push_str(rest);
        out
    }

    /// The advance width of `text` at `font_size`, from the first loaded face of the wanted
    /// weight (the first face otherwise).
    fn text_width(&self, text: &str, font_size: f64, bold: bool) -> f64 {
        let faces: Vec<ttf_parser::Face<'_>> = self
            .faces
            .iter()
            .filter_map(|(data, index)| ttf_parser::Face::parse(data, *index).ok())
            .collect();
        let Some(face) = faces
            .iter()
            .find(|f| f.is_bold() == bold)
            .or_else(|| faces.first())
        else {
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

/// A text with its placeholders replaced by the data (not escaped: for PDF text).
pub(crate) fn fill_placeholders(text: &str, data: &PosterData) -> String {
    let mut out = xml_unescape(text);
    for name in PLACEHOLDERS {
        out = out.replace(&format!("{{{{{name}}}}}"), data.value(name));
    }
    out
}

/// Splits a template for PDF: its `<text>` elements with placeholders are drawn on each page
/// (plain text only, no `<tspan>`), the rest, without the QR square, once per file.
fn pdf_layout(source: &str) -> anyhow::Result<PdfLayout> {
    let root_end = source
        .find("<svg")
        .and_then(|at| source[at..].find('>').map(|e| at + e));
    let root = root_end.map_or("", |end| &source[source.find("<svg").unwrap_or(0)..end]);
    let number = |tag: &str, name: &str| attribute(tag, name).and_then(|v| v.parse::<f64>().ok());
    let size = match (number(root, "width"), number(root, "height")) {
        (Some(w), Some(h)) => (w, h),
        _ => match attribute(root, "viewBox").map(|v| {
            v.split([' ', ','])
                .filter_map(|n| n.parse::<f64>().ok())
                .collect::<Vec<_>>()
        }) {
            Some(v) if v.len() == 4 => (v[2], v[3]),
            _ => bail!("the <svg> element needs a viewBox or a width and height in mm"),
        },
    };
    let root_fill = attribute(root, "fill").map_or(Ok([0.0, 0.0, 0.0]), parse_color)?;
    let mut fixed = String::with_capacity(source.len());
    let mut texts = Vec::new();
    let mut rest = source.replace("{{qr}}", "");
    let mut remaining = rest.as_str();
    while let Some(at) = remaining.find("<text") {
        fixed.push_str(&remaining[..at]);
        let element = &remaining[at..];
        let open_end = element.find('>').context("an unclosed <text>")?;
        let close = element
            .find("</text>")
            .context("a <text> without </text>")?;
        let tag = &element[..open_end];
        let content = &element[open_end + 1..close];
        if content.contains("{{") {
            if content.contains('<') {
                bail!("a <text> with placeholders must hold plain text, not other elements");
            }
            texts.push(DynamicText {
                x: number(tag, "x").context("a <text> with placeholders needs x")?,
                y: number(tag, "y").context("a <text> with placeholders needs y")?,
                font_size: number(tag, "font-size").unwrap_or(16.0),
                anchor: match attribute(tag, "text-anchor") {
                    Some("middle") => Anchor::Middle,
                    Some("end") => Anchor::End,
                    _ => Anchor::Start,
                },
                bold: attribute(tag, "font-weight").is_some_and(|w| w == "bold" || w == "700"),
                fill: attribute(tag, "fill").map_or(Ok(root_fill), parse_color)?,
                fit: number(tag, "data-fit"),
                text: content.to_string(),
            });
        } else {
            fixed.push_str(&element[..close + "</text>".len()]);
        }
        remaining = &element[close + "</text>".len()..];
    }
    fixed.push_str(remaining);
    rest.clear();
    Ok(PdfLayout {
        size,
        fixed_svg: fixed,
        texts,
    })
}

/// `#rrggbb` or `#rgb` as RGB fractions.
fn parse_color(text: &str) -> anyhow::Result<[f32; 3]> {
    let hex = text.trim().strip_prefix('#').unwrap_or("");
    let full: String = match hex.len() {
        3 => hex.chars().flat_map(|c| [c, c]).collect(),
        6 => hex.to_string(),
        _ => bail!("colours of text with placeholders must be #rrggbb, not {text:?}"),
    };
    let channel = |i: usize| {
        u8::from_str_radix(&full[i..i + 2], 16)
            .map(|v| f32::from(v) / 255.0)
            .with_context(|| format!("{text:?} is not a colour"))
    };
    Ok([channel(0)?, channel(2)?, channel(4)?])
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

/// The `{{name}}` placeholders of a text, or an error for an unclosed one.
fn placeholders(text: &str) -> anyhow::Result<Vec<String>> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("{{") {
        let Some(end) = rest[at..].find("}}") else {
            bail!("a placeholder opened with {{{{ is never closed");
        };
        found.push(rest[at + 2..at + end].trim().to_string());
        rest = &rest[at + end + 2..];
    }
    Ok(found)
}

/// The one `<rect id="qr" …/>` of a template: its byte range and its square.
fn find_qr_rect(text: &str) -> anyhow::Result<(usize, usize, QrBox)> {
    let mut hits = text.match_indices(r#"id="qr""#);
    let Some((id_at, _)) = hits.next() else {
        bail!(r#"no QR square: add <rect id="qr" x="…" y="…" width="…" height="…"/>"#);
    };
    if hits.next().is_some() {
        bail!(r#"more than one element has id="qr""#);
    }
    let start = text[..id_at]
        .rfind('<')
        .context(r#"id="qr" outside an element"#)?;
    let end = id_at
        + text[id_at..]
            .find("/>")
            .context(r#"the id="qr" rect is not closed with />"#)?
        + 2;
    let tag = &text[start..end];
    if !tag.starts_with("<rect") {
        bail!(r#"the element with id="qr" must be a <rect>"#);
    }
    let number = |name: &str| -> anyhow::Result<f64> {
        attribute(tag, name)
            .and_then(|v| v.parse::<f64>().ok())
            .with_context(|| format!(r#"the QR rect needs a numeric {name}="…""#))
    };
    let (x, y, w, h) = (
        number("x")?,
        number("y")?,
        number("width")?,
        number("height")?,
    );
    if (w - h).abs() > 1e-6 || w <= 0.0 {
        bail!("the QR rect must be a square (width = height > 0)");
    }
    Ok((start, end, QrBox { x, y, size: w }))
}

/// The value of attribute `name` in an opening tag.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let needle = format!(" {name}=\"");
    let at = tag.find(&needle)? + needle.len();
    let end = tag[at..].find('"')?;
    Some(&tag[at..at + end])
}

/// The text between tags (and outside comments) of an SVG, placeholders removed.
fn fixed_text(svg: &str) -> String {
    let mut text = String::new();
    let mut rest = svg;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        rest = &rest[open..];
        let close = if rest.starts_with("<!--") {
            rest.find("-->").map(|i| i + 3)
        } else {
            rest.find('>').map(|i| i + 1)
        };
        match close {
            Some(i) => rest = &rest[i..],
            None => break,
        }
    }
    let mut out = String::new();
    let mut text = text.as_str();
    while let Some(at) = text.find("{{") {
        out.push_str(&text[..at]);
        match text[at..].find("}}") {
            Some(end) => text = &text[at + end + 2..],
            None => break,
        }
    }
    out.push_str(text);
    xml_unescape(&out)
}

fn xml_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn xml_unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The QR code of `url` as SVG drawn in `square`: a white square with the quiet zone, then
/// one path of dark modules.
fn qr_svg(url: &str, square: QrBox) -> anyhow::Result<String> {
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

    fn posters_with(template: &str) -> anyhow::Result<Posters> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t.svg"), template).unwrap();
        Posters::load(Some(dir.path()), None)
    }

    const GOOD: &str = r#"<svg xmlns="http://www.w3.org/2000/svg" width="100mm" height="100mm" viewBox="0 0 100 100"><rect id="qr" x="10" y="10" width="50" height="50"/><text x="5" y="80" font-size="5" data-fit="20">{{address}}</text></svg>"#;

    #[test]
    fn broken_templates_are_refused_with_the_reason() {
        let err = |t: &str| format!("{:#}", posters_with(t).unwrap_err());
        assert!(err(&GOOD.replace("{{address}}", "{{adress}}")).contains("unknown placeholder"));
        assert!(err(&GOOD.replace(r#"id="qr""#, r#"id="code""#)).contains("no QR square"));
        assert!(err(&GOOD.replace(r#"width="50""#, r#"width="40""#)).contains("square"));
        assert!(err(&GOOD.replace("</svg>", "")).contains("not a valid SVG"));
        assert!(err(&GOOD.replace("{{address}}", "\u{10FFFD}")).contains("no glyph"));
        assert!(posters_with(GOOD).is_ok());
    }

    #[test]
    fn the_shipped_templates_load_and_long_text_is_narrowed() {
        let posters = Posters::load(None, None).unwrap();
        assert!(posters.names().contains(&"a4") && posters.names().contains(&"a6"));
        let mut data = PosterData {
            url: "http://127.0.0.1/q/AAAAAAAAAAAAAAAAAAAAAAAA".into(),
            community: "影佳".into(),
            address: "影佳路 1弄 1号".into(),
            unit_no: "000001".into(),
            hotline: "12345".into(),
            date: "2026-11-29".into(),
            version: "2".into(),
        };
        let short = posters.svg("a4", &data).unwrap();
        assert!(short.contains("影佳路 1弄 1号") && short.contains("第 2 版"));
        data.address =
            "上海市嘉定区江桥镇虬长路一千二百三十四弄五十六号七百八十九室后门二楼朝南小间".into();
        let long = posters.svg("a4", &data).unwrap();
        assert!(
            long.contains(r#"textLength="170""#),
            "the long address is narrowed"
        );
        assert!(!short.contains(r#"textLength="170""#));
        data.address = "A & B <路>".into();
        assert!(
            posters
                .svg("a4", &data)
                .unwrap()
                .contains("A &amp; B &lt;路&gt;")
        );
        data.address = "𠮷野家".into();
        match posters.svg("a4", &data) {
            Err(PosterError::MissingGlyphs(chars)) => assert_eq!(chars, ['𠮷']),
            other => panic!("expected a missing glyph, got {other:?}"),
        }
    }
}
