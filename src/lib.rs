//! leverbridge: the assessment provider's side of a Lever ATS integration.

pub mod assessments;
pub mod clock;
pub mod commands;
pub mod config;
pub mod connection;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod intake;
pub mod jobs;
pub mod lever;
pub mod lever_sim;
pub mod mailbox;
pub mod queue;
pub mod sandbox;
pub mod smtp;
pub mod startup;
pub mod telemetry;
pub mod web;
