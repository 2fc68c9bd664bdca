//! The response body: whole, or cut short and followed by a dropped connection.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

/// How long a cut body waits after its last bytes before failing, so they are flushed first.
const FLUSH_GRACE: Duration = Duration::from_millis(20);

/// A response body: bytes, optionally followed by an error that makes hyper drop the
/// connection (the client sees headers and a truncated body).
#[derive(Debug)]
pub struct ApiBody {
    data: Option<Bytes>,
    fail: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl ApiBody {
    /// A complete body.
    pub fn full(data: impl Into<Bytes>) -> Self {
        Self {
            data: Some(data.into()),
            fail: None,
        }
    }

    /// A body that sends `data` and then drops the connection.
    pub fn truncated(data: impl Into<Bytes>) -> Self {
        Self {
            data: Some(data.into()),
            fail: Some(Box::pin(tokio::time::sleep(FLUSH_GRACE))),
        }
    }
}

impl Body for ApiBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let this = self.get_mut();
        if let Some(data) = this.data.take()
            && !data.is_empty()
        {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        if let Some(sleep) = this.fail.as_mut() {
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.fail = None;
            return Poll::Ready(Some(Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "injected fault: connection dropped in the middle of the body",
            ))));
        }
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.data.as_ref().is_none_or(Bytes::is_empty) && self.fail.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        match (&self.data, &self.fail) {
            (Some(data), None) => SizeHint::with_exact(data.len() as u64),
            (None, None) => SizeHint::with_exact(0),
            _ => SizeHint::default(),
        }
    }
}
