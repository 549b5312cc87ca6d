//! What `templates/_layout.html` needs on every dashboard page: navigation, the signed-in user,
//! flash messages, the CSRF token, and a banner when the Lever connection is broken.

use super::auth::OrgPage;
use super::session::{self, Flash};

/// The navigation, in the product's order. Entries appear as their pages exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nav {
    Overview,
    Assessments,
    Connection,
    Webhooks,
    Configurations,
    Questions,
    Settings,
    Events,
}

impl Nav {
    const ALL: &'static [(Nav, &'static str, &'static str)] = &[
        (Nav::Overview, "Overview", ""),
        (Nav::Assessments, "Assessments", "/assessments"),
        (Nav::Connection, "Connection", "/connection"),
        (Nav::Webhooks, "Webhooks", "/webhooks"),
        (Nav::Configurations, "Configurations", "/configurations"),
        (Nav::Questions, "Questions", "/questions"),
        (Nav::Settings, "Settings", "/settings"),
        (Nav::Events, "Events", "/events"),
    ];
}

pub struct NavItem {
    pub label: &'static str,
    pub href: String,
    pub active: bool,
}

pub struct Banner {
    /// `error`, `warn` or `info`.
    pub kind: &'static str,
    pub message: String,
    pub link: Option<(String, &'static str)>,
}

/// The frame around every page of an organization.
pub struct Chrome {
    pub title: String,
    pub user_email: String,
    pub role: &'static str,
    pub org_name: String,
    pub org_home: String,
    pub nav: Vec<NavItem>,
    pub flashes: Vec<Flash>,
    pub csrf: String,
    pub banners: Vec<Banner>,
    pub read_only: bool,
}

impl Chrome {
    pub fn new(page: &OrgPage, title: &str, active: Nav) -> Chrome {
        // Reviewers see the pages about assessments (and the questions they score), not the
        // integration's settings.
        let nav = Nav::ALL
            .iter()
            .filter(|(nav, _, _)| {
                page.role != crate::domain::Role::Reviewer
                    || matches!(nav, Nav::Overview | Nav::Assessments | Nav::Questions)
            })
            .map(|(nav, label, path)| NavItem {
                label,
                href: page.url(path),
                active: *nav == active,
            })
            .collect();
        Chrome {
            title: title.to_owned(),
            user_email: page.user.email.clone(),
            role: page.role.as_str(),
            org_name: page.org.name.clone(),
            org_home: page.url(""),
            nav,
            flashes: session::take_flashes(&page.session),
            csrf: session::csrf_token(&page.session),
            banners: page
                .connection_problem
                .iter()
                .map(|problem| Banner {
                    kind: "error",
                    message: problem.clone(),
                    link: Some((page.url("/connection"), "Open Connection")),
                })
                .collect(),
            read_only: !page.role.can_configure(),
        }
    }
}
