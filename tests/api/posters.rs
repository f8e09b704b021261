//! Posters from the templates: PNG and SVG through the API, scanned back with a real QR
//! decoder.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

/// Decodes the one QR code of a PNG.
pub fn decode_png(png: &[u8]) -> String {
    let img = image::load_from_memory(png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the poster");
    grids[0].decode().unwrap().1
}

async fn poster(app: &TestApp, token: &str, unit: i64, rest: &str) -> reqwest::Response {
    app.get(&format!("/api/v1/units/{unit}/poster.{rest}"), Some(token))
        .await
}

#[tokio::test]
async fn a4_and_a6_posters_scan_and_show_the_unit() {
    let app = spawn_app().await;
    let (admin, unit, token) = app.unit_fixture().await;
    let url = format!("{}/q/{token}", app.address);
    for (template, width_px) in [("a4", 827), ("a6", 414)] {
        let res = poster(
            &app,
            &admin,
            unit,
            &format!("png?template={template}&dpi=100"),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK, "{template}");
        assert_eq!(res.headers()["content-type"], "image/png");
        let png = res.bytes().await.unwrap();
        let img = image::load_from_memory(&png).unwrap();
        assert_eq!(img.width(), width_px, "{template} at 100 dpi");
        assert_eq!(decode_png(&png), url, "{template} scans to the poster URL");
    }
    let res = poster(&app, &admin, unit, "svg").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/svg+xml");
    let disposition = res.headers()["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with(&format!(
            "inline; filename=\"poster-{unit}.svg\"; filename*=UTF-8''"
        )) && disposition.ends_with("%20201%E5%AE%A4.svg"),
        "named for its address: {disposition}"
    );
    let svg = res.text().await.unwrap();
    assert!(svg.contains("影佳路 100弄 1号 201室"), "the address");
    assert!(svg.contains("人房共管 · 影佳"), "the community");
    assert!(
        svg.contains(&format!("房屋编号 {unit:06}")),
        "the short number"
    );
    assert!(svg.contains("咨询电话 12345"), "the hotline");
    assert!(svg.contains("第 1 版"), "the version");
    assert!(svg.contains("扫码"), "the instructions");
}

#[tokio::test]
async fn rotation_prints_a_new_version_and_reprints_keep_the_token() {
    let app = spawn_app().await;
    let (admin, unit, token) = app.unit_fixture().await;
    let first = poster(&app, &admin, unit, "png?dpi=100")
        .await
        .bytes()
        .await
        .unwrap();
    let again = poster(&app, &admin, unit, "png?dpi=100")
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(
        decode_png(&first),
        decode_png(&again),
        "a reprint keeps the token"
    );
    let res = app
        .post_json(
            &format!("/api/v1/units/{unit}/qr/rotate"),
            &json!({}),
            Some(&admin),
        )
        .await;
    let rotated: Value = res.json().await.unwrap();
    let new_url = rotated["poster_url"].as_str().unwrap().to_string();
    let png = poster(&app, &admin, unit, "png?dpi=100")
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(decode_png(&png), new_url);
    let svg = poster(&app, &admin, unit, "svg")
        .await
        .text()
        .await
        .unwrap();
    assert!(svg.contains("第 2 版"));
    let res = app.get(&format!("/api/v1/scan/{token}"), None).await;
    assert_eq!(res.status(), StatusCode::GONE);
}

#[tokio::test]
async fn bad_poster_requests_and_unprintable_characters_are_named() {
    let app = spawn_app().await;
    let (admin, unit, _) = app.unit_fixture().await;
    let res = poster(&app, &admin, unit, "png?template=billboard").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = poster(&app, &admin, unit, "png?dpi=10").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = poster(&app, &admin, unit, "gif").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // A character outside the poster font is refused with the unit, not printed as a box.
    let (odd, _) = app
        .create_unit(&admin, "影佳", "影佳路 100弄 2号 𠮷室")
        .await;
    let res = poster(&app, &admin, odd, "svg").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "unprintable");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains('𠮷') && message.contains(&format!("{odd:06}")),
        "{message}"
    );
}

