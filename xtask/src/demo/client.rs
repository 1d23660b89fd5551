//! A small blocking JSON client for referee's REST API with token authentication.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// Largest response body read, in bytes. A call's conflict list with evidence is the largest
/// response of the demo.
const MAX_RESPONSE_BYTES: u64 = 1 << 30;

/// Rows per page of paginated lists; the API's maximum.
const PAGE_SIZE: usize = 300;

#[derive(Clone)]
pub struct Api {
    agent: ureq::Agent,
    base_url: String,
    token: String,
}

impl Api {
    /// Creates a client for the server at `base_url` (`http://HOST:PORT`) that authenticates
    /// with `token`. Only plain HTTP is supported.
    pub fn new(base_url: &str, token: &str) -> Result<Api> {
        if !base_url.starts_with("http://") {
            bail!(
                "the server URL {base_url} is not supported: the demo speaks plain HTTP only, so give an http:// URL"
            );
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .build()
            .new_agent();
        Ok(Api {
            agent,
            base_url: base_url.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
        })
    }

    /// Returns a client for the same server with another user's token.
    pub fn with_token(&self, token: &str) -> Api {
        Api {
            token: token.to_owned(),
            ..self.clone()
        }
    }

    pub fn get(&self, path: &str) -> Result<Value> {
        self.send("GET", path, None)
    }

    pub fn post(&self, path: &str, body: &Value) -> Result<Value> {
        self.send("POST", path, Some(body))
    }

    /// Sends a POST request without a body, for actions that take none.
    pub fn post_empty(&self, path: &str) -> Result<Value> {
        self.send("POST", path, None)
    }

    pub fn patch(&self, path: &str, body: &Value) -> Result<Value> {
        self.send("PATCH", path, Some(body))
    }

    /// Reads every page of a paginated list. `path` may carry a query already.
    pub fn get_all(&self, path: &str) -> Result<Vec<Value>> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut rows = Vec::new();
        for page in 1.. {
            let page_path = format!("{path}{separator}page={page}&page_size={PAGE_SIZE}");
            let Value::Array(batch) = self.get(&page_path)? else {
                bail!("GET {page_path} returned no JSON array");
            };
            let done = batch.len() < PAGE_SIZE;
            rows.extend(batch);
            if done {
                break;
            }
        }
        Ok(rows)
    }

    /// Sends a request and returns the JSON body of a 2xx response (`null` for an empty one).
    /// Any other status is an error with the method, path, status and body.
    fn send(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value> {
        let url = format!("{}{path}", self.base_url);
        let authorization = format!("Token {}", self.token);
        let response = match (method, body) {
            ("GET", _) => self
                .agent
                .get(&url)
                .header("Authorization", &authorization)
                .call(),
            ("POST", Some(body)) => self
                .agent
                .post(&url)
                .header("Authorization", &authorization)
                .content_type("application/json")
                .send(body.to_string()),
            ("POST", None) => self
                .agent
                .post(&url)
                .header("Authorization", &authorization)
                .send_empty(),
            ("PATCH", Some(body)) => self
                .agent
                .patch(&url)
                .header("Authorization", &authorization)
                .content_type("application/json")
                .send(body.to_string()),
            _ => bail!("unsupported request {method} {path}"),
        };
        let mut response = response.with_context(|| format!("{method} {url} failed"))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_string()
            .with_context(|| format!("failed to read the response to {method} {url}"))?;
        if !(200..300).contains(&status) {
            let excerpt: String = text.chars().take(2000).collect();
            bail!("{method} {path} returned {status}: {excerpt}");
        }
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text)
            .with_context(|| format!("{method} {path} returned a body that is not JSON"))
    }
}

/// Reads a string field of a JSON object.
pub fn text<'a>(value: &'a Value, key: &str) -> Result<&'a str> {
    value[key]
        .as_str()
        .with_context(|| format!("the response has no string `{key}`: {}", abbreviate(value)))
}

/// Reads an integer field of a JSON object.
pub fn integer(value: &Value, key: &str) -> Result<i64> {
    value[key]
        .as_i64()
        .with_context(|| format!("the response has no integer `{key}`: {}", abbreviate(value)))
}

fn abbreviate(value: &Value) -> String {
    value.to_string().chars().take(500).collect()
}
