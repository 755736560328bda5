//! Work the webhook never waits for, on threads at the lowest priority
//! (`SCHED_IDLE`): they run only on CPU time nothing else wants, so a
//! woken review thread takes the core at once. Under a load that keeps
//! every core busy such work waits, and catches up when the load eases.

use std::sync::mpsc;

use tokio::sync::oneshot;

/// The niceness of such threads where `SCHED_IDLE` is refused (the
/// webhook's run at 0).
const NICENESS: i32 = 19;

/// A job for an [`IdleWorker`].
type Job = Box<dyn FnOnce() + Send>;

/// One thread at the lowest priority that runs what async code hands it,
/// one job at a time, and hands back the result.
#[derive(Debug)]
pub struct IdleWorker {
    jobs: mpsc::Sender<Job>,
}

impl IdleWorker {
    /// Starts the thread, named `name`; it ends once the worker is dropped
    /// and its current job is done.
    pub fn start(name: &str) -> std::io::Result<IdleWorker> {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                lower_priority();
                while let Ok(job) = queue.recv() {
                    job();
                }
            })?;
        Ok(IdleWorker { jobs })
    }

    /// Runs `job` on the thread and waits (without blocking the runtime)
    /// for its result; `None` if the thread is gone.
    pub async fn run<R: Send + 'static>(
        &self,
        job: impl FnOnce() -> R + Send + 'static,
    ) -> Option<R> {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            // The caller stopped waiting: nothing to hand back.
            let _ = done.send(job());
        });
        self.jobs.send(job).ok()?;
        result.await.ok()
    }
}

/// Lowers the calling thread's scheduling priority, so that the webhook's
/// threads get the cores first when both want them: `SCHED_IDLE`, else
/// the highest niceness.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
pub fn lower_priority() {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: gettid has no preconditions; sched_setscheduler and
    // setpriority with a thread id change only that thread's scheduling
    // (Linux), and read only `param`, which lives across the call.
    let lowered = unsafe {
        let thread = libc::gettid();
        libc::sched_setscheduler(thread, libc::SCHED_IDLE, &param) == 0
            || libc::setpriority(libc::PRIO_PROCESS, thread as libc::id_t, NICENESS) == 0
    };
    if !lowered {
        tracing::warn!(
            "a background thread keeps its priority: {}",
            std::io::Error::last_os_error()
        );
    }
}

/// Lowers the calling thread's scheduling priority (not on this platform).
#[cfg(not(target_os = "linux"))]
pub fn lower_priority() {}