/// Runs a poppler tool on a PDF (`args`, the file, then `tail`) and returns what it printed;
/// `None` (said on stderr) when poppler-utils is not installed, unless
/// `RENFANG_TEST_REQUIRE_SERVICES=1`, where that fails the test.
pub fn poppler(tool: &str, pdf: &[u8], args: &[&str], tail: &[&str]) -> Option<Vec<u8>> {
    let found = std::process::Command::new("which")
        .arg(tool)
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("RENFANG_TEST_REQUIRE_SERVICES").as_deref() != Ok("1"),
            "{tool} is required (apt-get install poppler-utils)"
        );
        eprintln!("SKIPPED PDF check: {tool} is not installed (apt-get install poppler-utils)");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("poster.pdf");
    std::fs::write(&input, pdf).unwrap();
    let out = std::process::Command::new(tool)
        .args(args)
        .arg(&input)
        .args(tail)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(out.stdout)
}

#[tokio::test]
async fn a_pdf_poster_scans_carries_its_text_and_embeds_only_a_font_subset() {
    let app = spawn_app().await;
    let (admin, unit, token) = app.unit_fixture().await;
    let res = poster(&app, &admin, unit, "pdf").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let pdf = res.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-1.7"));
    assert!(
        pdf.len() < 400_000,
        "a subset, not the whole font: {} bytes",
        pdf.len()
    );
    let Some(png) = poppler("pdftoppm", &pdf, &["-png", "-r", "100", "-singlefile"], &[]) else {
        return;
    };
    assert_eq!(decode_png(&png), format!("{}/q/{token}", app.address));
    let text = poppler("pdftotext", &pdf, &["-layout"], &["-"]).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains("影佳路 100弄 1号 201室"), "{text}");
    assert!(text.contains(&format!("{unit:06}")), "{text}");
    assert!(text.contains("扫码"), "{text}");
    let fonts = String::from_utf8(poppler("pdffonts", &pdf, &[], &[]).unwrap()).unwrap();
    let embedded: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!embedded.is_empty());
    assert!(
        embedded.iter().all(|l| l.contains(" yes yes ")),
        "every font embedded as a subset: {fonts}"
    );
}

#[tokio::test]
async fn the_cli_writes_a_community_as_one_pdf_or_a_file_a_unit_and_names_what_it_skips() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳"]).await;
    let mut expected = Vec::new();
    for i in 1..=3 {
        let (_, token) = app
            .create_unit(&admin, "影佳", &format!("影佳路 200弄 {i}号 101室"))
            .await;
        expected.push(format!("{}/q/{token}", app.address));
    }
    let (odd, _) = app
        .create_unit(&admin, "影佳", "影佳路 200弄 9号 𠮷室")
        .await;
    expected.sort();
    let dir = tempfile::tempdir().unwrap();
    let run = |format: &str, out: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_renfang"))
            .env("RENFANG_DATABASE_URL", &app.database_url)
            .env("RENFANG_DATA_KEY", crate::helpers::TEST_KEY)
            .env("RENFANG_PUBLIC_URL", &app.address)
            .env_remove("RENFANG_REDIS_URL")
            .args([
                "qr",
                "posters",
                "--community",
                "影佳",
                "--format",
                format,
                "--dpi",
                "100",
            ])
            .arg("--out")
            .arg(out)
            .output()
            .unwrap()
    };

    let pdf_path = dir.path().join("yingjia.pdf");
    let out = run("pdf", &pdf_path);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a skipped unit fails the run: {stderr}"
    );
    assert!(stdout.contains("wrote 3 posters"), "{stdout}");
    assert!(
        stderr.contains(&format!("{odd:06}")) && stderr.contains('𠮷'),
        "{stderr}"
    );
    assert!(
        stderr.contains("posters: 4/4"),
        "plain progress lines: {stderr}"
    );
    let pdf = std::fs::read(&pdf_path).unwrap();
    if let Some(info) = poppler("pdfinfo", &pdf, &[], &[]) {
        let info = String::from_utf8(info).unwrap();
        assert!(info.contains("Pages:           3"), "{info}");
        let mut scanned = Vec::new();
        for page in 1..=3 {
            let p = page.to_string();
            let png = poppler(
                "pdftoppm",
                &pdf,
                &["-png", "-r", "72", "-f", &p, "-l", &p, "-singlefile"],
                &[],
            )
            .unwrap();
            scanned.push(decode_png(&png));
        }
        scanned.sort();
        assert_eq!(scanned, expected);
    }

    for format in ["png", "svg"] {
        let folder = dir.path().join(format);
        let out = run(format, &folder);
        assert_eq!(out.status.code(), Some(1));
        let mut files: Vec<_> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert_eq!(files.len(), 3, "{format}: one file a printable unit");
        if format == "png" {
            let mut scanned: Vec<String> = files
                .iter()
                .map(|f| decode_png(&std::fs::read(f).unwrap()))
                .collect();
            scanned.sort();
            assert_eq!(scanned, expected);
        } else {
            let svg = std::fs::read_to_string(&files[0]).unwrap();
            assert!(svg.contains("影佳路 200弄"), "{svg}");
        }
    }
}

