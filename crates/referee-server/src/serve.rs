//! Start-up, serving and shutdown.

use std::time::Duration;

use anyhow::Context as _;
use referee_http::{AppState, HttpSettings, RouterLimits};
use referee_store::users::{self, NewUser};
use referee_store::{AnyConnection, DatabaseUrl, Pool, PoolOptions, build_pool, run_migrations};
use tokio::net::TcpListener;

use crate::config::{GlobalOptions, ServeOptions, ensure_sqlite_directory};

/// Username of the staff user created on an empty database.
pub const BOOTSTRAP_USERNAME: &str = "admin";

/// Parses the database URL and creates the directory of an SQLite file.
pub fn database_url(global: &GlobalOptions) -> anyhow::Result<DatabaseUrl> {
    let url = DatabaseUrl::parse(&global.database_url)?;
    if let Some(path) = url.sqlite_path() {
        ensure_sqlite_directory(path)
            .with_context(|| format!("creating the directory of the SQLite file {path}"))?;
    }
    Ok(url)
}

/// Opens one connection and applies pending migrations.
pub fn connect_and_migrate(url: &DatabaseUrl) -> anyhow::Result<AnyConnection> {
    let mut connection = url.establish().context("connecting to the database")?;
    let applied = run_migrations(&mut connection).map_err(anyhow::Error::msg)?;
    for version in applied {
        tracing::info!(migration.version = %version, "applied migration");
    }
    Ok(connection)
}

/// Creates the first staff user on a database without users and returns its token.
pub fn bootstrap_staff_user(connection: &mut AnyConnection) -> anyhow::Result<Option<String>> {
    if users::count_users(connection)? > 0 {
        return Ok(None);
    }
    let user = users::create_user(
        connection,
        &NewUser {
            username: BOOTSTRAP_USERNAME.to_owned(),
            full_name: "Administrator".to_owned(),
            is_staff: true,
            ..NewUser::default()
        },
    )?;
    Ok(Some(users::issue_token(connection, user.uuid)?))
}

/// Migrates the database and creates the first user, retrying while the database is down;
/// marks the state ready when done.
async fn prepare_database(
    state: AppState,
    pool: Pool,
    retry: Duration,
    bootstrap: bool,
    address: std::net::SocketAddr,
) {
    loop {
        let pool = pool.clone();
        let outcome = tokio::task::spawn_blocking(move || -> anyhow::Result<Option<String>> {
            let mut connection = pool.get().context("connecting to the database")?;
            let applied = run_migrations(&mut connection).map_err(anyhow::Error::msg)?;
            for version in applied {
                tracing::info!(migration.version = %version, "applied migration");
            }
            if bootstrap {
                bootstrap_staff_user(&mut connection)
            } else {
                Ok(None)
            }
        })
        .await;

        match outcome {
            Ok(Ok(token)) => {
                if let Some(token) = token {
                    println!(
                        "Created staff user \"{BOOTSTRAP_USERNAME}\". Its API token is shown only once:\n\n    {token}\n\n\
                         Try it: curl -H 'Authorization: Token {token}' http://{address}/api/users/me/"
                    );
                }
                state.mark_database_ready();
                tracing::info!("database ready");
                return;
            }
            Ok(Err(error)) => {
                tracing::warn!(
                    error = format!("{error:#}"),
                    retry_secs = retry.as_secs(),
                    "database not ready; retrying"
                );
            }
            Err(join_error) => {
                tracing::error!(error = %join_error, "preparing the database panicked");
                return;
            }
        }
        tokio::time::sleep(retry).await;
    }
}

/// Runs the periodic jobs every `interval` once the database is ready, until the process ends.
async fn run_scheduler(state: AppState, pool: Pool, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if !state.database_ready() {
            continue;
        }
        let pool = pool.clone();
        let outcome = tokio::task::spawn_blocking(
            move || -> anyhow::Result<referee_store::scheduler::TickReport> {
                let mut connection = pool.get().context("connecting to the database")?;
                Ok(referee_store::scheduler::run_tick(
                    &mut connection,
                    chrono::Utc::now(),
                )?)
            },
        )
        .await;
        match outcome {
            Ok(Ok(report)) if report.changed_anything() => tracing::info!(
                invitations_expired = report.invitations_expired,
                batches_expired = report.batches_expired,
                reminders_sent = report.reminders_sent,
                managers_notified = report.managers_notified,
                reviews_expired = report.reviews_expired,
                "scheduler tick"
            ),
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::warn!(
                error = format!("{error:#}"),
                "scheduler tick failed; retrying at the next tick"
            ),
            Err(join_error) => tracing::error!(error = %join_error, "scheduler tick panicked"),
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %error, "listening for SIGINT failed");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(error = %error, "listening for SIGTERM failed");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = interrupt => tracing::info!("received SIGINT; shutting down"),
        () = terminate => tracing::info!("received SIGTERM; shutting down"),
    }
}

/// Serves the API until SIGINT or SIGTERM, then lets in-flight requests finish for at most
/// the shutdown timeout.
pub async fn serve(global: &GlobalOptions, options: &ServeOptions) -> anyhow::Result<()> {
    let url = database_url(global)?;
    let pool = build_pool(
        &url,
        &PoolOptions {
            max_size: options.pool_size.max(1),
            connection_timeout: Duration::from_secs(options.pool_timeout_secs.max(1)),
        },
    );
    let settings = HttpSettings {
        public_url: options.public_url.clone(),
    };
    let state = AppState::new_unprepared(pool.clone(), settings);
    let limits = RouterLimits {
        max_body_bytes: options.max_body_bytes,
        request_timeout: (options.request_timeout_secs > 0)
            .then(|| Duration::from_secs(options.request_timeout_secs)),
        cors_allowed_origins: options.cors_allowed_origins.clone(),
    };
    let app = referee_http::router(state.clone(), &limits);

    let listener = TcpListener::bind(options.bind)
        .await
        .with_context(|| format!("binding {}", options.bind))?;
    let address = listener.local_addr()?;
    tracing::info!(
        address = %address,
        database = %referee_store::connection::redact(&global.database_url),
        "listening on http://{address}/ (API documentation at http://{address}/api/docs/)"
    );

    let app_state_for_scheduler = state.clone();
    let scheduler_pool = pool.clone();
    tokio::spawn(prepare_database(
        state,
        pool,
        Duration::from_secs(options.database_retry_secs.max(1)),
        !options.no_bootstrap_user,
        address,
    ));

    if options.scheduler_interval_secs > 0 {
        tokio::spawn(run_scheduler(
            app_state_for_scheduler,
            scheduler_pool,
            Duration::from_secs(options.scheduler_interval_secs),
        ));
    }

    let (stop_sender, mut stop_receiver) = tokio::sync::watch::channel(false);
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown_signal().await;
        let _ = stop_sender.send(true);
    });

    let shutdown_timeout = Duration::from_secs(options.shutdown_timeout_secs);
    let deadline = async move {
        let _ = stop_receiver.wait_for(|stopped| *stopped).await;
        tokio::time::sleep(shutdown_timeout).await;
    };

    tokio::select! {
        result = server => result.context("serving HTTP")?,
        () = deadline => tracing::warn!(timeout_secs = shutdown_timeout.as_secs(), "in-flight requests did not finish in time; stopping anyway"),
    }
    tracing::info!("stopped");
    Ok(())
}
