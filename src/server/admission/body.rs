//! Reading a request body within its limits: the size of one body, the
//! time it may take to arrive, and a budget for the bytes of every body the
//! server holds at once (being received or being reviewed), so that many
//! slow or large uploads are refused rather than grow the process.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use http_body_util::BodyExt as _;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::engine::byte_size;

/// The bytes of request bodies the server may hold at once.
#[derive(Debug, Clone)]
pub struct BodyBudget {
    bytes: Arc<Semaphore>,
    total: usize,
}

/// Part of the [`BodyBudget`] held by one request; given back when dropped
/// (keep it until the request is answered).
#[derive(Debug)]
pub struct BodyPermit {
    _held: OwnedSemaphorePermit,
}

/// Why a body was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// Larger than one body may be (HTTP 413).
    #[error(
        "the request body is larger than the limit of {limit} bytes ({}) for an AdmissionReview",
        byte_size(*.limit as u64)
    )]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The budget of all bodies is taken (HTTP 503).
    #[error(
        "Counsel is already holding {} of request bodies, its limit for all requests being received or reviewed at once; retry later (the API server applies the webhook's failurePolicy)",
        byte_size(*.budget as u64)
    )]
    OverBudget {
        /// The budget, in bytes.
        budget: usize,
    },
    /// Did not arrive in time (HTTP 408).
    #[error("the request body did not arrive within {} s", .after.as_secs())]
    TimedOut {
        /// The time allowed.
        after: Duration,
    },
    /// The connection failed while it was read (HTTP 400).
    #[error("cannot read the request body: {0}")]
    Read(String),
}

impl BodyBudget {
    /// A budget of `total` bytes (at most `u32::MAX` are usable).
    pub fn new(total: usize) -> Self {
        BodyBudget {
            bytes: Arc::new(Semaphore::new(total.min(Semaphore::MAX_PERMITS))),
            total,
        }
    }

    /// Bytes of the budget not held by any request now.
    pub fn available(&self) -> usize {
        self.bytes.available_permits()
    }

    /// Takes `bytes` more of the budget, without waiting: a request that
    /// waited while holding part of it could wait for ever on others that
    /// wait too.
    fn take(&self, bytes: usize) -> Result<OwnedSemaphorePermit, BodyError> {
        let over = BodyError::OverBudget { budget: self.total };
        let bytes = u32::try_from(bytes).map_err(|_| over.clone())?;
        self.bytes
            .clone()
            .try_acquire_many_owned(bytes)
            .map_err(|_| over)
    }
}

/// Reads `body` whole: at most `max_bytes`, within `timeout`, holding its
/// size (or the `declared` Content-Length, taken up front) of `budget`.
pub async fn read_body(
    body: Body,
    declared: Option<u64>,
    max_bytes: usize,
    timeout: Duration,
    budget: &BodyBudget,
) -> Result<(Vec<u8>, BodyPermit), BodyError> {
    let too_large = BodyError::TooLarge { limit: max_bytes };
    let declared = match declared.map(usize::try_from) {
        Some(Ok(length)) if length <= max_bytes => length,
        Some(_) => return Err(too_large),
        None => 0,
    };
    let mut held = budget.take(declared)?;
    let mut buffer = Vec::with_capacity(declared);
    let read = async {
        let mut body = body;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|error| BodyError::Read(error.to_string()))?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            let size = buffer.len() + data.len();
            if size > max_bytes {
                return Err(too_large.clone());
            }
            if size > held.num_permits() {
                held.merge(budget.take(size - held.num_permits())?);
            }
            buffer.extend_from_slice(&data);
        }
        Ok(())
    };
    match tokio::time::timeout(timeout, read).await {
        Ok(Ok(())) => Ok((buffer, BodyPermit { _held: held })),
        Ok(Err(error)) => Err(error),
        Err(_) => Err(BodyError::TimedOut { after: timeout }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body that arrives in these chunks.
    fn body(chunks: &[&'static [u8]]) -> Body {
        Body::new(Chunks(chunks.iter().rev().copied().collect()))
    }

    struct Chunks(Vec<&'static [u8]>);

    impl hyper::body::Body for Chunks {
        type Data = axum::body::Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
            let next = self.0.pop().map(axum::body::Bytes::from_static);
            std::task::Poll::Ready(next.map(|data| Ok(hyper::body::Frame::data(data))))
        }
    }

    #[tokio::test]
    async fn bodies_hold_the_budget_until_answered() {
        let budget = BodyBudget::new(10);
        let second = Duration::from_secs(5);
        let (first, permit) = read_body(body(&[b"abc", b"def"]), None, 8, second, &budget)
            .await
            .expect("fits");
        assert_eq!(first, b"abcdef");
        assert_eq!(budget.available(), 4);
        // Past the budget: refused, and what it had taken is given back.
        assert_eq!(
            read_body(body(&[b"abc", b"de"]), None, 8, second, &budget)
                .await
                .map(|r| r.0),
            Err(BodyError::OverBudget { budget: 10 })
        );
        assert_eq!(budget.available(), 4);
        // A declared length is taken up front.
        assert_eq!(
            read_body(body(&[b"a"]), Some(5), 8, second, &budget)
                .await
                .map(|r| r.0),
            Err(BodyError::OverBudget { budget: 10 })
        );
        drop(permit);
        assert_eq!(budget.available(), 10);
        assert_eq!(
            read_body(body(&[b"abcdef", b"xyz"]), None, 8, second, &budget)
                .await
                .map(|r| r.0),
            Err(BodyError::TooLarge { limit: 8 })
        );
        assert_eq!(
            read_body(body(&[]), Some(9), 8, second, &budget)
                .await
                .map(|r| r.0),
            Err(BodyError::TooLarge { limit: 8 })
        );
        assert_eq!(budget.available(), 10);
        assert_eq!(
            BodyError::OverBudget { budget: 64 << 20 }.to_string(),
            "Counsel is already holding 64 MiB of request bodies, its limit for all requests being received or reviewed at once; retry later (the API server applies the webhook's failurePolicy)"
        );
    }
}
