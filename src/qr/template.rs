//! Poster templates: SVG files a designer may change without recompiling.
//!
//! Text placeholders are written `{{name}}` (see [`PLACEHOLDERS`]); the QR code goes where
//! the template has a square `<rect id="qr" x=".." y=".." width=".." height=".."/>`. A
//! `<text>` with `data-fit="WIDTH"` is narrowed to that width (in the template's units) when
//! its text is longer, so a long address stays on the poster. A template is read with an
//! XML parser once, when it is loaded; filling it for a unit is then plain concatenation.

use std::ops::Range;

use anyhow::{Context, bail};

use super::code::{QrBox, qr_svg};
use super::fonts::Fonts;

/// The placeholders a template may use.
pub const PLACEHOLDERS: [&str; 6] = [
    "community",
    "address",
    "unit_no",
    "hotline",
    "date",
    "version",
];

/// The size of text with no `font-size` of its own, in user units.
const DEFAULT_FONT_SIZE: f64 = 16.0;

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
    /// The value that replaces `placeholder`.
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

    /// Every value, run together (to check the font has their characters).
    pub(crate) fn all_values(&self) -> String {
        PLACEHOLDERS.iter().map(|p| self.value(p)).collect()
    }
}

/// A `<text>` of the template that holds placeholders: drawn on each page of a PDF.
#[derive(Debug, Clone)]
pub(crate) struct DynamicText {
    pub x: f64,
    pub y: f64,
    pub font_size: f64,
    pub anchor: Anchor,
    pub bold: bool,
    pub fill: [f32; 3],
    pub fit: Option<f64>,
    /// The element's text, placeholders not yet filled.
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Anchor {
    Start,
    Middle,
    End,
}

/// A template split for PDF batches.
#[derive(Debug, Clone, Default)]
pub(crate) struct PdfLayout {
    /// Width and height in template units (millimetres).
    pub size: (f64, f64),
    /// The template without its placeholder text and QR square.
    pub fixed_svg: String,
    pub texts: Vec<DynamicText>,
}

/// A part of a template's SVG text.
#[derive(Debug, Clone)]
enum Piece {
    /// Written as it is.
    Literal(String),
    /// The XML-escaped value of a placeholder.
    Value(&'static str),
    /// The QR code, drawn in the template's square.
    Code,
    /// `textLength` for the fitted text of this index, when its text is too wide.
    Fit(usize),
}

/// A `<text data-fit="W">`: what it says and how it is set.
#[derive(Debug, Clone)]
struct Fitted {
    width: f64,
    font_size: f64,
    bold: bool,
    /// Its text, placeholders not yet filled.
    text: String,
}

/// A checked template.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    pieces: Vec<Piece>,
    fitted: Vec<Fitted>,
    pub qr: QrBox,
    /// The same template split for PDF: fixed part and text drawn per page.
    pub pdf: PdfLayout,
    /// The template's own text (outside placeholders), for the font check.
    pub fixed_text: String,
}

impl Template {
    /// Reads a template: its placeholders, its one QR square, its fitted and its
    /// placeholder text; fails with the reason.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        for name in placeholders(text)? {
            if !PLACEHOLDERS.contains(&name.as_str()) {
                bail!(
                    "unknown placeholder {{{{{name}}}}} (known: {})",
                    PLACEHOLDERS.join(", ")
                );
            }
        }
        let doc = roxmltree::Document::parse(text).context("not a valid SVG")?;
        let root = doc.root_element();
        if root.tag_name().name() != "svg" {
            bail!(
                "not a valid SVG: the root element is <{}>",
                root.tag_name().name()
            );
        }
        let qr_node = qr_rect(&doc)?;
        let qr = qr_box(qr_node)?;

