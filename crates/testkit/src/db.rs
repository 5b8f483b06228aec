//! Test databases: a fresh SQLite file or a fresh PostgreSQL database per test, and
//! [`both_backends!`](crate::both_backends) to run one test body on each.
//!
//! PostgreSQL is reached at `SWITCHBOARD_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`); each test creates its own database there and
//! drops it when done, so tests run in parallel without seeing each other's rows.

use switchboard_store::{Backend, Store};

pub struct TestDb {
    pub store: Store,
    /// The URL the test database is reachable at.
    pub url: String,
    cleanup: Option<Cleanup>,
}

enum Cleanup {
    File(std::path::PathBuf),
    Database { admin_url: String, name: String },
}

pub fn pg_admin_url() -> String {
    std::env::var("SWITCHBOARD_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        let unique = uuid::Uuid::now_v7().as_simple().to_string();
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("sb-test-{unique}.db"));
                let url = format!("sqlite://{}", path.display());
                let store = Store::connect(&url, 4).await.expect("open sqlite");
                store.migrate().await.expect("migrate sqlite");
                store.seed_defaults().await.expect("seed");
                TestDb { store, url, cleanup: Some(Cleanup::File(path)) }
            }
            Backend::Postgres => {
                let admin_url = pg_admin_url();
                let name = format!("sb_test_{unique}");
                let admin = Store::connect(&admin_url, 1)
                    .await
                    .expect("PostgreSQL for tests (set SWITCHBOARD_TEST_PG_URL)");
                admin
                    .execute_admin(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                admin.close().await;
                let url = replace_db(&admin_url, &name);
                let store = Store::connect(&url, 4).await.expect("open postgres");
                store.migrate().await.expect("migrate postgres");
                store.seed_defaults().await.expect("seed");
                TestDb { store, url, cleanup: Some(Cleanup::Database { admin_url, name }) }
            }
        }
    }

    pub async fn finish(mut self) {
        self.store.close().await;
        if let Some(cleanup) = self.cleanup.take() {
            cleanup.run().await;
        }
    }
}

impl Cleanup {
    async fn run(self) {
        match self {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Database { admin_url, name } => {
                if let Ok(admin) = Store::connect(&admin_url, 1).await {
                    let _ = admin
                        .execute_admin(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                    admin.close().await;
                }
            }
        }
    }
}

/// A test that panicked never reaches `finish`: clean up here instead, on a thread of its own
/// (the test's runtime may be unwinding).
impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(cleanup) = self.cleanup.take() {
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    rt.block_on(cleanup.run());
                }
            })
            .join();
        }
    }
}

pub fn replace_db(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let base = match base.rfind('/') {
        Some(i) if i > "postgres://".len() => &base[..i],
        _ => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Runs the same async test body against SQLite and PostgreSQL.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, |$db:ident| $body:block) => {
        mod $name {
            use super::*;
            async fn run($db: &$crate::db::TestDb) $body

            #[tokio::test]
            async fn sqlite() {
                let db = $crate::db::TestDb::new(switchboard_store::Backend::Sqlite).await;
                run(&db).await;
                db.finish().await;
            }

            #[tokio::test]
            async fn postgres() {
                let db = $crate::db::TestDb::new(switchboard_store::Backend::Postgres).await;
                run(&db).await;
                db.finish().await;
            }
        }
    };
}
