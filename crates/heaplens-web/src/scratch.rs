//! Scratch space for archives in the page: the browser's origin-private
//! file system (OPFS), written and read through a
//! `FileSystemSyncAccessHandle` in the worker.
//!
//! A dropped `.zip`, `.gz` or `.zst` is unpacked by streaming into one OPFS
//! file (never into wasm memory, never uploaded), and the engine reads the
//! dump from there through the same `ReadAt` as any file. The worker's open
//! path is the whole API:
//!
//! ```text
//! let scratch = scratch::for_input(name, &head).await;  // None: not an archive
//! … open the dump with the scratch space …
//! let bytes = scratch.region(k);                       // the dump, for contents
//! … the dump is closed …
//! scratch.delete().await;                              // the file removed
//! ```
//!
//! The file lives as long as the dump is open: object contents (the
//! inspector, instances, strings, waste) read the unpacked dump from it.
//! The worker deletes it when the page closes the dump, or at once when
//! the open fails. One left by a worker stopped mid-way (Cancel ends it, as
//! does closing the tab) is deleted by the next open or the next start of
//! the page ([`sweep`]); a file another worker still holds open is
//! locked by its handle, so those never remove a dump in use. Its room
//! is what `navigator.storage.estimate()` says is left of the page's
//! quota; a zip entry larger than that is refused before it is unpacked,
//! and a write the browser refuses (`QuotaExceededError`) fails with that
//! message.
//!
//! **Kept copies.** The overview offers to keep the unpacked copy for a
//! faster reopen: the page writes a `.json` beside it ([`KeptCopy`], named
//! by [`marker_of`]), and the sweeps leave a scratch file with one alone.
//! The landing page lists them ([`kept_list`]) to open or delete; a dropped
//! archive of the same name, size and modification time is read from its
//! kept copy ([`open_kept`]) without being unpacked again.

use crate::protocol::KeptCopy;
use heaplens_archive::{NoScratch, Scratch, ScratchBytes, ScratchError, ScratchWriter};
use heaplens_bytes::{PageCache, ReadAt, ReadError};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    FileSystemDirectoryHandle, FileSystemFileHandle, FileSystemGetFileOptions,
    FileSystemReadWriteOptions, FileSystemSyncAccessHandle, StorageEstimate, StorageManager,
    WorkerGlobalScope,
};

/// Names of scratch files start with this.
const PREFIX: &str = "heaplens-scratch-";
/// Names of kept copies' descriptions start with this.
const KEPT_PREFIX: &str = "heaplens-kept-";

/// The name of the description that keeps scratch file `file`.
pub fn marker_of(file: &str) -> String {
    format!(
        "{KEPT_PREFIX}{}.json",
        file.strip_prefix(PREFIX).unwrap_or(file)
    )
}

/// The scratch space of one open: an OPFS file of its own.
pub struct OpfsScratch {
    dir: FileSystemDirectoryHandle,
    name: String,
    file: Rc<SyncFile>,
    /// Where the next scratch file starts (several archives nested: each
    /// is a region of the one OPFS file).
    end: Rc<Cell<u64>>,
    /// The regions written, in order: `(start, len)`.
    regions: Rc<std::cell::RefCell<Vec<(u64, u64)>>>,
    /// Room left at the start (quota − usage), when the browser says.
    room: Option<u64>,
}

/// The sync access handle, closed when dropped.
struct SyncFile(FileSystemSyncAccessHandle);

