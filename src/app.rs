//! Start-up that tests can drive: build binds the listener, `port()` tells where.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

use crate::error::AppError;
use anyhow::Context;

use crate::config::Settings;
use crate::crypto::Vault;
use crate::http::{self, AppState};
use crate::limits::Limiter;
use crate::metrics::Metrics;
use crate::sessions::SessionStore;
use crate::store::Store;
use crate::{api, pages};

/// Seconds SIGTERM waits for requests in flight before the workers stop.
const SHUTDOWN_GRACE_SECS: u64 = 30;

/// A bound, ready-to-run server.
pub struct Application {
    address: std::net::SocketAddr,
    public_url: String,
    server: Server,
    store: Store,
    dispatcher: crate::jobs::outbox::Dispatcher,
}

impl Application {
    /// Opens the database (applying migrations), the session store and the listener.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let key = settings.resolve_data_key()?;
        let store = Store::connect(&settings.database_url, settings.db_max_connections).await?;
        store.migrate().await?;
        Self::build_with_store(settings, store, key).await
    }

    /// As [`Application::build`], on a store that is already open and migrated.
    pub async fn build_with_store(
        settings: Settings,
        store: Store,
        key: [u8; 32],
    ) -> anyhow::Result<Self> {
        let store = store.with_audit_of(&settings, &key)?;
        crate::store::outbox::configure(&store, settings.outbox_routes()).await?;
        // Broken poster templates stop the start, with the file and the reason.
        let posters = Arc::new(crate::qr::poster::Posters::load(
            settings.qr_templates.as_deref(),
            settings.poster_font.as_deref(),
        )?);
        let rules = settings.rate_rules();
        let limit_key = crate::crypto::sub_key(&key, b"rate-limit-keys");
        let failure_key = crate::crypto::sub_key(&key, b"login-failure-keys");
        let (sessions, limiter) = match &settings.redis_url {
            Some(url) => {
                let conn = crate::redis_link::RedisLink::connect(url).await?;
                (
                    SessionStore::redis(conn.clone(), &settings.redis_prefix, failure_key),
                    Limiter::redis(rules, limit_key, conn, &settings.redis_prefix),
                )
            }
            None => (
                SessionStore::memory(failure_key),
                Limiter::memory(rules, limit_key),
            ),
        };
        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("binding {}", settings.bind))?;
        let address = listener.local_addr()?;
        let public_url = settings
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{address}"));
        let vault = Arc::new(Vault::new(&key));
        let dispatcher =
            crate::jobs::outbox::Dispatcher::new(&settings, vault.clone(), &public_url)?;
        let state = web::Data::new(AppState {
            ctx: crate::service::Context {
                store: store.clone(),
                vault,
                sessions,
                settings,
                public_url: public_url.clone(),
                scan_cache: Default::default(),
                posters,
                metrics: Metrics::new(),
            },
            limiter,
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .wrap(from_fn(http::idempotency::replay))
                .wrap(Compress::default())
                .wrap(from_fn(http::limit::limit))
                .wrap(from_fn(http::observe::observe))
                .wrap(from_fn(http::headers::secure))
                .configure(routes)
        })
        .listen(listener)?
        .shutdown_timeout(SHUTDOWN_GRACE_SECS)
        .run();
        Ok(Self {
            address,
            public_url,
            server,
            store,
            dispatcher,
        })
    }

    /// The port the listener is bound to (useful with port 0).
    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// The bound address.
    pub fn address(&self) -> std::net::SocketAddr {
        self.address
    }

    /// The base of poster URLs.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The store the server uses.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The outbox dispatcher of this instance (its destinations, key and public URL).
    pub fn dispatcher(&self) -> crate::jobs::outbox::Dispatcher {
        self.dispatcher.clone()
    }

    /// Serves until SIGTERM or SIGINT; requests in flight are finished first.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        self.store.close().await;
        result
    }
}

/// Registers every route of the API and the pages: the one table of them.
pub fn routes(cfg: &mut web::ServiceConfig) {
    // A path id that is not a number names nothing (404), and a query value of the wrong
    // type is the caller's mistake (400): both with the JSON error body, like every error.
    cfg.app_data(web::PathConfig::default().error_handler(|_, _| AppError::NotFound.into()))
        .app_data(
            web::QueryConfig::default().error_handler(|err, _| {
                AppError::BadRequest(format!("查询参数有误：{err}")).into()
            }),
        );
    // actix tries the routes in the order they are registered, a pattern with a `{…}` part
    // by a regular expression: the poster's routes, most of all requests, come first.
    cfg.configure(pages::scan::configure)
        .configure(api::scan::configure)
        .configure(api::me::configure)
        .configure(pages::me::configure)
        .configure(pages::offline::configure)
        .configure(pages::police::configure)
        .configure(pages::enforcement::configure)
        .configure(pages::walk::configure)
        .configure(pages::visit::configure)
        .configure(api::health::configure)
        .configure(api::openapi::configure)
        .configure(api::auth::configure)
        .configure(api::import::configure)
        .configure(api::units::configure)
        .configure(api::door_checks::configure)
        .configure(api::cases::configure)
        .configure(api::sublandlords::configure)
        .configure(api::filings::configure)
        .configure(api::stats::configure)
        .configure(api::tips::configure)
        .configure(api::reports::configure)
        .configure(api::reveal::configure)
        .configure(api::audit::configure)
        .configure(api::outbox::configure)
        .configure(api::events::configure)
        .configure(pages::session::configure)
        .configure(pages::assets::configure)
        .configure(pages::portal::configure)
        .configure(pages::tip::configure)
        .configure(pages::console::configure)
        .default_service(web::to(not_found));
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, AppError> {
    if req.path().starts_with("/api/") {
        return Err(AppError::NotFound);
    }
    Ok(http::render::message_page(
        actix_web::http::StatusCode::NOT_FOUND,
        http::render::Lang::Zh,
        "页面不存在",
        "您访问的页面不存在。如果您是扫码登记，请重新扫描门上的二维码。",
    ))
}
