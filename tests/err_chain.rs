//! Errors keep their source chain whatever shape they come in: a concrete
//! `Error`, `Box<dyn Error>` (with or without `Send + Sync`), and types that
//! deref to `dyn Error` (`anyhow::Error`), through `#[with_logger(err)]` and
//! through `err = &e` in the level macros.

use std::error::Error;
use std::fmt;

use anyhow::Context as _;
use loglayer::transport::CaptureTransport;
use loglayer::{with_logger, LogLayer};
use serde_json::{json, Value};

/// `outer` caused by `middle` caused by `root cause`.
#[derive(Debug)]
struct Layer {
    message: &'static str,
    source: Option<Box<Layer>>,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message)
    }
}

impl Error for Layer {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

fn chain() -> Layer {
    Layer {
        message: "outer",
        source: Some(Box::new(Layer {
            message: "middle",
            source: Some(Box::new(Layer {
                message: "root cause",
                source: None,
            })),
        })),
    }
}

fn anyhow_chain() -> anyhow::Error {
    Err::<(), _>(std::io::Error::other("disk full"))
        .context("writing the journal")
        .context("saving order 7")
        .unwrap_err()
}

/// Runs `f` in a scope of a capturing logger; returns the `err` object of
/// each entry.
fn errors_of(f: impl FnOnce()) -> Vec<Value> {
    let capture = CaptureTransport::new();
    loglayer::sync_scope(LogLayer::new(capture.clone()), f);
    capture
        .entries()
        .into_iter()
        .map(|e| e["err"].clone())
        .collect()
}

fn outer_chain() -> Value {
    json!({ "message": "outer", "sources": ["middle", "root cause"] })
}

fn anyhow_value() -> Value {
    json!({ "message": "saving order 7", "sources": ["writing the journal", "disk full"] })
}

// ----------------------------------------------------------------------------
// `#[with_logger(err)]`

#[with_logger(err)]
fn concrete() -> Result<(), Layer> {
    Err(chain())
}

#[with_logger(err)]
fn boxed_send_sync() -> Result<(), Box<dyn Error + Send + Sync>> {
    Err(Box::new(chain()))
}

#[with_logger(err)]
fn boxed_local() -> Result<(), Box<dyn Error>> {
    Err(chain().into())
}

#[with_logger(err, context(order = 7))]
fn with_anyhow() -> anyhow::Result<()> {
    Err(anyhow_chain())
}

#[with_logger(err)]
async fn with_anyhow_async() -> anyhow::Result<()> {
    Err(anyhow_chain())
}

#[with_logger(err)]
fn boxed_concrete() -> Result<(), Box<Layer>> {
    Err(Box::new(chain()))
}

#[with_logger(err)]
fn display_only() -> Result<(), String> {
    Err("just text".to_owned())
}

#[test]
fn the_attribute_keeps_the_chain_of_every_error_shape() {
    let errors = errors_of(|| {
        let _ = concrete();
        let _ = boxed_send_sync();
        let _ = boxed_local();
        let _ = with_anyhow();
        let _ = futures::executor::block_on(with_anyhow_async());
        let _ = boxed_concrete();
        let _ = display_only();
    });
    assert_eq!(
        errors,
        [
            outer_chain(),
            outer_chain(),
            outer_chain(),
            anyhow_value(),
            anyhow_value(),
            outer_chain(),
            json!({ "message": "just text", "sources": [] }),
        ]
    );
}

// ----------------------------------------------------------------------------
// `err = &e` in the level macros

#[test]
fn the_level_macros_keep_the_chain_of_every_error_shape() {
    let concrete = chain();
    let boxed: Box<dyn Error> = Box::new(chain());
    let boxed_send_sync: Box<dyn Error + Send + Sync> = Box::new(chain());
    let anyhow = anyhow_chain();
    let io = std::io::Error::other(chain());

    let errors = errors_of(|| {
        loglayer::error!(err = &concrete, "concrete");
        loglayer::error!(err = &boxed, "boxed");
        loglayer::error!(err = &*boxed, "deref'd box");
        loglayer::error!(err = &boxed_send_sync, "boxed send sync");
        loglayer::warn!(err = &anyhow, kind = "anyhow", "anyhow");
        loglayer::info!(err = anyhow, "anyhow by place");
        loglayer::error!(err = &io, "io");
        loglayer::error!(err = &&concrete, "double reference");
    });
    let io_value = json!({ "message": "outer", "sources": ["middle", "root cause"] });
    assert_eq!(
        errors,
        [
            outer_chain(),
            outer_chain(),
            outer_chain(),
            outer_chain(),
            anyhow_value(),
            anyhow_value(),
            io_value,
            outer_chain(),
        ]
    );
}
