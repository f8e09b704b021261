//! Who may do what: the staff roles of the contract and the sublandlord.

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Admin,
    Police,
    Enforcement,
    Community,
    Property,
    Sublandlord,
    /// Another department's system: reads the event feed of its communities, nothing else.
    Integration,
}

impl Role {
    /// Every role, staff first.
    pub const ALL: [Role; 7] = [
        Role::Admin,
        Role::Police,
        Role::Enforcement,
        Role::Community,
        Role::Property,
        Role::Integration,
        Role::Sublandlord,
    ];

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Police => "police",
            Role::Enforcement => "enforcement",
            Role::Community => "community",
            Role::Property => "property",
            Role::Sublandlord => "sublandlord",
            Role::Integration => "integration",
        }
    }

    /// The Chinese name shown in the console.
    pub fn label_zh(self) -> &'static str {
        match self {
            Role::Admin => "平安办管理员",
            Role::Police => "社区民警",
            Role::Enforcement => "综合执法队",
            Role::Community => "居委",
            Role::Property => "物业",
            Role::Sublandlord => "二房东",
            Role::Integration => "外部系统",
        }
    }

    /// Staff accounts are made by an admin; sublandlords register themselves.
    pub fn is_staff(self) -> bool {
        self != Role::Sublandlord
    }

    /// Admins see every community; other staff only those they are assigned to.
    pub fn sees_all_communities(self) -> bool {
        self == Role::Admin
    }

    /// Accounts of other systems: they read the event feed and may use nothing else, no
    /// page and no other route.
    pub fn feed_only(self) -> bool {
        self == Role::Integration
    }

    /// Roles that read the event feed: the town office (every community) and other
    /// systems (their communities).
    pub fn reads_feed(self) -> bool {
        matches!(self, Role::Admin | Role::Integration)
    }

    /// Roles that may create units and rotate posters.
    pub fn manages_units(self) -> bool {
        matches!(
            self,
            Role::Admin | Role::Police | Role::Community | Role::Property
        )
    }

    /// Roles that triage public tips and turn them into door checks.
    pub fn handles_tips(self) -> bool {
        self.manages_units()
    }

    /// The town office's functions: communities, users, the monthly report, the audit log.
    pub fn is_admin(self) -> bool {
        self == Role::Admin
    }

    /// Roles that work the door-check queue.
    pub fn works_queue(self) -> bool {
        matches!(self, Role::Admin | Role::Police | Role::Community)
    }

    /// Roles that read the sublandlord ledger.
    pub fn reads_ledger(self) -> bool {
        matches!(self, Role::Admin | Role::Police | Role::Enforcement)
    }

    /// Roles that see their communities' filings and decide pending ones.
    pub fn reviews_filings(self) -> bool {
        matches!(self, Role::Admin | Role::Police | Role::Community)
    }

    /// Roles that read enforcement cases: the team, the police who referred them, the town
    /// office.
    pub fn reads_cases(self) -> bool {
        matches!(self, Role::Admin | Role::Police | Role::Enforcement)
    }

    /// Roles that work enforcement cases: evidence, decisions, closing.
    pub fn works_cases(self) -> bool {
        self == Role::Enforcement
    }

    /// Roles that may see a full document number: the town office and community police.
    pub fn may_reveal(self) -> bool {
        matches!(self, Role::Admin | Role::Police)
    }
}
