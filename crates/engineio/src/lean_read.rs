//! Reading a WebSocket without a large buffer per connection.
//!
//! tungstenite reads into a buffer of its own per connection and never asks for more than that
//! buffer's size at once: a 4 KB buffer costs 4 KB per idle connection, a 1 KB one a read call
//! per kilobyte of a large message. [`LeanRead`] sits under it: each read from the connection
//! goes into one large buffer per thread, and what tungstenite cannot take yet waits in a spill
//! that exists only while it holds bytes. An idle connection then holds tungstenite's small
//! buffer and nothing else, and a large message still arrives in few reads from the socket.

use std::{
    cell::RefCell,
    io,
    pin::Pin,
    task::{Context, Poll, ready},
};

use bytes::{Buf, Bytes};
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
}

impl<S> LeanRead<S> {
    pub(crate) fn new(inner: S) -> Self {
        LeanRead {
            inner,
            spill: Bytes::new(),
        }
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

    fn read_through(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
        scratch: &mut [u8],
    ) -> Poll<io::Result<()>> {
        let mut read = ReadBuf::new(scratch);
        ready!(Pin::new(&mut self.inner).poll_read(cx, &mut read))?;
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
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut scratch) => this.read_through(cx, buf, &mut scratch),
            // Only a reader nested inside another's read would find it taken: read directly.
            Err(_) => Pin::new(&mut this.inner).poll_read(cx, buf),
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
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
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