        let texts: Vec<roxmltree::Node<'_, '_>> = doc
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .collect();
        // The SVG: the square replaced by the code, a fitted text's tag given room for its
        // `textLength`.
        let mut edits = vec![(qr_node.range(), Piece::Code)];
        let mut fitted = Vec::new();
        for node in &texts {
            if let Some(width) = number(*node, "data-fit") {
                let after_name = node.range().start + "<text".len();
                edits.push((after_name..after_name, Piece::Fit(fitted.len())));
                fitted.push(Fitted {
                    width,
                    font_size: number(*node, "font-size").unwrap_or(DEFAULT_FONT_SIZE),
                    bold: is_bold(*node),
                    text: text_of(*node),
                });
            }
        }
        let pieces = split(text, edits)
            .into_iter()
            .flat_map(|piece| match piece {
                Piece::Literal(s) => with_values(&s),
                other => vec![other],
            })
            .collect();

        let fixed_text = without_placeholders(
            &doc.descendants()
                .filter(|n| n.is_text())
                .filter_map(|n| n.text())
                .collect::<String>(),
        );
        Ok(Self {
            pieces,
            fitted,
            qr,
            pdf: pdf_layout(text, root, qr_node, &texts)?,
            fixed_text,
        })
    }

    /// The template with the data written in: escaped values, the QR code drawn in its
    /// square, long text narrowed to its `data-fit` width.
    pub fn fill(&self, data: &PosterData, fonts: &Fonts) -> anyhow::Result<String> {
        let mut svg = String::with_capacity(self.pieces.iter().map(len).sum::<usize>() + 8192);
        for piece in &self.pieces {
            match piece {
                Piece::Literal(s) => svg.push_str(s),
                Piece::Value(name) => svg.push_str(&xml_escape(data.value(name))),
                Piece::Code => svg.push_str(&qr_svg(&data.url, self.qr)?),
                Piece::Fit(i) => {
                    let f = &self.fitted[*i];
                    let text = fill_placeholders(&f.text, data);
                    if fonts.text_width(&text, f.font_size, f.bold) > f.width {
                        svg.push_str(&format!(
                            r#" textLength="{}" lengthAdjust="spacingAndGlyphs""#,
                            f.width
                        ));
                    }
                }
            }
        }
        Ok(svg)
    }
}

fn len(piece: &Piece) -> usize {
    match piece {
        Piece::Literal(s) => s.len(),
        _ => 0,
    }
}

/// A text with its placeholders replaced by the data (not escaped: for PDF text).
pub(crate) fn fill_placeholders(text: &str, data: &PosterData) -> String {
    let mut out = text.to_string();
    for name in PLACEHOLDERS {
        out = out.replace(&format!("{{{{{name}}}}}"), data.value(name));
    }
    out
}

/// Splits a template for PDF: its `<text>` elements with placeholders are drawn on each page
/// (plain text only, no `<tspan>`), the rest, without the QR square, once per file.
fn pdf_layout(
    source: &str,
    root: roxmltree::Node<'_, '_>,
    qr: roxmltree::Node<'_, '_>,
    texts: &[roxmltree::Node<'_, '_>],
) -> anyhow::Result<PdfLayout> {
    let size = match (number(root, "width"), number(root, "height")) {
        (Some(w), Some(h)) => (w, h),
        _ => match root.attribute("viewBox").map(|v| {
            v.split([' ', ','])
                .filter_map(|n| n.parse::<f64>().ok())
                .collect::<Vec<_>>()
        }) {
            Some(v) if v.len() == 4 => (v[2], v[3]),
            _ => bail!("the <svg> element needs a viewBox or a width and height in mm"),
        },
    };
    let root_fill = root
        .attribute("fill")
        .map_or(Ok([0.0, 0.0, 0.0]), parse_color)?;
    let mut removed = vec![(qr.range(), Piece::Literal(String::new()))];
    let mut dynamic = Vec::new();
    for node in texts {
        if !node
            .descendants()
            .any(|n| n.text().is_some_and(|t| t.contains("{{")))
        {
            continue;
        }
        if node.children().any(|n| n.is_element()) {
            bail!("a <text> with placeholders must hold plain text, not other elements");
        }
        dynamic.push(DynamicText {
            x: number(*node, "x").context("a <text> with placeholders needs x")?,
            y: number(*node, "y").context("a <text> with placeholders needs y")?,
            font_size: number(*node, "font-size").unwrap_or(DEFAULT_FONT_SIZE),
            anchor: match node.attribute("text-anchor") {
                Some("middle") => Anchor::Middle,
                Some("end") => Anchor::End,
                _ => Anchor::Start,
            },
            bold: is_bold(*node),
            fill: node.attribute("fill").map_or(Ok(root_fill), parse_color)?,
            fit: number(*node, "data-fit"),
            text: text_of(*node),
        });
        removed.push((node.range(), Piece::Literal(String::new())));
    }
    let fixed_svg = split(source, removed)
        .into_iter()
        .map(|piece| match piece {
            Piece::Literal(s) => s,
            _ => String::new(),
        })
        .collect();
    Ok(PdfLayout {
        size,
        fixed_svg,
        texts: dynamic,
    })
}

