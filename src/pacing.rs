//! Pacing: requests held back before they are sent, so that the API's rate
//! limit is learned rather than hit again and again.
//!
//! Rhombus limits each organization with a token bucket whose size it does
//! not publish; a `429` with `Retry-After` is all a client learns. A
//! [`Pacer`] keeps a token bucket per organization the client acts in (the
//! `x-auth-org` of a [`Client::for_org`](crate::Client::for_org) handle,
//! and one for the partner's own, key-level calls), all on one rate and
//! burst learned for the whole fleet, since the server's limit is the same
//! for every organization: a bucket made for an organization the client has
//! never called starts at what the others taught. The rules:
//!
//! - Until the first `429`, nothing is paced and no bucket exists.
//! - The first `429` sets the rate to one request per `Retry-After` (the
//!   server promised a token by then, so its rate is at least that) and
//!   the burst to one request.
//! - A few organizations starting afresh ([`PROBES`] at once, never the
//!   partner's own calls) probe what the others do not risk: first one
//!   request more at once, until a burst fails; then, the burst known, a
//!   faster rate: twice the rate until a probe fails, then halfway to the
//!   rate that failed (the ceiling), until within [`PRECISION`] of it. A
//!   burst probe succeeds when its whole burst does; a rate probe when
//!   [`PROOFS`] requests sent alone into its emptied bucket do, and shows
//!   the rate over the tokens the bucket held ([`Sent::ready`]). A probe
//!   not settled in time is given up ([`PROBE_EXPIRES`]); a burst probe
//!   given up counts as refused, so that the rate is probed instead.
//! - The fleet's buckets refill at the rate proven less [`MARGIN`], for the
//!   jitter between sending and the server's clock.
//! - A `429` of a request in a burst (sent with others, or first into a
//!   bucket holding more than one) makes that burst the burst ceiling
//!   (probed again after [`BURST_CEILING_KEPT`]) and the burst at most one
//!   less. A `429` of a rate probe's lone request makes its rate the
//!   ceiling. A `429` of any other paced request halves the rate (but not
//!   below one request per its `Retry-After`) and makes the rate it was
//!   sent at the ceiling, unless it was sent before the last decrease
//!   (which answered it already), or within the first `429`'s
//!   `Retry-After` (requests sent unpaced may have emptied its
//!   organization's bucket); the ceiling creeps up by
//!   [`CEILING_CREEP_PER_SECOND`] per second of successes, so a limit the
//!   server raised is found again.
//! - Every `429` empties its organization's bucket until its `Retry-After`
//!   has passed: nothing is sent there before, and one request at its end
//!   (the wait stands for the spacing from the requests sent before).
//! - A request gets its turn from the bucket (the burst at once, then one
//!   token's time apart), waits for it without a request slot, then takes
//!   a slot; it goes out only if its bucket of requests let out holds a
//!   token and no `429` closed the organization meanwhile (its slot may
//!   have come late, right before the next one's), else it gives the slot
//!   back and waits again.
//! - A bucket full again is the same as a new one: once there are
//!   [`SWEEP_AT`] buckets, the full ones not probing are dropped, so memory
//!   follows the organizations called within about a token's time, not all
//!   those ever called.
//!
//! The rules are functions of the time they are given ([`Fleet`], [`Bucket`],
//! [`Learned`]), so each is tested on made-up instants; only [`Pacer`]
//! reads the clock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// What a `429` of a request sent at the learned rate multiplies it by.
pub(crate) const DECREASE: f64 = 0.5;
/// The share of itself the ceiling (a rate seen too fast) grows by per
/// second of successes, so that a limit the server raised is found again.
pub(crate) const CEILING_CREEP_PER_SECOND: f64 = 0.01;
/// The rate is probed while the ceiling is more than this share above it.
pub(crate) const PRECISION: f64 = 0.1;
/// A rate probe asks at most this multiple of the learned rate (and at
/// most halfway to the ceiling).
pub(crate) const PROBE_STEP: f64 = 2.0;
/// Organizations probing at once.
pub(crate) const PROBES: usize = 4;
/// A probe not settled within this, plus the tokens' time of
/// [`PROOFS`] + 2 requests, is given up (its organization called too
/// little to tell), so that another organization probes.
pub(crate) const PROBE_EXPIRES: Duration = Duration::from_millis(500);
/// The share of a rate a probe proved that pacing keeps below it, for
/// the jitter between when requests are sent and when the server sees
/// them.
pub(crate) const MARGIN: f64 = 0.05;
/// Tight successes a rate probe needs: one could still draw on a token
/// the server's bucket kept beyond the burst learned.
pub(crate) const PROOFS: u32 = 2;
/// Requests of an organization sent within this of each other (and within
/// half a token's time) are one burst.
pub(crate) const BURST_WINDOW: Duration = Duration::from_millis(20);
/// A burst seen too large is probed again after this long.
pub(crate) const BURST_CEILING_KEPT: Duration = Duration::from_secs(60);
/// The largest burst learned.
pub(crate) const MAX_BURST: u32 = 64;
/// The slowest rate, in requests per second: one a minute, the longest
/// `Retry-After` the default retry policy honours.
pub(crate) const MIN_RATE: f64 = 1.0 / 60.0;
/// The fastest rate, in requests per second: beyond it pacing holds back
/// nothing a client could send anyway.
pub(crate) const MAX_RATE: f64 = 100_000.0;
/// The longest a bucket holds a request back or stays closed: a day, more
/// than any call's deadline but one without any, so that no sum of waits
/// overflows the clock.
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(86_400);
/// Buckets kept before idle ones are dropped.
pub(crate) const SWEEP_AT: usize = 1024;
/// Tokens a bucket may lack and still admit a request: the turns and the
/// send times are the same instants computed twice in floating point.
const TOLERANCE: f64 = 1e-6;

/// Whether a client paces its requests; see [`ClientBuilder::pacing`](crate::ClientBuilder::pacing).
///
/// ```
/// use rhombus_partner::{Client, Pacing};
///
/// let client = Client::builder().api_key("key").pacing(Pacing::off()).build()?;
/// assert_eq!(client.pacing(), Pacing::off());
/// # Ok::<(), rhombus_partner::BuildError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pacing {
    on: bool,
}

impl Pacing {
    /// Requests are paced by a rate learned from the `429`s (the default).
    pub const fn learned() -> Pacing {
        Pacing { on: true }
    }

