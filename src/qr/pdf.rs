//! Print-ready PDF posters, one or a whole community in one file, written page by page.
//!
//! What every poster of a batch shares (the template's fixed drawing and text) is converted
//! once into a Form XObject that each page places. What differs (the QR code and the text
//! with placeholders) is drawn on each page: the code as filled rectangles, the text in one
//! embedded font per weight whose subset, written after the last page, holds exactly the
//! glyphs the batch used. Pages go to the writer as they are made; what stays in memory is
//! the page references and the glyph set, never the pages, so memory does not grow with the
//! number of posters beyond a few bytes each.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use anyhow::Context;
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Chunk, Content, Filter, Finish, Name, Rect, Ref, Str};
use resvg::usvg;

use super::code::{Matrix, POSTER_EC, QUIET_ZONE, QrBox};
use super::error::PosterError;
use super::fonts::{FaceSource, Fonts};
use super::template::{Anchor, PdfLayout, PosterData, fill_placeholders};

/// Points per millimetre (templates are in millimetres).
const PT_PER_MM: f64 = 72.0 / 25.4;

/// A PDF being written object by object, with the offsets its cross-reference table needs.
struct Stream<W: Write> {
    out: W,
    written: usize,
    offsets: Vec<(i32, usize)>,
    next_id: i32,
}

impl<W: Write> Stream<W> {
    fn new(mut out: W) -> std::io::Result<Self> {
        let header = b"%PDF-1.7\n%\x80\x80\x80\x80\n";
        out.write_all(header)?;
        Ok(Self {
            out,
            written: header.len(),
            offsets: Vec::new(),
            next_id: 1,
        })
    }

    fn alloc(&mut self) -> Ref {
        let id = Ref::new(self.next_id);
        self.next_id += 1;
        id
    }

    /// Writes a chunk's objects, noting where each starts. pdf-writer begins every object
    /// with `N 0 obj` on a line of its own, in the order of `refs()`.
    fn chunk(&mut self, chunk: &Chunk) -> std::io::Result<()> {
        let bytes = chunk.as_bytes();
        let mut from = 0;
        for id in chunk.refs() {
            let marker = format!("{} 0 obj", id.get());
            let at = (from..bytes.len())
                .find(|&i| {
                    bytes[i..].starts_with(marker.as_bytes()) && (i == 0 || bytes[i - 1] == b'\n')
                })
                .ok_or_else(|| std::io::Error::other("object marker not found in chunk"))?;
            self.offsets.push((id.get(), self.written + at));
            from = at + marker.len();
        }
        self.out.write_all(bytes)?;
        self.written += bytes.len();
        Ok(())
    }

