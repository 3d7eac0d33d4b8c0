//! Locks that survive `fork()`.
//!
//! relink's global state is guarded by the locks of this module, thin wrappers over the standard
//! library's futex-based ones. They keep their whole state in the lock word, so that a lock the
//! forking thread took in a `pthread_atfork` prepare handler (see `fork.rs`) can be released in
//! the child whatever other threads of the parent were doing: waiters that do not exist in the
//! child leave at most a "waiters" bit, which the release clears. (A lock with a process-wide
//! wait queue, or one that hands ownership to a waiter on release, would give the lock to a
//! thread that the child does not have.)
//!
//! A panic while a lock is held does not poison it: relink's own code keeps its invariants up to
//! every point that can panic, and the FFI boundary turns the panic into an error.

use std::ops::{Deref, DerefMut};
use std::sync::PoisonError;
use std::time::{Duration, Instant};

/// A mutual exclusion lock.
#[derive(Debug, Default)]
pub struct Mutex<T>(std::sync::Mutex<T>);

/// Held while a [`Mutex`] is locked (`None` only inside [`Condvar::wait`]).
pub struct MutexGuard<'a, T>(Option<std::sync::MutexGuard<'a, T>>);

impl<T> Mutex<T> {
    pub const fn new(value: T) -> Self {
        Mutex(std::sync::Mutex::new(value))
    }

    pub fn lock(&self) -> MutexGuard<'_, T> {
        MutexGuard(Some(self.0.lock().unwrap_or_else(PoisonError::into_inner)))
    }

    pub fn get_mut(&mut self) -> &mut T {
        self.0.get_mut().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.0.as_ref().expect("guard in use")
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.0.as_mut().expect("guard in use")
    }
}

/// A condition variable used with a [`Mutex`]. A notification with nobody waiting makes no
/// system call: the waiters are counted, under the mutex, so a notifier that holds the mutex
/// (or takes it after changing what waiters test) never misses one.
#[derive(Debug, Default)]
pub struct Condvar {
    inner: std::sync::Condvar,
    waiters: std::sync::atomic::AtomicUsize,
}

impl Condvar {
    pub const fn new() -> Self {
        Condvar { inner: std::sync::Condvar::new(), waiters: std::sync::atomic::AtomicUsize::new(0) }
    }

    /// Release the guard's lock, wait for a notification, and take the lock again.
    pub fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
        let g = guard.0.take().expect("guard in use");
        // Counted while the lock is held, before it is released by the wait.
        self.waiters.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        guard.0 = Some(self.inner.wait(g).unwrap_or_else(PoisonError::into_inner));
        self.waiters.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Wake every waiter. The caller holds the mutex, or took it after the change waiters wait
    /// for.
    pub fn notify_all(&self) {
        if self.waiters.load(std::sync::atomic::Ordering::Relaxed) > 0 {
            self.inner.notify_all();
        }
    }
}

/// A reader-writer lock with upgradable reads.
///
/// Writers and upgradable readers first take a gate (a mutex), so at most one of them exists at
/// a time; readers only take the inner lock, shared. An upgradable reader therefore sees data
/// nobody else can change, while plain readers go on, and upgrading it only waits for those
/// readers to leave.
///
/// Only the holder of the gate ever waits to write, and a reader arriving while it waits is
/// queued behind it. So the gate's holder may read again (a hook run during an open calling
/// `rl_sym`), but code that runs while another thread holds a plain read (an IFUNC resolver
/// called by `rl_sym`) must not read again: call such code without the lock.
#[derive(Debug, Default)]
pub struct RwLock<T> {
    gate: std::sync::Mutex<()>,
    data: std::sync::RwLock<T>,
}

pub type RwLockReadGuard<'a, T> = std::sync::RwLockReadGuard<'a, T>;

/// Exclusive access: the gate and the inner lock for writing.
pub struct RwLockWriteGuard<'a, T> {
    data: std::sync::RwLockWriteGuard<'a, T>,
    _gate: std::sync::MutexGuard<'a, ()>,
}

/// Shared access that excludes other writers and upgradable readers, and can become exclusive.
pub struct RwLockUpgradableReadGuard<'a, T> {
    lock: &'a RwLock<T>,
    data: std::sync::RwLockReadGuard<'a, T>,
    gate: std::sync::MutexGuard<'a, ()>,
}

