//! The tenant's own record at `/me/{token}`, in Chinese or English, without scripts: their
//! unit and people, "nothing has changed", a move-out with its date, a correction request,
//! and who has looked at their data. The link itself is the credential (no session), so
//! every form posts back to it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::domain::document::IdType;
use crate::domain::role::Role;
use crate::error::AppError;
use crate::http::State;
use crate::http::render::{Lang, html};
use crate::pages::session::see_other;
use crate::service::Error as ServiceError;
use crate::service::self_service::{self, MeOut};

/// Registers the page.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/me/{token}", web::get().to(page))
        .route("/me/{token}", web::post().to(act));
}

/// The words of the page.
struct Texts {
    html_lang: &'static str,
    title: &'static str,
    switch_label: &'static str,
    switch_query: &'static str,
    receipt: &'static str,
    people: &'static str,
    current: &'static str,
    moved_out: &'static str,
    unchanged_title: &'static str,
    unchanged_help: &'static str,
    unchanged: &'static str,
    move_out_title: &'static str,
    move_out_help: &'static str,
    move_out_date: &'static str,
    move_out: &'static str,
    correction_title: &'static str,
    correction_help: &'static str,
    correction: &'static str,
    access_title: &'static str,
    access_help: &'static str,
    access_none: &'static str,
    done_confirm: &'static str,
    done_moved: &'static str,
    done_correction: &'static str,
    not_found: &'static str,
    footer: &'static str,
}

const ZH: Texts = Texts {
    html_lang: "zh-CN",
    title: "我的登记",
    switch_label: "English",
    switch_query: "?lang=en",
    receipt: "回执号：",
    people: "本次登记的人员",
    current: "在住",
    moved_out: "已搬离",
    unchanged_title: "人员没有变化",
    unchanged_help: "仍住在这里、人员没有变化时，请每月点一次确认，社区就不必上门核查。",
    unchanged: "确认人员无变化",
    move_out_title: "登记搬离",
    move_out_help: "搬走后请在此登记，选择搬离的人和日期。",
    move_out_date: "搬离日期",
    move_out: "登记搬离",
    correction_title: "申请更正",
    correction_help: "信息有误？写明需要更正的内容，社区工作人员会联系处理。",
    correction: "提交更正申请",
    access_title: "谁查阅过我的信息",
    access_help: "依据《个人信息保护法》第四十五条，您可以查看工作人员查看您完整证件号码、导出含您信息的文件和上门核查的记录。",
    access_none: "暂无查阅记录。",
    done_confirm: "已确认人员无变化，谢谢。",
    done_moved: "已登记搬离。",
    done_correction: "更正申请已提交给社区。",
    not_found: "链接无效，请核对链接是否完整。",
    footer: "人房共管 · 出租房屋扫码登记",
};

const EN: Texts = Texts {
    html_lang: "en",
    title: "My registration",
    switch_label: "中文",
    switch_query: "",
    receipt: "Receipt: ",
    people: "People in this registration",
    current: "living here",
    moved_out: "moved out",
    unchanged_title: "Nothing has changed",
    unchanged_help: "While you still live here and nobody has changed, confirm it once a month and nobody needs to visit.",
    unchanged: "Confirm nothing has changed",
    move_out_title: "Record a move-out",
    move_out_help: "After moving out, record it here with the person and the date.",
    move_out_date: "Move-out date",
    move_out: "Record the move-out",
    correction_title: "Ask for a correction",
    correction_help: "Something wrong? Say what should be corrected and the community will follow up.",
    correction: "Send the request",
    access_title: "Who has looked at my data",
    access_help: "Under art. 45 of China's Personal Information Protection Law you can see each time staff revealed your full document number, exported a file naming you, or visited your flat.",
    access_none: "Nobody has looked at your data yet.",
    done_confirm: "Confirmed: nothing has changed. Thank you.",
    done_moved: "The move-out is recorded.",
    done_correction: "Your request was sent to the community.",
    not_found: "This link does not work; check that it is complete.",
    footer: "Rental housing registration",
};

fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::En => &EN,
        Lang::Zh => &ZH,
    }
}

/// `?lang=en` and `?done=` after an action.
#[derive(Debug, Default, Deserialize)]
pub struct MeQuery {
    lang: Option<String>,
    done: Option<String>,
}

impl MeQuery {
    fn lang(&self) -> Lang {
        if self.lang.as_deref() == Some("en") {
            Lang::En
        } else {
            Lang::Zh
        }
    }
}

/// A look at the tenant's data, in words.
struct AccessView {
    when: String,
    who: &'static str,
    what: &'static str,
}

/// One person, with labels.
struct PersonView {
    id: i64,
    name: String,
    document: String,
    room: String,
    move_in: String,
    current: bool,
    moved_out_on: String,
}

#[derive(Template)]
#[template(path = "me.html")]
struct MePage<'a> {
    t: &'static Texts,
    token: &'a str,
    me: MeOut,
    people: Vec<PersonView>,
    access: Vec<AccessView>,
    done: Option<&'static str>,
    refused: Option<String>,
    today: String,
    any_current: bool,
}

