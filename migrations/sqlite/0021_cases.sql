-- Enforcement cases (执法案件): every referral from a door check opens exactly one case for the
-- enforcement team of its community, which gathers evidence, records a decision (a violation
-- with its penalty, decision number and date, or no violation) and closes it.

create table cases (
    id integer primary key,
    referral_id integer not null references referrals (id),
    -- copied from the referral so that scoped lists and the ledger need no join to filter
    door_check_id integer not null references door_checks (id),
    unit_id integer not null references units (id),
    community_id integer not null references communities (id),
    status text not null default 'open' check (status in ('open', 'decided', 'closed')),
    -- null until decided; 'none' is a decision that nothing was against the rules
    violation text check (violation in ('group_rental', 'daily_rental', 'illegal_wiring',
        'structural_alteration', 'garage_dwelling', 'other', 'none')),
    penalty_yuan integer check (penalty_yuan between 0 and 1000000),
    decision_number text,
    -- the date on the decision (YYYY-MM-DD, local), which places it in a quarter
    decided_on text,
    decided_at integer,
    decided_by integer references users (id),
    closed_at integer,
    closed_by integer references users (id),
    opened_at integer not null,
    -- kept with every evidence row, so that the bound of 30 holds under concurrent uploads
    evidence_count integer not null default 0 check (evidence_count between 0 and 30),
    constraint cases_one_per_referral unique (referral_id)
);
create index cases_list on cases (status, community_id, opened_at);
create index cases_by_unit on cases (unit_id);
create index cases_decided_on on cases (decided_on);
-- One decision, one case: a number recorded twice would count twice toward the quarter.
create unique index cases_decision_number on cases (decision_number)
    where decision_number is not null;

-- What the team gathered: a photo (re-encoded, without metadata), a note, or both.
create table case_evidence (
    id integer primary key,
    case_id integer not null references cases (id),
    kind text not null check (kind in ('photo', 'note')),
    photo blob,
    note text,
    created_by integer references users (id),
    created_at integer not null,
    check (photo is not null or note is not null)
);
create index case_evidence_by_case on case_evidence (case_id, created_at);

-- Every referral made before cases existed gets its open case.
insert into cases (referral_id, door_check_id, unit_id, community_id, status, opened_at)
select id, door_check_id, unit_id, community_id, 'open', created_at from referrals;

-- Decided cases of a sublandlord's units raise their priority; none exist yet, so the
-- stored rows are right with 0.
alter table ledger_rows add column decided_cases integer not null default 0;
