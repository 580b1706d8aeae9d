//! Admission control: at most `max_in_flight` requests are handled at once; the others wait in a
//! bounded queue, and a request that would wait past the budget is shed with `503`, `Retry-After`
//! and an OperationOutcome without taking a place in the queue. The wait is predicted from the
//! number of requests ahead and the mean time a request holds its place; a request admitted to the
//! queue still never waits past the budget. A shed request is answered after half the budget, not
//! at once: a client that ignores `Retry-After` and asks again immediately would otherwise turn
//! shedding into a loop that spends the server's CPU on refusals (measured in `BENCHMARKS.md`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::AdmissionLimits;
use crate::error::AppError;

/// The shared admission state.
pub struct Admission {
    limits: AdmissionLimits,
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    /// Places handed out since start.
    admitted: AtomicU64,
    /// Mean time a place is held, in microseconds (exponentially weighted, 1/8 per sample).
    mean_hold_us: AtomicU64,
    shed: AtomicU64,
    shed_logged: AtomicU64,
    started: Instant,
    last_log_s: AtomicU64,
}

/// A place among the requests in flight; given back when dropped.
pub struct Place {
    _permit: OwnedSemaphorePermit,
    admission: Arc<Admission>,
    since: Instant,
}

impl Drop for Place {
    fn drop(&mut self) {
        let sample = u64::try_from(self.since.elapsed().as_micros()).unwrap_or(u64::MAX);
        let old = self.admission.mean_hold_us.load(Ordering::Relaxed);
        let new = if old == 0 { sample } else { old - old / 8 + sample / 8 };
        self.admission.mean_hold_us.store(new, Ordering::Relaxed);
    }
}

/// Decrements the queue length however the wait ends (including the request being dropped).
struct InQueue<'a>(&'a AtomicUsize);

impl Drop for InQueue<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Admission {
    /// Admission with these limits.
    pub fn new(limits: AdmissionLimits) -> Arc<Self> {
        let limits = AdmissionLimits { max_in_flight: limits.max_in_flight.max(1), ..limits };
        Arc::new(Self {
            limits,
            permits: Arc::new(Semaphore::new(limits.max_in_flight)),
            waiting: AtomicUsize::new(0),
            admitted: AtomicU64::new(0),
            mean_hold_us: AtomicU64::new(0),
            shed: AtomicU64::new(0),
            shed_logged: AtomicU64::new(0),
            started: Instant::now(),
            last_log_s: AtomicU64::new(0),
        })
    }

    /// Requests shed since start.
    pub fn shed_count(&self) -> u64 {
        self.shed.load(Ordering::Relaxed)
    }

    /// Waits for a place, or says to shed the request.
    pub async fn enter(self: &Arc<Self>) -> Result<Place, AppError> {
        let place = |permit| {
            self.admitted.fetch_add(1, Ordering::Relaxed);
            Place { _permit: permit, admission: self.clone(), since: Instant::now() }
        };
        if let Ok(p) = self.permits.clone().try_acquire_owned() {
            return Ok(place(p));
        }
        let ahead = self.waiting.fetch_add(1, Ordering::Relaxed);
        let _queued = InQueue(&self.waiting);
        if ahead >= self.limits.max_queue || self.predicted_wait(ahead + 1) > self.limits.max_wait {
            drop(_queued);
            tokio::time::sleep(self.limits.max_wait / 2).await;
            return Err(self.shed_one());
        }
        match tokio::time::timeout(self.limits.max_wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(p)) => Ok(place(p)),
            _ => Err(self.shed_one()),
        }
    }

    /// For the metrics: requests shed since the start, requests in flight now, requests waiting now.
    pub fn counts(&self) -> (u64, usize, usize) {
        let in_flight = self.limits.max_in_flight.saturating_sub(self.permits.available_permits());
        (self.shed.load(Ordering::Relaxed), in_flight, self.waiting.load(Ordering::Relaxed))
    }

    /// Places handed out since the start, requests in flight now, requests waiting now.
    pub fn activity(&self) -> (u64, usize, usize) {
        let (_, in_flight, waiting) = self.counts();
        (self.admitted.load(Ordering::Relaxed), in_flight, waiting)
    }

    /// Expected wait of the `position`-th request in the queue.
    fn predicted_wait(&self, position: usize) -> Duration {
        let mean = self.mean_hold_us.load(Ordering::Relaxed);
        let slots = u64::try_from(self.limits.max_in_flight).unwrap_or(1);
        let position = u64::try_from(position).unwrap_or(u64::MAX);
        Duration::from_micros(position.saturating_mul(mean) / slots)
    }

    fn shed_one(&self) -> AppError {
        let total = self.shed.fetch_add(1, Ordering::Relaxed) + 1;
        let now_s = self.started.elapsed().as_secs() + 1;
        let last = self.last_log_s.load(Ordering::Relaxed);
        if now_s > last && self.last_log_s.compare_exchange(last, now_s, Ordering::Relaxed, Ordering::Relaxed).is_ok() {
            let before = self.shed_logged.swap(total, Ordering::Relaxed);
            log::warn!(
                "overloaded: shed {} requests with 503 since the last report ({} in flight at most, {} waiting at most, {} ms wait at most)",
                total.saturating_sub(before),
                self.limits.max_in_flight,
                self.limits.max_queue,
                self.limits.max_wait.as_millis()
            );
        }
        AppError::Overloaded
    }
}

/// Paths answered without a place: they touch no database and cost next to nothing.
fn exempt(path: &str) -> bool {
    matches!(path, "/health" | "/fhir/metadata")
}

/// Middleware: admits the request or sheds it.
pub async fn admit(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let admission = req.app_data::<web::Data<Arc<Admission>>>().map(|a| a.get_ref().clone());
    let place = match admission {
        Some(a) if !exempt(req.path()) => Some(a.enter().await?),
        _ => None,
    };
    let res = next.call(req).await;
    drop(place);
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_in_flight: usize, max_queue: usize, ms: u64) -> AdmissionLimits {
        AdmissionLimits { max_in_flight, max_queue, max_wait: Duration::from_millis(ms) }
    }

    #[actix_web::test]
    async fn places_are_bounded_and_the_queue_too() {
        let a = Admission::new(limits(2, 1, 200));
        let p1 = a.enter().await.unwrap();
        let _p2 = a.enter().await.unwrap();
        // A third waits (the queue has room), and gets the place given back.
        let a2 = a.clone();
        let waiter = actix_web::rt::spawn(async move { a2.enter().await.map(|_| ()) });
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        // A fourth finds the queue full: shed, after half the budget.
        assert!(matches!(a.enter().await, Err(AppError::Overloaded)));
        drop(p1);
        assert!(waiter.await.unwrap().is_ok());
        assert_eq!(a.shed_count(), 1);
    }

    #[actix_web::test]
    async fn a_wait_past_the_budget_is_shed() {
        let a = Admission::new(limits(1, 10, 30));
        let _p = a.enter().await.unwrap();
        let t = Instant::now();
        assert!(matches!(a.enter().await, Err(AppError::Overloaded)));
        assert!(t.elapsed() >= Duration::from_millis(30));
        assert_eq!(a.waiting.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn the_wait_is_predicted_from_the_mean_hold() {
        let a = Admission::new(limits(4, 100, 500));
        a.mean_hold_us.store(100_000, Ordering::Relaxed);
        assert_eq!(a.predicted_wait(8), Duration::from_millis(200));
        assert_eq!(a.predicted_wait(40), Duration::from_millis(1000));
    }
}
