//! What a storage call can fail with: a named constraint, a refusal, or anything else.

/// The constraints whose violation is an answer rather than a failure, by one name on both
/// backends (PostgreSQL reports the name; SQLite reports the columns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constraint {
    CommunityName,
    Username,
    UnitAddress,
    IdempotencyKey,
    ReceiptNumber,
    CurrentOccupant,
    DecisionNumber,
    Other,
}

const CONSTRAINTS: [(&str, &str, Constraint); 7] = [
    (
        "communities_name_key",
        "communities.name",
        Constraint::CommunityName,
    ),
    ("users_username_key", "users.username", Constraint::Username),
    (
        "units_address_key",
        "units.community_id, units.address_key",
        Constraint::UnitAddress,
    ),
    (
        "idempotency_keys_pkey",
        "idempotency_keys.scope, idempotency_keys.key",
        Constraint::IdempotencyKey,
    ),
    (
        "registrations_receipt_key",
        "registrations.receipt",
        Constraint::ReceiptNumber,
    ),
    (
        "occupants_one_current",
        "occupants.unit_id, occupants.id_number_index",
        Constraint::CurrentOccupant,
    ),
    (
        "cases_decision_number",
        "cases.decision_number",
        Constraint::DecisionNumber,
    ),
];

/// What a unit's occupants or state do not allow (see `clock`); nothing was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// "Occupants unchanged" on a unit where nobody is registered.
    NoOccupants,
    /// A vacancy while this many people are registered there.
    Occupied(i64),
    /// The unit is closed.
    Closed,
    /// No change of the caller's that may still be undone.
    NothingToUndo,
    /// The unit changed since in a way the undo would contradict.
    ChangedSince,
}

impl From<Refusal> for StoreError {
    fn from(refusal: Refusal) -> Self {
        StoreError::Refused(refusal)
    }
}

/// A storage failure: a named constraint, or anything else (logged as internal).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unique constraint {0:?} violated")]
    Unique(Constraint),
    /// The poster a registration came through is no longer its unit's current one, or the
    /// unit no longer takes registrations: nothing was stored.
    #[error("the poster is no longer current")]
    PosterNotCurrent,
    /// A document number in a poster registration is current in the unit under another
    /// name (the occupant at this index): nothing was stored.
    #[error("occupant {0}'s document number is registered here under another name")]
    NameMismatch(usize),
    /// The unit's occupants or state do not allow the change: nothing was stored.
    #[error("refused: {0:?}")]
    Refused(Refusal),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if let Some(db) = err.as_database_error()
            && db.is_unique_violation()
        {
            let message = db.message();
            let name = db.constraint().unwrap_or_default();
            let constraint = CONSTRAINTS
                .iter()
                .find(|(pg, lite, _)| name == *pg || message.ends_with(lite))
                .map_or(Constraint::Other, |c| c.2);
            return StoreError::Unique(constraint);
        }
        StoreError::Other(anyhow::Error::new(err))
    }
}

/// Shorthand for store results.
pub type StoreResult<T> = Result<T, StoreError>;