    /// Nothing is paced: every request is sent as soon as a slot is free,
    /// and a `429` is only retried.
    pub const fn off() -> Pacing {
        Pacing { on: false }
    }

    /// Whether requests are paced.
    pub const fn is_on(self) -> bool {
        self.on
    }
}

impl Default for Pacing {
    /// [`Pacing::learned`].
    fn default() -> Self {
        Pacing::learned()
    }
}

/// A rate and a burst: what a bucket admits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Terms {
    /// Requests per second the bucket refills with.
    pub rate: f64,
    /// Requests a full bucket admits at once.
    pub burst: u32,
}

/// What an organization probes: one more request at once, or a faster
/// rate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Probe {
    Burst(Terms),
    Rate(Terms),
}

impl Probe {
    fn terms(self) -> Terms {
        match self {
            Probe::Burst(terms) | Probe::Rate(terms) => terms,
        }
    }
}

/// How a paced request went out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Sent {
    /// Its bucket's terms.
    pub terms: Terms,
    /// When.
    pub at: Instant,
    /// Requests of its organization sent together (within half a token's
    /// time of the one before), itself included: more than 1 is a burst.
    pub depth: u32,
    /// The tokens its bucket held, itself included. Under one and a half
    /// the bucket is tight: the requests before emptied it, and so the
    /// server's too if the burst learned is the server's, `ready` tokens'
    /// time ago, so that a success shows the server refills at least at
    /// the rate over `ready`.
    pub ready: f64,
    /// Which of its bucket's bursts it went out in (a request alone is a
    /// burst of one).
    pub burst: u32,
    /// Whether it was sent on a probe's terms.
    pub probe: bool,
}

impl Sent {
    /// A request that went out alone into an emptied bucket: its outcome
    /// says whether the server refills at its rate.
    fn teaches_rate(&self) -> bool {
        self.depth == 1 && self.ready < 1.5
    }

    /// The rate its success shows the server refills at, at least.
    fn shows_rate(&self) -> f64 {
        self.terms.rate / self.ready.max(1.0)
    }

    /// A request that went out with others, or first into a bucket that
    /// held more than one: its outcome says whether the server's bucket
    /// holds the burst. (The server may take a burst's requests in
    /// another order than they were sent.)
    fn in_burst(&self) -> bool {
        !self.teaches_rate()
    }
}

/// What the fleet has learned of the server's per-organization bucket.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Learned {
    /// The rate the server is known to refill at: one request per the
    /// first `429`'s wait, or what probes proved, or half of it after a
    /// `429` (requests per second).
    pub rate: f64,
    /// The rate every bucket refills with: `rate`, less [`MARGIN`] if a
    /// probe proved it.
    pub pace: f64,
    /// Requests a full bucket admits at once.
    pub burst: u32,
    /// A rate seen too fast (infinite before any).
    pub ceiling: f64,
    /// A burst seen too large, and when.
    pub burst_ceiling: Option<(u32, Instant)>,
    /// When the ceiling last crept up or was set.
    pub changed: Instant,
    /// A `429` of a request sent before this does not lower the rate.
    pub quiet_until: Instant,
}

impl Learned {
    /// What the first `429`, asking for `wait`, teaches at `now`.
    pub(crate) fn first(now: Instant, wait: Duration) -> Learned {
        let rate = (1.0 / wait.as_secs_f64().max(f64::MIN_POSITIVE)).clamp(MIN_RATE, MAX_RATE);
        Learned {
            rate,
            pace: rate,
            burst: 1,
            ceiling: f64::INFINITY,
            burst_ceiling: None,
            changed: now,
            // Requests sent unpaced may have emptied organizations' buckets
            // just before: a token comes back to each within the wait.
            quiet_until: now.checked_add(wait.min(MAX_WAIT)).unwrap_or(now),
        }
    }

    pub(crate) fn terms(&self) -> Terms {
        Terms {
            rate: self.pace,
            burst: self.burst,
        }
    }

    /// What an organization starting at `now` probes, if anything is left
    /// to learn: the burst first (a rate probe needs the server's bucket
    /// emptied by a burst of exactly its size), then the rate, doubling
    /// until a probe fails, then halfway to the ceiling, until within
    /// [`PRECISION`] of it.
    pub(crate) fn probe(&self, now: Instant) -> Option<Probe> {
        let burst_open = self.burst < MAX_BURST
            && self.burst_ceiling.is_none_or(|(ceiling, at)| {
                ceiling > self.burst + 1 || now >= later(at, BURST_CEILING_KEPT.as_secs_f64())
            });
        if burst_open {
            let burst = self.burst + 1;
            return Some(Probe::Burst(Terms {
                burst,
                ..self.terms()
            }));
        }
        if self.ceiling <= self.rate * (1.0 + PRECISION) || self.rate >= MAX_RATE {
            return None;
        }
        let rate = (self.rate * PROBE_STEP)
            .min((self.rate + self.ceiling) / 2.0)
            .min(MAX_RATE);
        let burst = self.burst;
        Some(Probe::Rate(Terms { rate, burst }))
    }

