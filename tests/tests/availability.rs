//! While PostgreSQL is unreachable the API answers 503, and it recovers by itself when the
//! database comes back. A TCP proxy between the server and PostgreSQL plays the outage.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use referee_http::{AppState, HttpSettings, RouterLimits};
use referee_store::users::{self, NewUser};
use referee_store::{DatabaseUrl, PoolOptions, build_pool, run_migrations};
use referee_testing::TestDatabase;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

/// Forwards loopback connections to PostgreSQL until it is switched off.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();

        let (accept_up, accept_links) = (up.clone(), links.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                if !accept_up.load(Ordering::SeqCst) {
                    continue;
                }
                let upstream = upstream.clone();
                let link = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                accept_links.lock().await.push(link);
            }
        });
        Self { port, up, links }
    }

    /// Refuses new connections and cuts the open ones.
    async fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        for link in self.links.lock().await.drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

async fn status(client: &reqwest::Client, url: &str, token: &str) -> u16 {
    client
        .get(url)
        .header("Authorization", format!("Token {token}"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_answers_503_then_recovers() {
    let Some(database) = TestDatabase::postgres() else {
        return;
    };
    let parsed = url::Url::parse(database.url()).unwrap();
    let upstream = format!(
        "{}:{}",
        parsed.host_str().unwrap(),
        parsed.port().unwrap_or(5432)
    );

    let token = {
        let url = DatabaseUrl::parse(database.url()).unwrap();
        tokio::task::spawn_blocking(move || {
            let mut connection = url.establish().unwrap();
            run_migrations(&mut connection).unwrap();
            let user = users::create_user(
                &mut connection,
                &NewUser {
                    username: "staff".into(),
                    is_staff: true,
                    ..NewUser::default()
                },
            )
            .unwrap();
            users::issue_token(&mut connection, user.uuid).unwrap()
        })
        .await
        .unwrap()
    };

    let proxy = Proxy::start(upstream).await;
    let mut proxied = parsed.clone();
    proxied.set_port(Some(proxy.port)).unwrap();
    let pool = build_pool(
        &DatabaseUrl::parse(proxied.as_str()).unwrap(),
        &PoolOptions {
            max_size: 4,
            connection_timeout: Duration::from_secs(1),
        },
    );
    let router = referee_http::router(
        AppState::new(pool, HttpSettings::default()),
        &RouterLimits::default(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let client = reqwest::Client::new();
    let me = format!("{base}/api/users/me/");

    assert_eq!(status(&client, &me, &token).await, 200);

    proxy.down().await;
    assert_eq!(status(&client, &me, &token).await, 503);
    assert_eq!(
        client
            .get(format!("{base}/health/ready"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        503
    );
    assert_eq!(
        client
            .get(format!("{base}/health/live"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    let body: serde_json::Value = client
        .get(&me)
        .header("Authorization", format!("Token {token}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(body["detail"].as_str().unwrap().contains("unavailable"));

    proxy.restore();
    assert_eq!(status(&client, &me, &token).await, 200);
    assert_eq!(
        client
            .get(format!("{base}/health/ready"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );

    server.abort();
}
