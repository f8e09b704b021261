//! Printing a unit's poster: the live token, drawn by a template, counted as a print.

use super::{Caller, Context, Error, Result};
use crate::domain::role::Role;
use crate::domain::unit::unit_number;
use crate::qr::poster::{PosterData, PosterError};
use crate::store::{self, units};

/// A drawn poster and its media type.
pub struct Poster {
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

/// The unit's current poster (the same token: a reprint) in `format` (`png`, `svg` or
/// `pdf`), drawn by `template` (default `a4`) at `dpi` (PNG only; default the setting).
/// Drawing runs off the async workers. The print is recorded.
pub async fn print(
    ctx: &Context,
    caller: &Caller,
    unit: &units::Unit,
    format: &str,
    template: Option<String>,
    dpi: Option<u32>,
) -> Result<Poster> {
    // Whoever reaches a poster holds the live token: staff who manage units, or the
    // sublandlord of this unit (their routes load only their own units).
    caller.require(|r| r.manages_units() || r == Role::Sublandlord)?;
    let content_type = match format {
        "svg" => "image/svg+xml",
        "pdf" => "application/pdf",
        "png" => "image/png",
        _ => return Err(Error::NotFound),
    };
    let dpi = dpi.unwrap_or(ctx.settings.poster_dpi);
    if !(72..=1200).contains(&dpi) {
        return Err(Error::invalid("dpi"));
    }
    let template = template.unwrap_or_else(|| "a4".into());
    let token = units::current_token(&ctx.store, &ctx.vault, unit.id)
        .await?
        .ok_or(Error::NotFound)?;
    let data = PosterData {
        url: ctx.poster_url(&token),
        community: unit.community.clone(),
        address: unit.address.clone(),
        unit_no: unit_number(unit.id),
        hotline: ctx.settings.hotline.clone(),
        date: ctx.today().format("%Y-%m-%d").to_string(),
        version: unit.qr_version.to_string(),
    };
    let posters = ctx.posters.clone();
    let format = format.to_string();
    let made = tokio::task::spawn_blocking(move || match format.as_str() {
        "svg" => posters.svg(&template, &data).map(String::into_bytes),
        "pdf" => posters.pdf(&template, &data),
        _ => posters.png(&template, &data, dpi),
    })
    .await
    .map_err(|e| anyhow::anyhow!("poster task: {e}"))?;
    let body = match made {
        Ok(body) => body,
        Err(PosterError::UnknownTemplate(_)) => return Err(Error::invalid("template")),
        Err(PosterError::MissingGlyphs(chars)) => {
            tracing::warn!(
                unit_id = unit.id,
                "poster font lacks characters of the unit"
            );
            return Err(Error::Unprintable(format!(
                "房屋 {} 的社区名或地址中有海报字体无法印出的字：{}",
                unit_number(unit.id),
                chars.iter().collect::<String>()
            )));
        }
        Err(PosterError::Other(e)) => return Err(Error::Internal(e)),
    };
    units::record_prints(
        &ctx.store,
        Some(unit.id),
        None,
        Some(caller.user_id),
        store::millis(ctx.now()),
    )
    .await?;
    Ok(Poster { content_type, body })
}

/// Readies the posters of every active unit of the community named `name` for printing
/// with `template` (default `a4`), and records the print; drawing them is left to the
/// caller of the batch, who streams the pages as they are made.
pub async fn community(
    ctx: &Context,
    caller: &Caller,
    name: &str,
    template: Option<String>,
) -> Result<crate::qr::batch::Batch> {
    caller.require(Role::manages_units)?;
    let community = crate::store::communities::find_by_name(&ctx.store, name.trim())
        .await?
        .filter(|c| caller.sees(c.id))
        .ok_or(Error::NotFound)?;
    let template = template.unwrap_or_else(|| "a4".into());
    if !ctx.posters.names().contains(&template.as_str()) {
        return Err(Error::invalid("template"));
    }
    let batch = crate::qr::batch::Batch {
        store: ctx.store.clone(),
        vault: ctx.vault.clone(),
        posters: ctx.posters.clone(),
        public_url: ctx.public_url.clone(),
        hotline: ctx.settings.hotline.clone(),
        community_id: community.id,
        community: community.name.clone(),
        date: ctx.today().format("%Y-%m-%d").to_string(),
        template,
        dpi: ctx.settings.poster_dpi,
    };
    units::record_prints(
        &ctx.store,
        None,
        Some(community.id),
        Some(caller.user_id),
        store::millis(ctx.now()),
    )
    .await?;
    Ok(batch)
}