    /// The cross-reference table and trailer; returns the writer.
    fn finish(mut self, catalog: Ref) -> std::io::Result<W> {
        self.offsets.sort_unstable();
        let size = self.next_id;
        let xref_at = self.written;
        let mut tail = format!("xref\n0 {size}\n0000000000 65535 f\r\n");
        let mut known = self.offsets.iter().peekable();
        for id in 1..size {
            match known.peek() {
                Some((n, offset)) if *n == id => {
                    tail.push_str(&format!("{offset:010} 00000 n\r\n"));
                    known.next();
                }
                _ => tail.push_str("0000000000 65535 f\r\n"),
            }
        }
        tail.push_str(&format!(
            "trailer\n<< /Size {size} /Root {} 0 R >>\nstartxref\n{xref_at}\n%%EOF\n",
            catalog.get()
        ));
        self.out.write_all(tail.as_bytes())?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// One embedded font: the glyphs used so far, renumbered from 1, and what they stand for.
struct EmbeddedFont {
    data: Arc<Vec<u8>>,
    index: u32,
    type0: Ref,
    remapper: subsetter::GlyphRemapper,
    /// New glyph id → the character it was used for (for copying text out of the PDF).
    chars: HashMap<u16, char>,
}

impl EmbeddedFont {
    fn face(&self) -> ttf_parser::Face<'_> {
        ttf_parser::Face::parse(&self.data, self.index).expect("checked when loaded")
    }

    /// The glyphs of `text` as new ids, and its advance width in font units (`None` for a
    /// character without a glyph).
    fn shape(&mut self, text: &str) -> Option<(Vec<u16>, f64, u16)> {
        let data = self.data.clone();
        let face = ttf_parser::Face::parse(&data, self.index).ok()?;
        let mut glyphs = Vec::with_capacity(text.len());
        let mut width = 0.0;
        for c in text.chars() {
            let gid = face.glyph_index(c)?;
            width += f64::from(face.glyph_hor_advance(gid).unwrap_or(0));
            let new = self.remapper.remap(gid.0);
            self.chars.entry(new).or_insert(c);
            glyphs.push(new);
        }
        Some((glyphs, width, face.units_per_em()))
    }

    /// Writes the font objects with the subset of the glyphs used.
    fn write(&self, stream: &mut Stream<impl Write>) -> anyhow::Result<()> {
        let face = self.face();
        let units = f32::from(face.units_per_em());
        let per_mille = |v: f32| v / units * 1000.0;
        let name = format!("RFPOST+{}", postscript_name(&face));
        let (cid, descriptor, cmap, file) = (
            stream.alloc(),
            stream.alloc(),
            stream.alloc(),
            stream.alloc(),
        );
        let info = SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        };
        let mut chunk = Chunk::new();
        chunk
            .type0_font(self.type0)
            .base_font(Name(format!("{name}-Identity-H").as_bytes()))
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid)
            .to_unicode(cmap);
        let mut font = chunk.cid_font(cid);
        font.subtype(CidFontType::Type0)
            .base_font(Name(name.as_bytes()))
            .system_info(info)
            .font_descriptor(descriptor)
            .default_width(0.0);
        let mut widths = font.widths();
        for (new, old) in self.remapper.remapped_gids().enumerate() {
            let advance = face
                .glyph_hor_advance(ttf_parser::GlyphId(old))
                .unwrap_or(0);
            widths.consecutive(new as u16, [per_mille(f32::from(advance))]);
        }
        widths.finish();
        font.finish();
        let bbox = face.global_bounding_box();
        chunk
            .font_descriptor(descriptor)
            .name(Name(name.as_bytes()))
            .flags(FontFlags::SYMBOLIC)
            .bbox(Rect::new(
                per_mille(f32::from(bbox.x_min)),
                per_mille(f32::from(bbox.y_min)),
                per_mille(f32::from(bbox.x_max)),
                per_mille(f32::from(bbox.y_max)),
            ))
            .italic_angle(0.0)
            .ascent(per_mille(f32::from(face.ascender())))
            .descent(per_mille(f32::from(face.descender())))
            .cap_height(per_mille(f32::from(
                face.capital_height().unwrap_or(face.ascender()),
            )))
            .stem_v(10.0 + 0.244 * (f32::from(face.weight().to_number()) - 50.0))
            .font_file3(file);
        let mut unicode = UnicodeCmap::new(Name(b"Custom"), info);
        let mut used: Vec<_> = self.chars.iter().collect();
        used.sort_unstable();
        for (gid, c) in used {
            unicode.pair(*gid, *c);
        }
        chunk.cmap(cmap, &unicode.finish());
        let subset = subsetter::subset(&self.data, self.index, &self.remapper)
            .map_err(|e| anyhow::anyhow!("subsetting the poster font: {e}"))?;
        let packed = miniz_oxide::deflate::compress_to_vec_zlib(&subset, 6);
        chunk
            .stream(file, &packed)
            .filter(Filter::FlateDecode)
            .pair(Name(b"Subtype"), Name(b"OpenType"));
        stream.chunk(&chunk).context("writing the PDF")?;
        Ok(())
    }
}

