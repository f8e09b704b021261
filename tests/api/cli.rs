//! The `renfang` binary itself: the contract's command lines.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{TEST_KEY, fresh_database};

fn renfang(database_url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_renfang"));
    cmd.env("RENFANG_DATABASE_URL", database_url)
        .env("RENFANG_DATA_KEY", TEST_KEY)
        .env("RENFANG_BIND", "127.0.0.1:0")
        .env_remove("RENFANG_REDIS_URL");
    cmd
}

/// Starts `renfang serve` on `database_url`; returns the process and the URL its first
/// line announces.
fn serve(database_url: &str) -> (std::process::Child, String) {
    let mut child = renfang(database_url)
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let address = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    (child, address)
}

fn sigterm(child: &std::process::Child) {
    let sent = Command::new("kill")
        .args(["-s", "TERM", "--", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

#[tokio::test]
async fn migrate_then_user_add_reads_the_password_from_stdin() {
    let (_db, url) = fresh_database().await;
    let out = renfang(&url).arg("migrate").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut child = renfang(&url)
        .args(["user", "add", "--username", "root1", "--role", "admin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a-long-password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created user root1"));

    let out = renfang(&url)
        .args([
            "user",
            "add",
            "--username",
            "p",
            "--role",
            "police",
            "--community",
            "nowhere",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "an unknown community must be refused"
    );
}

#[tokio::test]
async fn serve_announces_its_port_answers_and_stops_cleanly_on_sigterm() {
    let (_db, url) = fresh_database().await;
    let (mut child, address) = serve(&url);
    assert!(address.starts_with("http://127.0.0.1:"));
    let res = reqwest::get(format!("{address}/readyz")).await.unwrap();
    assert_eq!(res.status(), 200);

    sigterm(&child);
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "serve exited with {status}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "serve did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn sweep_at_an_instant_prints_how_many_checks_it_created() {
    let (_db, url) = fresh_database().await;
    let app = {
        let app = renfang::Application::build(crate::helpers::test_settings(&url))
            .await
            .unwrap();
        let store = app.store().clone();
        tokio::spawn(app.run_until_stopped());
        store
    };
    let community = renfang::store::communities::create(&app, "影佳", 0)
        .await
        .unwrap();
    let vault = renfang::crypto::Vault::new(&[7; 32]);
    let unit = renfang::store::units::NewUnit {
        floor_area_m2: None,
        created_by: None,
        community_id: community,
        address: "影佳路 1弄 1号".into(),
        address_key: "影佳路1弄1号".into(),
        kind: "flat",
        rental_mode: "whole",
        rooms: 1,
    };
    renfang::store::units::create(&app, &vault, unit, chrono::Utc::now().timestamp_millis())
        .await
        .unwrap();
    let at = (chrono::Utc::now() + chrono::Duration::days(5) + chrono::Duration::minutes(1))
        .to_rfc3339();
    for expected in ["created 1 door checks", "created 0 door checks"] {
        let out = renfang(&url).args(["sweep", "--at", &at]).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), expected);
    }
    let out = renfang(&url)
        .args(["sweep", "--at", "yesterday"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[tokio::test]
async fn import_units_prints_counts_and_rejected_lines_and_exits_2_on_an_unreadable_file() {
    let (_db, url) = fresh_database().await;
    let store = renfang::store::Store::connect(&url, 2).await.unwrap();
    store.migrate().await.unwrap();
    renfang::store::communities::create(&store, "影佳", 0)
        .await
        .unwrap();
    store.close().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("units.csv");
    std::fs::write(
        &file,
        "社区,地址,间数,类型,出租方式\n影佳,影佳路 1号 101室,2,住宅,整租\n影佳,影佳路 1号 102室,0,住宅,整租\n祥东,祥东路 1号,1,住宅,整租\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = renfang(&url).args(args).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        (out.status.code(), text)
    };
    let path = file.to_str().unwrap();

    let (code, dry) = run(&["import", "units", path, "--dry-run"]);
    assert_eq!(code, Some(0));
    assert!(dry.starts_with("dry run: accepted 1 (created 1,"), "{dry}");

    let (code, first) = run(&["import", "units", path]);
    assert_eq!(code, Some(0));
    assert!(
        first.starts_with("accepted 1 (created 1, already present 0), rejected 2"),
        "{first}"
    );
    assert!(first.contains("line 3: 间数"), "{first}");
    assert!(first.contains("line 4: 没有名为“祥东”的社区"), "{first}");

    let (_, again) = run(&["import", "units", path]);
    assert!(
        again.starts_with("accepted 1 (created 0, already present 1)"),
        "{again}"
    );

    let missing = dir.path().join("missing.csv");
    let (code, _) = run(&["import", "units", missing.to_str().unwrap()]);
    assert_eq!(code, Some(2));
    std::fs::write(&missing, [0xff, 0xfe, 0x80, 0x81, 0xff]).unwrap();
    let (code, _) = run(&["import", "units", missing.to_str().unwrap()]);
    assert_eq!(code, Some(2));
}

#[tokio::test]
async fn remind_and_digest_at_an_instant_print_how_many_they_queued() {
    let (_db, url) = fresh_database().await;
    let app = renfang::Application::build(crate::helpers::test_settings(&url))
        .await
        .unwrap();
    renfang::store::communities::create(app.store(), "影佳", 0)
        .await
        .unwrap();
    let at = "2027-06-01T08:00:00+08:00";
    for expected in ["queued 1 digests", "queued 0 digests"] {
        let out = renfang(&url).args(["digest", "--at", at]).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), expected);
    }
    let out = renfang(&url).args(["remind", "--at", at]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "queued 0 reminders"
    );
    for command in ["remind", "digest"] {
        let out = renfang(&url)
            .args([command, "--at", "yesterday"])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{command}");
    }
}

#[tokio::test]
async fn purge_at_an_instant_prints_what_it_deleted() {
    let (_db, url) = fresh_database().await;
    let out = renfang(&url)
        .args(["purge", "--at", "2027-06-01T00:00:00+08:00"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("purged personal data of 0 occupants and 0 tips (older than 180 days)"),
        "{text}"
    );
    let out = renfang(&url)
        .args(["purge", "--at", "yesterday"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// A unit made directly in the database `url` points at, and its poster token.
async fn unit_with_poster(url: &str) -> String {
    use base64::Engine;
    let store = renfang::store::Store::connect(url, 2).await.unwrap();
    store.migrate().await.unwrap();
    let community = renfang::store::communities::create(&store, "影佳", 0)
        .await
        .unwrap();
    let key: [u8; 32] = base64::engine::general_purpose::STANDARD
        .decode(TEST_KEY)
        .unwrap()
        .try_into()
        .unwrap();
    let unit = renfang::store::units::NewUnit {
        floor_area_m2: None,
        created_by: None,
        community_id: community,
        address: "影佳路 2弄 1号".into(),
        address_key: "影佳路2弄1号".into(),
        kind: "flat",
        rental_mode: "whole",
        rooms: 2,
    };
    let vault = renfang::crypto::Vault::new(&key);
    let store = store.with_audit(renfang::store::audit::Chain::new(&key, None));
    let (_, token) = renfang::store::units::create(&store, &vault, unit, 0)
        .await
        .unwrap();
    store.close().await;
    token.as_ref().to_string()
}

#[tokio::test]
async fn sigterm_stops_new_connections_and_lets_a_registration_in_flight_finish() {
    use std::io::Read;
    let (_db, url) = fresh_database().await;
    let token = unit_with_poster(&url).await;
    let (mut child, url_of_server) = serve(&url);
    let address = url_of_server.trim_start_matches("http://").to_string();

    // A registration whose body is still arriving when the signal comes.
    let body = serde_json::to_vec(&crate::helpers::registration(&[crate::helpers::occupant(
        crate::helpers::ID_A,
    )]))
    .unwrap();
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "POST /api/v1/scan/{token}/registrations HTTP/1.1\r\nHost: {address}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    let (first, rest) = body.split_at(body.len() / 2);
    stream.write_all(first).unwrap();
    stream.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));

    sigterm(&child);
    // New connections are refused once the server is draining.
    let started = Instant::now();
    while std::net::TcpStream::connect(&address).is_ok() {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the listener stayed open after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "serve exited with a request in flight"
    );

    // The rest of the body arrives; the registration is answered and stored.
    stream.write_all(rest).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    assert!(answer.contains("receipt"), "{answer}");

    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "serve did not stop after its last request"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "serve exited with {status}");
    let store = renfang::store::Store::connect(&url, 2).await.unwrap();
    let stored: i64 = sqlx::query_scalar("select count(*) from registrations")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(stored, 1);
}

#[tokio::test]
async fn demo_starts_from_an_empty_folder_and_prints_a_poster_that_answers() {
    let folder = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_renfang"))
        .args(["demo", "--bind", "127.0.0.1:0"])
        .current_dir(folder.path())
        .env_remove("RENFANG_DATABASE_URL")
        .env_remove("RENFANG_DATA_KEY")
        .env_remove("RENFANG_REDIS_URL")
        .env_remove("RENFANG_QR_TEMPLATES")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut poster, mut address) = (None, None);
    while address.is_none() {
        let Some(line) = lines.next() else {
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            panic!("demo stopped before listening: {err}");
        };
        let line = line.unwrap();
        if let Some(url) = line.split_whitespace().find(|w| w.contains("/q/")) {
            poster = Some(url.to_string());
        }
        address = line.strip_prefix("listening on ").map(str::to_string);
    }
    let address = address.unwrap();
    let poster = poster.expect("a sample poster URL is printed");
    let token = poster.rsplit('/').next().unwrap();
    let page = reqwest::get(format!("{address}/q/{token}")).await.unwrap();
    assert_eq!(page.status(), 200);
    sigterm(&child);
    child.wait().unwrap();
    assert!(folder.path().join("data/demo.db").exists());
    let mut log = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut log).unwrap();
    for noise in ["tokio_cron_scheduler", "Job creator created", "Uninited"] {
        assert!(
            !log.contains(noise),
            "library housekeeping in the log: {log}"
        );
    }
}

#[tokio::test]
async fn posters_are_not_printed_for_an_address_no_phone_can_open() {
    let (_db, url) = fresh_database().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("posters.pdf");
    for public_url in [None, Some("http://127.0.0.1:0"), Some("http://:8080")] {
        let mut cmd = renfang(&url);
        cmd.env_remove("RENFANG_PUBLIC_URL");
        if let Some(base) = public_url {
            cmd.env("RENFANG_PUBLIC_URL", base);
        }
        let run = cmd
            .args(["qr", "posters", "--community", "影佳", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(!run.status.success(), "{public_url:?} printed");
        assert!(
            stderr.contains("RENFANG_PUBLIC_URL"),
            "{public_url:?}: {stderr}"
        );
        assert!(!out.exists(), "{public_url:?} wrote a file");
    }
}

#[tokio::test]
async fn an_sms_gateway_without_the_public_address_stops_the_start() {
    let (_db, url) = fresh_database().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("renfang.toml");
    std::fs::write(
        &config,
        "[[sms]]\nname = \"sms\"\nurl = \"http://127.0.0.1:9/send\"\nbody = \"{phone} {text}\"\n",
    )
    .unwrap();
    let out = renfang(&url)
        .env("RENFANG_CONFIG", &config)
        .env_remove("RENFANG_PUBLIC_URL")
        .arg("dispatch")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("RENFANG_PUBLIC_URL"), "{err}");
    // With it, the same file is taken.
    let out = renfang(&url)
        .env("RENFANG_CONFIG", &config)
        .env("RENFANG_PUBLIC_URL", "https://rf.example.gov.cn")
        .arg("dispatch")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
