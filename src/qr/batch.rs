//! A whole community's posters at once: one multi-page PDF, or one PNG or SVG file a unit.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

use super::poster::{PosterData, PosterError, Posters};
use crate::crypto::{Purpose, Vault};
use crate::store::{Store, units};

/// Units fetched from the database at a time.
const PAGE: i64 = 500;

/// The output of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One file, a page a poster.
    Pdf,
    /// One file a poster, in a folder.
    Png,
    /// One file a poster, in a folder.
    Svg,
}

impl Format {
    /// Parses `pdf`, `png` or `svg`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pdf" => Some(Format::Pdf),
            "png" => Some(Format::Png),
            "svg" => Some(Format::Svg),
            _ => None,
        }
    }
}

/// What a batch needs besides the units.
pub struct Batch {
    pub store: Store,
    pub vault: Arc<Vault>,
    pub posters: Arc<Posters>,
    pub public_url: String,
    pub hotline: String,
    pub community_id: i64,
    pub community: String,
    /// Generation date, `YYYY-MM-DD`.
    pub date: String,
    pub template: String,
    pub dpi: u32,
}

/// A unit left out of a batch, and why.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub unit_no: String,
    pub address: String,
    pub reason: String,
}

/// How a batch went.
#[derive(Debug, Default)]
pub struct Report {
    pub written: usize,
    pub skipped: Vec<Skipped>,
}

impl Batch {
    /// Writes every active unit's poster to `out` (a file for PDF, a folder otherwise),
    /// calling `progress(done, total)` as it goes. Runs on the calling thread: call it from
    /// a blocking task; it reads the database through `runtime`.
    pub fn write(
        &self,
        runtime: &tokio::runtime::Handle,
        format: Format,
        out: &Path,
        mut progress: impl FnMut(usize, usize),
    ) -> anyhow::Result<Report> {
        if format == Format::Pdf {
            let file = std::fs::File::create(out)
                .with_context(|| format!("creating {}", out.display()))?;
            let (report, mut file) =
                self.write_pdf(runtime, std::io::BufWriter::new(file), progress)?;
            file.flush().context("writing the PDF")?;
            return Ok(report);
        }
        std::fs::create_dir_all(out)
            .with_context(|| format!("creating the folder {}", out.display()))?;
        self.each(runtime, &mut progress, |data| match format {
            Format::Svg => self
                .posters
                .svg(&self.template, data)
                .and_then(|svg| save(out, &data.unit_no, "svg", svg.as_bytes())),
            _ => self
                .posters
                .png(&self.template, data, self.dpi)
                .and_then(|png| save(out, &data.unit_no, "png", &png)),
        })
    }

    /// Writes every active unit's poster as one PDF to `out`, a page at a time; returns the
    /// report and the writer.
    pub fn write_pdf<W: Write>(
        &self,
        runtime: &tokio::runtime::Handle,
        out: W,
        mut progress: impl FnMut(usize, usize),
    ) -> anyhow::Result<(Report, W)> {
        let mut pdf = self
            .posters
            .pdf_batch(&self.template, out)
            .map_err(anyhow::Error::new)?;
        let report = self.each(runtime, &mut progress, |data| pdf.add(data))?;
        let out = pdf.finish().map_err(anyhow::Error::new)?;
        Ok((report, out))
    }

    /// Calls `make` with each active unit's poster data, a database page at a time; a unit
    /// the font cannot print is reported and skipped.
    fn each(
        &self,
        runtime: &tokio::runtime::Handle,
        progress: &mut impl FnMut(usize, usize),
        mut make: impl FnMut(&PosterData) -> Result<(), PosterError>,
    ) -> anyhow::Result<Report> {
        let total = runtime.block_on(units::count_active(&self.store, self.community_id))? as usize;
        let mut report = Report::default();
        let mut after = 0;
        let mut done = 0;
        progress(0, total);
        loop {
            let rows = runtime.block_on(units::poster_page(
                &self.store,
                self.community_id,
                after,
                PAGE,
            ))?;
            let Some(last) = rows.last() else { break };
            after = last.id;
            for row in rows {
                let data = self.data(&row)?;
                match make(&data) {
                    Ok(()) => report.written += 1,
                    Err(PosterError::MissingGlyphs(chars)) => report.skipped.push(Skipped {
                        unit_no: data.unit_no.clone(),
                        address: data.address.clone(),
                        reason: format!("海报字体缺少这些字：{}", chars.iter().collect::<String>()),
                    }),
                    Err(e) => return Err(anyhow::Error::new(e)),
                }
                done += 1;
                progress(done, total);
            }
        }
        Ok(report)
    }

    fn data(&self, row: &units::PosterRow) -> anyhow::Result<PosterData> {
        let sealed = row
            .token_enc
            .as_ref()
            .with_context(|| format!("unit {} has no current poster token", row.id))?;
        let token = self
            .vault
            .open(Purpose::QrToken, sealed)
            .map_err(|e| anyhow::anyhow!("unit {}: {e}", row.id))?;
        Ok(PosterData {
            url: format!("{}/q/{token}", self.public_url),
            community: self.community.clone(),
            address: row.address.clone(),
            unit_no: crate::domain::unit::unit_number(row.id),
            hotline: self.hotline.clone(),
            date: self.date.clone(),
            version: row.qr_version.to_string(),
        })
    }
}

fn save(dir: &Path, unit_no: &str, ext: &str, bytes: &[u8]) -> Result<(), PosterError> {
    let path: PathBuf = dir.join(format!("{unit_no}.{ext}"));
    std::fs::write(&path, bytes)
        .with_context(|| format!("writing {}", path.display()))
        .map_err(PosterError::Other)
}