impl Drop for SyncFile {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// What the page's scratch space is, in words.
pub const LOCATION: &str = "this browser's private storage for the page";

/// The scratch space for opening `name`, prepared when its first bytes
/// (`head`) are an archive's: `None` for anything else; a [`NoScratch`]
/// with the reason when the browser gives none.
pub async fn for_input(name: &str, head: &[u8]) -> Option<Result<OpfsScratch, NoScratch>> {
    let format = heaplens_snapshot::detect(&head.to_vec()).ok()?;
    if !matches!(
        format.reader,
        heaplens_snapshot::format::Reader::Archive { .. }
    ) {
        return None;
    }
    Some(OpfsScratch::prepare(name).await.map_err(|why| {
        NoScratch(format!(
            "the browser gives this page no private storage to unpack {} into ({why}); unpack \
             it with your system's tools and open the dump itself",
            format.title
        ))
    }))
}

/// The origin's storage, from a worker or the page.
fn storage() -> Result<StorageManager, String> {
    let global = js_sys::global();
    if let Some(w) = global.dyn_ref::<web_sys::Window>() {
        return Ok(w.navigator().storage());
    }
    let scope: WorkerGlobalScope = global
        .dyn_into()
        .map_err(|_| "neither a page nor a worker".to_owned())?;
    Ok(scope.navigator().storage())
}

async fn promise<T: JsCast>(p: js_sys::Promise) -> Result<T, String> {
    JsFuture::from(p)
        .await
        .map_err(|e| crate::blob::js_error(&e))?
        .dyn_into::<T>()
        .map_err(|v| format!("unexpected {v:?}"))
}

/// Quota left for the page: quota − usage, when the browser says.
pub async fn room() -> Option<u64> {
    // A dictionary, not a class: no instanceof to check.
    let estimate: StorageEstimate = JsFuture::from(storage().ok()?.estimate().ok()?)
        .await
        .ok()?
        .unchecked_into();
    let quota = estimate.get_quota()?;
    let usage = estimate.get_usage().unwrap_or(0.0);
    Some((quota - usage).max(0.0) as u64)
}

impl OpfsScratch {
    /// Creates the OPFS file (named after `input` and the time) and its sync
    /// access handle; removes scratch files left by a stopped worker.
    pub async fn prepare(input: &str) -> Result<OpfsScratch, String> {
        let dir: FileSystemDirectoryHandle = promise(storage()?.get_directory()).await?;
        remove_stale(&dir, js_sys::Date::now() as u64).await;
        let clean: String = input
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .take(60)
            .collect();
        let name = format!("{PREFIX}{}-{clean}", js_sys::Date::now() as u64);
        let options = FileSystemGetFileOptions::new();
        options.set_create(true);
        let handle: FileSystemFileHandle =
            promise(dir.get_file_handle_with_options(&name, &options)).await?;
        let sync: FileSystemSyncAccessHandle = promise(handle.create_sync_access_handle()).await?;
        Ok(OpfsScratch {
            dir,
            name,
            file: Rc::new(SyncFile(sync)),
            end: Rc::new(Cell::new(0)),
            regions: Rc::default(),
            room: room().await,
        })
    }

    /// The file's name in the origin-private file system.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Bytes the scratch file holds now.
    pub fn bytes_used(&self) -> u64 {
        self.end.get()
    }

    /// How many bytes it holds, shared (the worker's progress reads it
    /// while the engine writes).
    pub fn used_cell(&self) -> Rc<Cell<u64>> {
        Rc::clone(&self.end)
    }

    /// Room left when it was made, when the browser said.
    pub fn room_at_start(&self) -> Option<u64> {
        self.room
    }

    /// The regions it holds, to read after the open (the engine holds the
    /// scratch space itself while it opens).
    pub fn regions(&self) -> Regions {
        Regions {
            file: Rc::clone(&self.file),
            regions: Rc::clone(&self.regions),
        }
    }

