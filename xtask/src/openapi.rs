//! `cargo xtask openapi`: regenerates openapi/openapi.json from the server.

use anyhow::{Context, Result, bail};

use crate::interrupt;
use crate::workspace::Workspace;

/// Path of the committed OpenAPI document, relative to the workspace root.
const OPENAPI_PATH: &str = "openapi/openapi.json";

pub fn run(workspace: &Workspace) -> Result<()> {
    let mut command = workspace.cargo();
    command.args([
        "run",
        "--locked",
        "--quiet",
        "-p",
        "referee-server",
        "--",
        "openapi",
    ]);
    let output = interrupt::stdout_of(&mut command)?;
    if !output.status.success() {
        bail!(
            "`{}` failed with {}",
            interrupt::describe(&command),
            output.status
        );
    }

    // Refuse to overwrite the committed file with something that is not a JSON document.
    serde_json::from_slice::<serde_json::Value>(&output.stdout)
        .with_context(|| format!("`{}` printed invalid JSON", interrupt::describe(&command)))?;

    let path = workspace.root.join(OPENAPI_PATH);
    let unchanged = std::fs::read(&path).is_ok_and(|current| current == output.stdout);
    if unchanged {
        eprintln!("{OPENAPI_PATH} is up to date");
        return Ok(());
    }
    std::fs::write(&path, &output.stdout)
        .with_context(|| format!("failed to write {}", path.display()))?;
    eprintln!("wrote {OPENAPI_PATH} ({} bytes)", output.stdout.len());
    Ok(())
}
