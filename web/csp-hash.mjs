// Trunk post_build hook: computes the SHA-256 of every inline <script> in
// the built index.html and puts them into the Content-Security-Policy in
// place of HEAPLENS_INLINE_SCRIPT_HASHES, so the page needs no
// 'unsafe-inline'. Fails the build if the placeholder is missing.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.env.TRUNK_STAGING_DIR || process.argv[2];
if (!dir) {
  console.error("csp-hash: TRUNK_STAGING_DIR is not set");
  process.exit(1);
}
const file = join(dir, "index.html");
let html = readFileSync(file, "utf8");
const PLACEHOLDER = "HEAPLENS_INLINE_SCRIPT_HASHES";
if (!html.includes(PLACEHOLDER)) {
  console.error(`csp-hash: ${file} has no ${PLACEHOLDER} in its CSP`);
  process.exit(1);
}
const hashes = [];
for (const m of html.matchAll(/<script\b(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)) {
  hashes.push(`'sha256-${createHash("sha256").update(m[1], "utf8").digest("base64")}'`);
}
html = html.replace(PLACEHOLDER, hashes.join(" "));
writeFileSync(file, html);
console.log(`csp-hash: ${hashes.length} inline script(s) allowed by hash`);
