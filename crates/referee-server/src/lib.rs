//! The `referee` server: configuration, start-up (migrations, first staff user), serving
//! with graceful shutdown, and the administrative subcommands.

pub mod config;
pub mod serve;

pub use config::{Cli, Command};
