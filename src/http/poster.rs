//! A unit's poster as an answer: shared by the staff API and the sublandlord's pages.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::AppError;
use crate::http::State;
use crate::service::{Caller, posters};
use crate::store::units;

/// The new poster URL after a rotation.
#[derive(Debug, Serialize, ToSchema)]
pub struct PosterUrl {
    pub poster_url: String,
}

/// Which poster: the template (default `a4`) and, for PNG, the resolution.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PosterQuery {
    /// A template of `qr-templates/` by name: `a4` (door poster, the default) or `a6`
    /// (sticker).
    pub template: Option<String>,
    /// PNG only: dots per inch, 72–1200 (default `RENFANG_POSTER_DPI`, 300).
    pub dpi: Option<u32>,
}

/// A unit's current poster (the same token: a reprint) in `format` (`png`, `svg` or `pdf`).
pub async fn poster_response(
    state: &State,
    caller: &Caller,
    unit: &units::Unit,
    format: &str,
    q: &PosterQuery,
) -> Result<HttpResponse, AppError> {
    let poster = posters::print(state, caller, unit, format, q.template.clone(), q.dpi).await?;
    // Saved, a poster is named for its address, as it is printed for one door.
    let name = crate::export::FileName {
        name: format!(
            "房屋二维码_{}_{}.{format}",
            crate::export::safe_name(&unit.community),
            crate::export::safe_name(&unit.address)
        ),
        ascii: format!("poster-{}.{format}", unit.id),
    };
    Ok(super::download::private_named(
        poster.content_type,
        &name,
        poster.body,
    ))
}

/// A community's posters as one PDF download, a page a unit, streamed as the pages are
/// drawn (off the async workers) for the user `by`.
pub fn community_pdf(batch: crate::qr::batch::Batch, by: i64) -> HttpResponse {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<web::Bytes, std::io::Error>>(8);
    let runtime = tokio::runtime::Handle::current();
    let file = crate::export::FileName {
        name: format!(
            "房屋二维码_{}_{}.pdf",
            crate::export::safe_name(&batch.community),
            batch.date
        ),
        ascii: format!("posters_{}.pdf", batch.date),
    };
    tokio::task::spawn_blocking(move || {
        let out = ChannelWriter {
            tx: tx.clone(),
            buf: Vec::with_capacity(CHANNEL_CHUNK),
        };
        match batch.write_pdf(&runtime, out, |_, _| {}) {
            Ok((report, mut out)) => {
                let _ = std::io::Write::flush(&mut out);
                tracing::info!(
                    community_id = batch.community_id,
                    by,
                    written = report.written,
                    skipped = report.skipped.len(),
                    "community posters printed"
                );
            }
            Err(e) => {
                // The answer has begun: end it broken rather than as a complete file.
                tracing::error!(error = format!("{e:#}"), "community posters failed");
                let _ = tx.blocking_send(Err(std::io::Error::other("poster batch failed")));
            }
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    super::download::attachment("application/pdf", &file, super::download::NO_COPIES)
        .streaming(body)
}

/// Bytes handed to the HTTP answer at a time.
const CHANNEL_CHUNK: usize = 64 * 1024;

/// A `Write` that sends what it is given to an HTTP answer in chunks, waiting while the
/// client is slower than the writer (so memory stays at a few chunks).
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Result<web::Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHANNEL_CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = web::Bytes::from(std::mem::replace(
            &mut self.buf,
            Vec::with_capacity(CHANNEL_CHUNK),
        ));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::other("the client went away"))
    }
}
