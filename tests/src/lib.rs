//! Test harness of the conformance suite: the real router served on a loopback port against
//! a fresh database, a real HTTP client, users with tokens, and fixture builders.
//!
//! Each test body is an `async fn(TestApp)`; [`on_both_backends!`] runs it once on SQLite
//! (always) and once on PostgreSQL (when `TEST_DATABASE_URL` names a migrated template, as
//! `cargo xtask conformance` arranges).

use std::time::Duration;

use referee_http::{AppState, HttpSettings, RouterLimits};
use referee_store::users::{self, NewUser};
use referee_store::{DatabaseUrl, PoolOptions, build_pool, run_migrations};
use referee_testing::{Backend, TestDatabase};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::task::JoinHandle;

pub mod contract;
pub mod fixtures;
pub mod seed;

pub use fixtures::{CallSetup, ItemSetup, PoolMember};

pub use referee_testing::Backend as DatabaseBackend;

/// Defines, for each named `async fn(TestApp)`, a module with a `sqlite` and a `postgres` test.
#[macro_export]
macro_rules! on_both_backends {
    ($($test:ident),+ $(,)?) => {
        $(
            mod $test {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let app = $crate::TestApp::start($crate::DatabaseBackend::Sqlite)
                        .await
                        .expect("SQLite is always available");
                    super::$test(app).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(app) = $crate::TestApp::start($crate::DatabaseBackend::Postgres).await {
                        super::$test(app).await;
                    }
                }
            }
        )+
    };
}

/// A user of the running server with its token.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub uuid: String,
    pub username: String,
    /// Empty for the anonymous caller, which sends no credentials.
    pub token: String,
}

impl TestUser {
    /// A caller that sends no credentials.
    pub fn anonymous() -> Self {
        Self {
            uuid: String::new(),
            username: String::new(),
            token: String::new(),
        }
    }
}

/// A response: status, headers and the body parsed as JSON (`Null` when empty).
#[derive(Debug, Clone)]
pub struct Reply {
    pub method: Method,
    pub path: String,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// Panics unless the status is `expected`, showing the request and the body.
    #[track_caller]
    pub fn expect(self, expected: u16) -> Self {
        assert_eq!(
            self.status.as_u16(),
            expected,
            "{} {} returned {} with body {}",
            self.method,
            self.path,
            self.status,
            self.body
        );
        self
    }

    /// The `X-Result-Count` header as a number.
    #[track_caller]
    pub fn count(&self) -> i64 {
        self.headers
            .get("x-result-count")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| {
                panic!(
                    "{} {} has no integer X-Result-Count",
                    self.method, self.path
                )
            })
    }

    /// A header as text, or an empty string.
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    /// The body as an array (panics otherwise).
    #[track_caller]
    pub fn array(&self) -> &Vec<Value> {
        self.body.as_array().unwrap_or_else(|| {
            panic!(
                "{} {} did not return an array: {}",
                self.method, self.path, self.body
            )
        })
    }

    /// A string key of the body (panics when missing or not a string).
    #[track_caller]
    pub fn str(&self, key: &str) -> String {
        self.body[key]
            .as_str()
            .unwrap_or_else(|| {
                panic!(
                    "{} {}: key {key:?} is not a string in {}",
                    self.method, self.path, self.body
                )
            })
            .to_owned()
    }
}