    /// A success at `now`: the ceiling creeps up with the time since it
    /// last changed, at most a second's worth.
    pub(crate) fn creep(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.changed);
        let seconds = elapsed.min(Duration::from_secs(1)).as_secs_f64();
        self.ceiling *= 1.0 + CEILING_CREEP_PER_SECOND * seconds;
        self.changed = now;
    }

    /// A probe that succeeded: its burst is learned, or the rate its
    /// successes showed (at most its own).
    pub(crate) fn proven(&mut self, probe: Probe, shown: f64) {
        match probe {
            Probe::Burst(terms) if terms.burst > self.burst => {
                self.burst = terms.burst.min(MAX_BURST);
                if self
                    .burst_ceiling
                    .is_some_and(|(ceiling, _)| ceiling <= self.burst)
                {
                    self.burst_ceiling = None;
                }
            }
            Probe::Rate(terms) if shown.min(terms.rate) > self.rate => {
                self.rate = shown.min(terms.rate).min(MAX_RATE);
                self.pace = (self.rate * (1.0 - MARGIN)).max(MIN_RATE);
                self.ceiling = self.ceiling.max(self.rate * (1.0 + PRECISION));
            }
            _ => {}
        }
    }

    /// A burst of `too_large` refused at `now`: the burst ceiling.
    fn refused_burst(&mut self, too_large: u32, now: Instant) {
        let ceiling = self
            .burst_ceiling
            .map_or(too_large, |(c, _)| c.min(too_large));
        self.burst_ceiling = Some((ceiling, now));
    }

    /// A `429` at `now`, asking for `wait`, of a request `sent`:
    /// - in a burst ([`Sent::in_burst`]): the burst it was sent under is
    ///   the burst ceiling, and the burst at most one less;
    /// - alone, faster than the learned rate (a probe): that rate is the
    ///   ceiling;
    /// - alone at the learned rate or slower: the rate halves (never below
    ///   one request per `wait`: the server promised a token by its end)
    ///   and the rate it was sent at is the ceiling; unless it was sent
    ///   before the last decrease (which answered it already) or within
    ///   the first `429`'s wait (requests sent unpaced may have emptied
    ///   its organization's bucket).
    pub(crate) fn limited(&mut self, now: Instant, sent: &Sent, wait: Duration) {
        if sent.in_burst() {
            self.refused_burst(sent.terms.burst, now);
            self.burst = self.burst.min(sent.terms.burst - 1).max(1);
            return;
        }
        if sent.probe {
            if sent.terms.rate > self.rate {
                self.ceiling = self.ceiling.min(sent.terms.rate);
                self.changed = now;
            }
            return;
        }
        if sent.at < self.quiet_until {
            return;
        }
        self.ceiling = sent.terms.rate;
        let promised = 1.0 / wait.as_secs_f64().max(f64::MIN_POSITIVE);
        self.rate = (self.rate * DECREASE)
            .max(promised)
            .clamp(MIN_RATE, MAX_RATE);
        self.pace = self.rate;
        self.changed = now;
        self.quiet_until = now;
    }
}

/// One organization's bucket: turns given out (`tokens` at `at`,
/// negative: requests already promised a later turn), the requests let
/// out (`ready` at `ready_at`), both refilling at its terms' rate up to
/// its burst, and its probe, if it probes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Bucket {
    tokens: f64,
    /// When `tokens` was true; after a `429`, when the bucket opens again.
    at: Instant,
    ready: f64,
    ready_at: Instant,
    /// When the last request was sent, how deep in a burst, and which
    /// burst (counted from the bucket's first).
    last: Option<(Instant, u32, u32)>,
    probe: Option<Probe>,
    /// Successes that speak for its probe.
    proofs: Proofs,
}

/// The successes that speak for a probe: of a burst probe, those in the
/// burst counted `burst`; of a rate probe, tight ones, and
/// the least rate they showed.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Proofs {
    count: u32,
    burst: Option<u32>,
    shown: Option<f64>,
}

impl Bucket {
    /// A full bucket at `now` with `burst` requests at once.
    pub(crate) fn new(now: Instant, burst: u32) -> Bucket {
        Bucket {
            tokens: f64::from(burst),
            at: now,
            ready: f64::from(burst),
            ready_at: now,
            last: None,
            probe: None,
            proofs: Proofs::default(),
        }
    }

    /// Takes a turn at `now` under `terms`: `now`, or later if the bucket
    /// is empty or closed. Turns beyond the burst are given out one
    /// token's time apart, so that the requests of one organization wait
    /// in order rather than all for the same instant.
    pub(crate) fn reserve(&mut self, now: Instant, terms: Terms) -> Instant {
        let start = now.max(self.at);
        let refill = start.saturating_duration_since(self.at).as_secs_f64() * terms.rate;
        self.tokens = (self.tokens + refill).min(f64::from(terms.burst)) - 1.0;
        self.at = start;
        if self.tokens >= -TOLERANCE {
            return start;
        }
        later(start, -self.tokens / terms.rate)
    }

    /// Whether a request may go out at `now` under `terms`, its turn come
    /// and a slot taken: not while the bucket is closed, nor without a
    /// token of the requests let out (a request that waited long for its
    /// slot must not go out right before the next one). Its depth in a
    /// burst and whether the bucket was tight ([`Sent`]), or when to ask
    /// again.
    pub(crate) fn send(&mut self, now: Instant, terms: Terms) -> Result<(u32, f64, u32), Instant> {
        if now < self.at {
            return Err(self.at);
        }
        let since = now.saturating_duration_since(self.ready_at).as_secs_f64();
        let ready = (self.ready + since * terms.rate).min(f64::from(terms.burst));
        if ready < 1.0 - TOLERANCE {
            return Err(later(now, (1.0 - ready) / terms.rate));
        }
        (self.ready, self.ready_at) = (ready - 1.0, now);
        let (depth, start) = match self.last {
            Some((last, depth, burst)) if now < burst_ends(last, terms.rate) => (depth + 1, burst),
            Some((_, _, burst)) => (1, burst.wrapping_add(1)),
            None => (1, 0),
        };
        self.last = Some((now, depth, start));
        Ok((depth, ready, start))
    }

    /// What the bucket admits: its probe's terms, or the fleet's.
    fn terms(&self, learned: &Learned) -> Terms {
        self.probe.map_or(learned.terms(), Probe::terms)
    }

    /// Counts the success of a request `sent` on `probe`'s terms: the
    /// rate shown (see [`Proofs`]) once the probe is proven.
    fn proves(&mut self, probe: Probe, sent: &Sent) -> Option<f64> {
        let proofs = &mut self.proofs;
        match probe {
            Probe::Burst(terms) if sent.in_burst() => {
                if proofs.burst != Some(sent.burst) {
                    *proofs = Proofs {
                        burst: Some(sent.burst),
                        ..Proofs::default()
                    };
                }
                proofs.count += 1;
                (proofs.count >= terms.burst).then_some(terms.rate)
            }
            Probe::Rate(_) if sent.teaches_rate() => {
                proofs.count += 1;
                let shown = proofs
                    .shown
                    .map_or(sent.shows_rate(), |s| s.min(sent.shows_rate()));
                proofs.shown = Some(shown);
                (proofs.count >= PROOFS).then_some(shown)
            }
            _ => None,
        }
    }

