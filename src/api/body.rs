//! Reading a response body into one buffer. A list page is megabytes that arrive in thousands
//! of chunks: collecting the chunks and then joining them held the page twice, and each chunk
//! kept its whole read buffer alive (at 100,000 pods that was 10 MB of a 15 MB heap for a
//! 3.7 MB page). Here each chunk is copied into a buffer sized from `Content-Length` and let
//! go at once, and a body past [`LIMIT`] is refused instead of read on.

use bytes::Buf;
use http_body::Body;
use http_body_util::BodyExt;

/// The most of one response rounds reads: a page of 10,000 objects (the largest `--page-size`)
/// of 50 KiB each. A longer body is endless or not a page; reading it on would only end in
/// the Job's OOM kill.
pub const LIMIT: usize = 512 << 20;

#[derive(Debug, PartialEq, Eq)]
pub enum BodyError {
    /// The connection broke while the body streamed.
    Cut(String),
    /// The body went past the limit (its size is what had arrived when reading stopped).
    TooLarge { limit: usize },
}

/// The whole body, or why not. `expected` is the response's `Content-Length`, if it gave one:
/// a hint for the buffer only (capped at `limit`), since the body may still be cut short.
pub async fn read<B>(mut body: B, expected: Option<u64>, limit: usize) -> Result<Vec<u8>, BodyError>
where
    B: Body + Unpin,
    B::Error: std::fmt::Display,
{
    let hint = expected.map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX).min(limit));
    let mut buf = Vec::with_capacity(hint);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| BodyError::Cut(e.to_string()))?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        if buf.len() + data.remaining() > limit {
            return Err(BodyError::TooLarge { limit });
        }
        put(&mut buf, data);
    }
    Ok(buf)
}

/// Appends a chunk, which is then dropped: its read buffer goes back at once.
fn put(buf: &mut Vec<u8>, mut data: impl Buf) {
    while data.has_remaining() {
        let chunk = data.chunk();
        buf.extend_from_slice(chunk);
        let n = chunk.len();
        data.advance(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http_body::Frame;
    use http_body_util::StreamBody;

    type Frames = std::vec::IntoIter<Result<Frame<Bytes>, std::io::Error>>;

    fn chunks(
        parts: Vec<Result<&'static str, &'static str>>,
    ) -> StreamBody<futures::stream::Iter<Frames>> {
        let frames: Vec<_> = parts
            .into_iter()
            .map(|p| match p {
                Ok(s) => Ok(Frame::data(Bytes::from_static(s.as_bytes()))),
                Err(e) => Err(std::io::Error::other(e)),
            })
            .collect();
        StreamBody::new(futures::stream::iter(frames))
    }

    #[tokio::test]
    async fn chunks_are_joined_in_order_whatever_the_length_hint() {
        for hint in [None, Some(0), Some(3), Some(11), Some(u64::MAX)] {
            let body = chunks(vec![Ok("{\"items\""), Ok(":"), Ok("[]}")]);
            let got = read(body, hint, 1 << 20).await.expect("read");
            assert_eq!(got, b"{\"items\":[]}", "hint {hint:?}");
            assert!(
                got.capacity() <= (1 << 20),
                "the hint is capped at the limit"
            );
        }
    }

    #[tokio::test]
    async fn a_body_past_the_limit_is_refused_and_a_cut_one_is_an_error() {
        let body = chunks(vec![Ok("12345"), Ok("67890"), Ok("x")]);
        assert_eq!(
            read(body, None, 10).await,
            Err(BodyError::TooLarge { limit: 10 })
        );
        let exactly = chunks(vec![Ok("12345"), Ok("67890")]);
        assert_eq!(read(exactly, None, 10).await.expect("read").len(), 10);
        let cut = chunks(vec![Ok("{\"items\":["), Err("connection reset")]);
        assert_eq!(
            read(cut, Some(100), 1 << 20).await,
            Err(BodyError::Cut("connection reset".into()))
        );
        assert_eq!(
            read(chunks(vec![]), None, 10).await.expect("read"),
            b"",
            "an empty body is read as empty; the caller judges it"
        );
    }
}
