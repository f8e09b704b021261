//! The pages that ask before a sublandlord's change that is hard to take back: a move-out
//! (who, and on which day), a vacancy (what it does to the clock), everyone out with a
//! vacancy, and a new poster (the one on the door stops working). No script: each is a page
//! with one form that posts the same action the unit page's buttons used to.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::error::AppError;
use crate::http::State;
use crate::pages::session::{PageCaller, csrf_token, html, see_other};
use crate::service::my_units;
use crate::service::sublandlords::me;
use crate::service::undo::UNDO_WINDOW_HOURS;

/// Which change to ask about.
#[derive(Debug, Deserialize)]
pub struct AskQuery {
    action: String,
    #[serde(default)]
    occupant: Option<i64>,
}

#[derive(Template)]
#[template(path = "my_confirm.html")]
struct AskPage {
    csrf: String,
    unit_id: i64,
    address: String,
    title: &'static str,
    explain: Vec<String>,
    /// The people the change concerns, masked.
    people: Vec<String>,
    action: &'static str,
    occupant: Option<i64>,
    ask_date: bool,
    today: String,
    button: &'static str,
    /// `danger` for a change that stops something working at once.
    tone: &'static str,
}

pub(super) async fn ask(
    state: State,
    id: web::Path<i64>,
    q: web::Query<AskQuery>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, AppError> {
    let me = me(&state, &caller).await?;
    let unit = my_units::unit(&state, &me, id.into_inner()).await?;
    let view = my_units::view(&state, &me, unit.id).await?;
    let undo_note = format!("如属误操作，{UNDO_WINDOW_HOURS} 小时内可在房屋页面撤销。");
    let overdue = state.settings.overdue_days;
    let confirm = state.settings.confirm_days;
    let everyone: Vec<String> = view
        .occupants
        .iter()
        .map(|o| person_line(&o.name, o.room.as_deref()))
        .collect();
    let page = |title, explain, people, action, ask_date, button, tone| AskPage {
        csrf: csrf_token(&caller),
        unit_id: unit.id,
        address: unit.address.clone(),
        title,
        explain,
        people,
        action,
        occupant: q.occupant,
        ask_date,
        today: state.today().format("%Y-%m-%d").to_string(),
        button,
        tone,
    };
    let page = match q.action.as_str() {
        "move_out" => {
            let person = view
                .occupants
                .iter()
                .find(|o| Some(o.id) == q.occupant)
                .ok_or(AppError::NotFound)?;
            let name = &person.name;
            let left = view.occupants.len() - 1;
            let after = if left == 0 {
                format!(
                    "登记后本房屋将无人登记：需在 {overdue} 天内有新租客登记，或申报空置，否则会列入上门核查。"
                )
            } else {
                format!("登记后本房屋还有 {left} 人在住。")
            };
            page(
                "登记搬离",
                vec![
                    format!("确认 {name} 已从本房屋搬离？请填写实际搬离的日期。"),
                    after,
                    undo_note,
                ],
                vec![person_line(&person.name, person.room.as_deref())],
                "move_out",
                true,
                "确认搬离",
                "danger",
            )
        }
        "vacancy" if !view.occupants.is_empty() => {
            return Ok(see_other(&format!(
                "/my/units/{}/ask?action=vacancy_all_out",
                unit.id
            )));
        }
        "vacancy" => page(
            if view.state == "vacant" {
                "再次申报空置"
            } else {
                "申报空置"
            },
            vec![
                "申报空置表示房屋目前无人居住、暂不出租。".into(),
                format!(
                    "空置期间暂停 {overdue} 天上传计时，最长 {confirm} 天；到期前仍空置请再次申报，否则恢复计时并可能列入上门核查。"
                ),
                "有人入住时请及时登记，登记后房屋自动恢复在租。".into(),
                // A renewal replaces nothing that an undo could put back.
                if view.state == "vacant" {
                    String::new()
                } else {
                    undo_note
                },
            ],
            Vec::new(),
            "vacancy",
            false,
            "确认申报空置",
            "",
        ),
        "vacancy_all_out" => page(
            "全部搬离并申报空置",
            vec![
                format!(
                    "以下 {} 人将一并登记为搬离，房屋申报为空置（暂停计时，最长 {confirm} 天）：",
                    everyone.len()
                ),
                "请填写他们实际搬离的日期。".into(),
                undo_note,
            ],
            everyone,
            "vacancy_all_out",
            true,
            "确认全部搬离并申报空置",
            "danger",
        ),
        "rotate" => page(
            "更换二维码",
            vec![
                "更换后，门口张贴的旧二维码立即失效，租客扫码将无法登记。".into(),
                "请在能马上打印新二维码时更换，并立即替换门口的旧二维码。".into(),
                "仅在二维码被他人冒用或泄露时更换；遗失或破损请直接重新下载打印（号码不变），不必更换。".into(),
                "更换无法撤销。".into(),
            ],
            Vec::new(),
            "rotate",
            false,
            "确认更换（旧二维码立即失效）",
            "danger",
        ),
        _ => return Err(AppError::NotFound),
    };
    Ok(html(StatusCode::OK, page.render()))
}

/// A person as the confirmation lists them: their name as the unit page shows it (masked)
/// and their room.
fn person_line(name: &str, room: Option<&str>) -> String {
    match room.filter(|r| !r.is_empty()) {
        Some(room) => format!("{name}（{room}）"),
        None => name.to_string(),
    }
}
