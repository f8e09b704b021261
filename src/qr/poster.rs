//! Posters made from the SVG templates in `qr-templates/` (see [`super::template`]).
//!
//! Every template is checked when the service starts: a file that is not SVG, names an
//! unknown placeholder, has no QR square or uses a character the poster font lacks stops the
//! start with the reason. A character of a unit's data that no loaded font has is an error
//! naming it, never a box on a printed poster.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, bail};
use resvg::{tiny_skia, usvg};

pub use super::error::PosterError;
use super::fonts::Fonts;
use super::pdf::PdfBatch;
use super::template::Template;
pub use super::template::{PLACEHOLDERS, PosterData};

/// The loaded templates and fonts; cheap to share behind an `Arc`.
pub struct Posters {
    templates: BTreeMap<String, Template>,
    options: usvg::Options<'static>,
    fonts: Fonts,
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
        let fonts = Fonts::load(font)?;
        let mut posters = Self {
            templates: BTreeMap::new(),
            options: fonts.svg_options(),
            fonts,
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

    /// Reads a template, checks its fixed text's glyphs, and renders it once with sample
    /// data, whole and as the fixed part of a PDF.
    fn check(&self, text: &str) -> anyhow::Result<Template> {
        let template = Template::parse(text)?;
        let missing = self.missing_glyphs(&template.fixed_text);
        if !missing.is_empty() {
            bail!(
                "the poster font has no glyph for {:?} in the template's own text",
                missing.iter().collect::<String>()
            );
        }
        let sample = PosterData {
            url: "https://example.invalid/q/AAAAAAAAAAAAAAAAAAAAAAAA".into(),
            community: "影佳".into(),
            address: "影佳路 100弄 1号 201室".into(),
            unit_no: "000001".into(),
            hotline: "12345".into(),
            date: "2026-01-01".into(),
            version: "1".into(),
        };
        let svg = template.fill(&sample, &self.fonts)?;
        usvg::Tree::from_str(&svg, &self.options).context("not a valid SVG")?;
        usvg::Tree::from_str(&template.pdf.fixed_svg, &self.options)
            .context("the template without its placeholder text is not a valid SVG")?;
        Ok(template)
    }

    /// The characters of `text` that no loaded face has (white space aside).
    pub fn missing_glyphs(&self, text: &str) -> Vec<char> {
        self.fonts.missing_glyphs(text)
    }

    fn template(&self, name: &str) -> Result<&Template, PosterError> {
        self.templates
            .get(name)
            .ok_or_else(|| PosterError::UnknownTemplate(name.to_string()))
    }

    /// The poster as SVG text.
    pub fn svg(&self, template: &str, data: &PosterData) -> Result<String, PosterError> {
        let template = self.template(template)?;
        let missing = self.missing_glyphs(&data.all_values());
        if !missing.is_empty() {
            return Err(PosterError::MissingGlyphs(missing));
        }
        Ok(template.fill(data, &self.fonts)?)
    }

    /// A PDF of many posters of one template, written to `out` a page at a time.
    pub fn pdf_batch<W: std::io::Write>(
        &self,
        template: &str,
        out: W,
    ) -> Result<PdfBatch<'_, W>, PosterError> {
        let found = self.template(template)?;
        PdfBatch::start(&self.fonts, found.pdf.clone(), found.qr, &self.options, out)
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
