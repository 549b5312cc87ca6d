use std::fmt;

/// A member's role inside one organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberRole {
    /// Configures the organization's integration.
    Admin,
    /// Sees and scores the organization's assessments.
    Reviewer,
}

impl MemberRole {
    pub fn parse(raw: &str) -> Result<MemberRole, String> {
        match raw.trim() {
            "admin" => Ok(MemberRole::Admin),
            "reviewer" => Ok(MemberRole::Reviewer),
            other => Err(format!(
                "`{other}` is not a role; use admin, reviewer or support"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Admin => "admin",
            MemberRole::Reviewer => "reviewer",
        }
    }
}

/// What a signed-in user may do in the organization being viewed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Admin,
    Reviewer,
    /// The vendor's support staff: reads every organization, changes nothing but may re-run
    /// failed deliveries.
    Support,
}

impl Role {
    pub fn can_configure(self) -> bool {
        self == Role::Admin
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Reviewer => "reviewer",
            Role::Support => "support",
        }
    }
}

impl From<MemberRole> for Role {
    fn from(role: MemberRole) -> Role {
        match role {
            MemberRole::Admin => Role::Admin,
            MemberRole::Reviewer => Role::Reviewer,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
