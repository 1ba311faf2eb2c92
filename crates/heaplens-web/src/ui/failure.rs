//! A dump that could not be read: what kind of failure (typed up from the
//! engine), the engine's message, what to do, and Close.

use super::use_ctx;
use crate::protocol::DumpId;
use crate::state::{Action, DumpStatus};
use yew::prelude::*;

/// Properties of [`Failure`].
#[derive(Properties, PartialEq)]
pub struct FailureProps {
    /// The dump.
    pub id: DumpId,
}

/// See the module documentation.
#[function_component(Failure)]
pub fn failure(p: &FailureProps) -> Html {
    let ctx = use_ctx();
    let Some(d) = ctx.state.dump(p.id) else {
        return html! {};
    };
    let DumpStatus::Failed(e) = &d.status else {
        return html! {};
    };
    let id = p.id;
    let kind = serde_json::to_value(e.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    html! {
        <section class="card error" id="error" role="alert" data-kind={kind} data-code={e.code.clone()}>
            <h1>{ e.kind.title(&d.name) }</h1>
            <p class="error-message" id="error-message">{ &e.message }</p>
            if let Some(a) = e.kind.advice() {
                <p class="advice" id="error-advice">{ a }</p>
            }
            <div class="actions">
                <button class="primary" id="error-back" onclick={ctx.pick_files.reform(|_| ())}>{ "Choose another file" }</button>
                <button class="secondary" id="error-close" onclick={ctx.dispatch.reform(move |_| Action::Close(id))}>{ "Close this dump" }</button>
            </div>
        </section>
    }
}
