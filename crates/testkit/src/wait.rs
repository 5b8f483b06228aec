//! Waiting for a state instead of sleeping for it.

use std::future::Future;
use std::time::{Duration, Instant};

/// How often [`eventually`] looks again.
const POLL: Duration = Duration::from_millis(50);

/// Polls `check` until it returns `Some`, and returns that; panics naming `what` when
/// `timeout` passes first. The check runs at once, then every 50 ms.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    match within(timeout, check).await {
        Some(value) => value,
        None => panic!("{what}: not within {timeout:?}"),
    }
}

/// Like [`eventually`] for a condition: true or a panic naming `what`.
pub async fn until<F, Fut>(timeout: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    eventually(timeout, what, || {
        let fut = check();
        async move { fut.await.then_some(()) }
    })
    .await;
}

/// Polls `check` until it returns `Some` or `timeout` passes; `None` then (for callers that
/// report the failure themselves).
pub async fn within<T, F, Fut>(timeout: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn returns_the_first_value() {
        let mut n = 0;
        let v = eventually(Duration::from_secs(5), "a count of three", || {
            n += 1;
            let now = n;
            async move { (now == 3).then_some(now) }
        })
        .await;
        assert_eq!(v, 3);
    }

    #[tokio::test]
    async fn within_gives_up() {
        let v: Option<()> = within(Duration::from_millis(120), || async { None }).await;
        assert!(v.is_none());
    }

    #[tokio::test]
    #[should_panic(expected = "never: not within")]
    async fn eventually_names_what_it_waited_for() {
        eventually::<(), _, _>(Duration::from_millis(60), "never", || async { None }).await;
    }
}
