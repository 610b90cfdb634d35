//! Container images of the services built from a Dockerfile: the content hash of a build
//! context that names an image (`context.rs`, honouring `.dockerignore` with Docker's own
//! pattern semantics, `ignore.rs`), the container CLI that builds, logs in and pushes
//! (`cli.rs`: docker or podman, each command a list of arguments with a deadline), and the
//! architecture an instance type runs (`platform.rs`).
//!
//! Unlike the core (syntax, check, lower), this module does IO: it reads the build context and
//! runs the container CLI. It is synchronous (plain threads and processes, no async runtime), so
//! it builds without the `aws` feature; the deploy side calls it from blocking tasks.

pub mod cli;
pub mod context;
mod ignore;
pub mod platform;

pub use cli::{CliError, ContainerCli, DetectError, Digest, ImageRef, Kind, RefError, Unusable};
pub use context::{BuildSpec, ContentHash, ContextError, content_hash, sent_entries};
pub use platform::Platform;