fn role_words(role: Option<&str>, lang: Lang) -> &'static str {
    let role = role.and_then(Role::parse);
    match (lang, role) {
        (Lang::Zh, Some(r)) => r.label_zh(),
        (Lang::En, Some(Role::Police)) => "police",
        (Lang::En, Some(Role::Enforcement)) => "law enforcement",
        (Lang::En, Some(Role::Community)) => "community staff",
        (Lang::En, Some(Role::Property)) => "property management",
        (Lang::En, Some(Role::Admin)) => "administrator",
        (Lang::En, Some(_)) => "staff",
        (Lang::Zh, None) => "工作人员",
        (Lang::En, None) => "staff",
    }
}

fn what_words(what: &str, lang: Lang) -> &'static str {
    match (what, lang) {
        ("reveal", Lang::Zh) => "查看完整证件号码",
        ("reveal", Lang::En) => "revealed a full document number",
        ("visit", Lang::Zh) => "上门核查",
        ("visit", Lang::En) => "visited the flat",
        (_, Lang::Zh) => "导出含您信息的文件",
        (_, Lang::En) => "exported a file naming you",
    }
}

async fn render(
    state: &State,
    token: &str,
    lang: Lang,
    done: Option<&'static str>,
    refused: Option<(StatusCode, String)>,
) -> Result<HttpResponse, AppError> {
    let t = texts(lang);
    let me = match self_service::view(state, token).await {
        Ok(me) => me,
        Err(ServiceError::NotFound) => {
            return Ok(crate::http::render::message_page(
                StatusCode::NOT_FOUND,
                lang,
                t.title,
                t.not_found,
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let tz = state.settings.tz;
    let local = |rfc: &str| {
        chrono::DateTime::parse_from_rfc3339(rfc)
            .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default()
    };
    let people: Vec<PersonView> = me
        .occupants
        .iter()
        .map(|p| PersonView {
            id: p.id,
            name: p.name.clone(),
            document: format!(
                "{} {}",
                IdType::parse(&p.id_type).map_or("", |t| if lang == Lang::En {
                    t.label_en()
                } else {
                    t.label_zh()
                }),
                p.id_number
            ),
            room: p.room.clone().unwrap_or_default(),
            move_in: p.move_in.clone(),
            current: p.current,
            moved_out_on: p.moved_out_on.clone().unwrap_or_default(),
        })
        .collect();
    let access = me
        .access
        .iter()
        .map(|a| AccessView {
            when: local(&a.at),
            who: role_words(a.role.as_deref(), lang),
            what: what_words(&a.what, lang),
        })
        .collect();
    let (status, refused) = match refused {
        Some((status, why)) => (status, Some(why)),
        None => (StatusCode::OK, None),
    };
    Ok(html(
        status,
        MePage {
            t,
            token,
            any_current: people.iter().any(|p| p.current),
            people,
            access,
            done,
            refused,
            today: state.today().format("%Y-%m-%d").to_string(),
            me,
        }
        .render(),
    ))
}

async fn page(
    state: State,
    token: web::Path<String>,
    q: web::Query<MeQuery>,
) -> Result<HttpResponse, AppError> {
    let lang = q.lang();
    let t = texts(lang);
    let done = match q.done.as_deref() {
        Some("confirm") => Some(t.done_confirm),
        Some("moved") => Some(t.done_moved),
        Some("correction") => Some(t.done_correction),
        _ => None,
    };
    render(&state, &token, lang, done, None).await
}

/// One button of the page.
#[derive(Debug, Deserialize)]
pub struct MeForm {
    action: String,
    #[serde(default)]
    occupant: Option<i64>,
    #[serde(default)]
    moved_out_on: Option<String>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    lang: Option<String>,
}

async fn act(
    state: State,
    token: web::Path<String>,
    form: web::Form<MeForm>,
) -> Result<HttpResponse, AppError> {
    let lang = if form.lang.as_deref() == Some("en") {
        Lang::En
    } else {
        Lang::Zh
    };
    let done = match form.action.as_str() {
        "confirm" => self_service::confirm(&state, &token)
            .await
            .map(|_| "confirm"),
        "move_out" => {
            let occupant = form.occupant.ok_or(AppError::NotFound)?;
            let on = form.moved_out_on.as_deref().unwrap_or("");
            self_service::move_out(&state, &token, occupant, on)
                .await
                .map(|()| "moved")
        }
        "correction" => {
            let note = form.note.as_deref().unwrap_or("");
            self_service::ask_correction(&state, &token, note)
                .await
                .map(|()| "correction")
        }
        _ => return Err(AppError::BadRequest("未知操作".into())),
    };
    let lang_query = if lang == Lang::En { "&lang=en" } else { "" };
    match done {
        Ok(done) => Ok(see_other(&format!("/me/{token}?done={done}{lang_query}"))),
        Err(ServiceError::Conflict(why)) => {
            render(
                &state,
                &token,
                lang,
                None,
                Some((StatusCode::CONFLICT, why)),
            )
            .await
        }
        Err(ServiceError::Validation(fields)) => {
            let why = fields
                .iter()
                .map(|f| {
                    if lang == Lang::En {
                        f.message_en
                    } else {
                        f.message_zh
                    }
                })
                .collect::<Vec<_>>()
                .join("; ");
            let refused = Some((StatusCode::UNPROCESSABLE_ENTITY, why));
            render(&state, &token, lang, None, refused).await
        }
        Err(other) => Err(other.into()),
    }
}