    /// A `429` at `now` asking for `wait`: nothing is admitted before
    /// `now + wait`, when one request is.
    pub(crate) fn close(&mut self, now: Instant, wait: Duration) {
        let reopens = now.checked_add(wait.min(MAX_WAIT)).unwrap_or(now);
        (self.tokens, self.at) = (1.0, reopens);
        (self.ready, self.ready_at) = (1.0, reopens);
        // The wait stands for the spacing from the requests sent before:
        // the server promised a token at its end.
        self.last = self.last.map(|(_, _, burst)| (now, 0, burst));
    }

    /// Whether the bucket is full again at `now` under `terms`, and so the
    /// same as a new one: it can be dropped.
    pub(crate) fn is_idle(&self, now: Instant, terms: Terms) -> bool {
        let full = |tokens: f64, at: Instant| {
            now >= at
                && tokens + now.duration_since(at).as_secs_f64() * terms.rate
                    >= f64::from(terms.burst)
        };
        full(self.tokens, self.at) && full(self.ready, self.ready_at)
    }
}

/// When a burst that sent its last request at `last` ends: half a token's
/// time later, at most [`BURST_WINDOW`].
fn burst_ends(last: Instant, rate: f64) -> Instant {
    later(last, (0.5 / rate).min(BURST_WINDOW.as_secs_f64()))
}

/// `seconds` after `start`, at most [`MAX_WAIT`].
fn later(start: Instant, seconds: f64) -> Instant {
    let wait = Duration::from_secs_f64(seconds.clamp(0.0, MAX_WAIT.as_secs_f64()));
    start.checked_add(wait).unwrap_or(start)
}

/// Which bucket a request draws from: its `x-auth-org`, or `None` for the
/// partner's own calls.
pub(crate) type Key = Option<Box<str>>;

/// What a request was sent under.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Grant {
    /// Unpaced, before any `429`.
    Unpaced,
    /// Paced.
    Paced(Sent),
}

/// What an attempt's outcome tells the pacer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Feedback {
    /// A success.
    Success,
    /// A `429`, whose `Retry-After` (as the retry policy honours it) was
    /// this.
    RateLimited(Duration),
    /// Anything else: nothing learned.
    Other,
}

/// The pacing state of a client and its `for_org` handles.
#[derive(Debug, Default)]
pub(crate) struct Fleet {
    /// `None` until the first `429`.
    learned: Option<Learned>,
    buckets: HashMap<Key, Bucket>,
    /// Buckets kept before the next sweep.
    sweep_at: usize,
    /// The organizations probing, and when each probe expires.
    probing: Vec<(Key, Instant)>,
}

impl Fleet {
    /// The rate learned so far, if any `429` was seen.
    pub(crate) fn rate(&self) -> Option<f64> {
        self.learned.map(|learned| learned.pace)
    }

    /// The burst learned so far, if any `429` was seen.
    pub(crate) fn burst(&self) -> Option<u32> {
        self.learned.map(|learned| learned.burst)
    }

    /// The turn of a request of `key` asking at `now`: when to take a slot.
    pub(crate) fn reserve(&mut self, key: &Key, now: Instant) -> Instant {
        let Some(learned) = self.learned else {
            return now;
        };
        let bucket = self.bucket(key, now, &learned, true);
        bucket.reserve(now, bucket.terms(&learned))
    }

    /// Whether a request of `key` that had its turn and holds a slot may
    /// go out at `now` (see [`Bucket::send`]): what it is sent under, or
    /// when to ask again.
    pub(crate) fn send(&mut self, key: &Key, now: Instant) -> Result<Grant, Instant> {
        let Some(learned) = self.learned else {
            return Ok(Grant::Unpaced);
        };
        let bucket = self.bucket(key, now, &learned, true);
        let terms = bucket.terms(&learned);
        let probe = bucket.probe.is_some();
        let (depth, ready, burst) = bucket.send(now, terms)?;
        Ok(Grant::Paced(Sent {
            terms,
            at: now,
            depth,
            ready,
            burst,
            probe,
        }))
    }

    /// Learns from the outcome of a request of `key` sent under `grant`.
    pub(crate) fn feedback(&mut self, key: &Key, grant: &Grant, feedback: Feedback, now: Instant) {
        let sent = match grant {
            Grant::Paced(sent) => Some(sent),
            Grant::Unpaced => None,
        };
        match feedback {
            Feedback::Success => {
                let Some(sent) = sent else { return };
                let proven = self.settle(key, sent, false);
                let Some(learned) = &mut self.learned else {
                    return;
                };
                learned.creep(now);
                if let Some((probe, shown)) = proven {
                    learned.proven(probe, shown);
                }
            }
            Feedback::RateLimited(wait) => {
                let learned = match (self.learned, sent) {
                    (None, _) => Learned::first(now, wait),
                    (Some(mut learned), Some(sent)) => {
                        learned.limited(now, sent, wait);
                        learned
                    }
                    // Sent unpaced: it teaches nothing of the rate.
                    (Some(learned), None) => learned,
                };
                self.learned = Some(learned);
                if let Some(sent) = sent {
                    self.settle(key, sent, true);
                }
                self.bucket(key, now, &learned, false).close(now, wait);
            }
            Feedback::Other => {}
        }
    }

    /// Ends `key`'s probe if the outcome (`limited` or not) of a request
    /// `sent` settles it, the bucket going on at the fleet's terms: any
    /// `429`; the success of a burst probe's whole burst, or of a rate
    /// probe's [`PROOFS`] tight requests. The probe, if it succeeded, and
    /// the rate shown.
    fn settle(&mut self, key: &Key, sent: &Sent, limited: bool) -> Option<(Probe, f64)> {
        if !sent.probe {
            return None;
        }
        let bucket = self.buckets.get_mut(key)?;
        let probe = bucket.probe?;
        let shown = if limited {
            None
        } else {
            bucket.proves(probe, sent)
        };
        if limited || shown.is_some() {
            bucket.probe = None;
            self.probing.retain(|(probing, _)| probing != key);
        }
        Some(probe).zip(shown)
    }

    /// `key`'s bucket, made full if there is none (after a sweep of the
    /// idle ones, if there are many), probing if an organization's new
    /// bucket `may_probe` (not one made to be closed by a `429`).
    fn bucket(
        &mut self,
        key: &Key,
        now: Instant,
        learned: &Learned,
        may_probe: bool,
    ) -> &mut Bucket {
        if !self.buckets.contains_key(key) {
            self.sweep(now, learned);
            let probe = match may_probe {
                true => self.start_probe(key, now),
                false => None,
            };
            let burst = probe.map_or(learned.burst, |probe| probe.terms().burst);
            let bucket = Bucket {
                probe,
                ..Bucket::new(now, burst)
            };
            self.buckets.insert(key.clone(), bucket);
        }
        self.buckets.get_mut(key).expect("inserted above")
    }

