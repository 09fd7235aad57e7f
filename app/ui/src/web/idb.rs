//! The web core's offline copy in IndexedDB: one object store of JSON documents by key.
//!
//! Each document is written whole in one IndexedDB transaction, so what belongs together (a
//! stream's cursor and its entries) is always stored together: a reload never sees a cursor
//! ahead of its entries. Chosen over SQLite on OPFS: no SQLite build for wasm and no worker
//! (OPFS's synchronous handles exist only in workers), and the data is a few documents read
//! whole at start-up.

use std::cell::RefCell;

use js_sys::Promise;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbRequest, IdbTransactionMode};

use super::error::{Result, WebError};

const DB_NAME: &str = "oddxer";
const DB_VERSION: u32 = 1;
const STORE: &str = "documents";

thread_local! {
    static DB: RefCell<Option<IdbDatabase>> = const { RefCell::new(None) };
}

fn storage_error(context: &str, e: JsValue) -> WebError {
    let detail = e
        .dyn_ref::<web_sys::DomException>()
        .map(|d| d.message())
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "unknown error".to_owned());
    WebError::Storage(format!("{context}: {detail}"))
}

/// Waits for an IndexedDB request to succeed or fail.
async fn done(request: &IdbRequest) -> Result<JsValue> {
    let promise = Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    JsFuture::from(promise)
        .await
        .map_err(|e| storage_error("request", e))?;
    request.result().map_err(|e| storage_error("result", e))
}

async fn db() -> Result<IdbDatabase> {
    if let Some(db) = DB.with(|d| d.borrow().clone()) {
        return Ok(db);
    }
    let factory = web_sys::window()
        .ok_or_else(|| WebError::Storage("no window".into()))?
        .indexed_db()
        .map_err(|e| storage_error("indexedDB", e))?
        .ok_or_else(|| WebError::Storage("IndexedDB is not available".into()))?;
    let open = factory
        .open_with_u32(DB_NAME, DB_VERSION)
        .map_err(|e| storage_error("open", e))?;
    let upgrade_target = open.clone();
    let upgrade = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::Event)>::new(
        move |_event: web_sys::Event| {
            // Version 1: one store of documents by key.
            if let Ok(result) = upgrade_target.result() {
                if let Ok(db) = result.dyn_into::<IdbDatabase>() {
                    if !db.object_store_names().contains(STORE) {
                        // A failure here fails the open request itself.
                        let _ = db.create_object_store(STORE);
                    }
                }
            }
        },
    );
    open.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
    let result = done(&open).await;
    open.set_onupgradeneeded(None);
    drop(upgrade);
    let db: IdbDatabase = result?
        .dyn_into()
        .map_err(|e| storage_error("open result", e))?;
    DB.with(|d| *d.borrow_mut() = Some(db.clone()));
    Ok(db)
}

/// The document stored under `key`, if any.
pub async fn get(key: &str) -> Result<Option<String>> {
    let db = db().await?;
    let tx = db
        .transaction_with_str(STORE)
        .map_err(|e| storage_error("transaction", e))?;
    let store = tx
        .object_store(STORE)
        .map_err(|e| storage_error("store", e))?;
    let request = store
        .get(&JsValue::from_str(key))
        .map_err(|e| storage_error("get", e))?;
    Ok(done(&request).await?.as_string())
}

/// Stores `value` under `key`, replacing it; answers once the transaction committed.
pub async fn put(key: &str, value: &str) -> Result<()> {
    write(key, value).await
}

async fn write(key: &str, value: &str) -> Result<()> {
    let db = db().await?;
    let tx = db
        .transaction_with_str_and_mode(STORE, IdbTransactionMode::Readwrite)
        .map_err(|e| storage_error("transaction", e))?;
    let committed = Promise::new(&mut |resolve, reject| {
        tx.set_oncomplete(Some(&resolve));
        tx.set_onerror(Some(&reject));
        tx.set_onabort(Some(&reject));
    });
    let store = tx
        .object_store(STORE)
        .map_err(|e| storage_error("store", e))?;
    store
        .put_with_key(&JsValue::from_str(value), &JsValue::from_str(key))
        .map_err(|e| storage_error("write", e))?;
    JsFuture::from(committed)
        .await
        .map_err(|e| storage_error("commit", e))?;
    Ok(())
}
