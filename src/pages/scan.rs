//! The tenant's page behind the poster: works without JavaScript, in Chinese or English.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::domain::FieldError;
use crate::domain::country::Country;
use crate::domain::document::IdType;
use crate::domain::notice::{NOTICE_EN, NOTICE_VERSION, NOTICE_ZH, NoticeSection};
use crate::domain::registration::{MAX_OCCUPANTS, NewRegistration, OccupantInput};
use crate::error::AppError;
use crate::http::State;
use crate::http::render::{Lang, html, message_page};
use crate::service::Error;
use crate::service::registration::{
    Destination, Freshness, ReceiptBody, Refusal, Retry, accept, resolve,
};
use crate::store::registrations::Source;
use crate::store::units::ScanTarget;

mod texts;

use texts::{Texts, texts};

/// Registers the page routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/q/{token}", web::get().to(show))
        .route("/q/{token}", web::post().to(submit));
}

/// `?lang=en` switches the page to English.
#[derive(Debug, Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

impl LangQuery {
    fn lang(&self) -> Lang {
        if self.lang.as_deref() == Some("en") {
            Lang::En
        } else {
            Lang::Zh
        }
    }
}

fn notice(lang: Lang) -> &'static [NoticeSection] {
    match lang {
        Lang::Zh => &NOTICE_ZH,
        Lang::En => &NOTICE_EN,
    }
}

/// One occupant block of the form, with what was typed and each field's error.
#[derive(Default)]
struct OccupantForm {
    input: OccupantInput,
    errors: Vec<(String, &'static str)>,
}

impl OccupantForm {
    fn error(&self, field: &str) -> Option<&'static str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| *m)
    }
}

#[derive(Template)]
#[template(path = "scan.html")]
struct ScanPage<'a> {
    t: &'static Texts,
    notice: &'static [NoticeSection],
    notice_version: &'static str,
    token: &'a str,
    target: &'a ScanTarget,
    occupants: Vec<OccupantForm>,
    id_types: Vec<(&'static str, &'static str)>,
    countries: &'static [Country],
    submission: String,
    form_error: Option<&'static str>,
    /// The box to agree to the notice was not ticked.
    consent_error: Option<&'static str>,
    has_errors: bool,
    consent: bool,
}

#[derive(Template)]
#[template(path = "receipt.html")]
struct ReceiptPage<'a> {
    t: &'static Texts,
    target: &'a ScanTarget,
    receipt: &'a ReceiptBody,
}

fn refusal_page(refusal: Refusal, lang: Lang) -> HttpResponse {
    let en = lang == Lang::En;
    match refusal {
        Refusal::Unknown => message_page(
            StatusCode::NOT_FOUND,
            lang,
            if en {
                "Unknown QR code"
            } else {
                "二维码无效"
            },
            if en {
                "This QR code is not known. Please scan the poster on the door again, or ask your neighbourhood committee."
            } else {
                "未找到此二维码对应的房屋。请重新扫描门上的二维码，或联系所在社区居委会。"
            },
        ),
        Refusal::Replaced => message_page(
            StatusCode::GONE,
            lang,
            if en {
                "This poster was replaced"
            } else {
                "此二维码已更换"
            },
            if en {
                "This poster has been replaced by a new one. Please scan the newest QR code on the door."
            } else {
                "此二维码已被新的二维码替换，旧码不再使用。请扫描门上最新张贴的二维码。"
            },
        ),
        Refusal::Closed => message_page(
            StatusCode::GONE,
            lang,
            if en {
                "Registration closed"
            } else {
                "已停止登记"
            },
            if en {
                "This address no longer takes registrations."
            } else {
                "此房屋已停止登记。如有疑问请联系所在社区居委会。"
            },
        ),
    }
}

fn id_types(lang: Lang) -> Vec<(&'static str, &'static str)> {
    IdType::ALL
        .iter()
        .map(|t| {
            (
                t.as_str(),
                if lang == Lang::En {
                    t.label_en()
                } else {
                    t.label_zh()
                },
            )
        })
        .collect()
}

/// What a redrawn form keeps besides the occupants.
struct FormState {
    submission: String,
    form_error: Option<&'static str>,
    consent_error: Option<&'static str>,
    consent: bool,
}

