//! Two configurations sending the same assessment: an identical one (same stage, kind and
//! trigger) is refused, new or edited, with nothing stored; deleting one of two that overlap
//! says what candidates still receive, and Lever shows that they do.

use crate::both_backends;
use crate::helpers::{csrf_in, Backend, TestApp};
use crate::lever_view::links;
use crate::lever_world::{add_configuration, add_question, connected, TAG, TRIGGER};

both_backends!(
    an_identical_configuration_is_refused_new_or_edited,
    the_delete_confirmation_says_what_other_configurations_still_send,
);

/// `acme`'s configurations' ids, oldest first, as their edit links on the list show them.
async fn configuration_ids(app: &TestApp) -> Vec<String> {
    let list = app.get_html("/orgs/acme/configurations").await;
    list.split("href=\"/orgs/acme/configurations/")
        .skip(1)
        .filter_map(|rest| rest.split_once("/edit\"").map(|(id, _)| id.to_owned()))
        .filter(|id| !id.contains('"'))
        .collect()
}

fn as_refs<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The confirmation the delete button answers first (nothing deleted yet).
async fn delete_question(app: &TestApp, id: &str) -> String {
    let response = app
        .post_form(
            "/orgs/acme/configurations",
            &format!("/orgs/acme/configurations/{id}/delete"),
            &[],
        )
        .await;
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

async fn an_identical_configuration_is_refused_new_or_edited(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let question = add_question(&app, "LRU cache", "Write an LRU cache.").await;
    let (phone, onsite) = (lever.stage(TRIGGER), lever.stage("On-site interview"));
    let everyone_at = |stage: &str| {
        vec![
            ("trigger_style", "stage".to_owned()),
            ("trigger_stage_id", stage.to_owned()),
            ("pad_kind", "take_home".to_owned()),
            ("question_id", question.clone()),
        ]
    };
    let submit = |fields: Vec<(&'static str, String)>| {
        let app = &app;
        async move { add_configuration(app, &as_refs(&fields)).await }
    };
    assert_eq!(submit(everyone_at(&phone)).await.status(), 303);
    let before = configuration_ids(&app).await;
    assert_eq!(before.len(), 2, "the tagged one and everyone at the stage");

    let refused = submit(everyone_at(&phone)).await;
    assert_eq!(refused.status(), 422);
    let page = refused.text().await.unwrap();
    let why = "The configuration for everyone at “Phone interview” already sends a take-home test \
               to every candidate at “Phone interview”: a second one would send each of them the \
               same assessment twice.";
    assert!(page.contains(why), "{page}");
    assert!(page.contains("field-invalid"), "the field is marked");
    assert_eq!(configuration_ids(&app).await, before, "nothing stored");

    // Another kind of assessment at the same stage is not the same configuration.
    let mut live = everyone_at(&phone);
    live.retain(|(k, _)| *k != "pad_kind" && *k != "question_id");
    live.push(("pad_kind", "live".into()));
    assert_eq!(submit(live).await.status(), 303);

    // An edit that would make one identical to another is refused, and the row is unchanged.
    assert_eq!(submit(everyone_at(&onsite)).await.status(), 303);
    let ids = configuration_ids(&app).await;
    assert_eq!(ids.len(), 4);
    let edited = ids.last().unwrap().clone();
    let edit = format!("/orgs/acme/configurations/{edited}/edit");
    let refused = app
        .post_form(&edit, &edit, &as_refs(&everyone_at(&phone)))
        .await;
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains(why));
    let form = app.get_html(&edit).await;
    assert!(
        form.contains(&format!("value=\"{onsite}\" selected")),
        "still at the on-site interview: {form}"
    );
    assert_eq!(configuration_ids(&app).await, ids);

    // Saving a configuration as it is does not find itself identical.
    let saved = app
        .post_form(&edit, &edit, &as_refs(&everyone_at(&onsite)))
        .await;
    assert_eq!(saved.status(), 303);
    assert_eq!(configuration_ids(&app).await, ids);
}

async fn the_delete_confirmation_says_what_other_configurations_still_send(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let tagged = configuration_ids(&app).await[0].clone();
    let question = add_question(&app, "LRU cache", "Write an LRU cache.").await;
    let phone = lever.stage(TRIGGER);
    let response = add_configuration(
        &app,
        &[
            ("trigger_style", "stage"),
            ("trigger_stage_id", &phone),
            ("pad_kind", "take_home"),
            ("question_id", &question),
        ],
    )
    .await;
    assert_eq!(response.status(), 303);
    let everyone = configuration_ids(&app).await[1].clone();

    let asked = delete_question(&app, &tagged).await;
    assert!(
        asked.contains(&format!(
            "Candidates tagged “{TAG}” who reach “Phone interview” will no longer receive this \
             configuration&#39;s take-home test assessment, but every candidate there still \
             receives one from the configuration for everyone at “Phone interview”."
        )),
        "{asked}"
    );
    let asked = delete_question(&app, &everyone).await;
    assert!(
        asked.contains(&format!(
            "Candidates who reach “Phone interview” will no longer receive this \
             configuration&#39;s take-home test assessment, but candidates tagged “{TAG}” there \
             still receive one from the configuration “{TAG}”."
        )),
        "{asked}"
    );
    // A live interview alone at its stage: nothing else sends one there.
    let response = add_configuration(
        &app,
        &[
            ("trigger_style", "stage"),
            ("trigger_stage_id", &lever.stage("On-site interview")),
            ("pad_kind", "live"),
        ],
    )
    .await;
    assert_eq!(response.status(), 303);
    let live = configuration_ids(&app).await[2].clone();
    assert!(delete_question(&app, &live).await.contains(
        "Candidates who reach “On-site interview” will no longer receive a live interview \
         assessment."
    ));
    assert_eq!(
        configuration_ids(&app).await.len(),
        3,
        "nothing deleted yet"
    );

    // Confirmed: the tagged one goes, and a tagged candidate still receives a take-home test.
    let list = app.get_html("/orgs/acme/configurations").await;
    let response = app
        .post_raw(
            &format!("/orgs/acme/configurations/{tagged}/delete"),
            &[("csrf_token", &csrf_in(&list)), ("confirm", "yes")],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(configuration_ids(&app).await, vec![everyone.clone(), live]);
    let grace = lever.candidate("Grace Hopper", &[TAG]).await;
    lever.move_to(&grace, TRIGGER).await;
    app.drain().await;
    let held = lever.opportunity(&grace).await;
    assert_eq!(links(&held).len(), 1, "{held}");
    let asked = delete_question(&app, &everyone).await;
    assert!(
        asked.contains(
            "Candidates who reach “Phone interview” will no longer receive a take-home test \
             assessment."
        ),
        "{asked}"
    );
}
