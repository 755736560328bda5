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

#[tokio::test]
async fn work_given_up_while_queued_leaves_the_queue_and_never_runs() {
    let pool = std::sync::Arc::new(ReviewPool::new(1, 2));
    // The one slot is held until the test lets go.
    let (release, hold) = std::sync::mpsc::channel::<()>();
    let (started, holding) = tokio::sync::oneshot::channel::<()>();
    let holder = {
        let pool = pool.clone();
        tokio::spawn(async move {
            pool.run(in_ms(30_000), move || {
                let _ = started.send(());
                let _ = hold.recv();
            })
            .await
        })
    };
    holding.await.expect("the holder runs");
    let ran = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut given_up = Vec::new();
    for _ in 0..2 {
        let pool = pool.clone();
        let ran = ran.clone();
        given_up.push(tokio::spawn(async move {
            pool.run(in_ms(30_000), move || {
                ran.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            })
            .await
        }));
    }
    while pool.shared.lock().jobs.len() < 2 {
        tokio::task::yield_now().await;
    }
    // The queue (of two) is full.
    assert_eq!(
        pool.run(in_ms(30_000), || ()).await,
        Err(PoolError::Overloaded)
    );
    // Their callers give up (as a reset HTTP/2 stream drops its handler).
    for task in &given_up {
        task.abort();
    }
    for task in given_up {
        let outcome = task.await;
        assert!(
            outcome.as_ref().is_err_and(|e| e.is_cancelled()),
            "{outcome:?}"
        );
    }
    assert_eq!(pool.shared.lock().jobs.len(), 0);
    // Their places are free for others at once.
    let waiting: Vec<_> = (0..2)
        .map(|i| {
            let pool = pool.clone();
            tokio::spawn(async move { pool.run(in_ms(30_000), move || i).await })
        })
        .collect();
    while pool.shared.lock().jobs.len() < 2 {
        tokio::task::yield_now().await;
    }
    release.send(()).expect("the holder waits");
    assert_eq!(holder.await.expect("joins"), Ok(()));
    for (i, task) in waiting.into_iter().enumerate() {
        assert_eq!(task.await.expect("joins"), Ok(i));
    }
    assert_eq!(ran.load(std::sync::atomic::Ordering::SeqCst), 0);
}
