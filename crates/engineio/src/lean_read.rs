//! Reading a WebSocket without a large buffer per connection.
//!
//! tungstenite reads into a buffer of its own per connection and never asks for more than that
//! buffer's size at once: a 4 KB buffer costs 4 KB per idle connection, a 1 KB one a read call
//! per kilobyte of a large message. [`LeanRead`] sits under it: each read from the connection
//! goes into one large buffer per thread, and what tungstenite cannot take yet waits in a spill
//! that exists only while it holds bytes. An idle connection then holds tungstenite's small
//! buffer and nothing else, and a large message still arrives in few reads from the socket.
//!
//! It also knows whether a read could make progress ([`LeanRead::may_read_or_wake`]): a session
//! task woken only to write need not poll tungstenite's reader, which zero-fills its buffer and
//! asks the socket again each time it is polled.

use std::{
    cell::RefCell,
    io,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll, Wake, Waker, ready},
};

use bytes::{Buf, Bytes};
use futures_util::task::AtomicWaker;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The size of the per-thread read buffer: the most one read from the connection takes.
const SCRATCH_SIZE: usize = 64 * 1024;

thread_local! {
    static SCRATCH: RefCell<Box<[u8]>> = RefCell::new(vec![0; SCRATCH_SIZE].into_boxed_slice());
}

/// A connection whose reads go through the thread's shared buffer (see the module docs).
#[derive(Debug)]
pub(crate) struct LeanRead<S> {
    inner: S,
    /// Bytes read from the connection that the reader has not taken yet.
    spill: Bytes,
    readable: Arc<Readable>,
    /// Wakes `readable`: what the connection is polled with, so that its readiness is seen.
    readable_waker: Waker,
}

/// Whether the connection may have bytes: false from a read that found none until the
/// connection wakes its reader.
#[derive(Debug)]
struct Readable {
    ready: AtomicBool,
    reader: AtomicWaker,
}

impl Wake for Readable {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.ready.store(true, Ordering::Release);
        self.reader.wake();
    }
}

impl<S> LeanRead<S> {
    pub(crate) fn new(inner: S) -> Self {
        let readable = Arc::new(Readable {
            ready: AtomicBool::new(true),
            reader: AtomicWaker::new(),
        });
        LeanRead {
            inner,
            spill: Bytes::new(),
            readable_waker: Waker::from(readable.clone()),
            readable,
        }
    }

    /// Whether polling the reader could make progress: false only after a read found nothing
    /// and before the connection signalled new bytes (or an error, or its end).
    fn may_read(&self) -> bool {
        !self.spill.is_empty() || self.readable.ready.load(Ordering::Acquire)
    }

    /// [`LeanRead::may_read`]; when false, `waker` is woken once it becomes true.
    pub(crate) fn may_read_or_wake(&self, waker: &Waker) -> bool {
        if self.may_read() {
            return true;
        }
        self.readable.reader.register(waker);
        // Readiness may have come between the check and the registration.
        self.may_read()
    }
}

impl<S: AsyncRead + Unpin> LeanRead<S> {
    fn take_spill(&mut self, buf: &mut ReadBuf<'_>) {
        let n = self.spill.len().min(buf.remaining());
        buf.put_slice(self.spill.get(..n).unwrap_or_default());
        self.spill.advance(n);
        if self.spill.is_empty() {
            // Free the allocation now rather than when the next spill replaces it.
            self.spill = Bytes::new();
        }
    }

    /// Reads from the connection, noting in `readable` whether it had anything.
    fn poll_inner(&mut self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        self.readable.reader.register(cx.waker());
        self.readable.ready.store(false, Ordering::Release);
        let mut inner_cx = Context::from_waker(&self.readable_waker);
        let result = Pin::new(&mut self.inner).poll_read(&mut inner_cx, buf);
        if result.is_ready() {
            self.readable.ready.store(true, Ordering::Release);
        }
        result
    }

    fn read_through(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
        scratch: &mut [u8],
    ) -> Poll<io::Result<()>> {
        let mut read = ReadBuf::new(scratch);
        ready!(self.poll_inner(cx, &mut read))?;
        let filled = read.filled();
        let (now, later) = filled.split_at(filled.len().min(buf.remaining()));
        buf.put_slice(now);
        if !later.is_empty() {
            self.spill = Bytes::copy_from_slice(later);
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for LeanRead<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.spill.is_empty() {
            this.take_spill(buf);
            return Poll::Ready(Ok(()));
        }
        if buf.remaining() >= SCRATCH_SIZE {
            return this.poll_inner(cx, buf);
        }
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut scratch) => this.read_through(cx, buf, &mut scratch),
            // Only a reader nested inside another's read would find it taken: read directly.
            Err(_) => this.poll_inner(cx, buf),
        })
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for LeanRead<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn small_reads_take_a_large_write_in_order_and_free_the_spill() {
        let (mut writer, reader) = tokio::io::duplex(256 * 1024);
        let message: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        writer.write_all(&message).await.unwrap();
        drop(writer);
        let mut lean = LeanRead::new(reader);
        let mut received = Vec::new();
        let mut chunk = [0u8; 1000];
        loop {
            let n = lean.read(&mut chunk).await.unwrap();
            if n == 0 {
                break;
            }
            assert!(n <= chunk.len());
            received.extend_from_slice(&chunk[..n]);
        }
        assert_eq!(received, message);
        assert!(lean.spill.is_empty());
    }

    #[tokio::test]
    async fn may_read_is_false_from_an_empty_read_until_bytes_arrive() {
        let (mut writer, reader) = tokio::io::duplex(1024);
        let mut lean = LeanRead::new(reader);
        assert!(lean.may_read(), "nothing is known before the first read");
        let mut chunk = [0u8; 16];
        let once = std::future::poll_fn(|cx| {
            let mut buf = ReadBuf::new(&mut chunk);
            Poll::Ready(Pin::new(&mut lean).poll_read(cx, &mut buf).is_pending())
        });
        assert!(once.await, "no bytes yet");
        assert!(!lean.may_read(), "the read found nothing");
        writer.write_all(b"hello").await.unwrap();
        assert!(lean.may_read(), "the connection woke its reader");
        let n = lean.read(&mut chunk).await.unwrap();
        assert_eq!(&chunk[..n], b"hello");
        drop(writer);
        let n = lean.read(&mut chunk).await.unwrap();
        assert_eq!(n, 0, "the end of the stream reads as 0 bytes");
        assert!(lean.may_read(), "an ended stream stays readable");
    }

    #[tokio::test]
    async fn a_read_larger_than_the_scratch_goes_straight_through() {
        let (mut writer, reader) = tokio::io::duplex(256 * 1024);
        let message = vec![7u8; 3 * SCRATCH_SIZE];
        writer.write_all(&message).await.unwrap();
        drop(writer);
        let mut lean = LeanRead::new(reader);
        let mut received = Vec::new();
        lean.read_to_end(&mut received).await.unwrap();
        assert_eq!(received, message);
    }
}
