//! The sublandlord ledger's rows, recomputed inside the transactions that change them.

use sqlx::AssertSqlSafe;

use super::StoreResult;
use super::tx::Tx;

/// One term of the ledger's priority score: a counted column of `ledger_rows`, its weight,
/// and how people read it (`房屋 3 处 × 2 = 6`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    pub column: &'static str,
    pub weight: i64,
    pub label: &'static str,
    /// The measure word after the count (`处`, `间`, `次`).
    pub unit: &'static str,
}

/// Declares the terms once and derives both the list the pages explain and the SQL that
/// computes the score, so the two cannot drift apart.
macro_rules! priority_terms {
    ($(($column:ident, $weight:literal, $label:literal, $unit:literal)),+ $(,)?) => {
        /// The priority score's terms, in the order the person page explains them.
        pub const PRIORITY_TERMS: &[Term] = &[$(Term {
            column: stringify!($column),
            weight: $weight,
            label: $label,
            unit: $unit,
        }),+];

        /// The priority score of the ledger (documented in the README): many units and
        /// rooms, findings at the door, open checks and late filings put a sublandlord
        /// first. Linear in the counts, so the score over several communities is the sum of
        /// theirs.
        pub const PRIORITY_SQL: &str =
            concat!("0" $(, " + ", $weight, " * ", stringify!($column))+);
    };
}

// A new term is one line here (and its column in `ledger_rows` and `COUNTS`).
priority_terms!(
    (units, 2, "房屋", "处"),
    (rooms, 1, "房间", "间"),
    (open_checks, 3, "待核查", "项"),
    (past_checks, 1, "已核查", "项"),
    (violations, 10, "违规", "次"),
    (overcrowded_units, 5, "超员房屋", "处"),
    (tips, 3, "举报", "次"),
    (filed_late, 5, "未事前报备房屋", "处"),
    (decided_cases, 15, "已查处案件", "件"),
);

pub(super) const COUNTS: &str = "units, rooms, occupants, open_checks, past_checks, violations, tips, \
    overcrowded_units, filed_in_advance, filed_late, decided_cases, priority";

/// The person who lets unit `$1`.
const UNIT_PERSON_SQL: &str = "select s.person_id from units u join sublandlords s on s.id = u.sublandlord_id where u.id = $1";

/// Whose ledger rows to recompute.
#[derive(Debug, Clone, Copy)]
pub enum Persons {
    /// One person, by person id.
    One(i64),
    /// The person who lets this unit, if anyone does.
    OfUnit(i64),
    /// Everyone (a rebuild).
    All,
}

impl Persons {
    /// A subquery of person ids, with `$1` as its only parameter.
    fn subquery(self) -> (&'static str, i64) {
        match self {
            Persons::One(id) => ("select cast($1 as bigint)", id),
            // `refresh_ledger` resolves it to `One` first; as a subquery it reads the same.
            Persons::OfUnit(unit) => (UNIT_PERSON_SQL, unit),
            Persons::All => ("select person_id from sublandlords where $1 = $1", 0),
        }
    }
}

