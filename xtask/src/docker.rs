//! PostgreSQL in a container through testcontainers (xtask feature `docker`).

use anyhow::{Context, Result};
use testcontainers_modules::postgres::Postgres;
use testcontainers_modules::testcontainers::ImageExt;
use testcontainers_modules::testcontainers::core::IntoContainerPort;
use testcontainers_modules::testcontainers::runners::SyncRunner;
use url::Url;

use crate::interrupt::CleanupGuard;

/// Image tag of the container, the PostgreSQL major version Debian 12 ships.
const IMAGE_TAG: &str = "15-alpine";

/// Server description for the closing report.
pub const DESCRIPTION: &str = "testcontainers (postgres:15-alpine)";

/// Starts the container and returns its maintenance URL, the guard that removes the
/// container, and the notes to print when `keep` leaves it running.
pub fn start(keep: bool) -> Result<(Url, Option<CleanupGuard>, Vec<String>)> {
    eprintln!("starting PostgreSQL through testcontainers (postgres:{IMAGE_TAG})");
    let container = Postgres::default()
        .with_tag(IMAGE_TAG)
        .with_cmd(["postgres", "-c", "fsync=off", "-c", "max_connections=300"])
        .start()
        .context("failed to start the container")?;
    let host = container
        .get_host()
        .context("failed to read the container's host")?;
    let port = container
        .get_host_port_ipv4(5432.tcp())
        .context("failed to read the container's mapped port")?;

    // The module's default credentials are postgres/postgres with database postgres.
    let url = Url::parse(&format!(
        "postgres://postgres:postgres@{host}:{port}/postgres"
    ))
    .context("the container's address does not form a valid URL")?;

    if keep {
        let id = container.id().to_owned();
        // Forgetting the handle skips its Drop, which would remove the container.
        std::mem::forget(container);
        let notes = vec![
            format!("kept the container {id}"),
            format!("remove it with: docker rm -f {id}"),
        ];
        return Ok((url, None, notes));
    }

    let cleanup = CleanupGuard::new(move || {
        drop(container);
        eprintln!("removed the PostgreSQL container");
    });
    Ok((url, Some(cleanup), Vec::new()))
}
