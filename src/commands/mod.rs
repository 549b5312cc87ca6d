//! What the command line's subcommands do, beyond `serve`.

pub mod create_user;
pub mod demo;
