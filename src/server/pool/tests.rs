use std::time::Duration;

use tokio::time::Instant;

use super::{PoolError, ReviewPool};

fn in_ms(ms: u64) -> Instant {
    Instant::now() + Duration::from_millis(ms)
}

#[tokio::test]
async fn work_runs_on_a_pool_thread_and_its_result_comes_back() {
    let pool = ReviewPool::new(2, 8);
    let name = pool
        .run(in_ms(5_000), || {
            std::thread::current().name().map(str::to_owned)
        })
        .await;
    assert!(matches!(name, Ok(Some(n)) if n.starts_with("counsel-review-")));
}

#[tokio::test]
async fn a_panic_is_reported_and_the_thread_goes_on() {
    let pool = ReviewPool::new(1, 8);
    let crashed = pool.run(in_ms(5_000), || -> u8 { panic!("a bug") }).await;
    assert_eq!(crashed, Err(PoolError::Panicked));
    assert_eq!(pool.run(in_ms(5_000), || 7).await, Ok(7));
}

#[tokio::test]
async fn waiting_work_that_cannot_start_in_time_is_overloaded_and_never_runs() {
    let pool = std::sync::Arc::new(ReviewPool::new(1, 8));
    let busy = {
        let pool = pool.clone();
        tokio::spawn(async move {
            pool.run(in_ms(5_000), || {
                std::thread::sleep(Duration::from_millis(300))
            })
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let ran = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let started = std::time::Instant::now();
    let late = {
        let ran = ran.clone();
        pool.run(in_ms(100), move || {
            ran.store(true, std::sync::atomic::Ordering::SeqCst)
        })
        .await
    };
    assert_eq!(late, Err(PoolError::Overloaded));
    // Answered when it could no longer start in time, not when the thread
    // came free.
    assert!(started.elapsed() < Duration::from_millis(200));
    assert_eq!(busy.await.expect("joins"), Ok(()));
    // The thread came free and skipped it.
    assert_eq!(pool.run(in_ms(5_000), || 1).await, Ok(1));
    assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
}

#[tokio::test]
async fn work_that_runs_past_its_deadline_times_out() {
    let pool = ReviewPool::new(1, 8);
    let slow = pool
        .run(in_ms(100), || {
            std::thread::sleep(Duration::from_millis(300))
        })
        .await;
    assert_eq!(slow, Err(PoolError::Timeout));
}

#[tokio::test]
async fn a_full_queue_is_overloaded_at_once() {
    let pool = std::sync::Arc::new(ReviewPool::new(1, 1));
    let mut waiting = Vec::new();
    for _ in 0..2 {
        let pool = pool.clone();
        waiting.push(tokio::spawn(async move {
            pool.run(in_ms(5_000), || {
                std::thread::sleep(Duration::from_millis(400))
            })
            .await
        }));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // One runs, one waits: the queue (of one) is full.
    assert_eq!(
        pool.run(in_ms(5_000), || ()).await,
        Err(PoolError::Overloaded)
    );
    for task in waiting {
        assert_eq!(task.await.expect("joins"), Ok(()));
    }
}