fn postscript_name(face: &ttf_parser::Face<'_>) -> String {
    face.names()
        .into_iter()
        .find(|n| n.name_id == ttf_parser::name_id::POST_SCRIPT_NAME)
        .and_then(|n| n.to_string())
        .unwrap_or_else(|| "Poster".into())
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

/// Many posters of one template in one PDF, a page each.
pub struct PdfBatch<'a, W: Write> {
    fonts: &'a Fonts,
    layout: PdfLayout,
    qr: QrBox,
    stream: Stream<W>,
    catalog: Ref,
    page_tree: Ref,
    pages: Vec<Ref>,
    fixed: Ref,
    regular: EmbeddedFont,
    bold: EmbeddedFont,
}

impl<'a, W: Write> PdfBatch<'a, W> {
    pub(crate) fn start(
        fonts: &'a Fonts,
        layout: PdfLayout,
        qr: QrBox,
        options: &usvg::Options<'static>,
        out: W,
    ) -> Result<Self, PosterError> {
        let mut stream = Stream::new(out).context("writing the PDF")?;
        let catalog = stream.alloc();
        let page_tree = stream.alloc();
        // The fixed part, once: svg2pdf's own objects renumbered into this file.
        let tree = usvg::Tree::from_str(&layout.fixed_svg, options)
            .context("the template's fixed part")?;
        let (chunk, root) = svg2pdf::to_chunk(&tree, svg2pdf::ConversionOptions::default())
            .map_err(|e| anyhow::anyhow!("converting the template to PDF: {e}"))?;
        let mut map = HashMap::new();
        let renumbered = chunk.renumber(|old| *map.entry(old).or_insert_with(|| stream.alloc()));
        let fixed = *map.get(&root).context("the template's object")?;
        stream.chunk(&renumbered).context("writing the PDF")?;
        let font = |stream: &mut Stream<W>, (data, index): &FaceSource| EmbeddedFont {
            data: data.clone(),
            index: *index,
            type0: stream.alloc(),
            remapper: subsetter::GlyphRemapper::new(),
            chars: HashMap::new(),
        };
        let regular = font(&mut stream, fonts.face_source(false));
        let bold = font(&mut stream, fonts.face_source(true));
        Ok(Self {
            fonts,
            layout,
            qr,
            stream,
            catalog,
            page_tree,
            pages: Vec::new(),
            fixed,
            regular,
            bold,
        })
    }