fn form_page(
    lang: Lang,
    token: &str,
    target: &ScanTarget,
    occupants: Vec<OccupantForm>,
    state: FormState,
    status: StatusCode,
) -> HttpResponse {
    html(
        status,
        ScanPage {
            t: texts(lang),
            notice: notice(lang),
            notice_version: NOTICE_VERSION,
            token,
            target,
            id_types: id_types(lang),
            countries: crate::domain::country::offered(
                lang == Lang::En,
                occupants
                    .iter()
                    .map(|o| (o.input.id_type.as_str(), o.input.nationality.as_str())),
            ),
            has_errors: occupants.iter().any(|o| !o.errors.is_empty()),
            occupants,
            submission: state.submission,
            form_error: state.form_error,
            consent_error: state.consent_error,
            consent: state.consent,
        }
        .render(),
    )
}

fn new_submission_key() -> String {
    format!("{:032x}", rand::random::<u128>())
}

async fn show(
    state: State,
    token: web::Path<String>,
    query: web::Query<LangQuery>,
) -> Result<HttpResponse, AppError> {
    let lang = query.lang();
    let target = match resolve(&state, &token, Freshness::Cached).await? {
        Ok(t) => t,
        Err(refusal) => return Ok(refusal_page(refusal, lang)),
    };
    let first = OccupantForm {
        input: OccupantInput {
            id_type: "resident_id".into(),
            ..Default::default()
        },
        errors: Vec::new(),
    };
    Ok(form_page(
        lang,
        &token,
        &target,
        vec![first],
        FormState {
            submission: new_submission_key(),
            form_error: None,
            consent_error: None,
            consent: false,
        },
        StatusCode::OK,
    ))
}

/// The posted form, read as plain pairs so any number of occupant blocks fits.
struct PostedForm {
    occupants: Vec<OccupantInput>,
    notice_version: String,
    submission: String,
    consent: bool,
    action: String,
    remove: Option<usize>,
}

fn read_form(pairs: &[(String, String)]) -> PostedForm {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let count = get("count")
        .parse::<usize>()
        .unwrap_or(1)
        .clamp(1, MAX_OCCUPANTS);
    let occupants = (0..count)
        .map(|i| OccupantInput {
            name: get(&format!("name_{i}")),
            id_type: get(&format!("id_type_{i}")),
            id_number: get(&format!("id_number_{i}")),
            phone: get(&format!("phone_{i}")),
            room: get(&format!("room_{i}")),
            move_in: get(&format!("move_in_{i}")),
            nationality: get(&format!("nationality_{i}")),
            remind: get(&format!("remind_{i}")) == "1",
        })
        .collect();
    PostedForm {
        occupants,
        notice_version: get("notice_version"),
        submission: get("submission"),
        consent: get("consent") == "1",
        action: get("action"),
        remove: get("remove").parse().ok(),
    }
}

fn as_forms(inputs: Vec<OccupantInput>) -> Vec<OccupantForm> {
    inputs
        .into_iter()
        .map(|input| OccupantForm {
            input,
            errors: Vec::new(),
        })
        .collect()
}

