//! The page's keys that work everywhere and its theme: `?` shows the
//! shortcuts (an overlay listing every key of the page), Escape closes it or
//! goes back one step inside the app (never out of it), and the theme
//! toggle overrides the system's light or dark setting. None of this is
//! state of the analysis, so it stays out of the reducer.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{HtmlElement, KeyboardEvent};
use yew::prelude::*;

/// Where the chosen theme is kept (only this choice; nothing of a dump).
const THEME_KEY: &str = "heaplens-theme";

/// The theme chosen with the toggle (`"light"` or `"dark"`), if any.
fn chosen_theme() -> Option<String> {
    gloo::utils::window()
        .local_storage()
        .ok()
        .flatten()
        .and_then(|s| s.get_item(THEME_KEY).ok().flatten())
        .filter(|t| t == "light" || t == "dark")
}

/// Whether the system asks for dark.
fn system_dark() -> bool {
    gloo::utils::window()
        .match_media("(prefers-color-scheme: dark)")
        .ok()
        .flatten()
        .is_some_and(|m| m.matches())
}

/// Puts the chosen theme on `<html data-theme>` (none: the system's).
pub fn apply_theme() {
    let root = gloo::utils::document_element();
    let _ = match chosen_theme() {
        Some(t) => root.set_attribute("data-theme", &t),
        None => root.remove_attribute("data-theme"),
    };
}

/// The theme toggle: it shows whether the page is dark and switches to the
/// other theme (kept for the next visit).
#[function_component(ThemeToggle)]
pub fn theme_toggle() -> Html {
    let dark = use_state(|| chosen_theme().map_or_else(system_dark, |t| t == "dark"));
    let onclick = {
        let dark = dark.clone();
        Callback::from(move |_: MouseEvent| {
            let next = !*dark;
            if let Ok(Some(s)) = gloo::utils::window().local_storage() {
                let _ = s.set_item(THEME_KEY, if next { "dark" } else { "light" });
            }
            apply_theme();
            dark.set(next);
        })
    };
    html! {
        <button class="ghost theme" id="theme-toggle" aria-pressed={dark.to_string()} {onclick}
            title="Dark theme on or off (the system's setting until you choose)">
            { "Dark theme" }
        </button>
    }
}

/// The keys of the page, as the overlay lists them.
const KEYS: &[(&str, &str)] = &[
    ("?", "Show or hide this list"),
    ("Esc", "Close this list, or go back one step (the type's detail to the table, …)"),
    ("Tab / Shift+Tab", "Move between controls; a table, a tab list and a tree are one stop each"),
    ("↑ ↓", "Move in a table or the referred-from tree"),
    ("Page Up / Page Down", "Move a page in a table"),
    ("Home / End", "Go to the first or last row, tab or tree entry"),
    ("Enter", "Open the selected row (a type's detail)"),
    ("Ctrl+C", "Copy the selected row as text"),
    ("← →", "Move between tabs; in the tree, close or open an entry (or go to its parent or first child)"),
    ("Enter / Space (tree)", "Open or close the entry"),
    ("Enter / Space (drop zone)", "Choose dump files"),
];

/// Whether a key press is typing in a field (where `?` is a character and
/// Escape belongs to the field).
fn in_field(e: &KeyboardEvent) -> bool {
    e.target()
        .and_then(|t| t.dyn_into::<HtmlElement>().ok())
        .is_some_and(|el| {
            matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                || el.is_content_editable()
        })
}

/// The depth of the current history entry inside the app (0: the entry the
/// app was opened at), which `write_url` keeps in the entry's state.
pub fn history_depth() -> u32 {
    gloo::utils::history()
        .state()
        .ok()
        .and_then(|v| v.as_f64())
        .map_or(0, |d| d as u32)
}

/// The state of a new history entry after the current one.
pub fn next_depth() -> JsValue {
    JsValue::from_f64(f64::from(history_depth() + 1))
}

/// The shortcuts overlay and the page-wide keys (`?`, Escape). `open`:
/// whether the overlay shows (the topbar's button opens it too).
#[derive(Properties, PartialEq)]
pub struct ShortcutsProps {
    /// The overlay is shown.
    pub open: UseStateHandle<bool>,
}

/// See the module documentation.
#[function_component(Shortcuts)]
pub fn shortcuts(p: &ShortcutsProps) -> Html {
    let close_ref = use_node_ref();
    // The page-wide keys.
    {
        let open = p.open.clone();
        use_effect_with(*p.open, move |&is_open| {
            let l = gloo::events::EventListener::new_with_options(
                &gloo::utils::document(),
                "keydown",
                gloo::events::EventListenerOptions::enable_prevent_default(),
                move |e| {
                    let Some(e) = e.dyn_ref::<KeyboardEvent>() else {
                        return;
                    };
                    // A view that used the key (the flame graph's Escape
                    // zooms out) keeps it.
                    if e.ctrl_key() || e.meta_key() || e.alt_key() || e.default_prevented() {
                        return;
                    }
                    match e.key().as_str() {
                        "?" if !in_field(e) => {
                            e.prevent_default();
                            open.set(!is_open);
                        }
                        "Escape" if is_open => {
                            e.prevent_default();
                            open.set(false);
                        }
                        // Back, but never out of the app.
                        "Escape" if !in_field(e) && history_depth() > 0 => {
                            e.prevent_default();
                            let _ = gloo::utils::history().back();
                        }
                        _ => {}
                    }
                },
            );
            move || drop(l)
        });
    }
    // The focus goes into the overlay, and back where it was after.
    {
        let close_ref = close_ref.clone();
        use_effect_with(*p.open, move |&is_open| {
            let before = gloo::utils::document()
                .active_element()
                .and_then(|e| e.dyn_into::<HtmlElement>().ok());
            if is_open {
                if let Some(b) = close_ref.cast::<HtmlElement>() {
                    let _ = b.focus();
                }
            }
            move || {
                if is_open {
                    if let Some(b) = before {
                        let _ = b.focus();
                    }
                }
            }
        });
    }
    if !*p.open {
        return html! {};
    }
    let close = {
        let open = p.open.clone();
        Callback::from(move |_: MouseEvent| open.set(false))
    };
    // One control inside: Tab stays on it (the dialog is modal).
    let trap = Callback::from(|e: KeyboardEvent| {
        if e.key() == "Tab" {
            e.prevent_default();
        }
    });
    let scrim_click = {
        let open = p.open.clone();
        Callback::from(move |e: MouseEvent| {
            let on_scrim = e
                .target()
                .and_then(|t| t.dyn_into::<HtmlElement>().ok())
                .is_some_and(|el| {
                    el.class_name()
                        .split_whitespace()
                        .any(|c| c == "overlay-scrim")
                });
            if on_scrim {
                open.set(false);
            }
        })
    };
    html! {
        <div class="overlay-scrim" onclick={scrim_click}>
            <div class="overlay" id="shortcuts" role="dialog" aria-modal="true" aria-labelledby="shortcuts-h" onkeydown={trap}>
                <h2 id="shortcuts-h">{ "Keyboard shortcuts" }</h2>
                <dl class="keys">
                    { for KEYS.iter().map(|(k, what)| html! {
                        <>
                            <dt>{ for k.split(" / ").enumerate().map(|(i, part)| html! {
                                <>{ if i > 0 { " / " } else { "" } }<kbd>{ part }</kbd></>
                            }) }</dt>
                            <dd>{ *what }</dd>
                        </>
                    }) }
                </dl>
                <button class="secondary" id="shortcuts-close" ref={close_ref} onclick={close}>{ "Close" }</button>
            </div>
        </div>
    }
}
