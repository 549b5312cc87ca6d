//! Destructive actions ask first, naming the consequence, and change nothing until confirmed;
//! the question is a page of its own, so it works without JavaScript.

use crate::both_backends;
use crate::database::Backend;
use crate::helpers::csrf_in;
use crate::lever_world::{connected, webhook_url_in, TAG, TRIGGER};

both_backends!(deleting_rotating_and_removing_a_token_ask_first);

async fn deleting_rotating_and_removing_a_token_ask_first(backend: Backend) {
    let (app, _lever) = connected(backend).await;
    let list = app.get_html("/orgs/acme/configurations").await;
    let edit = list.find("/edit\"").expect("a configuration's edit link");
    let id_at = list[..edit].rfind('/').unwrap() + 1;
    let id = list[id_at..edit].to_owned();
    let url = webhook_url_in(&app.get_html("/orgs/acme/webhooks").await);

    let delete = format!("/orgs/acme/configurations/{id}/delete");
    let rotate = "/orgs/acme/webhooks/rotate";
    let clear = "/orgs/acme/webhooks/tokens/candidateStageChange/clear";
    for (page, action, consequence) in [
        (
            "/orgs/acme/configurations",
            delete.as_str(),
            format!("Candidates tagged “{TAG}” who reach “{TRIGGER}” will no longer receive"),
        ),
        (
            "/orgs/acme/webhooks",
            rotate,
            "webhooks fail (and candidates get no assessment) until you paste the new URL"
                .to_owned(),
        ),
        (
            "/orgs/acme/webhooks",
            clear,
            "refuse every Candidate Stage Change delivery".to_owned(),
        ),
    ] {
        // The action's own button posts without the confirmation: only the question comes back.
        let response = app.post_form(page, action, &[]).await;
        assert_eq!(response.status(), 200, "{action}");
        let question = response.text().await.unwrap();
        assert!(question.contains(&consequence), "{action}: {question}");
        assert!(question.contains(r#"name="confirm" value="yes""#));
        assert!(
            question.contains(&format!(r#"action="{action}""#)),
            "{question}"
        );
    }
    // Nothing changed.
    assert!(app
        .get_html("/orgs/acme/configurations")
        .await
        .contains(TAG));
    let webhooks = app.get_html("/orgs/acme/webhooks").await;
    assert_eq!(webhook_url_in(&webhooks), url);
    assert!(webhooks.contains("Remove Candidate Stage Change token"));

    // Confirmed: done.
    for (page, action) in [
        ("/orgs/acme/configurations", delete.as_str()),
        ("/orgs/acme/webhooks", rotate),
        ("/orgs/acme/webhooks", clear),
    ] {
        let html = app.get_html(page).await;
        let response = app
            .post_raw(
                action,
                &[("csrf_token", &csrf_in(&html)), ("confirm", "yes")],
            )
            .await;
        assert_eq!(response.status(), 303, "{action}");
    }
    assert!(!app
        .get_html("/orgs/acme/configurations")
        .await
        .contains(TAG));
    let webhooks = app.get_html("/orgs/acme/webhooks").await;
    assert_ne!(webhook_url_in(&webhooks), url);
    assert!(!webhooks.contains("Remove Candidate Stage Change token"));
}
