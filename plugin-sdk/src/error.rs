//! The error a strategy returns: a text for the plugin's author, made from a string or from any
//! error with `?`. The host keeps it for `importhook try` (and for `serve`'s logs only when the
//! operator turns on `log_plugin_messages`); Okta never gets it.

/// Why a strategy call ([`crate::Strategy::transform`]) or a `[config]` check
/// ([`crate::Strategy::validate_config`]) failed.
///
/// Made with `?` from any [`std::error::Error`] (its sources are appended, `outer: inner`),
/// or with `.into()` / [`Error::new`] from text:
///
/// ```
/// use importhook_sdk::Error;
///
/// fn limit(text: &str) -> Result<u32, Error> {
///     let n: u32 = text.parse()?;
///     if n == 0 {
///         return Err("the limit must be positive".into());
///     }
///     Ok(n)
/// }
///
/// assert_eq!(limit("7").unwrap(), 7);
/// assert_eq!(limit("x").unwrap_err().message(), "invalid digit found in string");
/// assert_eq!(limit("0").unwrap_err().to_string(), "the limit must be positive");
/// ```
///
/// Like `anyhow::Error`, it does not implement [`std::error::Error`] itself: that is what lets
/// every error convert into it (the conversion would otherwise overlap with `From<T> for T`).
/// Its text may be read by people who should not see personal data: say what went wrong
/// (`"no middle name to resolve the login conflict"`), not whose it was.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
}

impl Error {
    /// An error with `message`.
    pub fn new(message: impl std::fmt::Display) -> Self {
        Self {
            message: message.to_string(),
        }
    }

    /// The text the host reports.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The text the host reports, owned.
    pub fn into_message(self) -> String {
        self.message
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The text itself: what `unwrap` in a test prints.
        f.debug_tuple("Error").field(&self.message).finish()
    }
}

/// Text (`String`, `&str`, `Cow<str>`) and every [`std::error::Error`] convert the way
/// `Box<dyn Error>` takes them: one impl covers all three.
impl<E> From<E> for Error
where
    E: Into<Box<dyn std::error::Error>>,
{
    fn from(error: E) -> Self {
        let error: Box<dyn std::error::Error> = error.into();
        let mut message = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        Self { message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(std::num::ParseIntError);

    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("bad max_length")
        }
    }

    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    fn parse(text: &str) -> Result<i64, Error> {
        let n: i64 = text.parse().map_err(Outer)?;
        Ok(n)
    }

    #[test]
    fn text_and_errors_convert_with_their_sources() {
        assert_eq!(Error::from("plain").message(), "plain");
        assert_eq!(Error::from(String::from("owned")).to_string(), "owned");
        assert_eq!(Error::new(format_args!("n = {}", 3)).message(), "n = 3");
        assert_eq!(
            parse("x").unwrap_err().message(),
            "bad max_length: invalid digit found in string"
        );
        assert_eq!(parse("12"), Ok(12));
        let io = std::io::Error::other("disk on fire");
        assert_eq!(Error::from(io).into_message(), "disk on fire");
        assert_eq!(format!("{:?}", Error::from("x")), "Error(\"x\")");
    }
}
