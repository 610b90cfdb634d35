//! The reads of one refresh that several resource types need (every security group of the
//! stack for the groups and their rules, the environment's description for the environment and
//! its properties, ...): each is made once, by whichever type asks first, and shared. A new
//! `Reads` per refresh, so nothing read is ever stale.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use super::DeployError;

type Cell = Arc<OnceCell<Arc<dyn Any + Send + Sync>>>;

#[derive(Default)]
pub struct Reads {
    cells: Mutex<HashMap<String, Cell>>,
}

impl Reads {
    /// The answer of the read named `key`, made by `read` the first time it is asked for
    /// (concurrent askers wait for that one call). A failed read is not kept: the next asker
    /// tries again.
    pub async fn once<T, F>(&self, key: impl Into<String>, read: F) -> Result<Arc<T>, DeployError>
    where
        T: Send + Sync + 'static,
        F: Future<Output = Result<T, DeployError>>,
    {
        let key = key.into();
        let cell = {
            let mut cells = self.cells.lock().unwrap_or_else(|p| p.into_inner());
            cells.entry(key.clone()).or_default().clone()
        };
        let any = cell
            .get_or_try_init(|| async {
                read.await
                    .map(|t| Arc::new(t) as Arc<dyn Any + Send + Sync>)
            })
            .await?
            .clone();
        any.downcast::<T>().map_err(|_| {
            DeployError::other(
                "stackc",
                format!("the read `{key}` was asked for as two types"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn a_read_is_made_once_and_shared() {
        let reads = Reads::default();
        let calls = AtomicUsize::new(0);
        let read = || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok::<_, DeployError>(7u32)
        };
        let (a, b) = tokio::join!(reads.once("k", read()), reads.once("k", read()));
        assert_eq!((*a.unwrap(), *b.unwrap()), (7, 7));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(reads.once("k", async { Ok("text") }).await.is_err());
    }
}
