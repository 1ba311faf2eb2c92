// Trunk post_build hook: fills in the service worker (web/sw.js, copied to
// the build by index.html) with the list of the app's files and a version
// made from their contents, so that every build with other files is a new
// service worker (see web/sw.js). The version ignores the inline-script
// hashes that web/csp-hash.mjs writes into index.html (they follow from the
// other files), so the two hooks may run in either order.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.env.TRUNK_STAGING_DIR || process.argv[2];
if (!dir) {
  console.error("sw-build: TRUNK_STAGING_DIR is not set");
  process.exit(1);
}
const sw = join(dir, "sw.js");
let text = readFileSync(sw, "utf8");
if (!text.includes("HEAPLENS_SW_FILES") || !text.includes("HEAPLENS_SW_VERSION")) {
  console.error(`sw-build: ${sw} has no placeholders`);
  process.exit(1);
}
const files = readdirSync(dir)
  .filter((f) => f !== "sw.js" && statSync(join(dir, f)).isFile())
  .sort();
const hash = createHash("sha256");
for (const f of files) {
  let body = readFileSync(join(dir, f));
  if (f === "index.html") {
    body = Buffer.from(body.toString("utf8").replace(/HEAPLENS_INLINE_SCRIPT_HASHES|'sha256-[A-Za-z0-9+/=]+'(\s+'sha256-[A-Za-z0-9+/=]+')*/g, ""));
  }
  hash.update(f).update("\0").update(body).update("\0");
}
const version = hash.digest("hex").slice(0, 16);
// "./" is the page as people open it (/heaplens/); index.html is the same file.
const list = ["./", ...files];
text = text.replace("HEAPLENS_SW_FILES", JSON.stringify(list)).replace("HEAPLENS_SW_VERSION", version);
writeFileSync(sw, text);
console.log(`sw-build: ${list.length} files, version ${version}`);
