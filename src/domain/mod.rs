//! Values that are parsed once at the edge and valid from then on.

mod email;
mod org_slug;
mod role;

pub use email::Email;
pub use org_slug::OrgSlug;
pub use role::{MemberRole, Role};
