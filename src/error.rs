//! The error pieces the library's error enums share: [`Failed`], an operation that failed (on
//! a file, a folder, a value) with what was being done, and [`Context`], which adds that to any
//! error as it is returned.

use std::fmt;

/// What was being done, and why it failed (when another error is the cause). The message is
/// complete on its own: the cause is part of it, so it is not also returned by `source()`
/// (which would print it twice in a chain).
#[derive(Debug)]
pub struct Failed {
    pub what: String,
    pub cause: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Failed {
    /// A failure with no other error behind it (a refused folder, a bad value).
    pub fn msg(what: impl Into<String>) -> Failed {
        Failed { what: what.into(), cause: None }
    }
}

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cause {
            Some(c) => write!(f, "{}: {c}", self.what),
            None => f.write_str(&self.what),
        }
    }
}

impl std::error::Error for Failed {}

/// A value out of range, naming its field (`num_pe`, `K`): what the `validate` methods of the
/// plain data types return, so every reader can point at the line that set the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FieldError {
    pub field: &'static str,
    /// The whole message, the field's name included.
    pub message: String,
}

/// `.context("reading x")` and `.with_context(|| format!(...))` on any result whose error is a
/// standard error: the error becomes a [`Failed`] saying what was being done.
pub trait Context<T> {
    fn context(self, what: &str) -> Result<T, Failed>;
    fn with_context(self, what: impl FnOnce() -> String) -> Result<T, Failed>;
}

impl<T, E: std::error::Error + Send + Sync + 'static> Context<T> for Result<T, E> {
    fn context(self, what: &str) -> Result<T, Failed> {
        self.map_err(|e| Failed { what: what.to_string(), cause: Some(Box::new(e)) })
    }
    fn with_context(self, what: impl FnOnce() -> String) -> Result<T, Failed> {
        self.map_err(|e| Failed { what: what(), cause: Some(Box::new(e)) })
    }
}

/// Returns early with a [`Failed`] message, converted into the function's error type.
macro_rules! refuse {
    ($($fmt:tt)*) => {
        return Err($crate::error::Failed::msg(format!($($fmt)*)).into())
    };
}
pub(crate) use refuse;