    /// Adds one poster as the next page. A unit whose text the font cannot show is refused
    /// before anything of its page is written.
    pub fn add(&mut self, data: &PosterData) -> Result<(), PosterError> {
        let missing = self.fonts.missing_glyphs(&data.all_values());
        if !missing.is_empty() {
            return Err(PosterError::MissingGlyphs(missing));
        }
        let (w_mm, h_mm) = self.layout.size;
        let (w, h) = (w_mm * PT_PER_MM, h_mm * PT_PER_MM);
        let mut content = Content::new();
        // The fixed part is a unit-square XObject: scale it to the page.
        content.save_state();
        content.transform([w as f32, 0.0, 0.0, h as f32, 0.0, 0.0]);
        content.x_object(Name(b"T"));
        content.restore_state();
        draw_qr(&mut content, &data.url, self.qr, h)?;
        for text in &self.layout.texts {
            let filled = fill_placeholders(&text.text, data);
            let font = if text.bold {
                &mut self.bold
            } else {
                &mut self.regular
            };
            let (glyphs, width_units, units) = font
                .shape(&filled)
                .ok_or_else(|| PosterError::MissingGlyphs(filled.chars().collect()))?;
            let size = text.font_size * PT_PER_MM;
            let natural = width_units / f64::from(units) * size;
            let limit = text.fit.map(|f| f * PT_PER_MM);
            let (width, squeeze) = match limit {
                Some(limit) if natural > limit => (limit, limit / natural),
                _ => (natural, 1.0),
            };
            let x = text.x * PT_PER_MM
                - match text.anchor {
                    Anchor::Start => 0.0,
                    Anchor::Middle => width / 2.0,
                    Anchor::End => width,
                };
            let y = h - text.y * PT_PER_MM;
            let encoded: Vec<u8> = glyphs.iter().flat_map(|g| g.to_be_bytes()).collect();
            let [r, g, b] = text.fill;
            content.set_fill_rgb(r, g, b);
            content.begin_text();
            content.set_font(Name(if text.bold { b"B" } else { b"R" }), size as f32);
            content.set_horizontal_scaling((squeeze * 100.0) as f32);
            content.next_line(x as f32, y as f32);
            content.show(Str(&encoded));
            content.end_text();
        }
        let body = miniz_oxide::deflate::compress_to_vec_zlib(&content.finish(), 6);
        let page = self.stream.alloc();
        let contents = self.stream.alloc();
        let mut chunk = Chunk::new();
        let mut writer = chunk.page(page);
        writer
            .parent(self.page_tree)
            .media_box(Rect::new(0.0, 0.0, w as f32, h as f32))
            .contents(contents);
        let mut resources = writer.resources();
        resources.x_objects().pair(Name(b"T"), self.fixed);
        resources
            .fonts()
            .pair(Name(b"R"), self.regular.type0)
            .pair(Name(b"B"), self.bold.type0);
        resources.finish();
        writer.finish();
        chunk.stream(contents, &body).filter(Filter::FlateDecode);
        self.stream.chunk(&chunk).context("writing the PDF")?;
        self.pages.push(page);
        Ok(())
    }

    /// How many pages have been written.
    pub fn pages(&self) -> usize {
        self.pages.len()
    }

    /// Writes the fonts, the page tree and the trailer; returns the writer.
    pub fn finish(mut self) -> Result<W, PosterError> {
        self.regular.write(&mut self.stream)?;
        self.bold.write(&mut self.stream)?;
        let mut chunk = Chunk::new();
        chunk
            .pages(self.page_tree)
            .kids(self.pages.iter().copied())
            .count(self.pages.len() as i32);
        chunk
            .indirect(self.catalog)
            .start::<pdf_writer::writers::Catalog>()
            .pages(self.page_tree);
        self.stream.chunk(&chunk).context("writing the PDF")?;
        Ok(self
            .stream
            .finish(self.catalog)
            .context("writing the PDF")?)
    }
}

/// The QR code as filled rectangles, one per run of dark modules in a row, on a white square.
fn draw_qr(
    content: &mut Content,
    url: &str,
    square: QrBox,
    page_height: f64,
) -> anyhow::Result<()> {
    let code = Matrix::encode(url, POSTER_EC)?;
    let n = code.size;
    let side = n as u32 + 2 * QUIET_ZONE;
    let unit = square.size * PT_PER_MM / f64::from(side);
    let left = square.x * PT_PER_MM;
    let top = page_height - square.y * PT_PER_MM;
    content.set_fill_rgb(1.0, 1.0, 1.0);
    content.rect(
        left as f32,
        (top - square.size * PT_PER_MM) as f32,
        (square.size * PT_PER_MM) as f32,
        (square.size * PT_PER_MM) as f32,
    );
    content.fill_nonzero();
    content.set_fill_rgb(0.0, 0.0, 0.0);
    for row in 0..n {
        let mut col = 0;
        while col < n {
            if !code.is_dark(col, row) {
                col += 1;
                continue;
            }
            let start = col;
            while col < n && code.is_dark(col, row) {
                col += 1;
            }
            let x = left + (start as f64 + f64::from(QUIET_ZONE)) * unit;
            let y = top - (row as f64 + f64::from(QUIET_ZONE) + 1.0) * unit;
            content.rect(
                x as f32,
                y as f32,
                ((col - start) as f64 * unit) as f32,
                unit as f32,
            );
        }
    }
    content.fill_nonzero();
    Ok(())
}
