//! Query-string access for the few parameters Engine.IO reads.

use std::borrow::Cow;

/// The first value of `name` in a raw query string, percent-decoded.
pub(crate) fn get<'a>(query: &'a str, name: &str) -> Option<Cow<'a, str>> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
}

/// The parameters Engine.IO needs from a request.
#[derive(Debug, Default)]
pub(crate) struct EngineQuery {
    pub eio: Option<String>,
    pub transport: Option<String>,
    pub sid: Option<String>,
    pub b64: bool,
    /// JSONP index (`j`), digits only.
    pub jsonp: Option<String>,
}

impl EngineQuery {
    pub(crate) fn parse(query: &str) -> Self {
        let mut out = EngineQuery::default();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "EIO" if out.eio.is_none() => out.eio = Some(value.into_owned()),
                "transport" if out.transport.is_none() => out.transport = Some(value.into_owned()),
                "sid" if out.sid.is_none() => out.sid = Some(value.into_owned()),
                "b64" => out.b64 = !value.is_empty() && value != "0",
                // Node strips everything but digits from the index before using it.
                "j" if out.jsonp.is_none() => {
                    out.jsonp = Some(value.chars().filter(char::is_ascii_digit).collect())
                }
                _ => {}
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_engine_parameters() {
        let q = EngineQuery::parse("EIO=3&transport=polling&t=N8hyd6w&b64=1&j=0x1&sid=abc%2Bd");
        assert_eq!(q.eio.as_deref(), Some("3"));
        assert_eq!(q.transport.as_deref(), Some("polling"));
        assert_eq!(q.sid.as_deref(), Some("abc+d"));
        assert!(q.b64);
        assert_eq!(q.jsonp.as_deref(), Some("01"));
        assert_eq!(get("a=1&b=x%20y", "b").as_deref(), Some("x y"));
    }
}
