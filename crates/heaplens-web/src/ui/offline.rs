//! Offline use: registers the service worker (`web/sw.js`, which keeps the
//! app's own files) and says when a new version of the site has been
//! fetched and will be used from the next visit. A browser (or a test) that
//! refuses service workers gets the page as before, online only.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{ServiceWorker, ServiceWorkerRegistration, ServiceWorkerState};
use yew::Callback;

/// Registers `sw.js` (beside the page, so its scope is the site's
/// directory); `on_update` runs when a newer version is installed and
/// waiting for the next visit.
pub fn register(on_update: Callback<()>) {
    let nav = gloo::utils::window().navigator();
    // Not in every context (plain http on another host, old browsers).
    if !js_sys::Reflect::has(&nav, &"serviceWorker".into()).unwrap_or(false) {
        return;
    }
    let container = nav.service_worker();
    yew::platform::spawn_local(async move {
        // Refused (a browser or test that blocks service workers): online only.
        let Ok(reg) = JsFuture::from(container.register("./sw.js")).await else {
            return;
        };
        let Ok(reg) = reg.dyn_into::<ServiceWorkerRegistration>() else {
            return;
        };
        // A version found before this page ran: waiting, or still being
        // installed (its updatefound came before this handler).
        if reg.waiting().is_some() && container.controller().is_some() {
            on_update.emit(());
        } else if let Some(sw) = reg.installing() {
            watch(sw, on_update.clone());
        }
        let reg2 = reg.clone();
        let found = Closure::<dyn FnMut()>::new(move || {
            if let Some(sw) = reg2.installing() {
                watch(sw, on_update.clone());
            }
        });
        reg.set_onupdatefound(Some(found.as_ref().unchecked_ref()));
        found.forget();
    });
}

/// Calls `on_update` once `sw` is installed while an older version runs
/// this page (the first install is no news).
fn watch(sw: ServiceWorker, on_update: Callback<()>) {
    let sw2 = sw.clone();
    let changed = Closure::<dyn FnMut()>::new(move || {
        let controlled = gloo::utils::window()
            .navigator()
            .service_worker()
            .controller()
            .is_some();
        if sw2.state() == ServiceWorkerState::Installed && controlled {
            on_update.emit(());
        }
    });
    sw.set_onstatechange(Some(changed.as_ref().unchecked_ref()));
    changed.forget();
}
