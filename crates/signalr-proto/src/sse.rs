//! Server-sent events framing (the HTML living standard's event stream), as far as SignalR uses
//! it: the `data` of each event, in order. Lines end with CRLF, LF or CR; comments (`:`) and the
//! other fields are skipped. Bounded: an event longer than the limit is an error, not a buffer that
//! grows without end.

/// An event stream that breaks the limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    /// An event (its data plus the line being read) is longer than the decoder's limit.
    #[error("a server-sent event is over {max} bytes long")]
    TooLarge {
        /// The limit in bytes.
        max: usize,
    },
}

/// Reads an event stream fed in chunks of any size.
#[derive(Debug, Clone)]
pub struct SseDecoder {
    line: Vec<u8>,
    data: Vec<u8>,
    has_data: bool,
    /// The previous chunk ended with CR: an LF at the start of the next belongs to it.
    after_cr: bool,
    at_start: bool,
    max_event_len: usize,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

impl SseDecoder {
    /// A decoder refusing events (their data plus the line being read) over `max_event_len` bytes.
    pub fn new(max_event_len: usize) -> Self {
        Self {
            line: Vec::new(),
            data: Vec::new(),
            has_data: false,
            after_cr: false,
            at_start: true,
            max_event_len,
        }
    }

    /// Reads `chunk`, appending the data of each event it completes to `events`.
    pub fn feed(&mut self, mut chunk: &[u8], events: &mut Vec<Vec<u8>>) -> Result<(), SseError> {
        if self.at_start {
            // A byte-order mark may start the stream; wait for enough bytes to tell.
            let mut head = std::mem::take(&mut self.line);
            head.extend_from_slice(chunk);
            if head.len() < BOM.len() && BOM.starts_with(&head) {
                self.line = head;
                return Ok(());
            }
            self.at_start = false;
            let body = head.strip_prefix(BOM).unwrap_or(&head);
            return self.feed_lines(body, events);
        }
        if self.after_cr && !chunk.is_empty() {
            self.after_cr = false;
            if let Some(rest) = chunk.strip_prefix(b"\n") {
                chunk = rest;
            }
        }
        self.feed_lines(chunk, events)
    }

    fn feed_lines(&mut self, mut chunk: &[u8], events: &mut Vec<Vec<u8>>) -> Result<(), SseError> {
        loop {
            let Some(end) = memchr::memchr2(b'\r', b'\n', chunk) else {
                self.grow_line(chunk)?;
                return Ok(());
            };
            self.grow_line(chunk.get(..end).unwrap_or_default())?;
            self.end_line(events);
            let cr = chunk.get(end) == Some(&b'\r');
            let mut next = end + 1;
            if cr {
                match chunk.get(next) {
                    Some(b'\n') => next += 1,
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            chunk = chunk.get(next..).unwrap_or_default();
        }
    }

    fn grow_line(&mut self, bytes: &[u8]) -> Result<(), SseError> {
        if self.data.len() + self.line.len() + bytes.len() > self.max_event_len {
            return Err(SseError::TooLarge {
                max: self.max_event_len,
            });
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    fn end_line(&mut self, events: &mut Vec<Vec<u8>>) {
        let line = std::mem::take(&mut self.line);
        if line.is_empty() {
            if self.has_data {
                // Each data line added its value and an LF; the last LF is not part of the data.
                self.data.pop();
                events.push(std::mem::take(&mut self.data));
            }
            self.data.clear();
            self.has_data = false;
            return;
        }
        let (field, value) = match memchr::memchr(b':', &line) {
            Some(0) => return,
            Some(colon) => {
                let value = line.get(colon + 1..).unwrap_or_default();
                let value = value.strip_prefix(b" ").unwrap_or(value);
                (line.get(..colon).unwrap_or_default(), value)
            }
            None => (line.as_slice(), &[][..]),
        };
        if field == b"data" {
            self.data.extend_from_slice(value);
            self.data.push(b'\n');
            self.has_data = true;
        }
        self.line = line;
        self.line.clear();
    }
}
