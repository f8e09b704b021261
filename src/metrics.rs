//! Prometheus metrics: request counts and latencies by route, and registrations.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// The service's metrics, registered in a registry of their own (one per application, so
/// tests that start many applications in one process do not collide).
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    /// Registrations stored (occupant uploads through any route).
    pub registrations: IntCounter,
    /// Occupants stored.
    pub occupants: IntCounter,
    /// Outbox messages by destination and state, read at each scrape.
    pub outbox: IntGaugeVec,
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "renfang_http_requests_total",
                "HTTP requests by route and status",
            ),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "renfang_http_request_duration_seconds",
                "HTTP request latency by route",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
            &["method", "route"],
        )
        .expect("valid metric");
        let registrations =
            IntCounter::new("renfang_registrations_total", "Registrations stored").expect("valid");
        let occupants = IntCounter::new("renfang_occupants_registered_total", "Occupants stored")
            .expect("valid");
        let outbox = IntGaugeVec::new(
            Opts::new(
                "renfang_outbox_messages",
                "Outbox messages by destination and state (pending, failing, dead, sent_today)",
            ),
            &["destination", "state"],
        )
        .expect("valid metric");
        for c in [
            Box::new(outbox.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(requests.clone()),
            Box::new(latency.clone()),
            Box::new(registrations.clone()),
            Box::new(occupants.clone()),
        ] {
            registry.register(c).expect("metric registered once");
        }
        Self {
            registry,
            requests,
            latency,
            registrations,
            occupants,
            outbox,
        }
    }

    /// Records one finished request; `route` is the matched pattern, never the raw path
    /// (a raw path would put poster tokens into the metrics).
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[method, route])
            .observe(seconds);
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .expect("encoding metrics to memory");
        String::from_utf8(buf).expect("metrics are UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
