//! The one integration-test binary: each file is an area of the product.

#[path = "../support/database.rs"]
mod database;
mod helpers;
#[path = "../support/processes.rs"]
mod processes;

mod assessments_page;
mod bounded_saves;
mod browser;
mod browser_editor;
mod browser_grading;
mod candidate;
mod candidate_editor;
mod child_process;
mod configuration_overlap;
mod confirmations;
mod deadlines;
mod demo;
mod drain;
mod email;
mod events_page;
mod expiry;
mod foundation;
mod grading;
mod grading_worker;
mod hardening;
mod health;
mod intake;
mod integration;
mod integration_pages;
mod job_defects;
mod lanes;
mod lever_hardening;
mod lever_sim;
mod lever_sim_oauth;
mod lever_view;
mod lever_world;
mod lifecycle;
mod login_limits;
mod oauth;
mod operations;
mod pages_at_scale;
mod question_cases;
mod questions;
mod replicas;
mod results_in_lever;
mod scoring;
mod sessions;
mod settings;
mod stored_states;
mod triggers;
mod typed_states;
mod workers;
