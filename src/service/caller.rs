//! The signed-in user an action is done for, with the communities they may see.

use super::{Context, Error, Result};
use crate::domain::role::Role;
use crate::store::Scope;
use crate::store::{communities, users};

/// The signed-in user of a request, with the communities they may see.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: i64,
    pub role: Role,
    pub community_ids: Vec<i64>,
    token: String,
}

impl Caller {
    /// The caller behind a session token (bearer or cookie), or `Unauthorized`. An account
    /// of another system is `Forbidden` here: it may only read the feed ([`Caller::for_feed`]),
    /// so no other route or page has to remember to refuse it.
    pub async fn from_token(ctx: &Context, token: String) -> Result<Caller> {
        let caller = Self::of_session(ctx, token).await?;
        if caller.role.feed_only() {
            return Err(Error::Forbidden);
        }
        Ok(caller)
    }

    /// The caller behind a session token, of any role, for the event feed.
    pub async fn for_feed(ctx: &Context, token: String) -> Result<Caller> {
        Self::of_session(ctx, token).await
    }

    async fn of_session(ctx: &Context, token: String) -> Result<Caller> {
        if !ctx.sessions.ready().await {
            return Err(Error::SessionsUnavailable);
        }
        let session = ctx.sessions.get(&token).await.ok_or(Error::Unauthorized)?;
        let Some(standing) = users::active_standing(&ctx.store, session.user_id).await? else {
            // Disabled: over on every instance, and forgotten here so the store does not
            // keep asking.
            ctx.sessions.revoke(&token).await;
            return Err(Error::Unauthorized);
        };
        if standing.session_epoch != session.epoch {
            // Begun before a password change: refused, but not removed, because the
            // session that made the change is rewritten to the new number just after the
            // change commits, and a request of its own may fall in between.
            return Err(Error::Unauthorized);
        }
        Ok(Caller {
            user_id: session.user_id,
            role: session.role,
            community_ids: standing.community_ids,
            token,
        })
    }

    /// `Forbidden` unless the role passes `allowed`.
    pub fn require(&self, allowed: impl Fn(Role) -> bool) -> Result<()> {
        if allowed(self.role) {
            Ok(())
        } else {
            Err(Error::Forbidden)
        }
    }

    /// The communities a list shows this caller: all for admins, else their own. One
    /// community (most officers have one) is named as such: the same rows, but a list can
    /// then walk that community's index in its order instead of sorting all the rows of
    /// `user_communities`' communities.
    pub fn scope(&self) -> Scope {
        match self.community_ids.as_slice() {
            _ if self.role.sees_all_communities() => Scope::All,
            [only] => Scope::Community(*only),
            _ => Scope::UserCommunities(self.user_id),
        }
    }

    /// The caller's scope narrowed to the community named `community` (none or blank:
    /// their whole scope); `NotFound` for a community they do not see.
    pub async fn scope_in(&self, ctx: &Context, community: Option<&str>) -> Result<Scope> {
        match community.map(str::trim).filter(|c| !c.is_empty()) {
            Some(name) => {
                let community = communities::find_by_name(&ctx.store, name)
                    .await?
                    .filter(|c| self.sees(c.id))
                    .ok_or(Error::NotFound)?;
                Ok(Scope::Community(community.id))
            }
            None => Ok(self.scope()),
        }
    }

    /// Whether a record of this community is within the caller's scope.
    pub fn sees(&self, community_id: i64) -> bool {
        self.role.sees_all_communities() || self.community_ids.contains(&community_id)
    }

    /// The session token (pages derive their CSRF token from it).
    pub fn session_token(&self) -> &str {
        &self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(role: Role, community_ids: Vec<i64>) -> Caller {
        Caller {
            user_id: 7,
            role,
            community_ids,
            token: String::new(),
        }
    }

    #[test]
    fn one_community_is_named_and_several_are_read_from_the_users_communities() {
        let scope = |role, ids| format!("{:?}", caller(role, ids).scope());
        assert_eq!(scope(Role::Police, vec![3]), "Community(3)");
        assert_eq!(scope(Role::Police, vec![3, 4]), "UserCommunities(7)");
        assert_eq!(scope(Role::Community, vec![]), "UserCommunities(7)");
        assert_eq!(scope(Role::Admin, vec![3]), "All");
    }
}
