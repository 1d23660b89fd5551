//! Ctrl-C and SIGTERM handling that still stops the database server.
//!
//! The first SIGINT, SIGTERM or SIGHUP marks the run as interrupted and forwards SIGTERM to the
//! running child command. When the child exits, the main thread returns and its cleanup
//! guards stop the database. If that has not happened within [`GRACE_PERIOD`], or a second
//! signal arrives, the signal thread runs the registered cleanups itself and exits with 130.

use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// Exit code for a run ended by a signal, as shells report SIGINT (128 + 2).
pub const INTERRUPTED_EXIT_CODE: i32 = 130;

/// Time the main thread gets to stop its child and clean up after the first signal.
const GRACE_PERIOD: Duration = Duration::from_secs(30);

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Process id of the child command the main thread is waiting for.
static CHILD: Mutex<Option<u32>> = Mutex::new(None);

type CleanupAction = Box<dyn FnOnce() + Send>;

/// Pending cleanups with their ids. An action runs while the lock is held, so a signal-triggered
/// exit waits until a cleanup that the main thread already started has finished.
static CLEANUPS: Mutex<Vec<(u64, CleanupAction)>> = Mutex::new(Vec::new());
static NEXT_CLEANUP_ID: AtomicU64 = AtomicU64::new(0);

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Installs the handler for SIGINT, SIGTERM and SIGHUP.
pub fn install_handler() -> Result<()> {
    ctrlc::set_handler(handle_signal).context("failed to install the Ctrl-C/SIGTERM handler")
}

fn handle_signal() {
    if REQUESTED.swap(true, Ordering::SeqCst) {
        eprintln!("xtask: second signal received; stopping the database server now");
        run_all_cleanups();
        std::process::exit(INTERRUPTED_EXIT_CODE);
    }

    eprintln!("xtask: interrupted; stopping the running command and then the database server");
    if let Some(pid) = *lock(&CHILD) {
        forward_sigterm(pid);
    }

    thread::spawn(|| {
        thread::sleep(GRACE_PERIOD);
        eprintln!(
            "xtask: the run did not stop within {} s of the signal; stopping the database server and exiting",
            GRACE_PERIOD.as_secs()
        );
        run_all_cleanups();
        std::process::exit(INTERRUPTED_EXIT_CODE);
    });
}

/// Sends SIGTERM through kill(1), because the workspace forbids the unsafe code a direct
/// kill(2) call would need.
fn forward_sigterm(pid: u32) {
    let result = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    match result {
        Ok(status) if status.success() => {}
        // The child may already have exited because it received the same Ctrl-C.
        Ok(status) => eprintln!("xtask: kill -TERM {pid} exited with {status}"),
        Err(error) => eprintln!("xtask: failed to run kill -TERM {pid}: {error}"),
    }
}

/// Returns whether a signal asked the run to stop.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// Returns an error when a signal asked the run to stop, so the caller unwinds its guards.
pub fn check() -> Result<()> {
    if requested() {
        bail!("interrupted by a signal");
    }
    Ok(())
}

/// Spawns the command, records it as the child to forward signals to, and waits for it.
pub fn run(command: &mut Command) -> Result<ExitStatus> {
    check()?;
    let mut child = command
        .spawn()
        .with_context(|| format!("failed to start {}", describe(command)))?;
    wait(&mut child, command)
}

/// Like [`run`], but captures stdout and stderr (stdin is closed).
pub fn output(command: &mut Command) -> Result<std::process::Output> {
    check()?;
    let child = command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("failed to start {}", describe(command)))?;
    *lock(&CHILD) = Some(child.id());
    let result = child.wait_with_output();
    *lock(&CHILD) = None;
    result.with_context(|| format!("failed to wait for {}", describe(command)))
}

/// Like [`run`], but captures stdout and leaves stderr on the terminal (stdin is closed).
pub fn stdout_of(command: &mut Command) -> Result<std::process::Output> {
    check()?;
    let child = command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("failed to start {}", describe(command)))?;
    *lock(&CHILD) = Some(child.id());
    let result = child.wait_with_output();
    *lock(&CHILD) = None;
    result.with_context(|| format!("failed to wait for {}", describe(command)))
}

fn wait(child: &mut Child, command: &Command) -> Result<ExitStatus> {
    *lock(&CHILD) = Some(child.id());
    let result = child.wait();
    *lock(&CHILD) = None;
    result.with_context(|| format!("failed to wait for {}", describe(command)))
}

/// Formats a command line for messages.
pub fn describe(command: &Command) -> String {
    let mut words = vec![command.get_program().to_string_lossy().into_owned()];
    words.extend(
        command
            .get_args()
            .map(|arg| arg.to_string_lossy().into_owned()),
    );
    words.join(" ")
}

/// Guard that runs its cleanup action when dropped, on success, error and panic alike. A
/// signal that ends the process early runs the pending actions too.
#[must_use = "the cleanup runs when the guard is dropped"]
pub struct CleanupGuard {
    id: u64,
}

impl CleanupGuard {
    pub fn new(action: impl FnOnce() + Send + 'static) -> CleanupGuard {
        let id = NEXT_CLEANUP_ID.fetch_add(1, Ordering::Relaxed);
        lock(&CLEANUPS).push((id, Box::new(action)));
        CleanupGuard { id }
    }
}

impl Drop for CleanupGuard {
    fn drop(&mut self) {
        let mut cleanups = lock(&CLEANUPS);
        if let Some(position) = cleanups.iter().position(|(id, _)| *id == self.id) {
            let (_, action) = cleanups.remove(position);
            action();
        }
    }
}

fn run_all_cleanups() {
    let mut cleanups = lock(&CLEANUPS);
    while let Some((_, action)) = cleanups.pop() {
        action();
    }
}
