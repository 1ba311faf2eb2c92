// The heaplens engine worker: loads the wasm-bindgen glue (no-modules
// target) and the engine's wasm, both from this site, by relative URL so the
// app works under any sub-path. Rust's main() then installs the message
// handler and posts "ready".
"use strict";
importScripts("./worker.js");
wasm_bindgen({ module_or_path: "./worker_bg.wasm" }).catch((e) => {
  postMessage(JSON.stringify({
    type: "failed",
    slot: null,
    message: "The analysis engine could not start: " + e,
  }));
});
