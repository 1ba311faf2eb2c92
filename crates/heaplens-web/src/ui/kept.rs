//! Unpacked copies of archives kept for a faster reopen: the overview's
//! control that keeps (or stops keeping) the open dump's copy, and the
//! landing page's list of kept copies with Open and Delete. The copies
//! and their descriptions live in the browser's origin-private file
//! system ([`crate::scratch`]); the list is re-read after every change.

use super::use_ctx;
use crate::format::bytes;
use crate::protocol::{KeptCopy, UnpackedCopy};
use crate::state::DumpEntry;
use yew::prelude::*;

/// The kept copies the page knows of.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeptCopies {
    /// Newest first.
    pub list: Vec<KeptCopy>,
    /// Why the list could not be read (no private storage).
    pub error: Option<String>,
}

/// Reads the list again, then gives it to `set`.
pub fn refresh(set: Callback<KeptCopies>) {
    yew::platform::spawn_local(async move {
        set.emit(match crate::scratch::kept_list().await {
            Ok(list) => KeptCopies { list, error: None },
            Err(e) => KeptCopies {
                list: Vec::new(),
                error: Some(e),
            },
        });
    });
}

/// Properties of [`KeepCopy`].
#[derive(Properties, PartialEq)]
pub struct KeepProps {
    /// Where the open dump's unpacked copy is.
    pub copy: UnpackedCopy,
    /// The archive's name, size and modification time (the dump's entry).
    pub archive: (String, u64, f64),
    /// The dump's name in the archive.
    pub entry: Option<String>,
}

/// The overview's "Local copy": the space the unpacked copy takes, what
/// happens to it, and the checkbox that keeps it.
#[function_component(KeepCopy)]
pub fn keep_copy(p: &KeepProps) -> Html {
    let ctx = use_ctx();
    let busy = use_state(|| false);
    let error = use_state(|| None::<String>);
    let kept = ctx
        .kept
        .list
        .iter()
        .find(|k| k.copy.file == p.copy.file)
        .cloned();
    let is_kept = kept.is_some();
    let onchange = {
        let busy = busy.clone();
        let error = error.clone();
        let refresh_kept = ctx.refresh_kept.clone();
        let copy = p.copy.clone();
        let (archive, archive_size, archive_modified_ms) = p.archive.clone();
        let entry = p.entry.clone();
        Callback::from(move |e: Event| {
            // The box shows what is true: it follows the list once the
            // change is written (and stays as it was when it fails).
            e.target_unchecked_into::<web_sys::HtmlInputElement>()
                .set_checked(is_kept);
            busy.set(true);
            let (busy, error, refresh_kept) = (busy.clone(), error.clone(), refresh_kept.clone());
            let want = KeptCopy {
                copy: copy.clone(),
                archive: archive.clone(),
                archive_size,
                archive_modified_ms,
                entry: entry.clone(),
                kept_ms: js_sys::Date::now(),
            };
            yew::platform::spawn_local(async move {
                let done = if is_kept {
                    crate::scratch::unkeep(&want.copy.file)
                        .await
                        .map_err(|e| format!("The copy could not be left to be deleted: {e}"))
                } else {
                    crate::scratch::keep(&want)
                        .await
                        .map_err(|e| format!("The copy could not be kept: {e}"))
                };
                error.set(done.err());
                busy.set(false);
                refresh_kept.emit(());
            });
        })
    };
    let what = if p.copy.reused {
        format!(
            "Read from the unpacked copy kept in {} ({}): the archive was not read or unpacked again.",
            crate::scratch::LOCATION,
            bytes(p.copy.bytes)
        )
    } else {
        format!(
            "The unpacked dump takes {} in {}.",
            bytes(p.copy.bytes),
            crate::scratch::LOCATION
        )
    };
    let fate = if is_kept {
        "It is kept after you close the dump: opening the same archive again (same name, size and modification time) reads this copy instead of unpacking it. The start page lists kept copies to open or delete."
    } else {
        "The unpacked copy stays there while the dump is open (the objects' contents are read from it); it is deleted when you close the dump, or when the page next starts if the tab was closed first."
    };
    html! {
        <>
            <span id="ov-local-copy" data-bytes={p.copy.bytes.to_string()} data-file={p.copy.file.clone()}
                data-reused={p.copy.reused.to_string()} data-kept={is_kept.to_string()}>{ what }</span>
            <br/><span class="muted ov-kept">{ fate }</span>
            <br/><label class="keep-copy">
                <input type="checkbox" id="keep-copy" checked={is_kept} disabled={*busy} onchange={onchange} />
                { " Keep the unpacked copy for a faster reopen" }
            </label>
            if let Some(e) = &*error { <br/><span class="error-text" id="keep-error" role="alert">{ e }</span> }
        </>
    }
}