    /// A probe for a new bucket of `key`, if fewer than [`PROBES`]
    /// organizations probe (those past [`PROBE_EXPIRES`] given up) and
    /// something is left to learn. The partner's own calls never probe. A
    /// burst probe given up counts as refused: no organization sent that
    /// many at once, so the rate is probed instead.
    fn start_probe(&mut self, key: &Key, now: Instant) -> Option<Probe> {
        key.as_ref()?;
        for (probing, expires) in &self.probing {
            let Some(bucket) = self.buckets.get_mut(probing) else {
                continue;
            };
            if now >= *expires {
                if let (Some(Probe::Burst(terms)), Some(learned)) =
                    (bucket.probe, &mut self.learned)
                {
                    learned.refused_burst(terms.burst, now);
                }
                bucket.probe = None;
            }
        }
        self.probing.retain(|(_, expires)| now < *expires);
        if self.probing.len() >= PROBES {
            return None;
        }
        let probe = self.learned?.probe(now)?;
        let tokens = f64::from(PROOFS + 2) / probe.terms().rate;
        let expires = later(now, PROBE_EXPIRES.as_secs_f64() + tokens);
        self.probing.push((key.clone(), expires));
        Some(probe)
    }

    /// Drops the buckets that are full again, once there are
    /// [`SWEEP_AT`] of them or twice as many as after the last sweep: a
    /// full bucket is a new one, so nothing is forgotten, and the map holds
    /// only organizations called within about a token's time. Probing
    /// buckets are kept.
    fn sweep(&mut self, now: Instant, learned: &Learned) {
        if self.buckets.len() < self.sweep_at.max(SWEEP_AT) {
            return;
        }
        let terms = learned.terms();
        self.buckets
            .retain(|_, bucket| bucket.probe.is_some() || !bucket.is_idle(now, terms));
        self.sweep_at = self.buckets.len() * 2;
    }

    /// How many buckets are kept.
    #[cfg(test)]
    pub(crate) fn buckets(&self) -> usize {
        self.buckets.len()
    }
}

/// The pacing of a client, shared by its copies and `for_org` handles:
/// the clock and the lock around [`Fleet`].
#[derive(Clone, Debug, Default)]
pub(crate) struct Pacer {
    /// `None`: pacing off.
    fleet: Option<Arc<Shared>>,
}

#[derive(Debug, Default)]
struct Shared {
    /// Set with the first `429`, so that until then a request only reads
    /// this flag.
    learned: AtomicBool,
    fleet: Mutex<Fleet>,
}

impl Pacer {
    pub(crate) fn new(pacing: Pacing) -> Pacer {
        Pacer {
            fleet: pacing.on.then(Arc::default),
        }
    }

    pub(crate) fn pacing(&self) -> Pacing {
        Pacing {
            on: self.fleet.is_some(),
        }
    }

    /// The rate learned, in requests per second per organization.
    pub(crate) fn rate(&self) -> Option<f64> {
        self.learned_fleet()?.rate()
    }

    /// The requests at once learned per organization.
    pub(crate) fn burst(&self) -> Option<u32> {
        self.learned_fleet()?.burst()
    }

    /// The fleet, once a `429` taught it something.
    fn learned_fleet(&self) -> Option<MutexGuard<'_, Fleet>> {
        let shared = self.fleet.as_ref()?;
        shared
            .learned
            .load(Ordering::Acquire)
            .then(|| lock(&shared.fleet))
    }

    /// The turn of a request of `org` (`None`: a partner-level call)
    /// asking now.
    pub(crate) fn reserve(&self, org: Option<&str>) -> Instant {
        let now = Instant::now();
        match self.learned_fleet() {
            Some(mut fleet) => fleet.reserve(&key(org), now),
            None => now,
        }
    }

    /// Whether a request of `org` that had its turn and holds a slot may
    /// go out now (see [`Fleet::send`]).
    pub(crate) fn send(&self, org: Option<&str>) -> Result<Grant, Instant> {
        match self.learned_fleet() {
            Some(mut fleet) => fleet.send(&key(org), Instant::now()),
            None => Ok(Grant::Unpaced),
        }
    }

    /// Learns from the `feedback` of a request of `org` sent under `grant`.
    pub(crate) fn feedback(&self, org: Option<&str>, grant: &Grant, feedback: Feedback) {
        let Some(shared) = &self.fleet else { return };
        let teaches = match feedback {
            Feedback::RateLimited(_) => true,
            // Only a paced request's success says the rate is fine.
            Feedback::Success => matches!(grant, Grant::Paced(_)),
            Feedback::Other => false,
        };
        if teaches {
            lock(&shared.fleet).feedback(&key(org), grant, feedback, Instant::now());
            shared.learned.store(true, Ordering::Release);
        }
    }
}

fn key(org: Option<&str>) -> Key {
    org.map(Box::from)
}

