//! Terminal styling and JSON lines, shared by the subcommands.

use std::fmt::Display;
use std::io::{IsTerminal, Write};

/// ANSI styling that is on only when stdout is a terminal, `--json` is off and `NO_COLOR` is
/// unset (<https://no-color.org>).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    color: bool,
}

impl Style {
    /// Chooses colours for stdout.
    pub(crate) fn for_stdout(json: bool) -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style {
            color: !json && !no_color && std::io::stdout().is_terminal(),
        }
    }

    fn paint(self, code: &str, text: impl Display) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub(crate) fn bold(self, text: impl Display) -> String {
        self.paint("1", text)
    }

    pub(crate) fn dim(self, text: impl Display) -> String {
        self.paint("2", text)
    }

    pub(crate) fn red(self, text: impl Display) -> String {
        self.paint("31", text)
    }

    pub(crate) fn green(self, text: impl Display) -> String {
        self.paint("32", text)
    }

    pub(crate) fn yellow(self, text: impl Display) -> String {
        self.paint("33", text)
    }

    pub(crate) fn cyan(self, text: impl Display) -> String {
        self.paint("36", text)
    }

    pub(crate) fn magenta(self, text: impl Display) -> String {
        self.paint("35", text)
    }
}

/// Prints `value` as one line of JSON on stdout.
/// The time of a printed line: UTC to the millisecond, always with three digits so that lines
/// align; RFC 3339 in JSON, the time of day in text.
pub(crate) fn line_time(json: bool) -> String {
    let now = time::OffsetDateTime::now_utc();
    let time = format!(
        "{:02}:{:02}:{:02}.{:03}Z",
        now.hour(),
        now.minute(),
        now.second(),
        now.millisecond()
    );
    if json {
        format!(
            "{:04}-{:02}-{:02}T{time}",
            now.year(),
            u8::from(now.month()),
            now.day()
        )
    } else {
        time
    }
}

pub(crate) fn print_json_line(value: &impl serde::Serialize) {
    let line = serde_json::to_string(value).unwrap_or_else(|error| {
        serde_json::json!({ "error": format!("cannot write JSON: {error}") }).to_string()
    });
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`sio decode … | head`) is not worth a panic or an error message.
    let _ = writeln!(stdout, "{line}");
}

/// Writes `text` on stdout, ignoring a closed pipe.
pub(crate) fn print(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// `text` with control characters written as escapes (`\x1e`, `\n`…), so a frame echoed on the
/// terminal shows what it holds. At most `max` characters are kept.
pub(crate) fn escape_control(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max));
    for (count, c) in text.chars().enumerate() {
        if count >= max {
            out.push('…');
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                use std::fmt::Write as _;
                let code = u32::from(c);
                if code < 0x100 {
                    let _ = write!(out, "\\x{code:02x}");
                } else {
                    let _ = write!(out, "\\u{{{code:04x}}}");
                }
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_record_separator_and_cuts() {
        assert_eq!(escape_control("4a\x1e4b", 10), "4a\\x1e4b");
        assert_eq!(escape_control("abcdef", 3), "abc…");
        assert_eq!(escape_control("a\u{85}", 10), "a\\x85");
    }

    #[test]
    fn no_colour_when_json() {
        let style = Style::for_stdout(true);
        assert_eq!(style.red("x"), "x");
    }
}