/// Recomputes the ledger rows of some people from their units, occupants and checks, inside
/// the caller's transaction. On PostgreSQL the people's first accounts are locked first, so
/// that two transactions changing one person's units recompute one after the other, each
/// seeing the other's committed change (SQLite has a single writer).
pub(crate) async fn refresh_ledger(tx: &mut Tx<'_>, persons: Persons) -> StoreResult<()> {
    // Most units have no sublandlord: one look-up and nothing more.
    let persons = match persons {
        Persons::OfUnit(unit) => {
            let person: Option<i64> = sqlx::query_scalar(UNIT_PERSON_SQL)
                .bind(unit)
                .fetch_optional(tx.conn())
                .await?;
            match person {
                Some(p) => Persons::One(p),
                None => return Ok(()),
            }
        }
        other => other,
    };
    let (people, id) = persons.subquery();
    tx.lock_rows(
        &format!("select id from sublandlords where id in ({people}) order by id"),
        id,
    )
    .await?;
    sqlx::query(AssertSqlSafe(format!(
        "delete from ledger_rows where person_id in ({people})"
    )))
    .bind(id)
    .execute(tx.conn())
    .await?;
    // Per unit (its occupants and checks), then per person and community, then per person
    // over all communities (a row even for a person with no unit).
    sqlx::query(AssertSqlSafe(format!(
        r"with people as (
            select distinct person_id from sublandlords where person_id in ({people})
          ),
          lu as (
            select u.id, s.person_id, u.community_id, u.rooms, u.filed_at, u.first_upload_at
            from units u join sublandlords s on s.id = u.sublandlord_id
            where s.person_id in (select person_id from people)
          ),
          occ as (
            select o.unit_id, count(*) as n from occupants o
            where o.moved_out_at is null and o.unit_id in (select id from lu)
            group by o.unit_id
          ),
          chk as (
            select d.unit_id,
                   sum(case when d.status = 'open' then 1 else 0 end) as open_checks,
                   sum(case when d.status = 'closed' then 1 else 0 end) as past_checks,
                   sum(case when d.reason = 'tip' then 1 else 0 end) as tips,
                   max(case when d.reason = 'overcrowding' then 1 else 0 end) as overcrowded
            from door_checks d where d.unit_id in (select id from lu)
            group by d.unit_id
          ),
          -- One violation per visit that found one (its referral), however many of the
          -- flat's reasons that visit answered.
          vio as (
            select r.unit_id, count(*) as n from referrals r
            where r.unit_id in (select id from lu)
            group by r.unit_id
          ),
          dec as (
            select k.unit_id, count(*) as decided from cases k
            where k.unit_id in (select id from lu)
              and k.violation is not null and k.violation <> 'none'
            group by k.unit_id
          ),
          by_c as (
            select lu.person_id, lu.community_id, count(*) as units, sum(lu.rooms) as rooms,
                   sum(coalesce(occ.n, 0)) as occupants,
                   sum(coalesce(chk.open_checks, 0)) as open_checks,
                   sum(coalesce(chk.past_checks, 0)) as past_checks,
                   sum(coalesce(vio.n, 0)) as violations,
                   sum(coalesce(chk.tips, 0)) as tips,
                   sum(coalesce(chk.overcrowded, 0)) as overcrowded_units,
                   sum(case when lu.filed_at is not null and (lu.first_upload_at is null
                            or lu.filed_at <= lu.first_upload_at) then 1 else 0 end)
                       as filed_in_advance,
                   sum(coalesce(dec.decided, 0)) as decided_cases
            from lu left join occ on occ.unit_id = lu.id left join chk on chk.unit_id = lu.id
            left join vio on vio.unit_id = lu.id left join dec on dec.unit_id = lu.id
            group by lu.person_id, lu.community_id
          ),
          all_c as (
            select person_id, community_id, units, rooms, occupants, open_checks, past_checks,
                   violations, tips, overcrowded_units, filed_in_advance, decided_cases
            from by_c
            union all
            select p.person_id, 0, coalesce(sum(b.units), 0), coalesce(sum(b.rooms), 0),
                   coalesce(sum(b.occupants), 0), coalesce(sum(b.open_checks), 0),
                   coalesce(sum(b.past_checks), 0), coalesce(sum(b.violations), 0),
                   coalesce(sum(b.tips), 0), coalesce(sum(b.overcrowded_units), 0),
                   coalesce(sum(b.filed_in_advance), 0), coalesce(sum(b.decided_cases), 0)
            from people p left join by_c b on b.person_id = p.person_id
            group by p.person_id
          ),
          counted as (
            select all_c.*, units - filed_in_advance as filed_late from all_c
          )
          insert into ledger_rows (person_id, community_id, {COUNTS})
          select person_id, community_id, units, rooms, occupants, open_checks, past_checks,
                 violations, tips, overcrowded_units, filed_in_advance, filed_late,
                 decided_cases, {PRIORITY_SQL}
          from counted"
    )))
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Adds one open check to the ledger rows of each listed unit's sublandlord, inside the
/// transaction that opened those checks (a sweep's chunk). Only `open_checks` and the score
/// move: nothing else the ledger counts depends on a newly opened check, and recounting
/// everyone a city's sweep touches ([`refresh_ledger`]) cost more than the sweep itself.
/// Rows are locked as [`refresh_ledger`] locks them, so the two wait for each other in one
/// order.
pub(crate) async fn count_opened_checks(tx: &mut Tx<'_>, unit_ids: &[i64]) -> StoreResult<()> {
    if unit_ids.is_empty() {
        return Ok(());
    }
    let ids = serde_json::to_string(unit_ids).expect("a list of integers is JSON");
    let units = tx.backend().json_ids("$1");
    let people = format!(
        "select s.person_id from units u join sublandlords s on s.id = u.sublandlord_id
         where u.id in ({units})"
    );
    tx.lock_rows(
        &format!("select id from sublandlords where id in ({people}) order by id"),
        ids.clone(),
    )
    .await?;
    let weight = PRIORITY_TERMS
        .iter()
        .find(|t| t.column == "open_checks")
        .expect("open checks are a term of the score")
        .weight;
    let opened = format!(
        "from units u join sublandlords s on s.id = u.sublandlord_id where u.id in ({units})"
    );
    sqlx::query(AssertSqlSafe(format!(
        r"update ledger_rows
          set open_checks = open_checks + n.k, priority = priority + {weight} * n.k
          from (select s.person_id, u.community_id, count(*) as k {opened}
                group by s.person_id, u.community_id
                union all
                select s.person_id, 0, count(*) {opened} group by s.person_id) n
          where ledger_rows.person_id = n.person_id and ledger_rows.community_id = n.community_id"
    )))
    .bind(ids)
    .execute(tx.conn())
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SQL computes exactly the listed terms, each a counted column of the ledger.
    #[test]
    fn the_priority_sql_and_the_list_of_terms_agree() {
        let terms: Vec<(i64, &str)> = PRIORITY_SQL
            .split(" + ")
            .skip(1)
            .map(|t| {
                let (weight, column) = t.split_once(" * ").unwrap();
                (weight.trim().parse().unwrap(), column.trim())
            })
            .collect();
        let listed: Vec<(i64, &str)> = PRIORITY_TERMS
            .iter()
            .map(|t| (t.weight, t.column))
            .collect();
        assert_eq!(terms, listed);
        assert!(PRIORITY_SQL.starts_with("0 + 2 * units + 1 * rooms"));
        let counted: Vec<&str> = COUNTS.split(", ").collect();
        for term in PRIORITY_TERMS {
            assert!(
                counted.contains(&term.column),
                "{} is not counted",
                term.column
            );
            assert!(term.weight > 0 && !term.label.is_empty() && !term.unit.is_empty());
        }
    }
}