/// The one element with `id="qr"`, which must be a `<rect>`.
fn qr_rect<'a, 'input>(
    doc: &'a roxmltree::Document<'input>,
) -> anyhow::Result<roxmltree::Node<'a, 'input>> {
    let mut found = doc
        .descendants()
        .filter(|n| n.is_element() && n.attribute("id") == Some("qr"));
    let Some(node) = found.next() else {
        bail!(r#"no QR square: add <rect id="qr" x="…" y="…" width="…" height="…"/>"#);
    };
    if found.next().is_some() {
        bail!(r#"more than one element has id="qr""#);
    }
    if !node.has_tag_name("rect") {
        bail!(r#"the element with id="qr" must be a <rect>"#);
    }
    Ok(node)
}

/// The square of the QR rect.
fn qr_box(node: roxmltree::Node<'_, '_>) -> anyhow::Result<QrBox> {
    let get = |name: &str| {
        number(node, name).with_context(|| format!(r#"the QR rect needs a numeric {name}="…""#))
    };
    let (x, y, w, h) = (get("x")?, get("y")?, get("width")?, get("height")?);
    if (w - h).abs() > 1e-6 || w <= 0.0 {
        bail!("the QR rect must be a square (width = height > 0)");
    }
    Ok(QrBox { x, y, size: w })
}

/// An attribute of the element itself read as a plain number (`"105mm"` is not one).
fn number(node: roxmltree::Node<'_, '_>, name: &str) -> Option<f64> {
    node.attribute(name).and_then(|v| v.trim().parse().ok())
}

fn is_bold(node: roxmltree::Node<'_, '_>) -> bool {
    matches!(node.attribute("font-weight"), Some("bold" | "700"))
}

/// The text inside an element, entities decoded.
fn text_of(node: roxmltree::Node<'_, '_>) -> String {
    node.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect()
}

/// `source` cut at the given byte ranges (in document order, none inside another), each
/// replaced by its piece; a range inside one already cut is dropped with it.
fn split(source: &str, mut edits: Vec<(Range<usize>, Piece)>) -> Vec<Piece> {
    edits.sort_by_key(|(range, _)| (range.start, range.end));
    let mut pieces = Vec::with_capacity(2 * edits.len() + 1);
    let mut at = 0;
    for (range, piece) in edits {
        if range.start < at {
            continue;
        }
        pieces.push(Piece::Literal(source[at..range.start].to_string()));
        pieces.push(piece);
        at = range.end;
    }
    pieces.push(Piece::Literal(source[at..].to_string()));
    pieces
}

/// A literal part of a template with each `{{name}}` made a value to fill in (the names are
/// checked when the template is read).
fn with_values(text: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("{{") {
        let Some(end) = rest[at..].find("}}") else {
            break;
        };
        let name = rest[at + 2..at + end].trim();
        let Some(known) = PLACEHOLDERS.iter().find(|p| **p == name) else {
            break;
        };
        pieces.push(Piece::Literal(rest[..at].to_string()));
        pieces.push(Piece::Value(known));
        rest = &rest[at + end + 2..];
    }
    pieces.push(Piece::Literal(rest.to_string()));
    pieces
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

/// A text without its `{{…}}` placeholders.
fn without_placeholders(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("{{") {
        out.push_str(&rest[..at]);
        match rest[at..].find("}}") {
            Some(end) => rest = &rest[at + end + 2..],
            None => break,
        }
    }
    out.push_str(rest);
    out
}

/// Text safe inside an XML element or a quoted attribute; control characters, which XML
/// 1.0 does not allow, are left out.
pub(crate) fn xml_escape(value: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="100mm" height="100mm" viewBox="0 0 100 100" fill="#102030"><!-- {{address}} here is left alone by the layout --><rect id="qr" x="10" y="10" width="50" height="50"/><text x="5" y="80" font-size="5" font-weight="700" data-fit="20">A &amp; {{address}}</text><text x="5" y="90">Fixed &lt;text&gt;</text></svg>"##;

    #[test]
    fn escaped_values_read_back_as_written() {
        let value = "A & B <路> \"q\" 'a'\u{7}";
        let svg = format!("<t a=\"{}\">{}</t>", xml_escape(value), xml_escape(value));
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let el = doc.root_element();
        assert_eq!(el.attribute("a"), Some("A & B <路> \"q\" 'a'"));
        assert_eq!(el.text(), Some("A & B <路> \"q\" 'a'"));
    }

    #[test]
    fn a_template_is_read_into_its_parts() {
        let t = Template::parse(GOOD).unwrap();
        assert_eq!((t.qr.x, t.qr.y, t.qr.size), (10.0, 10.0, 50.0));
        assert_eq!(t.fixed_text, "A & Fixed <text>");
        assert_eq!(t.fitted.len(), 1);
        assert_eq!(t.fitted[0].text, "A & {{address}}");
        assert!(t.fitted[0].bold);
        let layout = &t.pdf;
        assert_eq!(layout.size, (100.0, 100.0));
        assert_eq!(layout.texts.len(), 1);
        assert_eq!(layout.texts[0].text, "A & {{address}}");
        assert_eq!(layout.texts[0].fit, Some(20.0));
        assert_eq!(
            layout.texts[0].fill,
            [
                0x10 as f32 / 255.0,
                0x20 as f32 / 255.0,
                0x30 as f32 / 255.0
            ]
        );
        assert!(!layout.fixed_svg.contains(r#"id="qr""#));
        assert!(layout.fixed_svg.contains("Fixed &lt;text&gt;"));
        assert!(!layout.fixed_svg.contains("A &amp;"));
    }

    #[test]
    fn bad_templates_are_refused_with_the_reason() {
        let err = |t: &str| format!("{:#}", Template::parse(t).unwrap_err());
        assert!(err(&GOOD.replace("{{address}}", "{{adress}}")).contains("unknown placeholder"));
        assert!(err(&GOOD.replace("{{address}}", "{{address")).contains("never closed"));
        assert!(err(&GOOD.replace(r#"id="qr""#, r#"id="code""#)).contains("no QR square"));
        assert!(
            err(&GOOD.replace(
                "<text x=\"5\" y=\"90\">",
                "<text id=\"qr\" x=\"5\" y=\"90\">"
            ))
            .contains("more than one")
        );
        assert!(err(&GOOD.replace(r#"width="50""#, r#"width="40""#)).contains("square"));
        assert!(err(&GOOD.replace(r#"x="10""#, r#"x="ten""#)).contains("numeric x"));
        assert!(
            err(&GOOD
                .replace("<rect id", "<circle id")
                .replace("/><text", "></circle><text"))
            .contains("must be a <rect>")
        );
        assert!(err(&GOOD.replace("</svg>", "")).contains("not a valid SVG"));
        assert!(
            err(&GOOD.replace("{{address}}</text>", "<tspan>{{address}}</tspan></text>"))
                .contains("plain text")
        );
        assert!(err(&GOOD.replace("#102030", "red")).contains("#rrggbb"));
    }
}
