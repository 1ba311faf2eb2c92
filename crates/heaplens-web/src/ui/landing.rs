//! The landing page: what heaplens does, the drop zone and file picker, the
//! formats it reads (from the engine's registry), module files, privacy;
//! and when the URL links to a view of dumps not open, which files to drop
//! again to return to it.

use super::common::dump_label;
use super::use_ctx;
use crate::format::bytes;
use crate::state::{Action, Tab};
use yew::prelude::*;

/// What the landing page says about module files.
pub const MODULES_HINT: &str = "Types shown as module!token (System.Private.CoreLib!0x02000075)? \
Some dumps leave the assemblies' images out (.NET Core 3.1 Linux cores taken with --withheap, \
Windows heap-only minidumps). Drop or choose the DLLs together with the dump: the application's \
DLLs and those of the runtime's shared/Microsoft.NETCore.App/<version>/ folder of the same build. \
They are read here too, only for the assemblies the dump names; the overview's notes say which \
modules still lack metadata.";

/// See the module documentation.
#[function_component(Landing)]
pub fn landing() -> Html {
    let ctx = use_ctx();
    let s = &*ctx.state;
    let waiting = s.waiting_for();
    let open: Vec<_> = s.ready().collect();
    let on_zone_key = {
        let pick = ctx.pick_files.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" || e.key() == " " {
                e.prevent_default();
                pick.emit(());
            }
        })
    };
    html! {
        <div class="landing">
            <section class="hero">
                <h1>{ "What fills your .NET heap, why is it alive, and what grew?" }</h1>
                <p class="lead">{ "Drop memory dumps to see their type statistics, the paths that keep objects alive, and what changed between two of them." }</p>
            </section>
            if !waiting.is_empty() {
                <section class="card restore" id="restore" aria-labelledby="restore-h">
                    <h2 id="restore-h">{ "Return to the view this link shows" }</h2>
                    <p>{ "The link names the dumps it was made with; files never leave your computer, so drop the same files again (any order) and heaplens returns to the same view:" }</p>
                    <ul class="restore-list">
                        { for waiting.iter().map(|(k, reading)| html! {
                            <li>
                                <span class="filename">{ &k.name }</span>
                                <span class="muted">{ format!(" · {}", bytes(k.size)) }</span>
                                if *reading { <span class="muted">{ " · being read…" }</span> }
                            </li>
                        }) }
                    </ul>
                </section>
            }
            <div class="dropzone" id="dropzone" role="button" tabindex="0"
                aria-describedby="accepts"
                onclick={ctx.pick_files.reform(|_| ())} onkeydown={on_zone_key}>
                <span class="zone-icon" aria-hidden="true">{ "⤓" }</span>
                <span class="zone-title">{ "Drop dumps here" }</span>
                <span class="zone-sub">{ "or " }<span class="linklike">{ "choose files" }</span>{ " — two dumps at once are compared, the one taken first as the baseline" }</span>
                <span class="accepts" id="accepts">{ crate::model::accepts() }</span>
                <span class="accepts" id="modules-hint">{ MODULES_HINT }</span>
            </div>
            if !open.is_empty() {
                <section class="open-dumps">
                    <h2>{ "Open dumps" }</h2>
                    <ul>
                        { for open.iter().map(|d| {
                            let id = d.id;
                            html! {
                                <li><button class="linklike" onclick={ctx.dispatch.reform(move |_| Action::ShowDump(id, Tab::Overview))}>{ dump_label(d) }</button></li>
                            }
                        }) }
                    </ul>
                </section>
            }
            <super::kept::KeptList />
            <section class="privacy">
                <h2>{ "Your dumps stay on this computer" }</h2>
                <p>{ "Each file is read in slices by a Web Worker in this tab and is never uploaded. The page and its workers run under a Content-Security-Policy that forbids connections to any other site, so they could not send it anywhere even if they tried." }</p>
            </section>
        </div>
    }
}
