//! Bare QR codes as PNG (fast_qr for the code, png for the file), as fast as one thread
//! makes them: the Rust side of
//! `scripts/bench-posters.sh`, which runs Python's segno and qrcode on the same codes.
//!
//!     cargo run --release --example qr_codes -- 20000
//!
//! Each code carries a distinct 65-byte poster URL, level Q, 4-module quiet zone, 8 pixels a
//! module, 1-bit-deep PNG, as the Python runs are asked for. Prints `codes/s`.

use std::time::Instant;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let started = Instant::now();
    let mut bytes = 0;
    for i in 0..n {
        let url = format!("https://renfang.example.gov.cn/q/{i:024}");
        bytes += renfang::qr::qr_png_with(&url, renfang::qr::EcLevel::Q)
            .expect("the URL fits")
            .len();
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "rust fast_qr+png: {n} codes in {seconds:.2} s = {:.0} codes/s ({} bytes per PNG)",
        n as f64 / seconds,
        bytes / n.max(1)
    );
}