async fn submit(
    state: State,
    token: web::Path<String>,
    query: web::Query<LangQuery>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let lang = query.lang();
    let target = match resolve(&state, &token, Freshness::Cached).await? {
        Ok(t) => t,
        Err(refusal) => return Ok(refusal_page(refusal, lang)),
    };
    let mut posted = read_form(&form);
    let submission = if posted.submission.len() == 32 {
        posted.submission.clone()
    } else {
        new_submission_key()
    };
    // "Add" and "remove" only redraw the form; nothing is stored until "submit".
    let remove = posted.remove.filter(|i| *i < posted.occupants.len());
    if remove.is_some() || posted.action == "add" {
        match remove {
            Some(i) if posted.occupants.len() > 1 => {
                posted.occupants.remove(i);
            }
            Some(_) => {}
            None if posted.occupants.len() < MAX_OCCUPANTS => {
                let last = posted.occupants.last().cloned().unwrap_or_default();
                // Flatmates often move in together, but each has a room of their own to
                // type: a copied room would go through unread.
                posted.occupants.push(OccupantInput {
                    id_type: "resident_id".into(),
                    move_in: last.move_in,
                    ..Default::default()
                });
            }
            None => {}
        }
        let kept = FormState {
            submission,
            form_error: None,
            consent_error: None,
            consent: posted.consent,
        };
        let forms = as_forms(posted.occupants);
        return Ok(form_page(
            lang,
            &token,
            &target,
            forms,
            kept,
            StatusCode::OK,
        ));
    }
    let parsed = NewRegistration::parse(&posted.notice_version, &posted.occupants, state.today());
    let registration = match (parsed, posted.consent) {
        (Ok(r), true) => r,
        (parsed, consent) => {
            let errors = parsed.err().unwrap_or_default();
            // Said beside the box it is about, not at the top of a long form.
            let consent_error = (!consent).then_some(if lang == Lang::En {
                "Please tick the box to agree to the notice."
            } else {
                "请勾选同意个人信息告知后再提交。"
            });
            let form_error = notice_error(&errors, lang);
            let forms = with_errors(posted.occupants, &errors, lang);
            return Ok(form_page(
                lang,
                &token,
                &target,
                forms,
                FormState {
                    submission,
                    form_error,
                    consent_error,
                    consent,
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        }
    };
    let fingerprint = form_fingerprint(&posted.occupants);
    let destination = Destination {
        unit_id: target.unit_id,
        poster: Some(target.poster.clone()),
    };
    let stored = match accept(
        &state,
        &destination,
        &registration,
        Source::Scan,
        Some(Retry {
            key: submission.clone(),
            fingerprint,
        }),
    )
    .await
    {
        // The same form posted again after an edit: treat it as a new submission.
        Err(Error::Validation(_)) => {
            accept(&state, &destination, &registration, Source::Scan, None).await
        }
        stored => stored,
    };
    let receipt = match stored {
        Ok(receipt) => receipt,
        // The poster was replaced, or the unit closed, since this instance last looked.
        Err(Error::Gone(_) | Error::NotFound) => {
            let refusal = match resolve(&state, &token, Freshness::Fresh).await? {
                Err(refusal) => refusal,
                Ok(_) => Refusal::Replaced,
            };
            return Ok(refusal_page(refusal, lang));
        }
        // A number already registered here under another name: the form comes back as it
        // was, with the reason.
        Err(Error::NameMismatch(index, _)) => {
            let form_error = Some(if lang == Lang::En {
                "A document number in this form is already registered here under another name. Nothing was changed; to correct it, ask the sublandlord or the community."
            } else {
                "表中有证件号码已在本户以另一姓名登记，未作更改。如需更正，请联系二房东或社区。"
            });
            let kept = FormState {
                submission: new_submission_key(),
                form_error,
                consent_error: None,
                consent: posted.consent,
            };
            // The person whose number it is gets the mark, as a field error.
            let mark = FieldError::new(
                format!("occupants[{index}].id_number"),
                "name_mismatch",
                "此证件号码已在本户以另一姓名登记",
                "This number is registered here under another name",
            );
            let forms = with_errors(posted.occupants, &[mark], lang);
            return Ok(form_page(
                lang,
                &token,
                &target,
                forms,
                kept,
                StatusCode::CONFLICT,
            ));
        }
        Err(e) => return Err(e.into()),
    };
    Ok(html(
        StatusCode::OK,
        ReceiptPage {
            t: texts(lang),
            target: &target,
            receipt: &receipt,
        }
        .render(),
    ))
}

fn notice_error(errors: &[FieldError], lang: Lang) -> Option<&'static str> {
    errors
        .iter()
        .find(|e| e.field == "notice_version" || e.field == "occupants")
        .map(|e| {
            if lang == Lang::En {
                e.message_en
            } else {
                e.message_zh
            }
        })
}

fn with_errors(inputs: Vec<OccupantInput>, errors: &[FieldError], lang: Lang) -> Vec<OccupantForm> {
    let mut forms = as_forms(inputs);
    for e in errors {
        let Some(rest) = e.field.strip_prefix("occupants[") else {
            continue;
        };
        let Some((index, field)) = rest.split_once("].") else {
            continue;
        };
        if let Some(form) = index.parse::<usize>().ok().and_then(|i| forms.get_mut(i)) {
            let message = if lang == Lang::En {
                e.message_en
            } else {
                e.message_zh
            };
            form.errors.push((field.to_string(), message));
        }
    }
    forms
}

fn form_fingerprint(inputs: &[OccupantInput]) -> Vec<u8> {
    let mut text = String::new();
    for o in inputs {
        for part in [
            &o.name,
            &o.id_type,
            &o.id_number,
            &o.phone,
            &o.room,
            &o.move_in,
        ] {
            text.push_str(part);
            text.push('\u{1f}');
        }
        text.push(if o.remind { '1' } else { '0' });
        text.push('\u{1e}');
    }
    crate::crypto::sha256(text.as_bytes())
}
