//! Spawning the real application on port 0 over a fresh database, and an HTTP client for it.

use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use switchboard_server::settings::{Secret, Settings};
use switchboard_server::startup::Application;
use switchboard_store::Backend;
use tokio::sync::oneshot;

use crate::common::TestDb;

pub(crate) const ADMIN_PASSWORD: &str = "admin-password-1";

pub(crate) struct TestApp {
    pub(crate) base: String,
    db: Option<TestDb>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    data_dir: std::path::PathBuf,
}

impl TestApp {
    pub(crate) async fn spawn(backend: Backend) -> TestApp {
        TestApp::spawn_with(backend, |_| {}).await
    }

    /// [`TestApp::spawn`] with settings changed by `tweak`.
    pub(crate) async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> TestApp {
        let db = TestDb::new(backend).await;
        let data_dir =
            std::env::temp_dir().join(format!("sb-app-{}", uuid::Uuid::now_v7().as_simple()));
        let mut settings = Settings::load(None).expect("settings");
        settings.http.listen = "127.0.0.1:0".parse().expect("addr");
        settings.sip.listen = "127.0.0.1:0".into();
        settings.http.body_limit_bytes = 64 * 1024;
        settings.database.url = Secret::new(db.url.clone());
        settings.auth.initial_admin_password = Secret::new(ADMIN_PASSWORD);
        settings.data_dir = data_dir.clone();
        settings.recordings.root = data_dir.join("recordings");
        tweak(&mut settings);
        let app = Application::build(&settings).await.expect("build app");
        let base = format!("http://{}", app.local_addr().expect("addr"));
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        TestApp { base, db: Some(db), stop: Some(stop), server: Some(server), data_dir }
    }

    pub(crate) async fn finish(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        if let Some(db) = self.db.take() {
            db.finish().await;
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }

    pub(crate) fn client(&self) -> Client {
        Client::builder().cookie_store(true).build().expect("client")
    }

    /// The test's own handle on the app's database (for seeding).
    pub(crate) fn store(&self) -> &switchboard_store::Store {
        &self.db.as_ref().expect("database").store
    }

    /// The app's recordings root.
    pub(crate) fn recordings(&self) -> std::path::PathBuf {
        self.data_dir.join("recordings")
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A client logged in as `login`.
    pub(crate) async fn login(&self, login: &str, password: &str) -> Client {
        let client = self.client();
        let res = client
            .post(self.url("/api/auth/login"))
            .json(&json!({"login": login, "password": password}))
            .send()
            .await
            .expect("login");
        assert_eq!(res.status(), StatusCode::OK, "login as {login}");
        client
    }

    pub(crate) async fn admin(&self) -> Client {
        self.login("admin", ADMIN_PASSWORD).await
    }

    /// Creates a user with `role` and returns a client logged in as them, and their id.
    pub(crate) async fn user(&self, admin: &Client, login: &str, role: &str) -> (Client, String) {
        let res = admin
            .post(self.url("/api/users"))
            .json(&json!({"login": login, "name": login, "role": role, "password": "password-123"}))
            .send()
            .await
            .expect("create user");
        assert_eq!(res.status(), StatusCode::CREATED);
        let id = body(res).await["user"]["id"].as_str().expect("id").to_owned();
        (self.login(login, "password-123").await, id)
    }
}

pub(crate) async fn body(res: Response) -> Value {
    let status = res.status();
    let text = res.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"))
}

/// Sends and returns (status, JSON body or null).
pub(crate) async fn send(req: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let res = req.send().await.expect("request");
    let status = res.status();
    let text = res.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Runs a test body against a fresh app on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! app_test {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($app: &$crate::helpers::TestApp) $body

            #[tokio::test]
            async fn sqlite() {
                let app = $crate::helpers::TestApp::spawn(switchboard_store::Backend::Sqlite).await;
                run(&app).await;
                app.finish().await;
            }

            #[tokio::test]
            async fn postgres() {
                let app = $crate::helpers::TestApp::spawn(switchboard_store::Backend::Postgres).await;
                run(&app).await;
                app.finish().await;
            }
        }
    };
}
