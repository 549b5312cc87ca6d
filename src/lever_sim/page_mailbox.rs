//! `/_sim/mailbox`: every email the mailbox beside the simulator received (the demo's candidate
//! invitations and reminders), newest first, with its sender, recipients, subject, time and
//! body as the candidate would read it.

use std::fmt::Write;

use actix_web::http::StatusCode;
use actix_web::HttpResponse;

use super::control::Data;
use super::page_layout::{esc, page};

/// The link to the mailbox for the top of the simulator's pages; empty when none runs.
pub(crate) fn link(state: &Data) -> String {
    match &state.config.mailbox {
        Some(mailbox) => {
            let count = mailbox.messages().len();
            format!(
                "<p class=\"mailbox-link\"><a href=\"/_sim/mailbox\"><b>Mailbox</b></a> \
                 <span class=\"muted\">{count} email{s} received on SMTP port {port}: \
                 what candidates were sent</span></p>",
                s = if count == 1 { "" } else { "s" },
                port = mailbox.port(),
            )
        }
        None => String::new(),
    }
}

pub(crate) async fn show(state: Data) -> HttpResponse {
    let Some(mailbox) = &state.config.mailbox else {
        return page(
            StatusCode::NOT_FOUND,
            "Mailbox – Lever simulator",
            "<section class=\"card\"><h2>No mailbox</h2><p>No mail receiver runs beside this \
             simulator. <code>leverbridge demo</code> starts one.</p>\
             <p><a href=\"/_sim\">Back to the simulator</a></p></section>",
        );
    };
    let messages = mailbox.messages();
    let mut body = format!(
        "<p class=\"crumbs\"><a href=\"/_sim\">All accounts</a></p>\
         <section class=\"card\"><h2>Mailbox</h2><p class=\"muted\">Every email received by the \
         SMTP listener on <code>{address}</code> (plain SMTP, no sign-in), newest first. \
         leverbridge's Settings point its mail server here in the demo.</p>",
        address = esc(&mailbox.address().to_string()),
    );
    if messages.is_empty() {
        body.push_str(
            "<p class=\"muted\">No emails yet. Move a candidate into the trigger stage: \
             their invitation arrives here.</p>",
        );
    }
    for (n, mail) in messages.iter().enumerate().rev() {
        let _ = write!(
            body,
            "<article id=\"mail-{number}\"><div class=\"meta\"><b>{subject}</b>\
             <span>{at}</span></div>\
             <dl class=\"facts\"><dt>From</dt><dd>{from}</dd><dt>To</dt><dd>{to}</dd></dl>\
             <div class=\"text mail-body\">{text}</div></article>",
            number = n + 1,
            subject = esc(&mail.subject()),
            at = mail.received_at.format("%Y-%m-%d %H:%M:%S UTC"),
            from = esc(&mail.from()),
            to = esc(&mail.to()),
            text = esc(&mail.body()),
        );
    }
    body.push_str("</section>");
    page(StatusCode::OK, "Mailbox – Lever simulator", &body)
}