/// The server under test.
pub struct TestApp {
    pub backend: Backend,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub staff: TestUser,
    pub state: AppState,
    client: reqwest::Client,
    server: JoinHandle<()>,
    _database: TestDatabase,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TestApp {
    /// Starts the server on a fresh database of `backend`; `None` when PostgreSQL is not
    /// configured (the database factory says why).
    pub async fn start(backend: Backend) -> Option<Self> {
        let database = TestDatabase::for_backend(backend)?;
        let url = DatabaseUrl::parse(database.url()).expect("test database URL");

        let (staff_uuid, staff_token) = tokio::task::spawn_blocking({
            let url = url.clone();
            move || {
                let mut connection = url.establish().expect("connecting to the test database");
                run_migrations(&mut connection).expect("migrating the test database");
                let staff = users::create_user(
                    &mut connection,
                    &NewUser {
                        username: "staff".into(),
                        email: "staff@example.org".into(),
                        full_name: "Staff User".into(),
                        is_staff: true,
                        is_support: false,
                    },
                )
                .expect("creating the staff user");
                let token =
                    users::issue_token(&mut connection, staff.uuid).expect("issuing a token");
                (staff.uuid, token)
            }
        })
        .await
        .expect("preparing the test database");

        let pool = build_pool(
            &url,
            &PoolOptions {
                max_size: 8,
                connection_timeout: Duration::from_secs(10),
            },
        );
        let state = AppState::new(pool, HttpSettings::default());
        let router = referee_http::router(state.clone(), &RouterLimits::default());

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding a loopback port");
        let address = listener.local_addr().expect("local address");
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("serving");
        });

        Some(Self {
            backend,
            base: format!("http://{address}"),
            staff: TestUser {
                uuid: staff_uuid.simple().to_string(),
                username: "staff".into(),
                token: staff_token,
            },
            state,
            client: reqwest::Client::new(),
            server,
            _database: database,
        })
    }

    /// Sends a request as `user` and parses the reply.
    pub async fn request(
        &self,
        user: &TestUser,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Reply {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{}", self.base, path)
        };
        let mut request = self.client.request(method.clone(), &url);
        if !user.token.is_empty() {
            request = request.header("Authorization", format!("Token {}", user.token));
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|error| panic!("{method} {path} failed: {error}"));
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("reading the body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        let reply = Reply {
            method,
            path: path.to_owned(),
            status,
            headers,
            body,
        };
        contract::check(&reply);
        reply
    }

    pub async fn get(&self, user: &TestUser, path: &str) -> Reply {
        self.request(user, Method::GET, path, None).await
    }

    pub async fn head(&self, user: &TestUser, path: &str) -> Reply {
        self.request(user, Method::HEAD, path, None).await
    }

    pub async fn post(&self, user: &TestUser, path: &str, body: Value) -> Reply {
        self.request(user, Method::POST, path, Some(&body)).await
    }

    pub async fn put(&self, user: &TestUser, path: &str, body: Value) -> Reply {
        self.request(user, Method::PUT, path, Some(&body)).await
    }

    pub async fn patch(&self, user: &TestUser, path: &str, body: Value) -> Reply {
        self.request(user, Method::PATCH, path, Some(&body)).await
    }

    pub async fn delete(&self, user: &TestUser, path: &str) -> Reply {
        self.request(user, Method::DELETE, path, None).await
    }

    /// Sends a GET with a raw `Authorization` header value.
    pub async fn client_request_with_header(&self, path: &str, authorization: &str) -> Reply {
        let response = self
            .client
            .get(format!("{}{}", self.base, path))
            .header("Authorization", authorization)
            .send()
            .await
            .expect("request");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.json::<Value>().await.unwrap_or(Value::Null);
        let reply = Reply {
            method: Method::GET,
            path: path.to_owned(),
            status,
            headers,
            body,
        };
        contract::check(&reply);
        reply
    }

    /// Creates a user through the API (as staff) and issues it a token.
    pub async fn user(&self, username: &str) -> TestUser {
        self.user_with(username, serde_json::json!({})).await
    }

    /// Creates a user with extra fields (`is_staff`, `is_support`, `email`, `full_name`).
    pub async fn user_with(&self, username: &str, extra: Value) -> TestUser {
        let mut body = serde_json::json!({
            "username": username,
            "email": format!("{username}@example.org"),
            "full_name": format!("{username} Example"),
        });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            for (key, value) in extra {
                body.insert(key.clone(), value.clone());
            }
        }
        let created = self
            .post(&self.staff, "/api/users/", body)
            .await
            .expect(201);
        let uuid = created.str("uuid");
        let token = self
            .post(
                &self.staff,
                &format!("/api/users/{uuid}/token/"),
                serde_json::json!({}),
            )
            .await
            .expect(201);
        TestUser {
            uuid,
            username: username.to_owned(),
            token: token.str("token"),
        }
    }
}