/// The lock stays usable if a holder panicked: every change to the fleet
/// leaves it whole.
fn lock(mutex: &Mutex<Fleet>) -> MutexGuard<'_, Fleet> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn org(name: &str) -> Key {
        Some(name.into())
    }

    /// A fleet that learned, at `t0`, one request per second from a `429`
    /// of `key` asking for 1 s.
    fn learned_at(t0: Instant, key: &Key) -> Fleet {
        let mut fleet = Fleet::default();
        fleet.feedback(key, &UNPACED, Feedback::RateLimited(SECOND), t0);
        fleet
    }

    /// A fleet that knows, at `t0`, the server's rate (`rate`) and burst
    /// (`burst`): nothing is left to probe.
    fn settled(t0: Instant, rate: f64, burst: u32) -> Fleet {
        let learned = Learned {
            rate,
            pace: rate,
            burst,
            ceiling: rate,
            burst_ceiling: Some((burst + 1, t0)),
            ..Learned::first(t0, SECOND)
        };
        Fleet {
            learned: Some(learned),
            ..Fleet::default()
        }
    }

    const UNPACED: Grant = Grant::Unpaced;

    /// The turn of a request of `key` at `now`, and its grant when it goes
    /// out at that turn.
    fn turn(fleet: &mut Fleet, key: &Key, now: Instant) -> (Instant, Grant) {
        let ready = fleet.reserve(key, now);
        let grant = fleet.send(key, ready).expect("sent at its turn");
        (ready, grant)
    }

    /// What a request went out as.
    fn sent(grant: Grant) -> Sent {
        match grant {
            Grant::Paced(sent) => sent,
            Grant::Unpaced => panic!("sent unpaced"),
        }
    }

    /// A request sent alone at `at` at `rate`, into a bucket holding
    /// `ready` tokens, not probing.
    fn alone(at: Instant, rate: f64, ready: f64) -> Sent {
        Sent {
            terms: Terms { rate, burst: 1 },
            at,
            depth: 1,
            ready,
            burst: 0,
            probe: false,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn nothing_is_paced_before_the_first_429() {
        let t0 = Instant::now();
        let mut fleet = Fleet::default();
        for n in 0..100 {
            let (ready, grant) = turn(&mut fleet, &org(&format!("o{n}")), t0);
            assert_eq!((ready, grant), (t0, UNPACED));
            fleet.feedback(&org("o"), &grant, Feedback::Success, t0);
        }
        assert_eq!(fleet.rate(), None);
        assert_eq!(fleet.buckets(), 0, "no bucket before the first 429");
    }

    #[test]
    fn the_first_429_sets_one_request_per_retry_after_one_at_once() {
        let t0 = Instant::now();
        let mut fleet = Fleet::default();
        fleet.feedback(&None, &UNPACED, Feedback::RateLimited(ms(2000)), t0);
        assert_eq!((fleet.rate(), fleet.burst()), (Some(0.5), Some(1)));
        // Within the limits, whatever the wait.
        assert_eq!(Learned::first(t0, Duration::ZERO).rate, MAX_RATE);
        assert_eq!(Learned::first(t0, Duration::MAX).rate, MIN_RATE);
    }

    #[test]
    fn a_429_admits_nothing_in_its_org_until_retry_after() {
        let t0 = Instant::now();
        let mut fleet = settled(t0, 1.0, 1);
        fleet.feedback(&org("a"), &UNPACED, Feedback::RateLimited(ms(3000)), t0);
        // One request at the end of the wait, the next a token later.
        let first = fleet.reserve(&org("a"), t0 + ms(500));
        assert_eq!(first, t0 + ms(3000));
        let second = fleet.reserve(&org("a"), t0 + ms(500));
        assert_eq!(second, t0 + ms(3000) + SECOND);
        // Whatever its turn said, nothing goes out before the wait ends;
        // one request goes out at its end, however soon after the last
        // one sent before the 429, and the next a token later.
        let (before, end) = (t0 - ms(10), t0 + ms(3000));
        let mut fleet = settled(t0 - 2 * SECOND, 1.0, 1);
        let unpaced = fleet.reserve(&org("a"), before);
        let limited = fleet.send(&org("a"), unpaced).expect("sent");
        fleet.feedback(&org("a"), &limited, Feedback::RateLimited(ms(3000)), t0);
        assert_eq!(fleet.send(&org("a"), end - ms(1)), Err(end));
        assert!(fleet.send(&org("a"), end).is_ok());
        let token = Duration::from_secs_f64(1.0 / fleet.rate().expect("learned"));
        assert_eq!(fleet.send(&org("a"), end + ms(1)), Err(end + token));
        // Another organization is not closed.
        assert_eq!(fleet.reserve(&org("b"), t0 + ms(500)), t0 + ms(500));
    }

    #[test]
    fn a_new_org_starts_at_the_learned_terms() {
        let t0 = Instant::now();
        let mut fleet = settled(t0, 2.0, 2);
        let now = t0 + ms(100);
        let ready: Vec<Instant> = (0..4).map(|_| fleet.reserve(&org("new"), now)).collect();
        assert_eq!(ready, [now, now, now + ms(500), now + SECOND]);
        // The partner's own calls have a bucket of their own.
        assert_eq!(fleet.reserve(&None, now), now);
    }

    #[test]
    fn a_bucket_refills_at_the_rate_up_to_the_burst() {
        let t0 = Instant::now();
        let mut fleet = settled(t0, 1.0, 2);
        let key = org("a");
        assert_eq!(fleet.reserve(&key, t0), t0);
        // Idle ten tokens' time, it admits its burst at once, not ten.
        let later = t0 + 10 * SECOND;
        assert_eq!(fleet.reserve(&key, later), later);
        assert_eq!(fleet.reserve(&key, later), later);
        assert_eq!(fleet.reserve(&key, later), later + SECOND);
    }

    #[test]
    fn probes_try_the_burst_then_double_the_rate_then_halve_the_gap() {
        let t0 = Instant::now();
        let mut learned = Learned::first(t0, SECOND);
        let burst = |burst| Some(Probe::Burst(Terms { rate: 1.0, burst }));
        assert_eq!(learned.probe(t0), burst(2));
        // Three at once failed: the rate's turn, at twice the rate.
        learned.burst = 2;
        learned.burst_ceiling = Some((3, t0));
        let rate = |rate| Some(Probe::Rate(Terms { rate, burst: 2 }));
        assert_eq!(learned.probe(t0), rate(2.0));
        // At 2/s, 3/s failed: halfway there; then nothing within a tenth.
        (learned.rate, learned.ceiling) = (2.0, 3.0);
        assert_eq!(learned.probe(t0), rate(2.5));
        learned.ceiling = 2.2;
        assert_eq!(learned.probe(t0), None);
        // A burst ceiling is tried again after a while.
        let later = t0 + BURST_CEILING_KEPT;
        assert_eq!(
            learned.probe(later),
            Some(Probe::Burst(Terms {
                rate: 1.0,
                burst: 3
            }))
        );
    }

    #[test]
    fn a_few_orgs_probe_at_once_never_the_partner_and_not_for_ever() {
        let t0 = Instant::now();
        let mut fleet = learned_at(t0, &org("taught"));
        assert_eq!(fleet.reserve(&None, t0), t0);
        for n in 0..PROBES + 2 {
            fleet.reserve(&org(&format!("o{n}")), t0);
        }
        let probing = |fleet: &Fleet| fleet.buckets.values().filter(|b| b.probe.is_some()).count();
        assert_eq!(probing(&fleet), PROBES);
        assert!(fleet.buckets[&None].probe.is_none());
        // Probes of 2 at once at 1/s expire after 0.5 s + 4 s: no
        // organization sent 2 at once, so the rate is probed instead.
        let later = t0 + ms(4500);
        fleet.reserve(&org("late"), later);
        let rate = Probe::Rate(Terms {
            rate: 2.0,
            burst: 1,
        });
        assert_eq!(fleet.buckets[&org("late")].probe, Some(rate));
        assert_eq!(probing(&fleet), 1);
    }

    #[test]
    fn a_burst_probe_is_proven_by_its_whole_burst_and_refuted_by_one_429() {
        let t0 = Instant::now();
        let mut fleet = learned_at(t0, &org("taught"));
        let probe = org("probe");
        let (first, second) = (
            turn(&mut fleet, &probe, t0).1,
            turn(&mut fleet, &probe, t0).1,
        );
        assert_eq!((sent(first).depth, sent(second).depth), (1, 2));
        fleet.feedback(&probe, &second, Feedback::Success, t0 + ms(50));
        assert_eq!(fleet.burst(), Some(1), "half the burst proves nothing");
        fleet.feedback(&probe, &first, Feedback::Success, t0 + ms(50));
        assert_eq!(fleet.burst(), Some(2));
        // Three at once: whichever the server refused, the burst stays 2
        // and 3 is its ceiling.
        let other = org("other");
        let three: Vec<Grant> = (0..3).map(|_| turn(&mut fleet, &other, t0).1).collect();
        assert_eq!(
            three.iter().map(|g| sent(*g).depth).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        fleet.feedback(
            &other,
            &three[0],
            Feedback::RateLimited(SECOND),
            t0 + ms(50),
        );
        let learned = fleet.learned.expect("learned");
        assert_eq!(
            (learned.burst, learned.burst_ceiling),
            (2, Some((3, t0 + ms(50))))
        );
    }

    #[test]
    fn a_rate_probe_is_proven_by_lone_requests_into_its_emptied_bucket() {
        let t0 = Instant::now();
        let mut fleet = settled(t0, 1.0, 2);
        fleet.learned.as_mut().expect("learned").ceiling = f64::INFINITY;
        let probe = org("probe");
        // Its burst at once, at twice the rate: in a burst, so no proof.
        let burst = [
            turn(&mut fleet, &probe, t0).1,
            turn(&mut fleet, &probe, t0).1,
        ];
        for grant in burst {
            assert_eq!(sent(grant).terms.rate, 2.0);
            assert!(sent(grant).in_burst());
            fleet.feedback(&probe, &grant, Feedback::Success, t0 + ms(50));
        }
        // The next, alone at its turn into the emptied bucket, proves 2/s.
        let (ready, third) = turn(&mut fleet, &probe, t0);
        assert_eq!(ready, t0 + ms(500));
        assert!(sent(third).teaches_rate());
        fleet.feedback(&probe, &third, Feedback::Success, ready + ms(50));
        assert_eq!(fleet.rate(), Some(1.0), "one proof is not enough");
        // The fourth went out late (its bucket held 1.2 tokens): it shows
        // 2/1.2 a second, and the proven rate is the least shown.
        let late = ready + ms(600);
        let fourth = fleet.send(&probe, late).expect("sent");
        assert!(close(sent(fourth).ready, 1.2), "{:?}", sent(fourth));
        fleet.feedback(&probe, &fourth, Feedback::Success, late + ms(50));
        let learned = fleet.learned.expect("learned");
        assert!(close(learned.rate, 2.0 / 1.2), "{}", learned.rate);
        assert!(close(learned.pace, 2.0 / 1.2 * (1.0 - MARGIN)));
        assert!(fleet.buckets[&probe].probe.is_none(), "settled");
    }

    #[test]
    fn a_refused_rate_probe_sets_the_ceiling_and_lowers_nothing() {
        let t0 = Instant::now();
        let mut fleet = settled(t0, 1.0, 1);
        fleet.learned.as_mut().expect("learned").ceiling = f64::INFINITY;
        let (_, grant) = turn(&mut fleet, &org("probe"), t0);
        fleet.feedback(
            &org("probe"),
            &grant,
            Feedback::RateLimited(SECOND),
            t0 + ms(50),
        );
        let learned = fleet.learned.expect("learned");
        assert_eq!((learned.rate, learned.ceiling), (1.0, 2.0));
    }

    #[test]
    fn a_429_halves_the_rate_once_and_sets_the_ceiling() {
        let t0 = Instant::now();
        let mut learned = Learned::first(t0, SECOND);
        learned.rate = 4.0;
        let t1 = t0 + 2 * SECOND;
        learned.limited(t1, &alone(t1 - ms(10), 4.0, 1.0), SECOND);
        assert_eq!(
            (learned.rate, learned.pace, learned.ceiling),
            (2.0, 2.0, 4.0)
        );
        // A 429 of a request sent before that decrease is answered by it.
        learned.limited(t1 + ms(50), &alone(t1 - ms(5), 4.0, 1.0), SECOND);
        assert_eq!(learned.rate, 2.0);
        let t2 = t1 + SECOND;
        learned.limited(t2, &alone(t1 + ms(1), 2.0, 1.0), SECOND);
        assert_eq!((learned.rate, learned.ceiling), (1.0, 2.0));
    }

    #[test]
    fn a_429_within_the_first_wait_does_not_lower_the_rate() {
        let t0 = Instant::now();
        let mut learned = Learned::first(t0, 2 * SECOND);
        learned.limited(t0 + SECOND, &alone(t0 + ms(1999), 0.5, 1.0), 4 * SECOND);
        assert_eq!(learned.rate, 0.5);
        learned.limited(
            t0 + 3 * SECOND,
            &alone(t0 + 2 * SECOND, 0.5, 1.0),
            4 * SECOND,
        );
        assert_eq!(learned.rate, 0.25);
    }

    #[test]
    fn a_429_never_lowers_the_rate_below_one_request_per_its_retry_after() {
        let t0 = Instant::now();
        let mut learned = Learned::first(t0, SECOND);
        learned.rate = 1.5;
        let at = |n| t0 + n * SECOND;
        learned.limited(at(2), &alone(at(2), 1.5, 1.0), SECOND);
        assert_eq!(learned.rate, 1.0, "not 0.75: a token a second was promised");
        learned.limited(at(3), &alone(at(3), 1.0, 1.0), SECOND);
        assert_eq!(learned.rate, 1.0);
        learned.limited(at(4), &alone(at(4), 1.0, 1.0), 4 * SECOND);
        assert_eq!(learned.rate, 0.5);
    }

    #[test]
    fn the_ceiling_creeps_up_a_hundredth_a_second_of_successes() {
        let t0 = Instant::now();
        let mut learned = Learned::first(t0, SECOND);
        learned.ceiling = 4.0;
        let mut now = t0;
        for _ in 0..20 {
            now += SECOND;
            learned.creep(now);
        }
        // A long quiet time counts as one second.
        learned.creep(now + 60 * SECOND);
        let ceiling = 4.0 * 1.01_f64.powi(21);
        assert!(close(learned.ceiling, ceiling), "{}", learned.ceiling);
        assert_eq!(learned.rate, 1.0, "the rate only rises by probes");
    }

    #[test]
    fn only_paced_429s_lower_the_rate_every_429_closes_its_org() {
        let t0 = Instant::now();
        let mut fleet = settled(t0, 1.0, 1);
        // A request sent while nothing was paced, answered after the
        // first 429 taught the rate.
        fleet.feedback(&org("late"), &UNPACED, Feedback::RateLimited(ms(2000)), t0);
        assert_eq!(fleet.rate(), Some(1.0));
        assert_eq!(fleet.reserve(&org("late"), t0), t0 + ms(2000));
        // A paced one, sent after the first wait, lowers it.
        let later = t0 + 2 * SECOND;
        let (_, grant) = turn(&mut fleet, &org("paced"), later);
        let wait = Feedback::RateLimited(4 * SECOND);
        fleet.feedback(&org("paced"), &grant, wait, later);
        assert_eq!(fleet.rate(), Some(0.5));
    }

    #[test]
    fn only_a_probe_raises_the_rate() {
        let t0 = Instant::now();
        let mut fleet = settled(t0, 1.0, 1);
        fleet.feedback(&org("a"), &UNPACED, Feedback::Success, t0 + SECOND);
        let fast = Grant::Paced(alone(t0, 8.0, 1.0));
        fleet.feedback(&org("a"), &fast, Feedback::Success, t0 + SECOND);
        assert_eq!(fleet.rate(), Some(1.0));
    }

    #[test]
    fn a_request_goes_out_only_with_a_token_of_the_requests_let_out() {
        let t0 = Instant::now();
        let mut fleet = Fleet::default();
        // Before any 429, anything goes out.
        assert_eq!(fleet.send(&org("a"), t0), Ok(UNPACED));
        let mut fleet = settled(t0, 1.0, 1);
        let first = fleet.reserve(&org("a"), t0);
        let second = fleet.reserve(&org("a"), t0);
        assert_eq!(second, t0 + SECOND);
        // The first waited 900 ms for its slot: the second, whose turn
        // has come, must still wait a token's time after it.
        let slow = first + ms(900);
        assert!(fleet.send(&org("a"), slow).is_ok());
        assert_eq!(fleet.send(&org("a"), second), Err(slow + SECOND));
        assert!(fleet.send(&org("a"), slow + SECOND).is_ok());
        // Another organization's requests are not held by it.
        assert!(fleet.send(&org("b"), slow).is_ok());
    }

    #[test]
    fn requests_sent_together_are_one_burst() {
        let t0 = Instant::now();
        let terms = Terms {
            rate: 1.0,
            burst: 3,
        };
        let mut bucket = Bucket::new(t0, 3);
        let depths: Vec<(u32, f64)> = [0, 5, 10]
            .map(|n| {
                bucket
                    .send(t0 + ms(n), terms)
                    .map(|(d, r, _)| (d, r))
                    .expect("sent")
            })
            .to_vec();
        let depth: Vec<u32> = depths.iter().map(|(d, _)| *d).collect();
        assert_eq!(depth, [1, 2, 3]);
        assert!(
            close(depths[0].1, 3.0),
            "the first into a full bucket is not tight"
        );
        // Beyond the window, a request is alone (and tight: it waited for
        // its token).
        let (depth, ready, burst) = bucket.send(t0 + SECOND + ms(10), terms).expect("sent");
        assert_eq!((depth, burst), (1, 1), "the bucket's second burst");
        assert!(ready < 1.5);
    }

    #[test]
    fn idle_buckets_are_dropped_so_ten_thousand_orgs_keep_few() {
        let t0 = Instant::now();
        let mut fleet = settled(t0, 1.0, 1);
        let mut most = 0;
        // Ten organizations a second, each called once: a bucket is full
        // again a second after its call.
        for n in 0..10_000u64 {
            let now = t0 + ms(100 * n);
            let (ready, _) = turn(&mut fleet, &org(&format!("org-{n}")), now);
            assert_eq!(ready, now);
            most = most.max(fleet.buckets());
        }
        assert!(most <= SWEEP_AT, "{most} buckets");
        // A bucket still in use is kept: its debt is not forgotten.
        let busy = org("busy");
        let now = t0 + ms(100 * 10_000);
        fleet.reserve(&busy, now);
        let next = fleet.reserve(&busy, now);
        for n in 0..2 * SWEEP_AT {
            fleet.reserve(&org(&format!("more-{n}")), now);
        }
        assert_eq!(fleet.reserve(&busy, now), next + SECOND);
    }

    #[test]
    fn a_pacer_off_learns_nothing_and_a_pacer_on_shares_it() {
        let off = Pacer::new(Pacing::off());
        off.feedback(Some("a"), &UNPACED, Feedback::RateLimited(SECOND));
        assert_eq!(off.rate(), None);
        assert_eq!(off.send(Some("a")), Ok(UNPACED));
        let on = Pacer::new(Pacing::learned());
        let copy = on.clone();
        assert_eq!((on.rate(), on.burst()), (None, None));
        on.feedback(Some("a"), &UNPACED, Feedback::RateLimited(SECOND));
        assert_eq!((copy.rate(), copy.burst()), (Some(1.0), Some(1)));
        assert!(copy.reserve(Some("a")) > Instant::now());
        assert!(copy.send(Some("a")).is_err(), "closed for a second");
    }
}
