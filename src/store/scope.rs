//! Which communities a list covers, as SQL.

/// Which communities a list covers.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    /// Every community (admins).
    All,
    /// The communities assigned to this user.
    UserCommunities(i64),
    /// One community (already checked to be within the caller's scope).
    Community(i64),
}

/// The scope condition on table alias `t`, with `$1` = scope id (or unused).
pub(crate) fn scope_sql(scope: Scope, t: &str) -> String {
    match scope {
        Scope::All => " and $1 = $1".to_owned(),
        Scope::UserCommunities(_) => format!(
            " and {t}.community_id in \
             (select community_id from user_communities where user_id = $1)"
        ),
        Scope::Community(_) => format!(" and {t}.community_id = $1"),
    }
}

/// The value bound as `$1` for a scope (unused, and 0, for every community).
pub(crate) fn scope_id(scope: Scope) -> i64 {
    match scope {
        Scope::All => 0,
        Scope::UserCommunities(id) | Scope::Community(id) => id,
    }
}