/// The archive and entry of dump `d` for its [`KeepCopy`].
pub fn archive_of(d: &DumpEntry) -> (String, u64, f64) {
    (d.name.clone(), d.size, d.file_time_ms)
}

/// The landing page's list of kept copies, each with Open and Delete.
#[function_component(KeptList)]
pub fn kept_list() -> Html {
    let ctx = use_ctx();
    let message = use_state(|| None::<String>);
    if ctx.kept.list.is_empty() {
        return html! {};
    }
    let total: u64 = ctx.kept.list.iter().map(|k| k.copy.bytes).sum();
    html! {
        <section class="card kept-copies" id="kept-copies" aria-labelledby="kept-h">
            <h2 id="kept-h">{ "Unpacked copies kept in this browser" }</h2>
            <p class="muted">{ format!(
                "{} in {}. Opening one reads the dump without its archive; dropping the same archive again (same name, size and modification time) uses its copy too.",
                bytes(total), crate::scratch::LOCATION) }</p>
            <ul class="kept-list">
                { for ctx.kept.list.iter().map(|k| {
                    let open = {
                        let k = k.clone();
                        ctx.open_kept.reform(move |_| k.clone())
                    };
                    let open_here = ctx.state.dumps.iter().any(|d| d.loaded.as_ref()
                        .and_then(|l| l.read.unpacked_copy.as_ref())
                        .is_some_and(|c| c.file == k.copy.file));
                    let delete = {
                        let file = k.copy.file.clone();
                        let name = k.archive.clone();
                        let refresh_kept = ctx.refresh_kept.clone();
                        let message = message.clone();
                        Callback::from(move |_: MouseEvent| {
                            let (file, name, refresh_kept, message) = (file.clone(), name.clone(), refresh_kept.clone(), message.clone());
                            yew::platform::spawn_local(async move {
                                message.set(Some(match crate::scratch::delete_kept(&file, open_here).await {
                                    Ok(true) => format!("Deleted the unpacked copy of {name}."),
                                    Ok(false) => format!("The unpacked copy of {name} is no longer kept; it is deleted when the dump reading it is closed."),
                                    Err(e) => format!("The unpacked copy of {name} could not be deleted: {e}"),
                                }));
                                refresh_kept.emit(());
                            });
                        })
                    };
                    html! {
                        <li class="kept" data-file={k.copy.file.clone()} data-bytes={k.copy.bytes.to_string()} data-archive={k.archive.clone()}>
                            <span>
                                <span class="kept-name filename">{ k.entry.clone().unwrap_or_else(|| k.archive.clone()) }</span>
                                <span class="muted">{ format!(" from {} · {} · kept {}", k.archive, bytes(k.copy.bytes), crate::format::unix_seconds((k.kept_ms / 1000.0).floor() as i64)) }</span>
                            </span>
                            <span class="kept-actions">
                                <button class="ghost kept-open" aria-label={format!("Open the kept copy of {}", k.archive)} onclick={open}>{ "Open" }</button>
                                <button class="ghost kept-delete" aria-label={format!("Delete the kept copy of {}", k.archive)} onclick={delete}>{ "Delete" }</button>
                            </span>
                        </li>
                    }
                }) }
            </ul>
            if let Some(m) = &*message { <p class="muted" id="kept-message" role="status">{ m }</p> }
        </section>
    }
}
