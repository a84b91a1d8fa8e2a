//! An event source that says when the loop drops it: how Porthole learns that a security
//! context's sandbox closed its listener.

use smithay::reexports::calloop::{
    self, EventSource, Poll, PostAction, Readiness, Token, TokenFactory,
};

/// An event source that reports, once, when it asks the loop to remove it (a security context's
/// listener does when its sandbox closes the `close_fd`).
pub struct Watched<S> {
    inner: S,
    on_removed: Option<Box<dyn FnOnce()>>,
}

impl<S> Watched<S> {
    /// Wraps `inner`; `on_removed` runs when it finishes.
    pub fn new(inner: S, on_removed: impl FnOnce() + 'static) -> Self {
        Self {
            inner,
            on_removed: Some(Box::new(on_removed)),
        }
    }
}

impl<S: EventSource> EventSource for Watched<S> {
    type Event = S::Event;
    type Metadata = S::Metadata;
    type Ret = S::Ret;
    type Error = S::Error;

    fn process_events<F>(
        &mut self,
        readiness: Readiness,
        token: Token,
        callback: F,
    ) -> Result<PostAction, Self::Error>
    where
        F: FnMut(Self::Event, &mut Self::Metadata) -> Self::Ret,
    {
        let action = self.inner.process_events(readiness, token, callback)?;
        if matches!(action, PostAction::Remove) {
            if let Some(f) = self.on_removed.take() {
                f();
            }
        }
        Ok(action)
    }

    fn register(&mut self, poll: &mut Poll, factory: &mut TokenFactory) -> calloop::Result<()> {
        self.inner.register(poll, factory)
    }

    fn reregister(&mut self, poll: &mut Poll, factory: &mut TokenFactory) -> calloop::Result<()> {
        self.inner.reregister(poll, factory)
    }

    fn unregister(&mut self, poll: &mut Poll) -> calloop::Result<()> {
        self.inner.unregister(poll)
    }
}
