/// An Engine.IO protocol revision, as given by the `EIO` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Revision {
    /// `EIO=3` (Socket.IO 1.x and 2.x). Its framing also covers revision 2, which has no
    /// binary packets.
    V3,
    /// `EIO=4` (Socket.IO 3.x and 4.x).
    V4,
}

impl Revision {
    /// Reads the value of the `EIO` query parameter: `"3"` or `"4"`.
    ///
    /// Anything else, including `"2"`, gives `None`: the caller decides whether to treat an
    /// unknown value as a bad request or, as a Node server with `allowEIO3` does, as V3.
    ///
    /// ```
    /// use sio_engineio_proto::Revision;
    /// assert_eq!(Revision::from_query("4"), Some(Revision::V4));
    /// assert_eq!(Revision::from_query("abc"), None);
    /// ```
    pub fn from_query(eio: &str) -> Option<Revision> {
        match eio {
            "3" => Some(Revision::V3),
            "4" => Some(Revision::V4),
            _ => None,
        }
    }

    /// The value to send as the `EIO` query parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            Revision::V3 => "3",
            Revision::V4 => "4",
        }
    }
}

impl std::fmt::Display for Revision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
