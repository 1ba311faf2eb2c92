//! Small pieces the screens share: stat cards, the partial-dump banner,
//! the clipboard, downloads, and times as people read them.

use super::use_ctx;
use crate::state::{Action, CoverageNote, DumpEntry, Loaded};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// An `Rc` compared by pointer, for memoising on large documents.
#[derive(Clone)]
pub struct Same<T: ?Sized>(pub Rc<T>);

impl<T: ?Sized> PartialEq for Same<T> {
    fn eq(&self, o: &Self) -> bool {
        Rc::ptr_eq(&self.0, &o.0)
    }
}

/// A labelled figure.
pub fn card(label: &str, value: &str, id: &str) -> Html {
    html! {
        <div class="card stat" id={id.to_owned()}>
            <div class="label">{ label }</div>
            <div class="value" title={value.to_owned()}>{ value }</div>
        </div>
    }
}

/// A dump time as people read it: `2023-11-08 15:05:15 UTC`, or with
/// `(local time)` for a `.gcdump`, which records no zone.
pub fn dump_time_text(iso: &str) -> String {
    match iso.strip_suffix('Z') {
        Some(t) => format!("{} UTC", t.replace('T', " ")),
        None => format!("{} (local time)", iso.replace('T', " ")),
    }
}

/// Properties of [`PartialBanner`].
#[derive(Properties, PartialEq)]
pub struct PartialProps {
    /// The dump.
    pub loaded: Rc<Loaded>,
    /// Name it (on screens about two dumps).
    #[prop_or_default]
    pub name: Option<AttrValue>,
}

/// Above every result of a partial dump: what it lacks, in numbers (the
/// engine's coverage summary); a quieter note for a file that lacks only
/// what the result does not need.
#[function_component(PartialBanner)]
pub fn partial_banner(p: &PartialProps) -> Html {
    let who = |what: &str| match &p.name {
        Some(n) => format!("{what} ({n}): "),
        None => format!("{what}: "),
    };
    // The figures the words come from, as `--json`'s `coverage` has them.
    let c = &p.loaded.stats.header.coverage;
    match p.loaded.coverage_note() {
        None => html! {},
        Some(CoverageNote::Partial(s)) => html! {
            <div class="partial-banner" role="note" data-partial="true"
                data-heap-bytes={c.heap_bytes.to_string()} data-heap-captured={c.heap_bytes_captured.to_string()}
                data-heap-segments={c.heap_segments.to_string()} data-heap-segments-partial={c.heap_segments_partial.to_string()}
                data-file-bytes={c.file_bytes.to_string()} data-described-bytes={c.described_bytes.to_string()}>
                <strong>{ who("Partial dump") }</strong>
                { format!("{s}. The numbers count only what the dump holds; what it lacks is not in them.") }
            </div>
        },
        Some(CoverageNote::Note(s)) => html! {
            <div class="partial-banner note-only" role="note" data-partial="false">
                <strong>{ who("Note") }</strong>{ format!("{s}.") }
            </div>
        },
    }
}

/// Copies `text` to the clipboard and says so in the live region (`what`:
/// "the row", "the path").
pub fn copy_text(dispatch: &Callback<Action>, text: String, what: &str) {
    let clipboard = gloo::utils::window().navigator().clipboard();
    let dispatch = dispatch.clone();
    let what = what.to_owned();
    yew::platform::spawn_local(async move {
        let done = wasm_bindgen_futures::JsFuture::from(clipboard.write_text(&text)).await;
        dispatch.emit(Action::Announce(match done {
            Ok(_) => format!("Copied {what}."),
            Err(_) => format!("Could not copy {what}: the browser did not allow it."),
        }));
    });
}

/// Saves `text` as a file named `name`.
pub fn download(name: &str, mime: &str, text: String) {
    let blob = gloo::file::Blob::new_with_options(text.as_str(), Some(mime));
    let url = gloo::file::ObjectUrl::from(blob);
    let doc = gloo::utils::document();
    let Ok(a) = doc.create_element("a") else {
        return;
    };
    let a: web_sys::HtmlAnchorElement = a.unchecked_into();
    a.set_href(&url);
    a.set_download(name);
    a.click();
    // The URL lives until the browser has started the download.
    gloo::timers::callback::Timeout::new(30_000, move || drop(url)).forget();
}

/// A dump's name with its size, for selects and lists.
pub fn dump_label(d: &DumpEntry) -> String {
    format!("{} ({})", d.name, crate::format::bytes(d.size))
}

/// A button that copies `text` (`what` says what, for people).
#[derive(Properties, PartialEq)]
pub struct CopyProps {
    /// The text.
    pub text: AttrValue,
    /// What it is ("the path").
    pub what: AttrValue,
    /// The button's label.
    #[prop_or(AttrValue::Static("Copy"))]
    pub label: AttrValue,
    /// Element id.
    #[prop_or_default]
    pub id: Option<AttrValue>,
}

/// See [`CopyProps`].
#[function_component(CopyButton)]
pub fn copy_button(p: &CopyProps) -> Html {
    let ctx = use_ctx();
    let onclick = {
        let text = p.text.to_string();
        let what = p.what.to_string();
        let dispatch = ctx.dispatch.clone();
        Callback::from(move |e: MouseEvent| {
            e.stop_propagation();
            copy_text(&dispatch, text.clone(), &what);
        })
    };
    html! {
        <button class="ghost small copy" id={p.id.clone()} {onclick}
            aria-label={format!("{} {}", p.label, p.what)}>{ &p.label }</button>
    }
}
