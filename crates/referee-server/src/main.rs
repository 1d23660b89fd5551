use std::process::ExitCode;

use clap::Parser as _;
use referee_server::config::{Cli, Command, GlobalOptions, LogFormat, UsersCommand};
use referee_server::serve;
use referee_store::users::{self, NewUser};
use tracing_subscriber::EnvFilter;

fn init_logging(global: &GlobalOptions) {
    let filter = EnvFilter::try_new(&global.log).unwrap_or_else(|error| {
        eprintln!(
            "invalid log filter {:?} ({error}); using \"info\"",
            global.log
        );
        EnvFilter::new("info")
    });
    use std::io::IsTerminal as _;
    let builder = tracing_subscriber::fmt()
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match global.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            let result = runtime.block_on(serve::serve(&cli.global, &cli.serve));
            // A blocking task may still wait for an unreachable database; do not wait for it.
            runtime.shutdown_timeout(std::time::Duration::from_secs(1));
            result
        }
        Command::Migrate => {
            let url = serve::database_url(&cli.global)?;
            serve::connect_and_migrate(&url)?;
            eprintln!("database migrated");
            Ok(())
        }
        Command::Openapi => {
            let document = referee_http::openapi();
            println!("{}", serde_json::to_string_pretty(&document)?);
            Ok(())
        }
        Command::Import { path, call } => {
            let call_uuid = match call {
                // The type comes from `import_document`'s parameter.
                Some(text) => Some(
                    text.trim()
                        .parse()
                        .map_err(|_| anyhow::anyhow!("--call {text:?} is not a valid UUID"))?,
                ),
                None => None,
            };
            let text = std::fs::read(&path)
                .map_err(|error| anyhow::anyhow!("failed to read {}: {error}", path.display()))?;
            let root: referee_domain::import::Node = serde_json::from_slice(&text)
                .map_err(|error| anyhow::anyhow!("{} is not JSON: {error}", path.display()))?;
            let url = serve::database_url(&cli.global)?;
            let mut connection = serve::connect_and_migrate(&url)?;
            let outcome =
                referee_store::import::import_document(&mut connection, None, call_uuid, &root)
                    .map_err(|error| anyhow::anyhow!("{}", describe_store_error(error)))?;
            match outcome {
                Ok(counts) => {
                    println!("{}", serde_json::to_string_pretty(&counts)?);
                    Ok(())
                }
                Err(errors) => {
                    for error in &errors {
                        eprintln!("{}: {}", error.pointer, error.message);
                    }
                    anyhow::bail!(
                        "{} problem(s) in {}; nothing was imported",
                        errors.len(),
                        path.display()
                    )
                }
            }
        }
        Command::Users { command } => {
            let url = serve::database_url(&cli.global)?;
            let mut connection = serve::connect_and_migrate(&url)?;
            match command {
                UsersCommand::Create(options) => {
                    let user = users::create_user(
                        &mut connection,
                        &NewUser {
                            username: options.username,
                            email: options.email,
                            full_name: options.full_name,
                            is_staff: options.staff,
                            is_support: options.support,
                        },
                    )
                    .map_err(|error| anyhow::anyhow!("{}", describe_store_error(error)))?;
                    let token = users::issue_token(&mut connection, user.uuid)?;
                    eprintln!("created user {} ({})", user.username, user.uuid.simple());
                    println!("{token}");
                }
                UsersCommand::Token { username } => {
                    let Some(user) = users::find_user_by_username(&mut connection, &username)?
                    else {
                        anyhow::bail!(
                            "no user is named {username:?}; create it with `referee users create --username {username}`"
                        );
                    };
                    println!("{}", users::issue_token(&mut connection, user.uuid)?);
                }
            }
            Ok(())
        }
    }
}

fn describe_store_error(error: referee_store::StoreError) -> String {
    match error {
        referee_store::StoreError::Domain(referee_domain::DomainError::Validation(fields)) => {
            fields
                .0
                .into_iter()
                .map(|(field, messages)| format!("{field}: {}", messages.join(" ")))
                .collect::<Vec<_>>()
                .join("; ")
        }
        other => other.to_string(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.global);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
