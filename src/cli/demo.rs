//! `renfang demo`: sample data for the three communities of the programme, then serve.

use std::process::ExitCode;

use anyhow::Context;
use chrono::Utc;

use crate::app::Application;
use crate::config::Settings;
use crate::crypto::Vault;
use crate::domain::document::with_check_char;
use crate::domain::notice::NOTICE_VERSION;
use crate::domain::registration::{NewRegistration, OccupantInput, new_receipt};
use crate::domain::sublandlord::{FilingInput, NewFiling, Signup};
use crate::domain::unit::{Address, RentalMode, UnitKind};
use crate::store::registrations::{self, Source};
use crate::store::sublandlords::{self, NewSublandlord};
use crate::store::{self, Store, communities, filing_review, filings, units, users};

const DEMO_DATABASE: &str = "sqlite://data/demo.db";

/// The communities of the programme, each with the road its sample units are on.
const COMMUNITIES: [(&str, &str); 3] =
    [("影佳", "影佳路"), ("祥东", "祥东路"), ("虬长路", "虬长路")];

/// Demo accounts: (username, password, role). Demo only: documented in the README.
const ACCOUNTS: [(&str, &str, &str); 6] = [
    ("admin", "renfang-admin", "admin"),
    ("police", "renfang-police", "police"),
    ("enforcement", "renfang-enforce", "enforcement"),
    ("community", "renfang-community", "community"),
    ("property", "renfang-property", "property"),
    ("integration", "renfang-integration", "integration"),
];
const SUBLANDLORD: (&str, &str) = ("13900000001", "renfang-sublandlord");

pub async fn run(bind: Option<String>) -> anyhow::Result<ExitCode> {
    let mut settings = Settings::load()?;
    settings.database_url = DEMO_DATABASE.parse()?;
    if let Some(bind) = bind {
        settings.bind = bind;
    }
    let key = settings.resolve_data_key()?;
    let store = super::open(&settings).await?;
    let vault = Vault::new(&key);
    let fresh = communities::list(&store).await?.is_empty();
    if fresh {
        seed(&store, &vault).await.context("creating demo data")?;
    }
    let app = Application::build_with_store(settings.clone(), store.clone(), key).await?;
    let sample = sample_poster(&store, &vault, app.public_url()).await?;
    println!(
        "演示数据 demo data: data/demo.db ({})",
        if fresh {
            "新建 created"
        } else {
            "沿用 reused"
        }
    );
    println!("登录 logins (用户名 username / 密码 password / 角色 role):");
    for (user, password, role) in ACCOUNTS {
        println!("  {user:<12} {password:<20} {role}");
    }
    println!("  {:<12} {:<20} sublandlord", SUBLANDLORD.0, SUBLANDLORD.1);
    println!("样例二维码 sample poster URL: {sample}");
    println!(
        "工作台 console: {}/login · 举报 tips: {}/tip",
        app.public_url(),
        app.public_url()
    );
    super::run_with_jobs(app, &settings).await
}

async fn seed(store: &Store, vault: &Vault) -> anyhow::Result<()> {
    let now = store::millis(Utc::now());
    let mut names = Vec::new();
    for (index, (community, road)) in COMMUNITIES.iter().enumerate() {
        let community_id = communities::create(store, community, now).await?;
        names.push(community.to_string());
        for n in 0..8_i64 {
            let lane = 100 + 20 * index as i64 + n / 4;
            let address = Address::parse(&format!(
                "{road} {lane}弄 {}号 {}室",
                1 + n % 4,
                201 + 100 * (n % 3)
            ))
            .map_err(|e| anyhow::anyhow!("demo address: {}", e.message_en))?;
            let mode = [RentalMode::Whole, RentalMode::Shared, RentalMode::Group][n as usize % 3];
            let unit = units::NewUnit {
                floor_area_m2: None,
                created_by: None,
                community_id,
                address: address.display().to_string(),
                address_key: address.key().to_string(),
                kind: UnitKind::Flat.as_str(),
                rental_mode: mode.as_str(),
                rooms: 1 + n % 4,
            };
            let (unit_id, _) = units::create(store, vault, unit, now).await?;
            // Half the units already have a tenant, so the console has something to show.
            if n % 2 == 0 {
                register_sample(store, vault, unit_id, index as i64 * 8 + n).await?;
            }
        }
    }
    for (user, password, role) in ACCOUNTS {
        let scope = if role == "admin" {
            &[][..]
        } else {
            &names[..1]
        };
        super::user::add_staff(store, user, role, scope, password).await?;
    }
    seed_sublandlord(store, vault).await
}

