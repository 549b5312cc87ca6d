//! The Events page names the candidate beside the opportunity id, whether the delivery fired a
//! configuration or was ignored.

use crate::both_backends;
use crate::database::Backend;
use crate::lever_world::{connected, TAG, TRIGGER};

both_backends!(events_name_the_candidate_beside_the_opportunity);

async fn events_name_the_candidate_beside_the_opportunity(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    let bob = lever.candidate("Bob Untagged", &[]).await;
    lever.move_to(&ada, TRIGGER).await;
    lever.move_to(&bob, TRIGGER).await;
    assert_eq!(app.drain().await, 2);
    let events = app.get_html("/orgs/acme/events").await;
    for (name, id) in [("Ada Lovelace", &ada), ("Bob Untagged", &bob)] {
        let at = events
            .find(&format!("<strong>{name}</strong>"))
            .unwrap_or_else(|| panic!("{name} named: {events}"));
        let cell = &events[at..at + events[at..].find("</td>").unwrap()];
        assert!(cell.contains(id.as_str()), "{cell}");
    }
}
