//! Nationalities: the ISO 3166-1 alpha-3 codes a foreign document names, with their Chinese
//! and English names, and the three groups the statistics count occupants in.

use std::sync::LazyLock;

use super::FieldError;
use super::document::IdType;
use crate::wire_enum;

/// One country or territory of ISO 3166-1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Country {
    /// The alpha-3 code, e.g. `KOR`.
    pub code: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
}

/// Every country, by code: one line each of code, Chinese name and English name.
static COUNTRIES: LazyLock<Vec<Country>> = LazyLock::new(|| {
    include_str!("countries.tsv")
        .lines()
        .filter(|line| !line.is_empty())
        .map(|line| {
            let mut fields = line.split('\t');
            let mut next = || fields.next().expect("three fields per country");
            Country {
                code: next(),
                name_zh: next(),
                name_en: next(),
            }
        })
        .collect()
});

/// Every country, by code.
pub fn all() -> &'static [Country] {
    &COUNTRIES
}

/// The country of an alpha-3 code (any case).
pub fn find(code: &str) -> Option<&'static Country> {
    let code = code.trim().to_ascii_uppercase();
    COUNTRIES
        .binary_search_by(|c| c.code.cmp(code.as_str()))
        .ok()
        .map(|i| &COUNTRIES[i])
}

/// The list a form offers: the 249 nationalities weigh more than the rest of the tenant's
/// page, so they are sent where someone may need them (the English page, a foreign
/// document chosen, a nationality given) and none otherwise; a passport sent without one
/// comes back with them.
pub fn offered<'a>(
    english: bool,
    mut chosen: impl Iterator<Item = (&'a str, &'a str)>,
) -> &'static [Country] {
    let needed = english
        || chosen.any(|(id_type, nationality)| {
            !nationality.trim().is_empty()
                || IdType::parse(id_type.trim()).is_ok_and(needs_nationality)
        });
    if needed { all() } else { &[] }
}

/// Whether a document type names no nationality by itself, so the form must ask for one.
pub fn needs_nationality(id_type: IdType) -> bool {
    matches!(id_type, IdType::Passport | IdType::ForeignPermanentId)
}

/// The nationality typed with a document: an alpha-3 code from the list, required for
/// passports and foreign permanent residence cards, optional otherwise. The error names
/// `nationality`.
pub fn parse_nationality(
    id_type: Option<IdType>,
    typed: &str,
) -> Result<Option<&'static str>, FieldError> {
    let typed = typed.trim();
    if typed.is_empty() {
        return match id_type {
            Some(t) if needs_nationality(t) => Err(FieldError::new(
                "nationality",
                "required",
                "持护照或外国人永久居留身份证的，请选择国籍",
                "Choose the nationality for a passport or a foreign permanent residence card",
            )),
            _ => Ok(None),
        };
    }
    find(typed).map(|c| Some(c.code)).ok_or_else(|| {
        FieldError::new(
            "nationality",
            "unknown",
            "请从列表中选择国籍（三位字母代码，例如 KOR）",
            "Choose a nationality from the list (a three-letter code such as KOR)",
        )
    })
}

wire_enum!(
    /// Where an occupant comes from, as the statistics count them.
    NationalityGroup {
        Mainland = "mainland" / "内地（大陆）",
        HongKongMacaoTaiwan = "hmt" / "港澳台",
        Foreign = "foreign" / "外籍",
    }
);

/// The SQL expression of an occupant's group (`o` is the occupant), the same rule as
/// [`group_of`].
pub const GROUP_SQL: &str = "case
    when o.id_type = 'resident_id' then 'mainland'
    when o.id_type in ('hk_macau_permit', 'hmt_residence_permit', 'taiwan_permit') then 'hmt'
    when o.nationality = 'CHN' then 'mainland'
    when o.nationality in ('HKG', 'MAC', 'TWN') then 'hmt'
    else 'foreign' end";

/// An occupant's group: by the document where it says, else by the nationality given.
pub fn group_of(id_type: IdType, nationality: Option<&str>) -> NationalityGroup {
    match id_type {
        IdType::ResidentId => NationalityGroup::Mainland,
        IdType::HkMacauPermit | IdType::HmtResidencePermit | IdType::TaiwanPermit => {
            NationalityGroup::HongKongMacaoTaiwan
        }
        IdType::Passport | IdType::ForeignPermanentId => match nationality {
            Some("CHN") => NationalityGroup::Mainland,
            Some("HKG" | "MAC" | "TWN") => NationalityGroup::HongKongMacaoTaiwan,
            _ => NationalityGroup::Foreign,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_every_assigned_code_once_in_order() {
        let codes: Vec<&str> = all().iter().map(|c| c.code).collect();
        assert_eq!(codes.len(), 249);
        assert!(codes.windows(2).all(|w| w[0] < w[1]), "sorted and unique");
        assert!(
            all()
                .iter()
                .all(|c| c.code.len() == 3 && !c.name_zh.is_empty() && !c.name_en.is_empty())
        );
        assert_eq!(find("kor").unwrap().name_zh, "韩国");
        assert_eq!(find(" USA ").unwrap().code, "USA");
        assert_eq!(find("XXX"), None);
    }

    #[test]
    fn a_passport_needs_a_nationality_from_the_list() {
        let passport = Some(IdType::Passport);
        assert_eq!(
            parse_nationality(passport, "").unwrap_err().code,
            "required"
        );
        assert_eq!(
            parse_nationality(Some(IdType::ForeignPermanentId), " ")
                .unwrap_err()
                .code,
            "required"
        );
        assert_eq!(
            parse_nationality(passport, "KR").unwrap_err().code,
            "unknown"
        );
        assert_eq!(parse_nationality(passport, "kor").unwrap(), Some("KOR"));
        assert_eq!(
            parse_nationality(Some(IdType::ResidentId), "").unwrap(),
            None
        );
    }

    #[test]
    fn occupants_fall_into_three_groups() {
        assert_eq!(
            group_of(IdType::ResidentId, None),
            NationalityGroup::Mainland
        );
        assert_eq!(
            group_of(IdType::TaiwanPermit, None),
            NationalityGroup::HongKongMacaoTaiwan
        );
        assert_eq!(
            group_of(IdType::Passport, Some("KOR")),
            NationalityGroup::Foreign
        );
        assert_eq!(
            group_of(IdType::Passport, Some("CHN")),
            NationalityGroup::Mainland
        );
    }
}
