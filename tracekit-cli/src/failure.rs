//! How a subcommand fails, and the exit status each failure gives.

use std::{fmt, process::ExitCode};

/// Exit status of a usage or configuration error found before any work.
pub(crate) const EXIT_USAGE: u8 = 2;
/// Exit status of a run in which some work failed.
pub(crate) const EXIT_FAILED: u8 = 1;
/// Exit status of a run stopped by SIGINT (128 + 2, as shells report it).
pub(crate) const EXIT_INTERRUPTED: u8 = 130;

/// Most workers `--workers` accepts: far more than any machine's cores, few
/// enough that a typo does not start a million threads or processes.
pub(crate) const MAX_WORKERS: usize = 1024;

/// Parses `--workers N`: 1 to [`MAX_WORKERS`].
pub(crate) fn parse_workers(text: &str) -> Result<std::num::NonZeroUsize, String> {
    match text.trim().parse::<usize>() {
        Ok(n @ 1..=MAX_WORKERS) => {
            Ok(std::num::NonZeroUsize::new(n).unwrap_or(std::num::NonZeroUsize::MIN))
        }
        Ok(n) => Err(format!("must be between 1 and {MAX_WORKERS}, got {n}")),
        Err(_) => Err(format!(
            "must be a whole number between 1 and {MAX_WORKERS}, got '{text}'"
        )),
    }
}

/// Why a subcommand did not succeed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Bad arguments or configuration (a spec that does not load, an unknown
    /// `--keep` step, an executor this build lacks), found before any work:
    /// exit status 2, like clap's own usage errors.
    Usage(String),
    /// The work itself failed (a stage, an input file, writing an output):
    /// exit status 1.
    Failed(String),
    /// SIGINT stopped the work between inputs: exit status 130.
    Interrupted(String),
}

impl Failure {
    /// The process exit status for this failure.
    pub(crate) fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Failure::Usage(_) => EXIT_USAGE,
            Failure::Failed(_) => EXIT_FAILED,
            Failure::Interrupted(_) => EXIT_INTERRUPTED,
        })
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(m) | Failure::Failed(m) | Failure::Interrupted(m) => f.write_str(m),
        }
    }
}

impl From<tracekit::Error> for Failure {
    /// A library error: a usage error when its class says it is the
    /// caller's configuration (a bad argument, wiring, an unknown name),
    /// else a failure of the work.
    fn from(err: tracekit::Error) -> Failure {
        if err.class().is_usage() {
            Failure::Usage(err.to_string())
        } else {
            Failure::Failed(err.to_string())
        }
    }
}

impl From<tracekit::CoreError> for Failure {
    fn from(err: tracekit::CoreError) -> Failure {
        tracekit::Error::from(err).into()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tracekit::{CoreError, Error};

    use super::*;

    #[test]
    fn exit_codes_follow_the_error_class() {
        let usage: Failure = Error::InvalidExecutor { got: "gpu".into() }.into();
        assert_eq!(usage.exit_code(), ExitCode::from(EXIT_USAGE));
        let wiring: Failure = CoreError::EmptyPipeline.into();
        assert_eq!(wiring.exit_code(), ExitCode::from(EXIT_USAGE));
        let timeout: Failure = CoreError::Timeout {
            step: "s".into(),
            limit: Duration::from_secs(1),
        }
        .into();
        assert_eq!(timeout.exit_code(), ExitCode::from(EXIT_FAILED));
        let stage: Failure = CoreError::batch(
            1,
            CoreError::Stage {
                step: "s".into(),
                source: "no".into(),
            },
        )
        .into();
        assert_eq!(stage.exit_code(), ExitCode::from(EXIT_FAILED));
        assert_eq!(
            stage.to_string(),
            "Batch input 1 failed: Stage 's' failed: no"
        );
    }
}