#[tokio::test]
async fn staff_download_their_communitys_posters_as_one_pdf() {
    let app = spawn_app().await;
    let admin = app.admin_with(&["影佳", "祥东"]).await;
    let mut expected = Vec::new();
    for i in 1..=2 {
        let (_, token) = app
            .create_unit(&admin, "影佳", &format!("影佳路 300弄 {i}号"))
            .await;
        expected.push(format!("{}/q/{token}", app.address));
    }
    app.create_unit(&admin, "祥东", "祥东路 300弄 1号").await;
    expected.sort();
    let community = app.login_as("community", &["影佳"]).await;
    let res = app
        .get("/api/v1/communities/影佳/posters.pdf", Some(&community))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let disposition = res.headers()["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"posters_")
            && disposition.contains(
                "filename*=UTF-8''%E6%88%BF%E5%B1%8B%E4%BA%8C%E7%BB%B4%E7%A0%81_%E5%BD%B1%E4%BD%B3_"
            ),
        "房屋二维码_影佳_…: {disposition}"
    );
    let pdf = res.bytes().await.unwrap();
    assert!(pdf.ends_with(b"%%EOF\n"));
    if let Some(info) = poppler("pdfinfo", &pdf, &[], &[]) {
        assert!(
            String::from_utf8(info)
                .unwrap()
                .contains("Pages:           2")
        );
        let mut scanned: Vec<String> = (1..=2)
            .map(|page| {
                let p = page.to_string();
                let png = poppler(
                    "pdftoppm",
                    &pdf,
                    &["-png", "-r", "72", "-f", &p, "-l", &p, "-singlefile"],
                    &[],
                )
                .unwrap();
                decode_png(&png)
            })
            .collect();
        scanned.sort();
        assert_eq!(scanned, expected);
    }
    // Another community's posters are not theirs to print.
    let res = app
        .get("/api/v1/communities/祥东/posters.pdf", Some(&community))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let police_elsewhere = app.login_as("enforcement", &["影佳"]).await;
    let res = app
        .get(
            "/api/v1/communities/影佳/posters.pdf",
            Some(&police_elsewhere),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

/// The file of the system's Noto Sans CJK SC (Debian's fonts-noto-cjk), found by fontconfig.
fn system_cjk_font() -> Option<std::path::PathBuf> {
    let out = std::process::Command::new("fc-match")
        .args(["-f", "%{file}", "Noto Sans CJK SC"])
        .output()
        .ok()?;
    let file = std::path::PathBuf::from(String::from_utf8(out.stdout).ok()?);
    file.file_name()?
        .to_str()?
        .starts_with("NotoSansCJK")
        .then_some(file)
}

#[tokio::test]
async fn a_full_system_font_prints_what_the_shipped_subset_cannot() {
    let Some(font) = system_cjk_font() else {
        assert!(
            std::env::var("RENFANG_TEST_REQUIRE_SERVICES").as_deref() != Ok("1"),
            "Noto Sans CJK is required (apt-get install fonts-noto-cjk fontconfig)"
        );
        eprintln!("SKIPPED full-font test: no system Noto Sans CJK (fonts-noto-cjk)");
        return;
    };
    let app = crate::helpers::spawn_app_with(|s| s.poster_font = Some(font)).await;
    let admin = app.admin_with(&["影佳"]).await;
    let (unit, token) = app
        .create_unit(&admin, "影佳", "影佳路 100弄 2号 𠮷室")
        .await;
    let svg = poster(&app, &admin, unit, "svg").await;
    assert_eq!(svg.status(), StatusCode::OK);
    assert!(svg.text().await.unwrap().contains("𠮷室"));
    let png = poster(&app, &admin, unit, "png?dpi=100")
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(decode_png(&png), format!("{}/q/{token}", app.address));
    let pdf = poster(&app, &admin, unit, "pdf").await;
    assert_eq!(pdf.status(), StatusCode::OK);
    let pdf = pdf.bytes().await.unwrap();
    if let Some(text) = poppler("pdftotext", &pdf, &["-layout"], &["-"]) {
        assert!(String::from_utf8(text).unwrap().contains("𠮷室"));
    }
}