    /// Closes and deletes the file. The readers of its regions must have
    /// been dropped (they share the handle; the browser keeps a file with
    /// an open handle).
    pub async fn delete(self) {
        let OpfsScratch {
            dir, name, file, ..
        } = self;
        drop(file);
        let before = js_sys::Date::now() as u64;
        let _ = JsFuture::from(dir.remove_entry(&name)).await;
        // A worker stopped just before this open may still have held its
        // file when the open began, and may for a moment more (the browser
        // lets go of a stopped worker's handles by itself): tried again,
        // once a second for up to STALE_TRIES seconds.
        for _ in 0..STALE_TRIES {
            if remove_stale(&dir, before).await == 0 {
                break;
            }
            sleep_ms(1000).await;
        }
    }
}

/// Removes the scratch files no worker holds open any more, trying again
/// once a second for up to [`STALE_TRIES`] seconds while some stay (the
/// browser lets go of a stopped worker's handle by itself, a moment after
/// it stops). The page runs it when it starts (a tab closed with a dump
/// open left its file) and when it closes a dump (its worker is stopped);
/// a file a live worker holds is locked by its handle and stays.
pub async fn sweep() {
    let Ok(storage) = storage() else { return };
    let Ok(dir) = promise::<FileSystemDirectoryHandle>(storage.get_directory()).await else {
        return;
    };
    let before = js_sys::Date::now() as u64;
    for _ in 0..STALE_TRIES {
        if remove_stale(&dir, before).await == 0 {
            break;
        }
        sleep_ms(1000).await;
    }
}

/// How many times [`OpfsScratch::delete`] tries to remove files left by a
/// stopped worker.
const STALE_TRIES: usize = 30;

/// Waits `ms` milliseconds (`setTimeout` of the page or the worker).
async fn sleep_ms(ms: i32) {
    let wait = js_sys::Promise::new(&mut |resolve, _| {
        let global = js_sys::global();
        if let Some(w) = global.dyn_ref::<web_sys::Window>() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        } else if let Ok(scope) = global.dyn_into::<WorkerGlobalScope>() {
            let _ = scope.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(wait).await;
}

/// Removes scratch files of earlier opens (a worker stopped by Cancel or a
/// closed tab leaves them); returns how many it could not remove. A file
/// another tab is writing has an open handle, so the browser refuses to
/// remove it: it is left. Only files made before `before_ms` (their names
/// hold the time they were made) are touched: one an open made since may
/// not have its handle yet.
async fn remove_stale(dir: &FileSystemDirectoryHandle, before_ms: u64) -> usize {
    let keys = dir.keys();
    let mut names = Vec::new();
    let mut kept = Vec::new();
    loop {
        let Ok(step) = keys.next() else { break };
        let Ok(next) = JsFuture::from(step).await else {
            break;
        };
        let done = js_sys::Reflect::get(&next, &"done".into())
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        if done {
            break;
        }
        if let Some(name) = js_sys::Reflect::get(&next, &"value".into())
            .ok()
            .and_then(|v| v.as_string())
        {
            if name.starts_with(KEPT_PREFIX) {
                kept.push(name);
                continue;
            }
            let made = name
                .strip_prefix(PREFIX)
                .and_then(|rest| rest.split('-').next())
                .and_then(|t| t.parse::<u64>().ok());
            if made.is_some_and(|t| t < before_ms) {
                names.push(name);
            }
        }
    }
    // A copy the user kept stays.
    names.retain(|n| !kept.contains(&marker_of(n)));
    let mut left = 0;
    for name in names {
        if JsFuture::from(dir.remove_entry(&name)).await.is_err() {
            left += 1;
        }
    }
    left
}

impl Scratch for OpfsScratch {
    fn location(&self) -> String {
        LOCATION.to_owned()
    }

    fn available(&mut self) -> Option<u64> {
        self.room.map(|r| r.saturating_sub(self.end.get()))
    }

    fn create(&mut self) -> Result<Box<dyn ScratchWriter>, ScratchError> {
        Ok(Box::new(OpfsWriter {
            file: Rc::clone(&self.file),
            start: self.end.get(),
            end: Rc::clone(&self.end),
            regions: Rc::clone(&self.regions),
        }))
    }
}

/// Appends to the OPFS file.
struct OpfsWriter {
    file: Rc<SyncFile>,
    start: u64,
    end: Rc<Cell<u64>>,
    regions: Rc<std::cell::RefCell<Vec<(u64, u64)>>>,
}

fn js_text(e: &JsValue) -> (String, bool) {
    let name = js_sys::Reflect::get(e, &"name".into())
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_default();
    (crate::blob::js_error(e), name == "QuotaExceededError")
}

impl ScratchWriter for OpfsWriter {
    fn write(&mut self, bytes: &[u8]) -> Result<(), ScratchError> {
        let at = self.end.get();
        let options = FileSystemReadWriteOptions::new();
        options.set_at(at as f64);
        let written = self
            .file
            .0
            .write_with_u8_array_and_options(bytes, &options)
            .map_err(|e| {
                let (message, quota) = js_text(&e);
                if quota {
                    ScratchError::Full {
                        location: LOCATION.to_owned(),
                        written: at - self.start,
                        message: format!(
                            "{message} (the browser allows this page only so much space: \
                             free disk space, or unpack the archive with your system's tools \
                             and open the dump itself)"
                        ),
                    }
                } else {
                    ScratchError::Failed {
                        location: LOCATION.to_owned(),
                        message,
                    }
                }
            })? as u64;
        if written != bytes.len() as u64 {
            return Err(ScratchError::Full {
                location: LOCATION.to_owned(),
                written: at - self.start + written,
                message: format!("it took {written} of {} bytes", bytes.len()),
            });
        }
        self.end.set(at + written);
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<ScratchBytes, ScratchError> {
        self.file.0.flush().map_err(|e| ScratchError::Failed {
            location: LOCATION.to_owned(),
            message: crate::blob::js_error(&e),
        })?;
        let region = OpfsRegion {
            file: self.file,
            start: self.start,
            len: self.end.get() - self.start,
            read_to: Rc::default(),
        };
        self.regions.borrow_mut().push((region.start, region.len));
        // The engine makes many small reads: pages of 64 KiB (16 MiB).
        Ok(ScratchBytes::Local(Box::new(PageCache::new(region))))
    }
}

/// The regions written into one scratch file ([`OpfsScratch::regions`]).
pub struct Regions {
    file: Rc<SyncFile>,
    regions: Rc<std::cell::RefCell<Vec<(u64, u64)>>>,
}

impl Regions {
    /// Where the `k`-th region is in the file: `(start, len)`.
    pub fn span(&self, k: usize) -> Option<(u64, u64)> {
        self.regions.borrow().get(k).copied()
    }

    /// The `k`-th region written (one per archive unpacked, outermost
    /// first), read through the file's handle: the bytes that archive held.
    pub fn region(&self, k: usize) -> Option<OpfsRegion> {
        let (start, len) = *self.regions.borrow().get(k)?;
        Some(OpfsRegion {
            file: Rc::clone(&self.file),
            start,
            len,
            read_to: Rc::default(),
        })
    }
}

/// A region of the OPFS file, read with the sync access handle.
#[derive(Clone)]
pub struct OpfsRegion {
    file: Rc<SyncFile>,
    start: u64,
    len: u64,
    /// Where the last read ended (shared by clones), for the progress.
    read_to: Rc<Cell<u64>>,
}

impl OpfsRegion {
    /// Where the last read of it (or of a clone) ended.
    pub fn read_to(&self) -> u64 {
        self.read_to.get()
    }
}

impl ReadAt for OpfsRegion {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        ReadError::check_bounds(offset, buf.len(), self.len)?;
        let options = FileSystemReadWriteOptions::new();
        options.set_at((self.start + offset) as f64);
        let n = self
            .file
            .0
            .read_with_u8_array_and_options(buf, &options)
            .map_err(|e| ReadError::Source {
                offset,
                len: buf.len() as u64,
                message: crate::blob::js_error(&e),
            })? as usize;
        if n != buf.len() {
            return Err(ReadError::Source {
                offset,
                len: buf.len() as u64,
                message: format!("the browser's storage gave {n} of {} bytes", buf.len()),
            });
        }
        self.read_to.set(offset + buf.len() as u64);
        Ok(())
    }
}

/// The page's private directory, or why there is none.
async fn directory() -> Result<FileSystemDirectoryHandle, String> {
    promise(storage()?.get_directory()).await
}

/// How many times (every 250 ms) a kept copy another worker holds is
/// tried again before it is said to be in use.
const IN_USE_TRIES: usize = 20;

/// Opens the kept copy `kept` for reading (in a worker: a sync access
/// handle): the dump's bytes in it. Fails when the copy is gone, or is
/// open in another dump or tab (one handle per file).
pub async fn open_kept(kept: &KeptCopy) -> Result<OpfsRegion, String> {
    let dir = directory().await?;
    let handle: FileSystemFileHandle = promise(dir.get_file_handle(&kept.copy.file))
        .await
        .map_err(|e| format!("the kept copy is gone ({e})"))?;
    // A worker stopped a moment ago (the dump closed, the page reloaded)
    // may still hold it: the browser lets go of its handle by itself.
    let mut tries = 0;
    let sync: FileSystemSyncAccessHandle = loop {
        match promise(handle.create_sync_access_handle()).await {
            Ok(sync) => break sync,
            Err(_) if tries < IN_USE_TRIES => {
                tries += 1;
                sleep_ms(250).await;
            }
            Err(e) => {
                return Err(format!(
                    "the kept copy is in use by another dump or tab ({e})"
                ))
            }
        }
    };
    let size = sync.get_size().map_err(|e| crate::blob::js_error(&e))? as u64;
    if kept
        .copy
        .start
        .checked_add(kept.copy.len)
        .is_none_or(|end| end > size)
    {
        return Err(format!(
            "the kept copy holds {size} bytes, not the {} its description says",
            kept.copy.start.saturating_add(kept.copy.len)
        ));
    }
    Ok(OpfsRegion {
        file: Rc::new(SyncFile(sync)),
        start: kept.copy.start,
        len: kept.copy.len,
        read_to: Rc::default(),
    })
}

/// The unpacked copies kept in the page's private storage, newest first
/// (descriptions whose copy is gone are removed).
pub async fn kept_list() -> Result<Vec<KeptCopy>, String> {
    let dir = directory().await?;
    let keys = dir.keys();
    let mut all = Vec::new();
    let mut markers = Vec::new();
    loop {
        let next = JsFuture::from(keys.next().map_err(|e| crate::blob::js_error(&e))?)
            .await
            .map_err(|e| crate::blob::js_error(&e))?;
        if js_sys::Reflect::get(&next, &"done".into())
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true)
        {
            break;
        }
        if let Some(name) = js_sys::Reflect::get(&next, &"value".into())
            .ok()
            .and_then(|v| v.as_string())
        {
            if name.starts_with(KEPT_PREFIX) {
                markers.push(name.clone());
            }
            all.push(name);
        }
    }
    let mut list = Vec::new();
    for m in markers {
        let text = read_text(&dir, &m).await?;
        match serde_json::from_str::<KeptCopy>(&text) {
            Ok(k) if all.contains(&k.copy.file) && marker_of(&k.copy.file) == m => list.push(k),
            // Its copy is gone, or it is not one of ours: forgotten.
            _ => {
                let _ = JsFuture::from(dir.remove_entry(&m)).await;
            }
        }
    }
    list.sort_by(|a, b| b.kept_ms.total_cmp(&a.kept_ms));
    Ok(list)
}

async fn read_text(dir: &FileSystemDirectoryHandle, name: &str) -> Result<String, String> {
    let handle: FileSystemFileHandle = promise(dir.get_file_handle(name)).await?;
    let file: web_sys::File = promise(handle.get_file()).await?;
    JsFuture::from(file.text())
        .await
        .map_err(|e| crate::blob::js_error(&e))?
        .as_string()
        .ok_or_else(|| "not text".to_owned())
}

/// Keeps the copy `kept` describes after its dump is closed: writes its description.
pub async fn keep(kept: &KeptCopy) -> Result<(), String> {
    let dir = directory()
        .await
        .map_err(|e| format!("this browser gives the page no private storage ({e})"))?;
    let json = serde_json::to_string(kept).map_err(|e| e.to_string())?;
    let options = FileSystemGetFileOptions::new();
    options.set_create(true);
    let name = marker_of(&kept.copy.file);
    let handle: FileSystemFileHandle =
        promise(dir.get_file_handle_with_options(&name, &options)).await?;
    let written = async {
        let w: web_sys::FileSystemWritableFileStream = promise(handle.create_writable()).await?;
        JsFuture::from(w.write_with_str(&json).map_err(|e| js_text(&e).0)?)
            .await
            .map_err(|e| js_text(&e).0)?;
        JsFuture::from(w.close()).await.map_err(|e| js_text(&e).0)?;
        Ok::<_, String>(())
    }
    .await;
    if let Err(e) = written {
        let _ = JsFuture::from(dir.remove_entry(&name)).await;
        return Err(format!("the browser refused to write its description: {e}"));
    }
    Ok(())
}

/// Stops keeping `file`: its description is removed (the copy itself goes
/// when its dump is closed).
pub async fn unkeep(file: &str) -> Result<(), String> {
    let dir = directory().await?;
    JsFuture::from(dir.remove_entry(&marker_of(file)))
        .await
        .map(|_| ())
        .map_err(|e| crate::blob::js_error(&e))
}

/// Deletes the kept copy `file` and its description. `Ok(false)` when the
/// copy is open in a dump (it goes when that dump is closed); one a worker
/// stopped a moment ago still holds is tried again for a few seconds,
/// unless `open_here` (a dump of this page reads it).
pub async fn delete_kept(file: &str, open_here: bool) -> Result<bool, String> {
    unkeep(file).await?;
    let dir = directory().await?;
    for _ in 0..if open_here { 1 } else { IN_USE_TRIES } {
        if JsFuture::from(dir.remove_entry(file)).await.is_ok() {
            return Ok(true);
        }
        if open_here {
            break;
        }
        sleep_ms(250).await;
    }
    Ok(false)
}