impl<T> RwLock<T> {
    pub const fn new(value: T) -> Self {
        RwLock { gate: std::sync::Mutex::new(()), data: std::sync::RwLock::new(value) }
    }

    fn gate(&self) -> std::sync::MutexGuard<'_, ()> {
        self.gate.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn read_data(&self) -> std::sync::RwLockReadGuard<'_, T> {
        self.data.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_data(&self) -> std::sync::RwLockWriteGuard<'_, T> {
        self.data.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn read(&self) -> RwLockReadGuard<'_, T> {
        self.read_data()
    }

    /// The same as [`RwLock::read`]; the name marks the places where the calling thread may
    /// already hold the upgradable read (see the type's documentation).
    pub fn read_recursive(&self) -> RwLockReadGuard<'_, T> {
        self.read_data()
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, T> {
        let gate = self.gate();
        RwLockWriteGuard { data: self.write_data(), _gate: gate }
    }

    /// [`RwLock::write`], giving up after `timeout`.
    pub fn try_write_for(&self, timeout: Duration) -> Option<RwLockWriteGuard<'_, T>> {
        let deadline = Instant::now() + timeout;
        let retry = || {
            let go_on = Instant::now() < deadline;
            if go_on {
                std::thread::sleep(Duration::from_millis(1));
            }
            go_on
        };
        let gate = loop {
            match self.gate.try_lock() {
                Ok(g) => break g,
                Err(std::sync::TryLockError::Poisoned(p)) => break p.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) if retry() => {}
                Err(std::sync::TryLockError::WouldBlock) => return None,
            }
        };
        loop {
            match self.data.try_write() {
                Ok(data) => return Some(RwLockWriteGuard { data, _gate: gate }),
                Err(std::sync::TryLockError::Poisoned(p)) => return Some(RwLockWriteGuard { data: p.into_inner(), _gate: gate }),
                Err(std::sync::TryLockError::WouldBlock) if retry() => {}
                Err(std::sync::TryLockError::WouldBlock) => return None,
            }
        }
    }

    pub fn upgradable_read(&self) -> RwLockUpgradableReadGuard<'_, T> {
        let gate = self.gate();
        RwLockUpgradableReadGuard { lock: self, data: self.read_data(), gate }
    }
}

impl<'a, T> RwLockUpgradableReadGuard<'a, T> {
    /// Become exclusive: wait for the plain readers to leave. Nothing changed the data since
    /// the upgradable read was taken, since only the gate's holder writes.
    pub fn upgrade(g: Self) -> RwLockWriteGuard<'a, T> {
        let RwLockUpgradableReadGuard { lock, data, gate } = g;
        drop(data);
        RwLockWriteGuard { data: lock.write_data(), _gate: gate }
    }
}

impl<T> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.data
    }
}

impl<T> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.data
    }
}

impl<T> Deref for RwLockUpgradableReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.data
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn readers_go_on_while_an_upgradable_read_is_held() {
        let lock = Arc::new(RwLock::new(0));
        let u = lock.upgradable_read();
        let l = lock.clone();
        // Another thread reads while the upgradable read is held ...
        assert_eq!(std::thread::spawn(move || *l.read()).join().unwrap(), 0);
        // ... and the holder reads again.
        assert_eq!(*lock.read_recursive(), 0);
        let mut w = RwLockUpgradableReadGuard::upgrade(u);
        *w += 1;
        drop(w);
        assert_eq!(*lock.read(), 1);
    }

    #[test]
    fn try_write_for_gives_up_while_the_lock_is_held() {
        let lock = RwLock::new(());
        let u = lock.upgradable_read();
        assert!(lock.try_write_for(Duration::from_millis(5)).is_none());
        drop(u);
        let r = lock.read();
        assert!(lock.try_write_for(Duration::from_millis(5)).is_none());
        drop(r);
        assert!(lock.try_write_for(Duration::from_millis(5)).is_some());
    }

    #[test]
    fn condvar_wait_takes_the_lock_back() {
        let pair = Arc::new((Mutex::new(false), Condvar::new()));
        let p = pair.clone();
        let t = std::thread::spawn(move || {
            *p.0.lock() = true;
            p.1.notify_all();
        });
        let mut g = pair.0.lock();
        while !*g {
            pair.1.wait(&mut g);
        }
        t.join().unwrap();
        assert!(*g);
    }
}
