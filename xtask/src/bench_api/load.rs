//! The load driver: a fixed list of requests, each with its own token, sent by a fixed number
//! of concurrent clients over one keep-alive connection pool, with every latency recorded.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use reqwest::Method;

/// One request of a workload.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    /// Path and query, appended to the server's base URL.
    pub path: String,
    pub token: String,
    /// JSON body; `None` sends no body.
    pub body: Option<String>,
}

impl Request {
    pub fn get(path: String, token: &str) -> Self {
        Self {
            method: Method::GET,
            path,
            token: token.to_owned(),
            body: None,
        }
    }
}

/// Latencies and throughput of one workload run.
#[derive(Debug, Clone)]
pub struct LoadResult {
    pub requests: usize,
    pub clients: usize,
    pub seconds: f64,
    /// Sorted ascending.
    pub latencies: Vec<Duration>,
    /// Replies with a status outside 2xx, with the first such status and body.
    pub failures: usize,
    pub first_failure: Option<String>,
}

impl LoadResult {
    pub fn throughput(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    /// Returns the nearest-rank percentile (`0 < percent <= 100`) in milliseconds.
    pub fn percentile_ms(&self, percent: f64) -> f64 {
        percentile_ms(&self.latencies, percent)
    }
}

/// Returns the nearest-rank percentile of sorted latencies in milliseconds.
pub fn percentile_ms(sorted: &[Duration], percent: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((percent / 100.0) * sorted.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted.len()) - 1;
    sorted[index].as_secs_f64() * 1000.0
}

/// Sends every request once with `clients` concurrent clients, each taking the next unsent
/// request, and records the latency from send to the end of the body.
pub fn run(base_url: &str, requests: Vec<Request>, clients: usize) -> Result<LoadResult> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("failed to start the tokio runtime of the load driver")?;
    runtime.block_on(run_async(base_url, requests, clients))
}

/// Time the driver waits for one reply: the request timeout the benchmark gives the
/// server, so that a full-size generate-assignments is measured instead of cut off.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(900);

async fn run_async(base_url: &str, requests: Vec<Request>, clients: usize) -> Result<LoadResult> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .context("failed to build the HTTP client")?;
    let count = requests.len();
    let requests = Arc::new(requests);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();

    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let http = http.clone();
        let requests = Arc::clone(&requests);
        let next = Arc::clone(&next);
        let base_url = base_url.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = Vec::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(request) = requests.get(index) else {
                    break;
                };
                let builder = prepare(&http, &base_url, request);
                let sent = Instant::now();
                let outcome = match builder.send().await {
                    Ok(response) => {
                        let status = response.status();
                        let body = response.bytes().await;
                        match body {
                            Ok(_) if status.is_success() => Ok(()),
                            Ok(body) => Err(format!(
                                "{} {} returned {status}: {}",
                                request.method,
                                request.path,
                                String::from_utf8_lossy(&body)
                            )),
                            Err(error) => {
                                Err(format!("{} {}: {error}", request.method, request.path))
                            }
                        }
                    }
                    Err(error) => Err(format!("{} {}: {error}", request.method, request.path)),
                };
                latencies.push(sent.elapsed());
                if let Err(message) = outcome {
                    failures.push(message);
                }
            }
            (latencies, failures)
        }));
    }

    let mut latencies = Vec::with_capacity(count);
    let mut failures = Vec::new();
    for task in tasks {
        let (task_latencies, task_failures) = task.await.context("a load client panicked")?;
        latencies.extend(task_latencies);
        failures.extend(task_failures);
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    Ok(LoadResult {
        requests: count,
        clients,
        seconds,
        latencies,
        failures: failures.len(),
        first_failure: failures.into_iter().next(),
    })
}

/// Builds the HTTP request with the token and, when there is one, the JSON body.
fn prepare(http: &reqwest::Client, base_url: &str, request: &Request) -> reqwest::RequestBuilder {
    let mut builder = http
        .request(
            request.method.clone(),
            format!("{base_url}{}", request.path),
        )
        .header("Authorization", format!("Token {}", request.token));
    if let Some(body) = &request.body {
        builder = builder
            .header("Content-Type", "application/json")
            .body(body.clone());
    }
    builder
}

/// Sends one request and returns its status, headers and body, failing on a transport error.
pub fn send_one(
    base_url: &str,
    request: &Request,
) -> Result<(u16, reqwest::header::HeaderMap, String)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("failed to start the tokio runtime of the load driver")?;
    runtime.block_on(async {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .context("failed to build the HTTP client")?;
        let builder = prepare(&http, base_url, request);
        let response = builder
            .send()
            .await
            .with_context(|| format!("{} {} failed", request.method, request.path))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        Ok((status, headers, body))
    })
}

/// Returns the `X-Result-Count` of a HEAD request, failing unless the reply is 200.
pub fn head_count(base_url: &str, path: &str, token: &str) -> Result<u64> {
    let request = Request {
        method: Method::HEAD,
        path: path.to_owned(),
        token: token.to_owned(),
        body: None,
    };
    let (status, headers, _) = send_one(base_url, &request)?;
    if status != 200 {
        bail!("HEAD {path} returned {status}");
    }
    headers
        .get("x-result-count")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
        .with_context(|| format!("HEAD {path} returned no valid X-Result-Count"))
}
