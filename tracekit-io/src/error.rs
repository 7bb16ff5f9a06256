//! The errors of reading and writing captures.

use tracekit_core::ErrorClass;

/// What went wrong reading or writing a capture file.
///
/// Every message starts with the file's path; a file that could not be
/// understood also names the format it looks like and what is wrong:
///
/// ```
/// let err = tracekit_io::read("no/such/capture.wfm").unwrap_err();
/// assert!(err.to_string().starts_with("no/such/capture.wfm: "));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The operating system refused to read or write the file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// The file looks like `format` but cannot be read as one.
    #[error("{path}: {format}: {message}")]
    Format {
        /// The file.
        path: String,
        /// The format the file looks like (`"Rigol WFM"`, `"WAV"`, ...).
        format: &'static str,
        /// What is wrong, with the numbers (`truncated: header says ...`).
        message: String,
    },

    /// No reader recognises the file.
    #[error("{path}: unknown file type: {message}")]
    Unknown {
        /// The file.
        path: String,
        /// What the file starts with, and what tracekit reads.
        message: String,
    },

    /// An option that cannot work (an output format name, a limit of zero...).
    #[error("{0}")]
    InvalidOption(String),
}

impl Error {
    /// How a caller should treat this error: a file that cannot be opened,
    /// read, understood or written is [`ErrorClass::Io`]; a bad option
    /// [`ErrorClass::InvalidArgument`].
    ///
    /// ```
    /// use tracekit_core::ErrorClass;
    ///
    /// let err = tracekit_io::read("no/such/capture.wfm").unwrap_err();
    /// assert_eq!(err.class(), ErrorClass::Io);
    /// ```
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::Io { .. } | Error::Format { .. } | Error::Unknown { .. } => ErrorClass::Io,
            Error::InvalidOption(_) => ErrorClass::InvalidArgument,
        }
    }

    /// The file the error is about, where there is one.
    pub fn path(&self) -> Option<&str> {
        match self {
            Error::Io { path, .. } | Error::Format { path, .. } | Error::Unknown { path, .. } => {
                Some(path)
            }
            Error::InvalidOption(_) => None,
        }
    }
}

/// What a reader found wrong with a file; the registry adds the path and the
/// format's name to make an [`Error`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bad(pub(crate) String);

impl From<String> for Bad {
    fn from(message: String) -> Bad {
        Bad(message)
    }
}

impl From<&str> for Bad {
    fn from(message: &str) -> Bad {
        Bad(message.to_owned())
    }
}

impl From<tracekit_core::Error> for Bad {
    fn from(e: tracekit_core::Error) -> Bad {
        Bad(e.to_string())
    }
}

/// Shorthand for a reader's result.
pub(crate) type Result<T> = std::result::Result<T, Bad>;

/// Returns early with a [`Bad`] built like `format!`.
macro_rules! bail {
    ($($arg:tt)*) => {
        return Err($crate::error::Bad(format!($($arg)*)))
    };
}
pub(crate) use bail;
