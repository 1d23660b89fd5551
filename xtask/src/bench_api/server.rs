//! The release server under test: started on a free loopback port, watched through
//! /proc/<pid>/status, and stopped with SIGTERM.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// How long the server may take after it starts before /health/ready returns 200.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Interval between two VmRSS samples.
const SAMPLE_INTERVAL: Duration = Duration::from_millis(50);

pub struct Server {
    child: Child,
    pub base_url: String,
}

impl Server {
    /// Starts `referee serve` on the database. With `statement_log`, the server logs every SQL
    /// statement to that file; otherwise it logs warnings only, to standard error.
    pub fn start(binary: &Path, database_url: &str, statement_log: Option<&Path>) -> Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .context("failed to find a free loopback port")?
            .port();
        let mut command = Command::new(binary);
        command
            .arg("serve")
            .env("REFEREE_DATABASE_URL", database_url)
            .env("REFEREE_BIND", format!("127.0.0.1:{port}"))
            .env("REFEREE_SCHEDULER_INTERVAL_SECS", "86400")
            // generate-assignments on the full-size fresh call takes longer than the default
            // 60-second request timeout while every statement is logged.
            .env("REFEREE_REQUEST_TIMEOUT_SECS", "900")
            .stdout(Stdio::null());
        match statement_log {
            Some(path) => {
                let file = std::fs::File::create(path)
                    .with_context(|| format!("failed to create {}", path.display()))?;
                command
                    .env("REFEREE_LOG", "warn,referee_store::sql=debug")
                    .stderr(Stdio::from(file));
            }
            None => {
                command.env("REFEREE_LOG", "warn");
            }
        }
        let child = command
            .spawn()
            .with_context(|| format!("failed to start {}", binary.display()))?;
        let mut server = Self {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
        };
        server.wait_ready()?;
        Ok(server)
    }

    fn wait_ready(&mut self) -> Result<()> {
        let started = Instant::now();
        let address = self.base_url.trim_start_matches("http://").to_owned();
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("the server exited with {status} before it was ready");
            }
            if is_ready(&address) {
                return Ok(());
            }
            if started.elapsed() > READY_TIMEOUT {
                bail!(
                    "/health/ready at {address} did not return 200 within {READY_TIMEOUT:?} after the server started"
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Returns the server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn status_kib(&self, field: &str) -> Result<u64> {
        let path = format!("/proc/{}/status", self.child.id());
        status_field_kib(&path, field)
    }

    /// Returns the server's peak resident set size so far (VmHWM), in KiB.
    pub fn peak_kib(&self) -> Result<u64> {
        self.status_kib("VmHWM")
    }

    /// Starts sampling VmRSS every 50 ms until [`RssSampler::finish`].
    pub fn sample_rss(&self) -> RssSampler {
        let path = format!("/proc/{}/status", self.child.id());
        let stop = Arc::new(AtomicBool::new(false));
        let max = Arc::new(AtomicU64::new(0));
        let thread = {
            let stop = Arc::clone(&stop);
            let max = Arc::clone(&max);
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(kib) = status_field_kib(&path, "VmRSS") {
                        max.fetch_max(kib, Ordering::Relaxed);
                    }
                    std::thread::sleep(SAMPLE_INTERVAL);
                }
            })
        };
        RssSampler {
            stop,
            max,
            thread: Some(thread),
        }
    }

    /// Stops the server with SIGTERM and waits for it, killing it after 30 seconds.
    pub fn stop(mut self) -> Result<()> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let started = Instant::now();
        while self.child.try_wait()?.is_none() {
            if started.elapsed() > Duration::from_secs(30) {
                self.child.kill()?;
                self.child.wait()?;
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A running VmRSS sampler.
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    max: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl RssSampler {
    /// Stops sampling and returns the largest VmRSS seen, in KiB.
    pub fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.max.load(Ordering::Relaxed)
    }
}

/// Sends `GET /health/ready` over a plain HTTP/1.0 connection and checks for a 200 status.
fn is_ready(address: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(address) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET /health/ready HTTP/1.0\r\nHost: {address}\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    reply
        .lines()
        .next()
        .is_some_and(|status| status.split_whitespace().nth(1) == Some("200"))
}

fn status_field_kib(path: &str, field: &str) -> Result<u64> {
    let status = std::fs::read_to_string(path).with_context(|| format!("failed to read {path}"))?;
    let prefix = format!("{field}:");
    let line = status
        .lines()
        .find(|line| line.starts_with(&prefix))
        .with_context(|| format!("{path} has no {field} line"))?;
    let value = line
        .trim_start_matches(&prefix)
        .trim()
        .trim_end_matches("kB")
        .trim();
    value
        .parse()
        .with_context(|| format!("invalid {field} value {value:?} in {path}"))
}