/// The demo sublandlord, with one new flat filed and one sample unit filed and approved by
/// the demo admin (a filing of a unit staff created waits for approval).
async fn seed_sublandlord(store: &Store, vault: &Vault) -> anyhow::Result<()> {
    let today = Utc::now().date_naive();
    let id_number = with_check_char("31011519750302123").context("id")?;
    let signup = Signup::parse(
        "王建华",
        SUBLANDLORD.0,
        "resident_id",
        &id_number,
        SUBLANDLORD.1,
        today,
    )
    .map_err(|e| anyhow::anyhow!("demo sublandlord invalid: {e:?}"))?;
    let hash = crate::crypto::hash_password(SUBLANDLORD.1)?;
    let now = store::millis(Utc::now());
    let id = sublandlords::create(store, NewSublandlord::seal(vault, &signup, hash), now)
        .await?
        .map_err(|r| anyhow::anyhow!("demo sublandlord refused: {r:?}"))?;
    let community = communities::find_by_name(store, COMMUNITIES[0].0)
        .await?
        .context("demo community")?;
    for (address, rooms, planned) in [
        ("影佳路 100弄 1号 201室", 1, 2),
        ("影佳路 100弄 9号 601室", 3, 5),
    ] {
        let input = FilingInput {
            address: address.into(),
            kind: None,
            rooms,
            rental_mode: RentalMode::Shared.as_str().into(),
            floor_area_m2: Some(60.0),
            start_date: today.format("%Y-%m-%d").to_string(),
            planned_occupants: planned,
            family: false,
        };
        let filing = NewFiling::parse(&input, today)
            .map_err(|e| anyhow::anyhow!("demo filing invalid: {e:?}"))?;
        let filed = filings::file(
            store,
            vault,
            id,
            community.id,
            filing,
            Settings::default().density(),
            now,
        )
        .await?
        .map_err(|r| anyhow::anyhow!("demo filing refused: {r:?}"))?;
        if let filings::Filed::Pending { filing_id } = filed {
            let admin = users::find_by_username(store, ACCOUNTS[0].0)
                .await?
                .context("demo admin")?;
            filing_review::approve(
                store,
                filing_id,
                admin.id,
                Settings::default().density(),
                now,
            )
            .await?
            .map_err(|d| anyhow::anyhow!("demo approval declined: {d:?}"))?;
        }
    }
    Ok(())
}

async fn register_sample(store: &Store, vault: &Vault, unit_id: i64, n: i64) -> anyhow::Result<()> {
    let today = Utc::now().date_naive();
    let id_number =
        with_check_char(&format!("310117199{}0{}15{:03}", n % 10, 1 + n % 9, n)).context("id")?;
    let input = OccupantInput {
        name: ["王小明", "李娜", "陈建国", "刘芳"][n as usize % 4].to_string(),
        id_type: "resident_id".into(),
        id_number,
        phone: format!("1380013{:04}", n),
        room: "A".into(),
        move_in: "2026-09-01".into(),
        nationality: String::new(),
        remind: false,
    };
    let registration = NewRegistration::parse(NOTICE_VERSION, &[input], today)
        .map_err(|e| anyhow::anyhow!("demo occupant invalid: {e:?}"))?;
    let now = store::millis(Utc::now());
    registrations::record(
        store,
        vault,
        unit_id,
        None,
        &registration,
        Source::Scan,
        new_receipt(today),
        None,
        crate::config::Settings::default().density(),
        now,
    )
    .await?;
    Ok(())
}

async fn sample_poster(store: &Store, vault: &Vault, public_url: &str) -> anyhow::Result<String> {
    let community = communities::list(store)
        .await?
        .into_iter()
        .next()
        .context("demo data has no community")?;
    let unit_id = *units::ids_in_community(store, community.id, 1)
        .await?
        .first()
        .context("demo data has no unit")?;
    let token = units::current_token(store, vault, unit_id)
        .await?
        .context("demo unit has no poster")?;
    Ok(format!("{public_url}/q/{}", token.as_ref()))
}
