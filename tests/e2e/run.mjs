// End-to-end tests of the heaplens web app in headless Chromium.
//
// Serves the built app (dist/, built with --public-url /heaplens/) under
// /heaplens/ as GitHub Pages will, opens real dumps through the page's file
// input, and checks what the page shows against the native CLI
// (`heaplens stats|retained|roots|diff --json`) on the same files. Proves the
// Content-Security-Policy in the page and in the engine's workers by trying
// every way out to a second local server (another origin) and asserting it
// saw nothing. Records every request the browser makes (page and workers)
// and fails on any but the app's own static files. Saves a screenshot of
// every screen in test-artifacts/e2e/ (each screen must have one <h1>).
//
// Environment:
//   HEAPLENS_SHARED   the reference corpus (default ../shared)
//   HEAPLENS_CLI      the CLI (default target/release/heaplens)
//   HEAPLENS_DIST     the built app (default dist)
//   HEAPLENS_RUNTIMES the .NET runtimes scripts/setup installs (default
//                     ~/.cache/heaplens/runtimes), for the module-file test
//   HEAPLENS_DUMPLAB_DLL  DumpLab.dll of the linux-net31 fixture (default
//                     ../dumplab/out/linux-net31-svr/modules/DumpLab.dll)
//   HEAPLENS_BENCH=1  also measure (time to the type table, read rates)
//   HEAPLENS_REQUIRE_CORPUS=1  a missing corpus is a failure, not a skip
//   HEAPLENS_E2E_ONLY=regex  run only the tests whose names match (and the
//                     landing page's), for working on one
//
// The last line is "N passed, N failed, N skipped".
import { chromium } from "playwright-core";
import { execFileSync, spawnSync } from "node:child_process";
import { createServer } from "node:http";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync, statSync, copyFileSync, truncateSync, readFileSync, rmSync, symlinkSync, utimesSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join, resolve, basename } from "node:path";
import { fileURLToPath } from "node:url";
import { serve } from "./server.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SHARED = resolve(process.env.HEAPLENS_SHARED || join(ROOT, "../shared"));
const CLI = resolve(process.env.HEAPLENS_CLI || join(ROOT, "target/release/heaplens"));
const DIST = resolve(process.env.HEAPLENS_DIST || join(ROOT, "dist"));
const RUNTIMES = resolve(process.env.HEAPLENS_RUNTIMES || join(homedir(), ".cache/heaplens/runtimes"));
const DUMPLAB_DLL = resolve(process.env.HEAPLENS_DUMPLAB_DLL || join(ROOT, "../dumplab/out/linux-net31-svr/modules/DumpLab.dll"));
const ART = join(ROOT, "test-artifacts/e2e");
const CACHE = join(ROOT, "test-artifacts/cache");
const PREFIX = "/heaplens/";
const BENCH = process.env.HEAPLENS_BENCH === "1";
const REQUIRE_CORPUS = process.env.HEAPLENS_REQUIRE_CORPUS === "1";
const TIMEOUT = 120_000;
const LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"];

mkdirSync(ART, { recursive: true });
mkdirSync(CACHE, { recursive: true });

const results = [];
const bench = {};
let page, context, server, other;
// The browser profile's directory, removed when the run ends.
let profile;
let isolatedRequests = [];
const consoleErrors = [];
const browserRequests = [];
/** Origins serving the app (the main server, and the cross-origin isolated one). */
const appOrigins = [];

function log(...a) {
  console.log(...a);
}

const ONLY = process.env.HEAPLENS_E2E_ONLY ? new RegExp(process.env.HEAPLENS_E2E_ONLY, "i") : null;

async function test(name, fn) {
  if (ONLY && !ONLY.test(name) && !name.startsWith("landing")) return;
  const t0 = Date.now();
  try {
    const r = await fn();
    if (r && r.skip) {
      results.push({ name, status: "skip" });
      log(`SKIP ${name}: ${r.skip}`);
    } else {
      results.push({ name, status: "pass" });
      log(`ok   ${name} (${Date.now() - t0} ms)`);
    }
  } catch (e) {
    results.push({ name, status: "fail" });
    log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
    try {
      await page.screenshot({ path: join(ART, `FAILED-${name.replace(/[^a-z0-9]+/gi, "-")}.png`), fullPage: true });
    } catch {}
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

function eq(actual, expected, what) {
  const a = JSON.stringify(actual), e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: page shows ${a}, expected ${e}`);
}

function cli(args) {
  const r = spawnSync(CLI, args, { encoding: "utf8", maxBuffer: 1 << 28 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function cliJson(args) {
  const r = cli(args);
  if (r.code !== 0) throw new Error(`${basename(CLI)} ${args.join(" ")} failed: ${r.err.trim()}`);
  return JSON.parse(r.out);
}

/** Bytes in decimal units as the page and the CLI write them (kB = 1000 B), written here independently. */
function decimalBytes(n) {
  if (n < 1000) return `${n} B`;
  const units = ["B", "kB", "MB", "GB", "TB"];
  let v = n, u = 0;
  while (v >= 1000 && u < units.length - 1) { v /= 1000; u++; }
  if (v >= 999.5 && u < units.length - 1) { v /= 1000; u++; }
  const d = v >= 99.95 ? 0 : v >= 9.995 ? 1 : 2;
  return `${v.toFixed(d)} ${units[u]}`;
}

/** RFC 4180 CSV (quoted fields may hold commas, quotes and line breaks; lines end in CRLF), parsed here. */
function parseCsv(text) {
  const rows = [];
  let row = [], field = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(field); field = ""; }
    else if (c === "\r" && text[i + 1] === "\n") { row.push(field); rows.push(row); row = []; field = ""; i++; }
    else field += c;
  }
  if (field !== "" || row.length) { row.push(field); rows.push(row); }
  return rows;
}

/**
 * Decompresses a corpus .zst into the cache (once per version of it: the
 * copy takes the .zst's modification time, and another set's file of the
 * same names — an older one too — is decompressed again).
 */
function unzst(path) {
  const out = join(CACHE, basename(dirname(path)) + "-" + basename(path).replace(/\.zst$/, ""));
  const made = statSync(path).mtime;
  if (!existsSync(out) || Math.abs(statSync(out).mtimeMs - made.getTime()) >= 1) {
    execFileSync("zstd", ["-q", "-d", "--long=27", "-f", "-o", out, path]);
    utimesSync(out, made, made);
  }
  return out;
}

/** A copy of `src` named `name` in the cache, with modification time `when`. */
function copyAs(src, name, when) {
  const dst = join(CACHE, name);
  rmSync(dst, { force: true });
  copyFileSync(src, dst);
  utimesSync(dst, when, when);
  return dst;
}

// axe-core (npm, pinned in package.json): its source is evaluated in the
// page by the test through the DevTools protocol, which the page's CSP does
// not govern; the page itself never loads it, so its policy stays as strict
// for people as it is.
const AXE_SOURCE = readFileSync(join(ROOT, "node_modules/axe-core/axe.min.js"), "utf8");
/** Every axe run: {screen, theme, violations}; written to test-artifacts/e2e/axe.json. */
const axeRuns = [];

/**
 * Runs axe-core on the page as it is; fails on any violation, whatever
 * its impact (a moderate heading-order slip counts as much as contrast).
 */
async function axeCheck(screen, theme) {
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      nodes: v.nodes.length,
      targets: v.nodes.slice(0, 4).map((n) => n.target.join(" ")),
      summary: (v.nodes[0]?.failureSummary || "").split("\n").slice(0, 3).join(" "),
    }));
  });
  axeRuns.push({ screen, theme, violations });
  writeFileSync(join(ART, "axe.json"), JSON.stringify(axeRuns, null, 2));
  const bad = violations;
  assert(bad.length === 0, `axe on ${screen} (${theme}): ${bad.map((v) => `${v.impact} ${v.id} ×${v.nodes} (${v.targets.join(", ")}: ${v.summary})`).join("; ")}`);
}

/**
 * Saves a screenshot of the screen in the light theme, the dark one and
 * 390 px wide, the whole page (`-dark`, `-390`); every screen has exactly one <h1>, and
 * axe-core finds no violation of any impact in either theme.
 */
async function shot(name) {
  await page.waitForTimeout(150); // let transitions settle
  const h1 = await page.$$eval("h1", (h) => h.map((x) => x.textContent.trim()));
  assert(h1.length === 1, `screen ${name} has ${h1.length} <h1>: ${JSON.stringify(h1)}`);
  await page.screenshot({ path: join(ART, `${name}.png`) });
  const failures = [];
  const check = async (theme) => {
    try {
      await axeCheck(name, theme);
    } catch (e) {
      failures.push(e.message);
    }
  };
  await check("light");
  await page.emulateMedia({ colorScheme: "dark" });
  try {
    await page.waitForTimeout(100);
    await page.screenshot({ path: join(ART, `${name}-dark.png`) });
    await check("dark");
  } finally {
    await page.emulateMedia({ colorScheme: "light" });
  }
  const size = page.viewportSize();
  await page.setViewportSize({ width: 390, height: size.height });
  try {
    await page.waitForTimeout(100);
    // The whole page: at 390 px most of a screen is below the fold.
    await page.screenshot({ path: join(ART, `${name}-390.png`), fullPage: true });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    if (overflow > 0) failures.push(`${name} at 390 px: the page is ${overflow} px wider than the window`);
  } finally {
    await page.setViewportSize(size);
    await page.waitForTimeout(50);
  }
  assert(failures.length === 0, failures.join("\n"));
}

/**
 * Every heading of the generic table `sel` shows whole, measured in the
 * browser: each heading's box cuts nothing (its scrollWidth/scrollHeight
 * and its button's within their client sizes) and its text (with the sort
 * arrow) lies inside the heading's box and inside every box that clips it
 * (the table's head, the table): at the window's width (1366 px) with the
 * table not scrolled, at 390 px once the table is scrolled sideways to
 * the heading (the table scrolls there; nothing else may hide it). Saves
 * the table at 390 px scrolled to its right end (`<name>-390-right`).
 */
async function assertHeadingsWhole(sel, name) {
  const measure = (scroll) => page.$$eval(`${sel} .hrow [role=columnheader]`, (ths, scroll) => {
    const bad = [];
    const textBox = (th) => {
      const range = document.createRange();
      range.selectNodeContents(th);
      return range.getBoundingClientRect();
    };
    for (const th of ths) {
      if (th.classList.contains("c-act")) continue; // its heading is visually hidden
      const name = th.textContent.trim();
      const table = th.closest(".vtable");
      table.scrollLeft = 0;
      if (scroll) {
        const t = textBox(th), tb = table.getBoundingClientRect();
        const visRight = tb.left + table.clientLeft + table.clientWidth;
        if (t.right > visRight) table.scrollLeft = Math.ceil(t.right - visRight) + 1;
      }
      const why = [];
      const t = textBox(th);
      const r = th.getBoundingClientRect();
      const inner = th.firstElementChild;
      if (th.scrollWidth > th.clientWidth || th.scrollHeight > th.clientHeight) why.push(`heading box ${th.clientWidth}×${th.clientHeight} holds ${th.scrollWidth}×${th.scrollHeight}`);
      if (inner && (inner.scrollWidth > inner.clientWidth || inner.scrollHeight > inner.clientHeight)) why.push(`${inner.tagName} ${inner.clientWidth}×${inner.clientHeight} holds ${inner.scrollWidth}×${inner.scrollHeight}`);
      if (t.left < r.left - 0.5 || t.right > r.right + 0.5 || t.top < r.top - 0.5 || t.bottom > r.bottom + 0.5) why.push(`text ${t.left}–${t.right} × ${t.top}–${t.bottom} outside the heading ${r.left}–${r.right} × ${r.top}–${r.bottom}`);
      for (let a = th.parentElement; a; a = a.parentElement) {
        const cs = getComputedStyle(a);
        if (cs.overflowX !== "visible") {
          const b = a.getBoundingClientRect();
          const left = b.left + a.clientLeft, right = left + a.clientWidth;
          if (t.left < left - 0.5 || t.right > right + 0.5) why.push(`text ${t.left}–${t.right} outside the visible ${left}–${right} of .${a.className.split(" ").join(".")}`);
        }
        if (a === table) break;
      }
      table.scrollLeft = 0;
      if (why.length) bad.push(`${JSON.stringify(name)}: ${why.join("; ")}`);
    }
    return { n: ths.length, bad };
  }, scroll);
  const wide = await measure(false);
  assert(wide.n > 0, `no headings in ${sel}`);
  assert(wide.bad.length === 0, `${sel} at ${page.viewportSize().width} px, headings cut: ${wide.bad.join(" | ")}`);
  const size = page.viewportSize();
  await page.setViewportSize({ width: 390, height: size.height });
  try {
    await page.waitForTimeout(100);
    const narrow = await measure(true);
    await page.$eval(sel, (t) => { t.scrollLeft = t.scrollWidth; });
    await page.locator(sel).screenshot({ path: join(ART, `${name}-390-right.png`) });
    await page.$eval(sel, (t) => { t.scrollLeft = 0; });
    assert(narrow.bad.length === 0, `${sel} at 390 px, headings cut: ${narrow.bad.join(" | ")}`);
  } finally {
    await page.setViewportSize(size);
    await page.waitForTimeout(50);
  }
}

/** A fresh page with nothing open (a reload forgets the session). */
async function home(query = "") {
  await page.goto(server.url + query);
  await page.waitForSelector("#dropzone", { timeout: TIMEOUT });
}

/** Names of the page's scratch files (unpacked archives) in its private storage. */
async function scratchFiles() {
  return page.evaluate(async () => {
    const dir = await navigator.storage.getDirectory();
    const files = [];
    for await (const name of dir.keys()) if (name.startsWith("heaplens-scratch-")) files.push(name);
    return files;
  });
}

/** Names of the descriptions of unpacked copies kept for a faster reopen. */
async function keptFiles() {
  return page.evaluate(async () => {
    const dir = await navigator.storage.getDirectory();
    const files = [];
    for await (const name of dir.keys()) if (name.startsWith("heaplens-kept-")) files.push(name);
    return files;
  });
}

/** Everything in the page's private storage: name → size. */
async function opfsContents() {
  return page.evaluate(async () => {
    const dir = await navigator.storage.getDirectory();
    const out = {};
    for await (const [name, h] of dir.entries()) {
      try {
        out[name] = h.kind === "file" ? (await h.getFile()).size : -1;
      } catch {
        out[name] = -2; // held by a worker's handle
      }
    }
    return out;
  });
}

/**
 * The findings panel says "no findings" exactly once, with no cards of
 * zeros above it (for a dump the CLI finds nothing in).
 */
async function noFindingsSaidOnce() {
  eq(await page.$$eval("#findings-none", (e) => e.length), 1, "the 'No findings' paragraphs");
  eq(await page.$("#findings-count"), null, "a findings count card beside 'No findings'");
  eq(await page.$("#findings-leaks"), null, "a leak suspects card beside 'No findings'");
  const text = await page.textContent("#findings");
  eq((text.match(/no finding/gi) || []).length, 1, `times "no finding" is said: ${text}`);
}

/**
 * How many scratch files there are once their number is `want` (files of a
 * stopped worker are removed a moment after it stops), or after 40 s.
 */
async function scratchFilesSettled(want) {
  let files = await scratchFiles();
  for (let i = 0; i < 200 && files.length !== want; i++) {
    await page.waitForTimeout(200);
    files = await scratchFiles();
  }
  return files.length;
}

/** Chooses files (dumps and module files together) with the page's file input. */
async function choose(paths) {
  await page.setInputFiles("#file-input", []);
  await page.setInputFiles("#file-input", paths);
}

/** Opens a file (or files chosen together); resolves when the overview, an error or a comparison shows. */
async function openFile(path) {
  const t0 = Date.now();
  await choose(path);
  await page.waitForSelector("#overview, #error, #growth", { timeout: TIMEOUT });
  return Date.now() - t0;
}

/** What the worker measured while opening (from the overview). */
async function workerFigures() {
  return page.$eval("#ov-open-ms", (e) => ({
    workerOpenMs: Number(e.dataset.ms),
    readMs: Number(e.dataset.readMs),
    bytesRead: Number(e.dataset.bytesRead),
    wasmMemory: Number(e.dataset.wasmMemory),
    unpackMs: Number(e.dataset.unpackMs || 0),
    readMBps: Number(e.dataset.bytesRead) / 1e6 / (Number(e.dataset.readMs) / 1000),
  }));
}

/**
 * Opens the `.zst` core `zst` under a 10 kB cap and checks the
 * statistics-only screen against `heaplens stats --all-objects --json` of
 * the plain core (every row), that the archive was unpacked once (the
 * worker's bytes unpacked = the plain core's size; bytes read from the
 * file under twice the archive's size: a second unpack reads it all again)
 * and that the unpacked copy is deleted. Its figures, for the benchmark.
 */
async function statisticsOnlyOfArchive(zst) {
  const plain = unzst(zst);
  const want = cliJson(["stats", "--all-objects", "--json", plain]);
  await home("?e2e-memory-cap=10000");
  const t0 = Date.now();
  await choose(zst);
  await page.waitForSelector("#statistics-only, #error, #overview", { timeout: 30 * 60_000 });
  await assertNoError();
  await page.waitForSelector("#counts-table .trow", { timeout: TIMEOUT });
  const ms = Date.now() - t0;
  const box = await page.$eval("#statistics-only", (e) => ({ counted: e.dataset.counted, objects: Number(e.dataset.objects), bytes: Number(e.dataset.bytes) }));
  eq(box, { counted: "all_objects", objects: want.objects, bytes: want.bytes }, "statistics-only totals");
  const rows = await allRows("#counts-table");
  const key = (r) => `${r.mt} ${r.name}`;
  const byMt = (list) => list.map((r) => ({ mt: r.mt, name: r.name, count: Number(r.count), bytes: Number(r.bytes) })).sort((a, b) => (key(a) < key(b) ? -1 : 1));
  eq(byMt(rows), byMt(want.types), "every row of the table");
  const read = await page.$eval("#statistics-only-read", (e) => ({ ms: Number(e.dataset.ms), bytesRead: Number(e.dataset.bytesRead), unpackedBytes: Number(e.dataset.unpackedBytes), unpackMs: Number(e.dataset.unpackMs), text: e.textContent }));
  const size = statSync(zst).size;
  const unpacked = statSync(plain).size;
  eq(read.unpackedBytes, unpacked, "bytes unpacked into the browser's storage (the plain core once)");
  assert(read.bytesRead >= 0.9 * size && read.bytesRead < 2 * size, `bytes read from the ${size}-byte archive: ${read.bytesRead}`);
  assert(read.text.includes(`a ${decimalBytes(size)} archive unpacked to ${decimalBytes(unpacked)}`), `read in: ${read.text}`);
  await page.$eval("#counts-table .tbody", (el) => { el.scrollTop = 0; });
  await shot("35c-statistics-only-zst");
  await assertHeadingsWhole("#counts-table", "35c-statistics-only-zst");
  eq(await scratchFilesSettled(0), 0, "scratch files left after the statistics-only read");
  return { file: basename(zst), size, unpacked, objects: want.objects, ms, workerMs: read.ms, unpackMs: read.unpackMs, bytesRead: read.bytesRead, unpackedBytes: read.unpackedBytes };
}

/** Fails with the page's error message if it shows one. */
async function assertNoError() {
  if (await page.$("#error")) throw new Error(`the page shows an error: ${await page.textContent("#error-message")}`);
}

async function overviewNumbers(sel = "#overview") {
  return page.$eval(sel, (el) => ({
    objects: Number(el.dataset.objects),
    bytes: Number(el.dataset.bytes),
    types: Number(el.dataset.types),
  }));
}

/** The rows of a virtualised table that are in the DOM, in display order. */
async function tableRows(sel) {
  return page.$$eval(`${sel} .trow`, (rows) =>
    rows
      .map((r) => ({ top: parseFloat(r.style.top), d: { ...r.dataset } }))
      .sort((a, b) => a.top - b.top)
      .map((r) => r.d),
  );
}

/** Every row of a virtualised table, scrolling it from top to bottom. */
async function allRows(sel) {
  const seen = new Map();
  await page.$eval(`${sel} .tbody`, (el) => { el.scrollTop = 0; });
  for (let k = 0; k < 100000; k++) {
    await page.waitForTimeout(60);
    for (const r of await page.$$eval(`${sel} .trow`, (rows) => rows.map((r) => ({ i: Number(r.dataset.index), d: { ...r.dataset } })))) seen.set(r.i, r.d);
    const done = await page.$eval(`${sel} .tbody`, (el) => {
      if (el.scrollTop + el.clientHeight >= el.scrollHeight - 1) return true;
      el.scrollTop += el.clientHeight;
      return false;
    });
    if (process.env.HEAPLENS_E2E_DEBUG) log("     allRows", k, seen.size, done, await page.$eval(`${sel} .tbody`, (el) => [el.scrollTop, el.clientHeight, el.scrollHeight]));
    if (done) break;
  }
  await page.waitForTimeout(60);
  for (const r of await page.$$eval(`${sel} .trow`, (rows) => rows.map((r) => ({ i: Number(r.dataset.index), d: { ...r.dataset } })))) seen.set(r.i, r.d);
  return [...seen.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
}

/** Clicks `sel` and returns the file the page downloads (its text). */
async function downloadOf(sel) {
  const [dl] = await Promise.all([page.waitForEvent("download", { timeout: TIMEOUT }), page.click(sel)]);
  return { name: dl.suggestedFilename(), text: readFileSync(await dl.path(), "utf8") };
}

/**
 * Moves the focus with Tab (Shift+Tab when `back`) until the focused
 * element matches `sel`, as a keyboard user would; fails after 80 presses.
 */
async function tabTo(sel, back = false) {
  for (let i = 0; i < 80; i++) {
    if (await page.evaluate((s) => !!document.activeElement && document.activeElement.matches(s), sel)) return;
    await page.keyboard.press(back ? "Shift+Tab" : "Tab");
  }
  throw new Error(`Tab never reached ${sel} (focus on ${await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 120))})`);
}

/** Presses `key` on the focused element and gives the file chooser it opens `paths` (as the OS dialog would). */
async function chooseByKey(key, paths) {
  // Waiting for the event turns on Playwright's interception of file
  // choosers (a message to the browser); one round trip to the page
  // makes sure it is on before the key opens the chooser (otherwise the
  // chooser may open uncaught, as it did now and then).
  const chooser = page.waitForEvent("filechooser", { timeout: 10_000 });
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => done())));
  await page.keyboard.press(key);
  await (await chooser).setFiles(paths);
}

/** Shows the type table of the dump on screen. */
async function showTypes() {
  await page.click("#tab-types");
  await page.waitForSelector("#type-table .trow", { timeout: TIMEOUT });
}

/** The overview's GC mode is the one `heaplens stats --json` reports. */
async function checkGcMode(file) {
  const clr = cliJson(["stats", "--json", file]).clr;
  const heaps = clr.heap_count === 1 ? "1 heap" : `${clr.heap_count} heaps`;
  eq((await page.textContent("#ov-gc")).trim(), `${clr.gc_mode} GC, ${clr.heap_layout}, ${heaps}`, "GC mode");
}

/**
 * Opens `file` (with `modules`, module files chosen together with it) and
 * checks totals and top rows against `heaplens stats --json` (given
 * `cliArgs`, e.g. `--modules DIR` holding the same module files).
 */
async function checkAgainstStats(file, label, { modules = [], cliArgs = [] } = {}) {
  const expected = cliJson(["stats", "--json", ...cliArgs, file]);
  const ms = await openFile(modules.length ? [file, ...modules] : file);
  await assertNoError();
  const ov = await overviewNumbers();
  eq(ov, { objects: expected.objects, bytes: expected.bytes, types: expected.type_count }, `${label} totals`);
  await showTypes();
  const rows = (await tableRows("#type-table")).slice(0, 20);
  const want = expected.types.slice(0, rows.length).map((t) => ({ id: t.id, name: t.name, count: t.count, bytes: t.bytes }));
  eq(rows.map((r) => ({ id: Number(r.id), name: r.name, count: Number(r.count), bytes: Number(r.bytes) })), want, `${label} top rows`);
  assert(rows.length >= Math.min(15, expected.types.length), `only ${rows.length} rows shown`);
  return { ms, expected };
}

/** Per-type growth from two `stats --json` outputs, sorted as the page sorts it. */
function growthFromStats(a, b) {
  const m = new Map();
  for (const [s, k] of [[a, 0], [b, 1]]) {
    for (const t of s.types) {
      const e = m.get(t.name) || [0, 0, 0, 0];
      e[k * 2] += t.count;
      e[k * 2 + 1] += t.bytes;
      m.set(t.name, e);
    }
  }
  const rows = [];
  for (const [name, [c0, b0, c1, b1]] of m) {
    if (c0 !== c1 || b0 !== b1) rows.push({ name, dc: c1 - c0, db: b1 - b0 });
  }
  return sortGrowth(rows);
}

function sortGrowth(rows) {
  return rows.sort((x, y) => y.db - x.db || y.dc - x.dc || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
}

/** Rows of `heaplens diff --json`. */
function growthFromDiffJson(j) {
  return sortGrowth(j.types.map((t) => ({ name: t.name, dc: t.count_delta, db: t.bytes_delta })));
}

/**
 * The comparison's rows sorted by Δ bytes (PerfView's order), once both
 * dumps are analysed (the table is then by Δ retained, and types whose
 * retained bytes alone changed are rows too, as in `diff --by retained`).
 */
async function growthRowsByBytes(n = 15) {
  await page.waitForSelector('#diff-order[data-retained="true"]', { timeout: TIMEOUT });
  const sort = await page.$eval("#diff-table-sort-bytes_delta", (b) => b.parentElement.getAttribute("aria-sort"));
  if (sort !== "descending") await page.click("#diff-table-sort-bytes_delta");
  await page.waitForTimeout(200);
  return growthRows(n);
}

async function growthRows(n = 15) {
  return (await tableRows("#diff-table")).slice(0, n).map((r) => ({ name: r.name, dc: Number(r.countDelta), db: Number(r.bytesDelta) }));
}

/** A document with its `file` fields (paths in the CLI, names in the page) taken out. */
function withoutFiles(doc) {
  return JSON.parse(JSON.stringify(doc, (k, v) => (k === "file" ? undefined : v)));
}

/**
 * The Content-Security-Policy of the built page, directive by directive:
 * a Map from directive name to its list of sources (a repeated directive
 * is an error: browsers take the first and ignore the rest).
 */
function parseCsp(policy) {
  const m = new Map();
  for (const part of policy.split(";")) {
    const [name, ...sources] = part.trim().split(/\s+/).filter(Boolean);
    if (!name) continue;
    const n = name.toLowerCase();
    if (m.has(n)) throw new Error(`CSP directive ${n} is given twice`);
    m.set(n, sources);
  }
  return m;
}

/** Checks the page's policy allows nothing of another origin, directive by directive. */
function checkCsp(policy) {
  const csp = parseCsp(policy);
  const only = (d, allowed) => {
    const got = csp.get(d);
    assert(got, `CSP has no ${d}`);
    for (const s of got) assert(allowed.some((a) => (a instanceof RegExp ? a.test(s) : a === s)), `CSP ${d} allows ${s}`);
    return got;
  };
  eq(only("default-src", ["'none'"]), ["'none'"], "default-src");
  const script = only("script-src", ["'self'", "'wasm-unsafe-eval'", /^'sha256-[A-Za-z0-9+/]+=*'$/]);
  assert(script.includes("'self'") && script.includes("'wasm-unsafe-eval'"), `script-src: ${script}`);
  assert(script.some((s) => s.startsWith("'sha256-")), "script-src has no hash of Trunk's inline script");
  // The engine's workers come from blob: URLs and inherit this policy;
  // 'self' is for the service worker (a service worker cannot come from a
  // blob: URL), and the tests check every dedicated worker is a blob:.
  eq(only("worker-src", ["'self'", "blob:"]), ["'self'", "blob:"], "worker-src");
  eq(only("connect-src", ["'self'"]), ["'self'"], "connect-src");
  only("style-src", ["'self'"]);
  only("style-src-attr", ["'unsafe-inline'"]);
  only("img-src", ["'self'", "data:"]);
  only("font-src", ["'self'"]);
  only("manifest-src", ["'self'"]);
  for (const d of ["object-src", "frame-src", "media-src", "form-action"]) eq(only(d, ["'none'"]), ["'none'"], d);
  eq(only("base-uri", ["'self'"]), ["'self'"], "base-uri");
  const known = new Set(["default-src", "script-src", "worker-src", "connect-src", "style-src", "style-src-attr", "img-src", "font-src", "manifest-src", "media-src", "frame-src", "object-src", "base-uri", "form-action"]);
  for (const d of csp.keys()) assert(known.has(d), `CSP has a directive this test does not check: ${d}`);
}

/**
 * The "other origin": a second local server on another port that answers
 * everything (with CORS allowed, so only a policy can stop a request) and
 * records every request and WebSocket upgrade.
 */
function otherOrigin() {
  const seen = [];
  const s = createServer((req, res) => {
    seen.push(req.url);
    const type = req.url.includes("events") ? "text/event-stream" : "text/javascript";
    res.writeHead(200, { "Access-Control-Allow-Origin": "*", "Content-Type": type });
    res.end(type === "text/event-stream" ? "data: hi\n\n" : "self.reachedOtherOrigin = 1;");
  });
  s.on("upgrade", (req, socket) => {
    seen.push(`upgrade ${req.url}`);
    socket.destroy();
  });
  return new Promise((ok) =>
    s.listen(0, "127.0.0.1", () => ok({ origin: `127.0.0.1:${s.address().port}`, seen, close: () => new Promise((d) => s.close(d)) })),
  );
}

/** Tries every way to reach `origin` from the global this runs in (page or worker). */
async function tryEveryWayOut({ origin, tag }) {
  const out = {};
  const violations = [];
  self.addEventListener("securitypolicyviolation", (e) => violations.push(`${e.effectiveDirective} ${e.blockedURI}`));
  const url = (what) => `http://${origin}/${tag}-${what}`;
  try { await fetch(url("fetch")); out.fetch = "reached"; } catch (e) { out.fetch = `blocked: ${e}`; }
  out.xhr = await new Promise((ok) => {
    try { const x = new XMLHttpRequest(); x.onload = () => ok("reached"); x.onerror = () => ok("blocked"); x.open("GET", url("xhr")); x.send(); } catch (e) { ok(`blocked: ${e}`); }
  });
  out.websocket = await new Promise((ok) => {
    try { const s = new WebSocket(`ws://${origin}/${tag}-websocket`); s.onopen = () => ok("reached"); s.onerror = () => ok("blocked"); } catch (e) { ok(`blocked: ${e}`); }
  });
  out.eventsource = await new Promise((ok) => {
    try { const s = new EventSource(url("events")); s.onopen = () => { s.close(); ok("reached"); }; s.onerror = () => { s.close(); ok("blocked"); }; } catch (e) { ok(`blocked: ${e}`); }
  });
  if (typeof importScripts === "function") {
    try { importScripts(url("importscripts.js")); out.importScripts = "reached"; } catch (e) { out.importScripts = `blocked: ${e}`; }
  }
  try { await import(url("import.js")); out.import = "reached"; } catch (e) { out.import = `blocked: ${e}`; }
  await new Promise((ok) => setTimeout(ok, 300));
  return { out, violations };
}

/** Halves the file bytes of the ELF core's PT_LOAD that holds `address`: memory the dump then lacks. */
function cutCoreAt(src, dst, address) {
  const b = readFileSync(src);
  const phoff = Number(b.readBigUInt64LE(0x20));
  const phentsize = b.readUInt16LE(0x36), phnum = b.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (b.readUInt32LE(o) !== 1) continue; // PT_LOAD
    const vaddr = b.readBigUInt64LE(o + 16), filesz = b.readBigUInt64LE(o + 32), memsz = b.readBigUInt64LE(o + 40);
    if (vaddr <= address && address < vaddr + memsz) {
      b.writeBigUInt64LE(filesz / 2n, o + 32);
      writeFileSync(dst, b);
      return;
    }
  }
  throw new Error(`no PT_LOAD holds ${address.toString(16)}`);
}

async function main() {
  if (!existsSync(join(DIST, "index.html"))) throw new Error(`no built app at ${DIST} (run trunk build --release)`);
  if (!existsSync(CLI)) throw new Error(`no CLI at ${CLI} (cargo build --release -p heaplens-cli)`);
  const haveCorpus = existsSync(join(SHARED, "samples/gcdump"));
  if (!haveCorpus && REQUIRE_CORPUS) throw new Error(`the corpus is missing at ${SHARED}`);
  const distFiles = new Set(readdirSync(DIST));

  server = await serve({ dist: DIST, prefix: PREFIX });
  other = await otherOrigin();
  const origin = new URL(server.url).origin;
  appOrigins.push(origin);
  profile = mkdtempSync(join(tmpdir(), "heaplens-e2e-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1366, height: 800 },
    args: LAUNCH_ARGS,
    // The service worker (offline use) has a test of its own, in a
    // browser profile of its own; here every request goes to the server,
    // as the tests that count or rewrite them expect.
    serviceWorkers: "block",
  });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin });
  context.on("request", (r) => browserRequests.push(r.url()));
  context.on("weberror", (e) => consoleErrors.push(`page error: ${e.error()}`));
  page = context.pages()[0] || (await context.newPage());
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  page.on("worker", (w) => w.on("console", (m) => m.type() === "error" && consoleErrors.push(`worker: ${m.text()}`)));

  const samples = join(SHARED, "samples/gcdump");
  const gcA = join(samples, "monogcdumprepro-20231108_150515_31024.gcdump");
  const gcB = join(samples, "monogcdumprepro-20231108_150644_31024.gcdump");
  const gcBig = join(samples, "perfview-test2-wpf-netfx-x86.gcdump");
  const gcMaui = join(samples, "gcdump-analyze-test1-maui-windows-net9.gcdump");
  const fixtures = join(SHARED, "fixtures");

  await test("landing page under /heaplens/: formats, module files, one <h1>, the CSP directive by directive", async () => {
    await home();
    const accepts = await page.textContent("#accepts");
    assert(/\.gcdump/.test(accepts) && /core dump/i.test(accepts), `accepts: ${accepts}`);
    // Kudu's download as it comes, and compressed dumps; no DAC or SOS.
    assert(/\.zip/.test(accepts) && /\.gz/.test(accepts) && /\.zst/.test(accepts) && /sos\.dll/.test(accepts) && /mscordaccore\.dll/.test(accepts) && /mscordacwks\.dll/.test(accepts) && /not needed/.test(accepts), `accepts: ${accepts}`);
    const metas = await page.$$eval('meta[http-equiv="Content-Security-Policy"]', (m) => m.map((x) => x.content));
    eq(metas.length, 1, "CSP meta tags");
    assert(!metas[0].includes("HEAPLENS_INLINE_SCRIPT_HASHES"), "the CSP hash hook did not run");
    checkCsp(metas[0]);
    // The policy comes before anything it governs.
    const first = await page.evaluate(() => [...document.head.children].findIndex((e) => e.matches('meta[http-equiv="Content-Security-Policy"]')));
    const firstScript = await page.evaluate(() => [...document.head.children].findIndex((e) => e.matches("script, link[rel=modulepreload], link[rel=stylesheet], link[rel=preload]")));
    assert(first >= 0 && (firstScript < 0 || first < firstScript), `the CSP meta is at ${first}, a script or style at ${firstScript}`);
    const hint = await page.textContent("#modules-hint");
    assert(/module!token/.test(hint) && /DLLs/.test(hint) && /shared\/Microsoft\.NETCore\.App\/<version>\//.test(hint), `modules hint: ${hint}`);
    assert(await page.$eval("#file-input", (e) => e.multiple), "the file input does not take several files");
    await shot("01-landing");
  });

  if (!haveCorpus) {
    results.push({ name: "corpus tests", status: "skip" });
    log(`SKIP corpus tests: no corpus at ${SHARED}`);
  } else {
    await test("the engine's worker runs under the page's CSP: fetch, XHR, WebSocket, EventSource, importScripts and import() to another origin are blocked there and in the page", async () => {
      // Control: from a page without the policy, the other origin is
      // reachable, so what blocks below is the policy.
      const control = await context.newPage();
      const c = await control.evaluate(tryEveryWayOut, { origin: other.origin, tag: "control" });
      await control.close();
      assert(c.out.fetch === "reached" && c.out.xhr === "reached" && c.out.import === "reached", `control: ${JSON.stringify(c.out)}`);
      assert(other.seen.some((u) => u.includes("control-websocket")) && other.seen.some((u) => u.includes("control-events")), `control: the other server saw ${other.seen}`);
      other.seen.length = 0;
      await home();
      await openFile(gcA);
      await assertNoError();
      const workers = page.workers().filter((w) => w.url().startsWith("blob:"));
      assert(workers.length >= 1, `engine workers: ${page.workers().map((w) => w.url())}`);
      assert(page.workers().every((w) => w.url().startsWith("blob:")), `a worker from its own URL: ${page.workers().map((w) => w.url())}`);
      const inWorker = await workers[0].evaluate(tryEveryWayOut, { origin: other.origin, tag: "csp-worker" });
      const inPage = await page.evaluate(tryEveryWayOut, { origin: other.origin, tag: "csp-page" });
      for (const [where, r, ways] of [["worker", inWorker, ["fetch", "xhr", "websocket", "eventsource", "importScripts", "import"]], ["page", inPage, ["fetch", "xhr", "websocket", "eventsource", "import"]]]) {
        for (const w of ways) assert(r.out[w] && r.out[w].startsWith("blocked"), `${where}: ${w} ${r.out[w]}`);
        // Each was stopped by the policy (a violation of connect-src or
        // script-src), not by chance.
        for (const w of ways) {
          const tag = { fetch: "fetch", xhr: "xhr", websocket: "websocket", eventsource: "events", importScripts: "importscripts", import: "import.js" }[w];
          assert(r.violations.some((v) => v.includes(`-${tag}`) && /^(connect-src|script-src)/.test(v)), `${where}: no CSP violation for ${w}: ${r.violations}`);
        }
      }
      eq(other.seen, [], "requests the other origin saw from the page or its worker");
      // The violations this test caused are expected console errors.
      for (let i = consoleErrors.length - 1; i >= 0; i--) if (consoleErrors[i].includes(other.origin)) consoleErrors.splice(i, 1);
      log(`     worker: ${Object.keys(inWorker.out).join(", ")} blocked; page: ${Object.keys(inPage.out).join(", ")} blocked`);
    });

    await test("progress: phase in words with its unit, bytes, time left; Cancel stops one dump and keeps the others", async () => {
      // ?e2e-slow-progress makes the engine pause at each progress report,
      // so the read of a 2.9 MB dump can be seen and cancelled.
      await home("?e2e-slow-progress=3000");
      await choose(gcA);
      await page.waitForSelector("#overview", { timeout: TIMEOUT });
      await choose(gcBig);
      await page.waitForSelector("#progress", { timeout: TIMEOUT });
      await page.waitForFunction(() => /reading the objects: [1-9][\d,]* of [\d,]+ objects/.test(document.querySelector("#progress-objects")?.textContent || ""), null, { timeout: 30_000 });
      const text = await page.textContent("#progress");
      assert(/read/.test(text) && /left/.test(text), `progress text: ${text}`);
      eq(await page.$$eval("#dumpbar .chip", (c) => c.length), 2, "dumps in the bar while reading");
      await shot("02-progress");
      await page.click("#cancel", { timeout: 5_000 });
      await page.waitForSelector("#notice", { timeout: TIMEOUT });
      assert(/Stopped reading perfview-test2/.test(await page.textContent("#notice")), "no cancel notice");
      // The dump read before is still open and shown.
      await page.waitForSelector("#overview");
      eq(await page.$$eval("#dumpbar .chip-main", (c) => c.map((x) => x.title)), [basename(gcA)], "dumps left");
      const want = cliJson(["stats", "--json", gcA]);
      eq((await overviewNumbers()).objects, want.objects, "objects of the dump kept");
    });

    await test("cancel one operation of an open dump: retained sizes stop, the dump stays and answers", async () => {
      // Slowed: the retained sizes take at least five reports of 1.5 s, so
      // they are still being computed when the overview shows.
      await home("?e2e-slow-progress=1500");
      await openFile(gcA);
      await page.click("#retained-stop");
      await page.waitForSelector("#retained-stopped", { timeout: TIMEOUT });
      // The dump is read again in a new worker (no shared memory here) and
      // still answers: a type's detail, then its retained sizes on demand.
      await showTypes();
      await page.click("#type-table .trow >> nth=0");
      await page.waitForSelector("#referred-from .refnode", { timeout: TIMEOUT });
      await page.click("#tab-overview");
      await page.click("#retained-compute");
      await page.waitForSelector("#retained-ready", { timeout: TIMEOUT });
    });

    await test("cancel with shared memory (the page cross-origin isolated): the engine stops at its next report, the same worker keeps the dump", async () => {
      // COOP and COEP make the page cross-origin isolated (a service worker
      // can give GitHub Pages that): the page then cancels through a flag
      // the engine reads, and no worker is stopped.
      const isolated = await serve({ dist: DIST, prefix: PREFIX, headers: { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" } });
      appOrigins.push(new URL(isolated.url).origin);
      isolatedRequests = isolated.requests;
      try {
        await page.goto(isolated.url + "?e2e-slow-progress=1500");
        await page.waitForSelector("#dropzone");
        assert(await page.evaluate(() => self.crossOriginIsolated), "the page is not cross-origin isolated");
        await choose(gcA);
        await page.waitForSelector("#overview", { timeout: TIMEOUT });
        const loads = () => isolated.requests.filter((r) => r.path.endsWith("/worker_bg.wasm")).length;
        const before = loads();
        await page.click("#retained-stop");
        await page.waitForSelector("#retained-stopped", { timeout: TIMEOUT });
        await showTypes();
        await page.click("#type-table .trow >> nth=0");
        await page.waitForSelector("#referred-from .refnode", { timeout: TIMEOUT });
        eq(loads(), before, "engine modules loaded after the cancel (a new worker)");
        eq(page.workers().length, 1, "workers");
      } finally {
        await isolated.close();
      }
    });

    await test(".gcdump: totals and top rows equal `heaplens stats --json`", async () => {
      await home();
      await checkAgainstStats(gcA, basename(gcA));
      await page.click("#tab-overview");
      await page.waitForSelector("#overview");
      await shot("03-overview");
      await showTypes();
      await page.waitForSelector("#retained-ready", { timeout: TIMEOUT });
      await shot("04-types");
      await assertHeadingsWhole("#type-table", "04-types");
    });

    await test("type table: sort (aria-sort), filter, virtualised rows, keyboard, CSV of the rows shown", async () => {
      const count = Number((await page.textContent("#type-table-count")).match(/of ([\d,]+)/)[1].replace(/,/g, ""));
      const dom = await page.$$eval("#type-table .trow", (r) => r.length);
      assert(count > 1000 && dom < 80, `${dom} DOM rows for ${count} types: not virtualised`);
      eq(await page.$eval("#type-table", (g) => [g.getAttribute("role"), g.getAttribute("aria-rowcount")]), ["grid", String(count + 1)], "grid role and row count");
      eq(await page.$eval("#type-table-sort-bytes", (b) => b.parentElement.getAttribute("aria-sort")), "descending", "aria-sort of bytes");
      await page.click("#type-table-sort-count");
      eq(await page.$eval("#type-table-sort-count", (b) => b.parentElement.getAttribute("aria-sort")), "descending", "aria-sort of count");
      eq(await page.$eval("#type-table-sort-bytes", (b) => b.parentElement.getAttribute("aria-sort")), "none", "aria-sort of bytes after sorting by count");
      let rows = await tableRows("#type-table");
      assert(Number(rows[0].count) >= Number(rows[1].count), "not sorted by count");
      await page.click("#type-table-sort-count");
      rows = await tableRows("#type-table");
      assert(Number(rows[0].count) <= Number(rows[1].count), "a second click does not sort ascending");
      eq(await page.$eval("#type-table-sort-count", (b) => b.parentElement.getAttribute("aria-sort")), "ascending", "aria-sort ascending");
      // The filter is the CLI's --filter: a regular expression, case
      // sensitive unless it says (?i); the rows and their subtotal are
      // those of `heaplens stats --json --filter`.
      for (const re of ["^System\\.Collections\\.(Concurrent|Generic)\\.[A-Z]\\w*", "(?i)string"]) {
        await page.fill("#type-table-filter", re);
        await page.waitForTimeout(100);
        const cliRows = cliJson(["stats", "--json", "--filter", re, gcA]).types;
        assert(cliRows.length > 0, `no type matches ${re}`);
        const shownCount = Number((await page.textContent("#type-table-count")).match(/^([\d,]+)/)[1].replace(/,/g, ""));
        eq(shownCount, cliRows.length, `rows matching ${re} (stats --filter)`);
        const objects = cliRows.reduce((a, t) => a + t.count, 0);
        const bytes = cliRows.reduce((a, t) => a + t.bytes, 0);
        eq(await page.textContent("#type-table-subtotal"), `: ${objects.toLocaleString("en-US")} objects, ${decimalBytes(bytes)}`, `subtotal of ${re}`);
      }
      rows = await tableRows("#type-table");
      assert(rows.length > 0 && rows.every((r) => r.name.toLowerCase().includes("string")), "filter");
      // Not a regular expression: said, and the text matched as written.
      await page.fill("#type-table-filter", "String[");
      await page.waitForSelector("#type-table-filter-error");
      eq(await page.$eval("#type-table-filter", (e) => e.getAttribute("aria-invalid")), "true", "aria-invalid of a bad expression");
      assert((await tableRows("#type-table")).every((r) => r.name.includes("String[")), "a bad expression is matched as text");
      await page.fill("#type-table-filter", "(?i)string");
      // CSV of the rows shown: the filtered types, as the CLI counts them.
      const csv = await downloadOf("#type-table-csv");
      const lines = csv.text.trim().split("\r\n");
      eq(lines[0], "Id,Type,Module,Count,Bytes,% of heap,Retained,Retained %,Inc,Inc Ct", "CSV heading");
      const shown = Number((await page.textContent("#type-table-count")).match(/^([\d,]+)/)[1].replace(/,/g, ""));
      eq(lines.length - 1, shown, "CSV rows");
      const byId = new Map(cliJson(["stats", "--json", gcA]).types.map((t) => [t.id, t]));
      for (const l of lines.slice(1)) {
        const cells = l.match(/("([^"]|"")*"|[^,]*)(,|$)/g).map((c) => c.replace(/,$/, "").replace(/^"|"$/g, "").replace(/""/g, '"'));
        const t = byId.get(Number(cells[0]));
        eq([cells[1], Number(cells[3]), Number(cells[4])], [t.name, t.count, t.bytes], `CSV row ${cells[0]}`);
        assert(t.name.toLowerCase().includes("string"), `CSV row outside the filter: ${t.name}`);
      }
      await page.fill("#type-table-filter", "");
      await page.click("#type-table-sort-bytes");
      // Scroll to the end: the last rows render.
      await page.$eval("#type-table .tbody", (el) => { el.scrollTop = el.scrollHeight; });
      await page.waitForTimeout(200);
      rows = await tableRows("#type-table");
      assert(rows.length < 80, "rows after scrolling");
      await page.$eval("#type-table .tbody", (el) => { el.scrollTop = 0; });
      await page.waitForTimeout(100);
      // Keyboard: one row in the tab order; arrows and End move, Enter opens.
      eq(await page.$$eval('#type-table [role=row][tabindex="0"]', (r) => r.length), 1, "rows in the tab order");
      await page.focus('#type-table [role=row][tabindex="0"]');
      for (let i = 0; i < 3; i++) await page.keyboard.press("ArrowDown");
      eq(await page.evaluate(() => document.activeElement.getAttribute("aria-rowindex")), "5", "focus after three ArrowDown");
      await page.keyboard.press("End");
      eq(await page.evaluate(() => document.activeElement.getAttribute("aria-rowindex")), String(count + 1), "focus after End (the last row, rendered)");
      await page.keyboard.press("Home");
      await page.keyboard.press("ArrowDown");
      const focused = await page.evaluate(() => document.activeElement.dataset.name);
      await shot("04b-types-keyboard");
      // Ctrl+C copies the row, Enter opens it.
      await page.keyboard.press("Control+c");
      await page.waitForFunction(() => /Copied the row/.test(document.querySelector("#announcer").textContent));
      const clip = await page.evaluate(() => navigator.clipboard.readText());
      assert(clip.includes(`Type: ${focused}\t`) && /Count: \d+/.test(clip), `clipboard: ${clip}`);
      await page.keyboard.press("Enter");
      await page.waitForSelector("#detail");
      eq(await page.textContent("#detail-name"), focused, "Enter opens the focused row");
    });

    await test("type detail: root paths (copied as text), referred-from tree, retained size", async () => {
      await showTypes();
      const first = (await tableRows("#type-table"))[0];
      await page.click(`#type-table .trow >> nth=0`);
      await page.waitForSelector("#referred-from .refnode", { timeout: TIMEOUT });
      eq(await page.textContent("#detail-name"), first.name, "detail name");
      assert(await page.$("#root-paths .path"), "no root path");
      const retained = await page.textContent("#detail-retained .value");
      assert(/B/.test(retained) && !/computed/.test(retained), `retained: ${retained}`);
      await page.click("#copy-path-0");
      await page.waitForFunction(() => /Copied the path/.test(document.querySelector("#announcer").textContent));
      const clip = await page.evaluate(() => navigator.clipboard.readText());
      const firstPath = await page.$eval("#root-paths .path", (p) => [...p.querySelectorAll(".step-name")].map((s) => s.textContent));
      eq(clip.split("\n").slice(1).map((l) => l.replace(/^-> /, "").replace(/  \(0x[0-9a-f]+\)$/, "")), firstPath, "the copied path");
      assert(/^\[\w[\w ]* root\]/.test(clip), `copied path: ${clip}`);
      // Open the first referrer.
      const twisty = await page.$("#referred-from .refnode .refnode .twisty:not([disabled])");
      if (twisty) await twisty.click();
      await shot("05-detail");
    });

    await test("keyboard: the referred-from tree (WAI-ARIA tree), the ? overlay, Escape goes back, the theme toggle", async () => {
      // On the detail of the test before.
      await page.waitForSelector("#referred-from [role=treeitem]");
      eq(await page.$$eval('#referred-from [role=treeitem][tabindex="0"]', (t) => t.length), 1, "tree entries in the tab order");
      const active = () => page.evaluate(() => [document.activeElement.id, document.activeElement.getAttribute("aria-expanded")]);
      await page.focus('#referred-from [role=treeitem][tabindex="0"]');
      await page.keyboard.press("Home");
      eq(await active(), ["ref-0", "true"], "the tree's first entry (open)");
      await page.keyboard.press("ArrowLeft");
      eq(await active(), ["ref-0", "false"], "ArrowLeft closes an open entry");
      eq(await page.$$eval("#referred-from [role=treeitem]", (t) => t.length), 1, "entries shown when closed");
      await page.keyboard.press("ArrowRight");
      eq(await active(), ["ref-0", "true"], "ArrowRight opens it");
      await page.keyboard.press("ArrowRight");
      eq((await active())[0], "ref-1", "ArrowRight on an open entry: its first child");
      assert(await page.$eval("#ref-1", (e) => e.parentElement.getAttribute("role") === "group" && e.parentElement.parentElement.id === "ref-0"), "a child sits in its parent's group");
      const order = await page.$$eval("#referred-from [role=treeitem]", (t) => t.map((x) => x.id));
      const k = order.indexOf("ref-1");
      await page.keyboard.press("ArrowDown");
      if (k + 1 < order.length) {
        eq((await active())[0], order[k + 1], "ArrowDown: the next entry shown");
        await page.keyboard.press("ArrowUp");
        eq((await active())[0], "ref-1", "ArrowUp");
      } else {
        eq((await active())[0], "ref-1", "ArrowDown on the last entry stays");
      }
      eq((await active())[0], order[Math.max(order.indexOf("ref-1"), order.indexOf((await active())[0]) - 0) === -1 ? 0 : order.indexOf("ref-1")], "ArrowUp");
      if ((await active())[1] === "true") {
        await page.keyboard.press("ArrowLeft");
        eq(await active(), ["ref-1", "false"], "ArrowLeft closes the open child");
      }
      await page.keyboard.press("ArrowLeft");
      eq((await active())[0], "ref-0", "ArrowLeft on a closed entry: its parent");
      await page.keyboard.press("End");
      const last = await page.$$eval("#referred-from [role=treeitem]", (t) => t[t.length - 1].id);
      eq((await active())[0], last, "End: the last entry shown");
      await page.keyboard.press("Home");
      eq((await active())[0], "ref-0", "Home");
      // ? shows the shortcuts (a modal dialog holding the focus); Escape closes it.
      await page.keyboard.press("?");
      await page.waitForSelector("#shortcuts[role=dialog][aria-modal=true]");
      eq(await page.evaluate(() => document.activeElement.id), "shortcuts-close", "focus in the overlay");
      assert(/Escape|Esc/.test(await page.textContent("#shortcuts")) && /Enter/.test(await page.textContent("#shortcuts")), "the overlay lists the keys");
      const keys = await page.textContent("#shortcuts");
      assert(/flame graph/.test(keys) && /Zoom out one level/.test(keys) && /Open the selected frame's type/.test(keys) && /instances/.test(keys), `the overlay lists the flame graph's keys and I: ${keys}`);
      await shot("05c-shortcuts");
      await page.keyboard.press("Escape");
      await page.waitForSelector("#shortcuts", { state: "detached" });
      eq(await page.evaluate(() => document.activeElement.id), "ref-0", "focus back where it was");
      // Escape outside a field: back one step (the table the type was opened from).
      await page.keyboard.press("Escape");
      await page.waitForSelector("#type-table");
      // The theme toggle: dark over the system's light, kept for the next visit.
      const bg = () => page.evaluate(() => getComputedStyle(document.body.parentElement).backgroundColor);
      const light = await bg();
      await page.click("#theme-toggle");
      eq(await page.evaluate(() => [document.documentElement.dataset.theme, document.querySelector("#theme-toggle").getAttribute("aria-pressed")]), ["dark", "true"], "theme after the toggle");
      const dark = await bg();
      const lum = (c) => c.match(/\d+/g).slice(0, 3).reduce((a, v) => a + Number(v), 0);
      assert(lum(dark) < lum(light) / 3, `background ${light} -> ${dark}`);
      await page.reload();
      await page.waitForSelector("#dropzone");
      eq(await page.evaluate(() => document.documentElement.dataset.theme), "dark", "theme after a reload");
      await page.click("#theme-toggle");
      eq(await page.evaluate(() => document.documentElement.dataset.theme), "light", "theme toggled back");
      await page.evaluate(() => localStorage.removeItem("heaplens-theme"));
    });

    // Issue 16: the answers (Inc/Inc Ct/Retained columns, flame graphs,
    // key retention paths, groups) equal the CLI's documents.
    await test("answers: Inc, Inc Ct, Retained, Retained % of every row equal `heaplens stats --inclusive --retained --json`", async () => {
      const want = cliJson(["stats", "--json", "--inclusive", "--retained", gcA]);
      await home();
      await openFile(gcA);
      await showTypes();
      await page.waitForSelector("#retained-ready", { timeout: TIMEOUT });
      await page.waitForSelector("#type-table .trow[data-inc]", { timeout: TIMEOUT });
      const rows = await allRows("#type-table");
      eq(rows.length, want.type_count, "rows");
      const byId = new Map(want.types.map((t) => [String(t.id), t]));
      const got = rows.map((r) => [r.id, r.inc === undefined ? null : Number(r.inc), r.incCount === undefined ? null : Number(r.incCount), r.retained === undefined ? null : Number(r.retained)]);
      const exp = rows.map((r) => { const t = byId.get(r.id); return [r.id, t.inc ?? null, t.inc_count ?? null, t.retained_bytes ? t.retained_bytes : null]; });
      eq(got, exp, "Inc, Inc Ct and Retained of every row, by id");
      for (const r of rows) {
        const t = byId.get(r.id);
        const pct = (t.retained_bytes || 0) * 100 / want.retained_total;
        assert(Math.abs(Number(r.retainedPct) - pct) < 1e-3, `Retained % of ${t.name}: ${r.retainedPct} vs ${pct}`);
      }
      // Sorted by Inc: PerfView's order.
      await page.click("#type-table-sort-inc");
      await page.waitForTimeout(200);
      const top = (await tableRows("#type-table")).slice(0, 10).map((r) => Number(r.inc));
      eq(top, [...want.types].map((t) => t.inc).sort((a, b) => b - a).slice(0, 10), "the largest Inc first");
      await shot("20-types-inc-retained");
      await assertHeadingsWhole("#type-table", "20-types-inc-retained");
      await page.click("#type-table-sort-bytes");
    });

    await test("flame graph: frames equal `heaplens flame --json` (retained and inclusive); click zooms, arrow keys move, Enter zooms, Escape zooms out, search highlights, hover says the frame", async () => {
      const want = cliJson(["flame", "--json", gcA]);
      await page.click("#tab-flame");
      await page.waitForSelector("#flame-graph .fr", { timeout: TIMEOUT });
      eq(Number(await page.$eval("#flame", (e) => e.dataset.total)), want.total.bytes, "total (retained)");
      const frames = async () => page.$$eval("#flame-graph .fr", (fs) => fs.map((f) => ({ id: Number(f.dataset.id), name: f.dataset.name, bytes: Number(f.dataset.bytes), count: Number(f.dataset.count) })));
      const check = async (doc, what) => {
        const drawn = await frames();
        assert(drawn.length >= Math.min(10, doc.frames.length), `${what}: ${drawn.length} frames drawn`);
        eq(drawn.map((f) => f), drawn.map((f) => ({ id: f.id, name: doc.frames[f.id].name, bytes: doc.frames[f.id].bytes, count: doc.frames[f.id].count })), `${what}: frames drawn vs the CLI's`);
      };
      await check(want, "retained");
      await shot("21-flame-retained");
      // Keyboard: down to the largest child, right to its sibling, Enter
      // zooms on it, Escape zooms out.
      const kids = (p) => want.frames.filter((f) => f.parent === p);
      await page.focus("#flame-graph");
      await page.keyboard.press("ArrowDown");
      const first = kids(0)[0];
      eq(Number(await page.$eval("#flame", (e) => e.dataset.selected)), first.id, "ArrowDown: the largest child");
      assert((await page.textContent("#flame-details")).startsWith(first.name), "details of the selected frame");
      await page.keyboard.press("ArrowDown");
      const second = kids(first.id)[0];
      eq(Number(await page.$eval("#flame", (e) => e.dataset.selected)), second.id, "ArrowDown again");
      await page.keyboard.press("Enter");
      eq(Number(await page.$eval("#flame", (e) => e.dataset.zoom)), second.id, "Enter zooms");
      await shot("22-flame-zoomed");
      await page.keyboard.press("Escape");
      eq(Number(await page.$eval("#flame", (e) => e.dataset.zoom)), first.id, "Escape zooms out one level");
      await page.keyboard.press("Escape");
      eq(Number(await page.$eval("#flame", (e) => e.dataset.zoom)), 0, "Escape to the top");
      // Click zooms on a type frame; hover describes one.
      const typeFrame = (await frames()).find((f) => want.frames[f.id].kind === "type");
      await page.click(`#flame-graph .fr[data-id="${typeFrame.id}"]`);
      eq(Number(await page.$eval("#flame", (e) => e.dataset.zoom)), typeFrame.id, "click zooms");
      await page.hover(`#flame-graph .fr[data-id="${typeFrame.id}"]`);
      assert((await page.textContent("#flame-details")).startsWith(`${typeFrame.name} (type): `), "hover details");
      await page.click("#flame-reset");
      // Search: the bytes of the frames named like it, each once.
      await page.fill("#flame-search", "String");
      const ends = [];
      for (const f of want.frames) ends[f.id] = f.id + 1;
      for (const f of [...want.frames].reverse()) if (f.parent !== null && f.parent !== undefined) ends[f.parent] = Math.max(ends[f.parent], ends[f.id]);
      let bytes = 0, until = 0;
      for (const f of want.frames) if (f.name.toLowerCase().includes("string") && f.id >= until) { bytes += f.bytes; until = ends[f.id]; }
      eq(Number(await page.$eval("#flame-matches", (e) => e.dataset.bytes)), bytes, "bytes of the frames the search matches");
      assert((await page.$$("#flame-graph .fr.match")).length > 0, "matches highlighted");
      await shot("23-flame-search");
      await page.fill("#flame-search", "");
      // Inclusive size: PerfView's spanning tree.
      const inc = cliJson(["flame", "--json", "--by", "inclusive", gcA]);
      await page.check("#flame-by-inclusive");
      await page.waitForFunction((t) => document.querySelector("#flame")?.dataset.total === String(t), inc.total.bytes, { timeout: TIMEOUT });
      await check(inc, "inclusive");
      await shot("24-flame-inclusive");
      // The measure is in the URL: a reload with the file returns to it.
      assert(/[?&]by=inclusive(&|$)/.test(page.url()), `the URL keeps the measure: ${page.url()}`);
      await page.reload();
      await page.waitForSelector("#restore");
      await choose(gcA);
      await page.waitForFunction((t) => document.querySelector("#flame")?.dataset.total === String(t), inc.total.bytes, { timeout: TIMEOUT });
      eq(await page.isChecked("#flame-by-inclusive"), true, "the measure after a reload");
      await page.check("#flame-by-retained");
      await page.waitForFunction(() => !/[?&]by=/.test(location.href), null, { timeout: TIMEOUT });
    });

    await test("type detail: key retention paths with their retained bytes equal `heaplens roots --key-paths 10 --retained --json`", async () => {
      const want = cliJson(["roots", "--json", "--key-paths", "10", "--retained", "--type", "System.String", gcA]);
      await showTypes();
      await page.fill("#type-table-filter", "System.String");
      await page.waitForSelector('#type-table .trow[data-name="System.String"]');
      await page.click('#type-table .trow[data-name="System.String"]');
      await page.waitForSelector("#key-paths .key-path", { timeout: TIMEOUT });
      const got = await page.$$eval("#key-paths .key-path", (ls) => ls.map((l) => ({ count: Number(l.dataset.count), bytes: Number(l.dataset.bytes), retained: Number(l.dataset.retained), path: l.dataset.path, root: l.dataset.root })));
      assert(want.key_paths.every((k) => typeof k.retained_bytes === "number"), "the CLI gives each key path's retained bytes");
      eq(got, want.key_paths.map((k) => ({ count: k.count, bytes: k.bytes, retained: k.retained_bytes, path: k.path.join(" > "), root: k.root_name || "" })), "key retention paths");
      assert(/retained/.test(await page.textContent("#key-paths .key-path >> nth=0")), "the page says the retained bytes");
      await page.$eval("#key-paths", (e) => e.scrollIntoView());
      await shot("25-key-paths");
      await page.click("#tab-types");
      await page.fill("#type-table-filter", "");
    });

    await test("group by namespace: rows equal `heaplens stats --group namespace --inclusive --retained --json`", async () => {
      const want = cliJson(["stats", "--json", "--group", "namespace", "--inclusive", "--retained", gcA]).groups;
      await showTypes();
      await page.selectOption("#types-group", "namespace");
      await page.waitForSelector("#group-table .trow", { timeout: TIMEOUT });
      const rows = await allRows("#group-table");
      const byName = new Map(want.rows.map((r) => [r.name, r]));
      eq(rows.length, want.rows.length, "groups");
      eq(rows.map((r) => [r.name, Number(r.count), Number(r.bytes), Number(r.retained), Number(r.inc), Number(r.types)]),
        rows.map((r) => { const w = byName.get(r.name); return [r.name, w.count, w.bytes, w.retained_bytes, w.inc, w.type_ids.length]; }), "group rows");
      // A group opens to its members.
      await page.$eval("#group-table .tbody", (el) => { el.scrollTop = 0; });
      await page.waitForTimeout(100);
      await page.click('#group-table .trow[data-index="0"]');
      await page.waitForSelector("#group-members li");
      const members = await page.$$eval("#group-members li button", (b) => b.map((x) => Number(x.dataset.id)));
      eq(members, want.rows.find((r) => r.name === rows[0].name).type_ids, "members of the first group");
      await shot("26-types-grouped");
      // The grouping is in the URL: a reload with the file returns to it.
      assert(/[?&]group=namespace(&|$)/.test(page.url()), `the URL keeps the grouping: ${page.url()}`);
      await page.reload();
      await page.waitForSelector("#restore");
      await choose(gcA);
      await page.waitForSelector("#group-table .trow", { timeout: TIMEOUT });
      eq(await page.inputValue("#types-group"), "namespace", "the grouping after a reload");
      eq((await allRows("#group-table")).length, want.rows.length, "groups after a reload");
      await page.selectOption("#types-group", "none");
    });

    await test("folds: rows equal `heaplens stats --fold --fold-percent --json`; by keyboard; kept in the URL; a bad pattern is said", async () => {
      const pattern = "\\[\\]$|^System\\.Collections\\.";
      const pct = "0.5";
      const want = cliJson(["stats", "--json", "--fold", pattern, "--fold-percent", pct, gcA]);
      assert(want.folds && want.folds.folded_type_ids.length > 0, "the CLI folds some types");
      await showTypes();
      await page.waitForSelector("#retained-ready", { timeout: TIMEOUT });
      // A pattern that is not a regular expression is said, not sent.
      await page.fill("#fold-pattern", "(unclosed");
      await page.focus("#fold-pattern");
      await page.keyboard.press("Enter");
      await page.waitForSelector("#fold-error:not(:empty)");
      eq(await page.getAttribute("#fold-pattern", "aria-invalid"), "true", "the pattern field is marked invalid");
      assert(!/[?&]fold=/.test(page.url()), "a bad pattern is not applied");
      // By keyboard: type the pattern and the percentage, Enter.
      await page.fill("#fold-pattern", "");
      await page.focus("#fold-pattern");
      await page.keyboard.type(pattern);
      await page.keyboard.press("Tab");
      eq(await page.evaluate(() => document.activeElement.id), "fold-percent", "Tab goes to Fold %");
      await page.keyboard.type(pct);
      await page.keyboard.press("Enter");
      await page.waitForSelector("#type-table .trow[data-fold-bytes]", { timeout: TIMEOUT });
      const check = async (what) => {
        const rows = await allRows("#type-table");
        eq(rows.length, want.types.length, `${what}: rows left`);
        const byId = new Map(want.types.map((t) => [String(t.id), t]));
        eq(rows.map((r) => [r.id, Number(r.count), Number(r.bytes), Number(r.foldBytes), Number(r.foldCount)]),
          rows.map((r) => { const t = byId.get(r.id); return t ? [r.id, t.count + t.fold_count, t.bytes + t.fold_bytes, t.fold_bytes, t.fold_count] : [r.id, "not in the CLI's rows"]; }),
          `${what}: Count and Bytes (with what was folded), Fold and Fold Ct of every row, by id`);
        for (const id of want.folds.folded_type_ids) {
          assert(!rows.some((r) => Number(r.id) === id), `${what}: folded type ${id} has no row`);
        }
        const summary = await page.textContent("#fold-summary");
        assert(summary.includes(`${want.folds.folded_type_ids.length.toLocaleString("en-US")} types folded`), `${what}: summary ${summary}`);
      };
      await check("folded");
      // The sum is kept: what was folded moved, nothing was lost.
      const total = want.types.reduce((a, t) => a + t.bytes + t.fold_bytes, 0) + want.folds.into_roots.bytes;
      const all = cliJson(["stats", "--json", gcA]).types.reduce((a, t) => a + t.bytes, 0);
      eq(total, all, "bytes of the rows left + held by roots only = every type's bytes");
      await page.$eval("#type-table .tbody", (el) => { el.scrollTop = 0; });
      await shot("29-types-folded");
      await assertHeadingsWhole("#type-table", "29-types-folded");
      // Kept in the URL: a reload with the file returns to it.
      assert(/[?&]fold=/.test(page.url()) && /[?&]foldpct=0\.5(&|$)/.test(page.url()), `the URL keeps the folds: ${page.url()}`);
      await page.reload();
      await page.waitForSelector("#restore");
      await choose(gcA);
      await page.waitForSelector("#type-table .trow[data-fold-bytes]", { timeout: TIMEOUT });
      eq([await page.inputValue("#fold-pattern"), await page.inputValue("#fold-percent")], [pattern, pct], "the fold fields after a reload");
      await check("after a reload");
      // Clear (by keyboard) gives every type back.
      await page.focus("#fold-clear");
      await page.keyboard.press("Enter");
      await page.waitForSelector("#fold-clear", { state: "detached" });
      assert(!(await page.$("#type-table .trow[data-fold-bytes]")), "no fold columns once cleared");
      eq((await allRows("#type-table")).length, want.type_count, "every type once cleared");
      assert(!/[?&]fold=/.test(page.url()), "the URL drops the folds");
    });

    await test("comparison of the fixture pair: what grew by Δ retained equals `heaplens diff --by retained --json` (the leaking collection first); groups by interface; the differential flame graph equals `heaplens flame --base --json`", async () => {
      const p1 = join(fixtures, "linux-net8/phase1.withheap.core.zst");
      const p2 = join(fixtures, "linux-net8/phase2.withheap.core.zst");
      if (!existsSync(p1) || !existsSync(p2)) return { skip: "no linux-net8 fixture pair" };
      const [a, b] = [copyAs(unzst(p1), "net8-phase1.core", new Date("2024-01-01T00:00:00Z")), copyAs(unzst(p2), "net8-phase2.core", new Date("2024-01-02T00:00:00Z"))];
      const want = cliJson(["diff", "--json", "--by", "retained", a, b]);
      await home();
      await choose([a, b]);
      await page.waitForSelector("#growth, #error", { timeout: TIMEOUT });
      await assertNoError();
      await page.waitForSelector('#diff-order[data-retained="true"]', { timeout: TIMEOUT });
      await page.waitForSelector("#diff-table .trow[data-retained-delta]", { timeout: TIMEOUT });
      const rows = (await tableRows("#diff-table")).slice(0, 15).map((r) => [r.name, Number(r.retainedDelta), Number(r.bytesDelta)]);
      eq(rows, want.types.slice(0, rows.length).map((t) => [t.name, t.retained_delta, t.bytes_delta]), "what grew, by Δ retained");
      log(`     first by Δ retained: ${rows[0][0]} (+${rows[0][1]} retained, ${rows[0][2]} bytes)`);
      await shot("27-compare-retained");
      // Groups by interface.
      const wantG = cliJson(["diff", "--json", "--by", "retained", "--group", "interface", a, b]).groups;
      await page.selectOption("#diff-group", "interface");
      await page.waitForSelector("#diff-group-table .trow", { timeout: TIMEOUT });
      const g = (await tableRows("#diff-group-table")).slice(0, 10).map((r) => [r.name, Number(r.countBase), Number(r.countCurrent), Number(r.retainedDelta)]);
      eq(g, wantG.rows.slice(0, g.length).map((r) => [r.name, r.count_base, r.count_current, r.retained_delta]), "groups by interface");
      await shot("28-compare-groups");
      // A group opens (Enter on its row) to its types, before → after:
      // each type's objects in either dump as `heaplens stats` counts them,
      // adding up to the group's.
      const first = wantG.rows[0];
      await page.$eval("#diff-group-table .tbody", (el) => { el.scrollTop = 0; });
      await page.focus('#diff-group-table .trow[data-index="0"]');
      await page.keyboard.press("Enter");
      await page.waitForSelector("#diff-group-members li.member", { timeout: TIMEOUT });
      const [sa, sb] = [cliJson(["stats", "--json", a]), cliJson(["stats", "--json", b])];
      const counts = (stats, ids) => {
        const m = new Map();
        for (const t of stats.types) if (ids.includes(t.id)) m.set(t.name, (m.get(t.name) || 0) + t.count);
        return m;
      };
      const [ca, cb] = [counts(sa, first.base_type_ids || []), counts(sb, first.current_type_ids || [])];
      const names = [...new Set([...ca.keys(), ...cb.keys()])].sort();
      const shownMembers = await page.$$eval("#diff-group-members li.member", (ls) => ls.map((l) => [l.dataset.name, Number(l.dataset.countBase), Number(l.dataset.countCurrent)]));
      eq([...shownMembers].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)), names.map((n) => [n, ca.get(n) || 0, cb.get(n) || 0]), `types of ${first.name}`);
      eq([shownMembers.reduce((x, m) => x + m[1], 0), shownMembers.reduce((x, m) => x + m[2], 0)], [first.count_base, first.count_current], "the types add up to the group");
      await page.$eval("#diff-group-members", (e) => e.scrollIntoView());
      await shot("28b-compare-group-members");
      // The grouping is in the URL: a reload with the files returns to it.
      assert(/[?&]group=interface(&|$)/.test(page.url()), `the URL keeps the comparison's grouping: ${page.url()}`);
      await page.reload();
      await page.waitForSelector("#restore");
      await choose([a, b]);
      await page.waitForSelector("#diff-group-table .trow", { timeout: TIMEOUT });
      eq(await page.inputValue("#diff-group"), "interface", "the comparison's grouping after a reload");
      await page.selectOption("#diff-group", "none");
      // The differential flame graph.
      const wf = cliJson(["flame", "--json", "--base", a, b]);
      await page.waitForSelector("#diff-flame-graph .fr", { timeout: TIMEOUT });
      eq(Number(await page.$eval("#diff-flame", (e) => e.dataset.total)), wf.total.bytes, "differential total");
      const drawn = await page.$$eval("#diff-flame-graph .fr", (fs) => fs.map((f) => ({ id: Number(f.dataset.id), name: f.dataset.name, bytes: Number(f.dataset.bytes), delta: f.dataset.delta === undefined ? null : Number(f.dataset.delta) })));
      assert(drawn.length > 10, `${drawn.length} differential frames drawn`);
      eq(drawn, drawn.map((f) => ({ id: f.id, name: wf.frames[f.id].name, bytes: wf.frames[f.id].bytes, delta: wf.frames[f.id].delta_bytes ?? null })), "differential frames vs the CLI's");
      assert(drawn.some((f) => f.delta > 0), "growth coloured");
      await page.$eval("#diff-flame-view", (e) => e.scrollIntoView());
      await shot("29-diff-flame");
    });

    await test("a second .gcdump (MAUI, .NET 9) equals the CLI too", async () => {
      await home();
      await checkAgainstStats(gcMaui, basename(gcMaui));
    });

    await test("largest .gcdump sample (sampled, x86) equals the CLI", async () => {
      await home();
      const { ms } = await checkAgainstStats(gcBig, basename(gcBig));
      await page.click("#tab-overview");
      bench.gcdumpLargest = { file: basename(gcBig), size: statSync(gcBig).size, ms, ...(await workerFigures()) };
    });

    await test("comparison: growth rows equal `heaplens diff --json` and two `stats --json`; dumps without a recorded time are ordered by file time, said visibly; swap", async () => {
      // The monogcdumprepro .gcdumps record no time: the older file is the
      // baseline, and the page says so.
      const a = copyAs(gcA, "mono-a.gcdump", new Date("2024-01-01T00:00:00Z"));
      const b = copyAs(gcB, "mono-b.gcdump", new Date("2024-01-02T00:00:00Z"));
      await home();
      await choose([b, a]);
      await page.waitForSelector("#growth, #error", { timeout: TIMEOUT });
      await assertNoError();
      eq(await page.$eval("#compare-base", (s) => s.selectedOptions[0].dataset.name), "mono-a.gcdump", "baseline");
      eq(await page.$eval("#order-note", (n) => n.dataset.basis), "file-time", "order basis");
      const note = await page.textContent("#order-note");
      assert(/Neither dump records a time/.test(note) && /modification time \(2024-01-01 00:00:00 UTC before 2024-01-02 00:00:00 UTC\)/.test(note) && /Swap/.test(note), `note: ${note}`);
      // Once both dumps are analysed the table is by Δ retained (tested
      // below on the fixture pair); here sorted by Δ bytes, PerfView's order.
      await page.waitForSelector('#diff-order[data-retained="true"]', { timeout: TIMEOUT });
      await page.click("#diff-table-sort-bytes_delta");
      await page.waitForTimeout(200);
      const rows = await growthRows();
      const [statsA, statsB] = [cliJson(["stats", "--json", gcA]), cliJson(["stats", "--json", gcB])];
      // Types whose count and bytes did not change but whose retained
      // bytes did are rows too (as in `diff --by retained`).
      const moved = rows.filter((r) => r.db !== 0 || r.dc !== 0);
      eq(moved, growthFromStats(statsA, statsB).slice(0, moved.length), "growth rows vs two `stats --json`");
      eq(rows, growthFromDiffJson(cliJson(["diff", "--json", "--by", "retained", gcA, gcB])).slice(0, rows.length), "growth rows vs `heaplens diff --by retained --json`");
      // A row is marked new when the baseline has no such type, vanished
      // when the current heap has none.
      const [inA, inB] = [new Set(statsA.types.map((t) => t.name)), new Set(statsB.types.map((t) => t.name))];
      const marks = await page.$$eval("#diff-table .trow", (r) => r.map((x) => ({ name: x.dataset.name, change: x.dataset.change })));
      eq(marks.map((m) => m.change), marks.map((m) => (!inA.has(m.name) ? "new" : !inB.has(m.name) ? "vanished" : "both")), "new/vanished marks vs the CLI's stats");
      await shot("07-compare");
      // Swap: the other way round, as `heaplens diff B A`.
      await page.click("#swap");
      await page.waitForFunction(() => document.querySelector("#compare-base").selectedOptions[0].dataset.name === "mono-b.gcdump");
      await page.waitForSelector("#diff-table .trow");
      eq(await page.$eval("#order-note", (n) => n.dataset.basis), "chosen", "basis after a swap");
      const swapped = await growthRows();
      eq(swapped, growthFromDiffJson(cliJson(["diff", "--json", "--by", "retained", gcB, gcA])).slice(0, swapped.length), "swapped rows vs `heaplens diff --by retained --json B A`");
      // The filter narrows the table.
      await page.fill("#diff-table-filter", "(?i)concurrent");
      const f = await tableRows("#diff-table");
      assert(f.every((r) => r.name.toLowerCase().includes("concurrent")), "diff filter");
      await page.fill("#diff-table-filter", "");
    });

    await test("the baseline follows the time recorded in the dumps, not the files' times (minidumps, and a DLL chosen with them)", async () => {
      const p1 = unzst(join(fixtures, "windows-net31/phase1.heap.dmp.zst"));
      const p2 = unzst(join(fixtures, "windows-net31/phase2.heap.dmp.zst"));
      // The later dump gets the older file time.
      const later = copyAs(p2, "w31-phase2.dmp", new Date("2024-01-01T00:00:00Z"));
      const earlier = copyAs(p1, "w31-phase1.dmp", new Date("2024-06-01T00:00:00Z"));
      const dll = join(CACHE, "Unused.dll");
      writeFileSync(dll, Buffer.from("MZ not really a module"));
      const [t1, t2] = [cliJson(["info", "--json", p1]).process.dump_time, cliJson(["info", "--json", p2]).process.dump_time];
      assert(t1 < t2, `fixture times: ${t1} ${t2}`);
      await home();
      await choose([later, dll, earlier]);
      await page.waitForSelector("#growth, #error", { timeout: TIMEOUT });
      await assertNoError();
      eq(await page.$eval("#compare-base", (s) => s.selectedOptions[0].dataset.name), "w31-phase1.dmp", "the baseline is the dump taken first");
      eq(await page.$eval("#order-note", (n) => n.dataset.basis), "dump-time", "order basis");
      const note = await page.textContent("#order-note");
      const human = (t) => `${t.replace("T", " ").replace("Z", "")} UTC`;
      assert(note.includes(human(t1)) && note.includes(human(t2)), `note: ${note}`);
      const rows = await growthRowsByBytes();
      eq(rows, growthFromDiffJson(cliJson(["diff", "--json", "--by", "retained", p1, p2])).slice(0, rows.length), "growth rows vs `heaplens diff --by retained --json phase1 phase2`");
      await shot("07b-compare-by-dump-time");
      // Each overview shows the time recorded in its dump.
      await page.click("#dumpbar .chip >> nth=0 >> .chip-main");
      await page.waitForSelector("#overview");
      eq(await page.$eval("#ov-time", (d) => d.dataset.iso), t2, "the dump time shown");
      eq((await page.textContent("#ov-time")).trim(), human(t2), "the dump time in words");
    });

    await test("three dumps open at once: the bar, the pair to compare, close one", async () => {
      await home();
      await choose([gcA, gcB, gcMaui]);
      await page.waitForSelector("#growth, #error", { timeout: TIMEOUT });
      await assertNoError();
      eq(await page.$$eval("#dumpbar .chip.ready", (c) => c.length), 3, "read dumps in the bar");
      for (const sel of ["#compare-base", "#compare-current"]) {
        eq((await page.$$eval(`${sel} option`, (o) => o.map((x) => x.dataset.name))).sort(), [gcA, gcB, gcMaui].map((f) => basename(f)).sort(), `options of ${sel}`);
      }
      await shot("08-three-dumps");
      // Names are cut in the middle by the room there is: on a wide screen
      // these (up to 50 characters) show whole; on 1366 px the later part
      // that tells them apart (150515 or 150644) still shows.
      const names = async () => page.$$eval("#dumpbar .chip", (cs) => cs.map((c) => {
        const head = c.querySelector(".chip-head");
        const tail = c.querySelector(".chip-tail").getBoundingClientRect();
        const name = c.querySelector(".chip-name").getBoundingClientRect();
        return { whole: c.querySelector(".chip-main").title, shown: head.textContent + c.querySelector(".chip-tail").textContent,
          headCut: head.scrollWidth > head.clientWidth + 0.5, tailIn: tail.right <= name.right + 0.5 && tail.left >= name.left - 0.5 };
      }));
      // A screen reader hears the name whole, in one piece.
      const accName = await page.locator("#dumpbar .chip >> nth=0 >> .chip-main").ariaSnapshot();
      assert(accName.includes(basename(gcA)), `the first chip's accessible name: ${accName}`);
      const size = page.viewportSize();
      await page.setViewportSize({ width: 1920, height: size.height });
      try {
        await page.waitForTimeout(100);
        for (const [i, c] of (await names()).entries()) {
          eq(c.shown, c.whole, `chip ${i}: the name in the chip`);
          assert(!c.headCut && c.tailIn, `chip ${i} at 1920 px: ${c.whole} is cut`);
        }
      } finally {
        await page.setViewportSize(size);
      }
      // (A tail short of its text by a fraction of a pixel is drawn with an
      // ellipsis: the text's own width is measured, not scrollWidth.)
      const tails = await page.$$eval("#dumpbar .chip .chip-tail", (ts) => ts.map((t) => {
        const r = document.createRange();
        r.selectNodeContents(t);
        return { text: t.textContent, cut: r.getBoundingClientRect().width > t.getBoundingClientRect().width + 0.01 };
      }));
      eq(tails.slice(0, 2).map((t) => t.cut), [false, false], `the tails of the first two chips at ${size.width} px`);
      assert(tails[0].text.includes("150515") && tails[1].text.includes("150644"), `what tells the chips apart is in their tails: ${tails[0].text}, ${tails[1].text}`);
      // At 390 px each chip's name stays readable and is clipped inside its
      // own button, never drawn under the close button.
      await page.setViewportSize({ width: 390, height: size.height });
      try {
        await page.waitForTimeout(100);
        const chips = await page.$$eval("#dumpbar .chip", (cs) => cs.map((c) => {
          const name = c.querySelector(".chip-name").getBoundingClientRect();
          const main = c.querySelector(".chip-main").getBoundingClientRect();
          const close = c.querySelector(".chip-close").getBoundingClientRect();
          return { nameRight: name.right, mainRight: main.right, closeLeft: close.left, nameWidth: name.width };
        }));
        for (const [i, c] of chips.entries()) {
          assert(c.nameRight <= c.closeLeft + 0.5 && c.mainRight <= c.closeLeft + 0.5, `chip ${i} at 390 px: its name (to ${c.nameRight}) runs under × (from ${c.closeLeft})`);
          assert(c.nameWidth >= 80, `chip ${i} at 390 px: its name is only ${c.nameWidth} px wide`);
        }
        for (const [i, c] of (await names()).entries()) assert(c.tailIn, `chip ${i} at 390 px: the name runs out of its box`);
        // The chips scroll inside their list: none is drawn under the
        // Compare button after it.
        const [list, compare] = await page.$$eval("#dumpbar ul, #compare-button", (es) => es.map((e) => e.getBoundingClientRect().toJSON()));
        assert(compare.left >= list.right - 0.5, `at 390 px the chips' list (to ${list.right}) runs under Compare (from ${compare.left})`);
      } finally {
        await page.setViewportSize(size);
      }
      // Choose a pair: MAUI as baseline, A as current.
      const ids = await page.$$eval("#compare-base option", (o) => Object.fromEntries(o.map((x) => [x.dataset.name, x.value])));
      await page.selectOption("#compare-base", ids[basename(gcMaui)]);
      await page.selectOption("#compare-current", ids[basename(gcA)]);
      await page.waitForFunction((n) => document.querySelector("#compare-current").selectedOptions[0].dataset.name === n, basename(gcA));
      await page.waitForSelector("#diff-table .trow");
      const rows = await growthRowsByBytes();
      // Different formats' spellings are normalized as the CLI does.
      eq(rows, growthFromDiffJson(cliJson(["diff", "--json", "--by", "retained", gcMaui, gcA])).slice(0, rows.length), "chosen pair vs `heaplens diff --by retained --json`");
      // Close one: the other two stay read.
      await page.click(`#dumpbar [aria-label="Close ${basename(gcMaui)}"]`);
      await page.waitForFunction(() => document.querySelectorAll("#dumpbar .chip").length === 2);
      await page.click("#dumpbar .chip >> nth=1 >> .chip-main");
      await page.waitForSelector("#overview");
      eq((await overviewNumbers()).objects, cliJson(["stats", "--json", gcB]).objects, "a dump left open");
    });

    await test("the URL keeps the view: Back and Forward move inside the app, a reload with the same file returns to it", async () => {
      await home();
      await openFile(gcA);
      await showTypes();
      await page.click("#type-table-sort-count");
      await page.fill("#type-table-filter", "String");
      await page.waitForTimeout(100);
      const row = (await tableRows("#type-table"))[0];
      await page.click("#type-table .trow >> nth=0");
      await page.waitForSelector("#referred-from .refnode", { timeout: TIMEOUT });
      const detailUrl = page.url();
      assert(/#\/detail\?/.test(detailUrl) && detailUrl.includes(`type=${row.id}`) && detailUrl.includes("sort=count-desc") && detailUrl.includes("q=String"), `URL: ${detailUrl}`);
      // Back: the table, as it was; again: the overview; Forward twice.
      await page.goBack();
      await page.waitForSelector("#type-table");
      eq(await page.inputValue("#type-table-filter"), "String", "filter after Back");
      eq(await page.$eval("#type-table-sort-count", (b) => b.parentElement.getAttribute("aria-sort")), "descending", "sort after Back");
      await page.goBack();
      await page.waitForSelector("#overview");
      assert(page.url().startsWith(server.url), `Back left the app: ${page.url()}`);
      await page.goForward();
      await page.waitForSelector("#type-table");
      await page.goForward();
      await page.waitForSelector("#detail");
      eq(await page.textContent("#detail-name"), row.name, "detail after Forward");
      // Reload: the page asks for the file again, then shows the same view.
      await page.reload();
      await page.waitForSelector("#restore");
      assert((await page.textContent("#restore")).includes(basename(gcA)), "the restore card names the file");
      eq(page.url(), detailUrl, "the URL survives the reload");
      await shot("09-restore");
      await choose(gcA);
      await page.waitForSelector("#referred-from .refnode", { timeout: TIMEOUT });
      eq(await page.textContent("#detail-name"), row.name, "detail after the reload");
      await page.click("#tab-types");
      eq(await page.inputValue("#type-table-filter"), "String", "filter after the reload");
      eq(await page.$eval("#type-table-sort-count", (b) => b.parentElement.getAttribute("aria-sort")), "descending", "sort after the reload");
    });

    await test("export: the whole analysis as the versioned JSON equals `heaplens … --json` for the same files", async () => {
      const a = copyAs(gcA, "x-a.gcdump", new Date("2024-01-01T00:00:00Z"));
      const b = copyAs(gcB, "x-b.gcdump", new Date("2024-01-02T00:00:00Z"));
      await home();
      await choose([a, b]);
      await page.waitForSelector("#diff-table .trow", { timeout: TIMEOUT });
      // Look at a type with a name of its own, and wait for retained sizes.
      const statsA = cliJson(["stats", "--json", a]);
      const unique = statsA.types.find((t) => statsA.types.filter((u) => u.name === t.name).length === 1 && t.count > 10);
      await page.click("#dumpbar .chip >> nth=0 >> .chip-main");
      await page.waitForSelector("#retained-ready", { timeout: TIMEOUT });
      await page.click("#dumpbar .chip >> nth=1 >> .chip-main");
      await page.waitForSelector("#retained-ready", { timeout: TIMEOUT });
      await page.click("#dumpbar .chip >> nth=0 >> .chip-main");
      await showTypes();
      await page.fill("#type-table-filter", `^${unique.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
      await page.click(`#type-table .trow[data-id="${unique.id}"]`);
      await page.waitForSelector("#referred-from .refnode", { timeout: TIMEOUT });
      await page.click("#compare-button");
      await page.waitForSelector("#diff-table .trow");
      // Both dumps analysed: the comparison is by retained growth.
      await page.waitForSelector('#diff-order[data-retained="true"]', { timeout: TIMEOUT });
      const { name, text } = await downloadOf("#export-analysis");
      eq(name, "heaplens-analysis.json", "file name");
      const doc = JSON.parse(text);
      eq([doc.document, doc.schema_version, doc.dumps.length], ["analysis", cliJson(["stats", "--json", a]).schema_version, 2], "analysis header");
      for (const [i, f] of [[0, a], [1, b]]) {
        const d = doc.dumps[i];
        eq(d.stats.file, basename(f), "the page names files by name");
        eq(withoutFiles(d.stats), withoutFiles(cliJson(["stats", "--json", f])), `stats of ${basename(f)}`);
        eq(withoutFiles(d.retained), withoutFiles(cliJson(["retained", "--json", "--top", "1000000", "--objects", "20", f])), `retained of ${basename(f)}`);
      }
      eq(doc.dumps[0].roots.length, 1, "the type looked at");
      eq(withoutFiles(doc.dumps[0].roots[0]), withoutFiles(cliJson(["roots", "--json", "--type", unique.name, "--paths", "5", "--depth", "24", "--children", "50", "--key-paths", "10", "--retained", a])), `roots of ${unique.name}`);
      eq(withoutFiles(doc.comparison), withoutFiles(cliJson(["diff", "--json", "--by", "retained", a, b])), "comparison");
      // CSV of the comparison: what the table shows.
      const csv = await downloadOf("#diff-table-csv");
      const lines = csv.text.trim().split("\r\n");
      eq(lines.length - 1, doc.comparison.types.length, "comparison CSV rows");
    });

    await test("a damaged .gcdump shows the engine's error, typed", async () => {
      const bad = join(CACHE, "truncated.gcdump");
      writeFileSync(bad, readFileSync(gcA).subarray(0, 200_000));
      await home();
      await openFile(bad);
      const msg = await page.textContent("#error-message");
      const c = cli(["stats", "--json", bad]);
      assert(c.code !== 0, "the CLI accepted the damaged file");
      assert(msg.length > 10 && c.err.includes(msg.trim()), `page: ${msg} / CLI: ${c.err}`);
      eq(await page.$eval("#error", (e) => e.dataset.kind), "damaged", "error kind");
      await shot("10-error");
    });

    await test("a file that is no dump says so, typed; closing it returns to the landing page", async () => {
      const bad = join(CACHE, "not-a-dump.bin");
      writeFileSync(bad, Buffer.from("JUNK this is not a memory dump"));
      await home();
      await openFile(bad);
      const msg = await page.textContent("#error-message");
      assert(/unrecognised/.test(msg) && /4a 55 4e 4b/.test(msg), msg);
      eq(await page.$eval("#error", (e) => [e.dataset.kind, e.dataset.code]), ["not_readable", "unknown_format"], "error kind and code");
      await page.click("#error-close");
      await page.waitForSelector("#dropzone");
    });

    await test("a worker of another version is refused with a message", async () => {
      // The engine's script as another build would say hello: protocol 999.
      const patch = `self.postMessage = (function (post) { return function (m, t) { if (m && m.type === "hello") { m = Object.assign({}, m, { protocol: 999, heaplens_version: "9.9.9" }); } return post.call(self, m, t); }; })(self.postMessage);\n`;
      let served = 0;
      const route = async (r) => {
        served++;
        const resp = await r.fetch();
        await r.fulfill({ response: resp, body: patch + (await resp.text()) });
      };
      await context.route(`**${PREFIX}worker.js`, route);
      try {
        await home();
        await openFile(gcA);
        assert(served > 0, "the engine's script was not served through the test's route");
        eq(await page.$eval("#error", (e) => e.dataset.kind), "version", "error kind");
        const msg = await page.textContent("#error-message");
        assert(/heaplens 9\.9\.9 \(protocol 999/.test(msg) && /different builds/.test(msg), `message: ${msg}`);
        assert(/another version/.test(await page.textContent("#error h1")), "heading");
        await shot("11-version-refused");
      } finally {
        await context.unroute(`**${PREFIX}worker.js`, route);
      }
    });

    // Core dumps: compared with the CLI.
    const cores = existsSync(fixtures)
      ? readdirSync(fixtures).flatMap((d) => {
          const dir = join(fixtures, d);
          if (!statSync(dir).isDirectory()) return [];
          return readdirSync(dir).filter((f) => /\.core\.zst$/.test(f)).map((f) => join(dir, f));
        })
      : [];
    const core = cores.find((c) => c.includes("linux-net8/phase1")) || cores[0];
    const largestCore = cores.sort((a, b) => statSync(b).size - statSync(a).size)[0];
    await test("core dump fixture: totals and top rows equal `heaplens stats --json`; no dump time recorded", async () => {
      if (!core) return { skip: "no core fixture in the corpus" };
      const file = unzst(core);
      await home();
      const { ms } = await checkAgainstStats(file, basename(file));
      await page.click("#tab-overview");
      await checkGcMode(file);
      assert(/Linux core records no time/.test(await page.textContent("#ov-time")), "dump time of a core");
      await shot("12-core-overview");
      bench.core = { file: basename(file), size: statSync(file).size, ms };
    });

    /** The first root path to `type` the page shows in its detail, and its retained size (after an open). */
    async function rootPathAndRetained(type) {
      await showTypes();
      await page.fill("#type-table-filter", `^${type.replace(/\./g, "\\.")}$`);
      await page.waitForTimeout(150);
      await page.click("#type-table .trow >> nth=0");
      await page.waitForSelector("#root-paths .path", { timeout: TIMEOUT });
      eq(await page.textContent("#detail-name"), type, "the detail's type");
      await page.waitForFunction(() => {
        const v = document.querySelector("#detail-retained .value")?.textContent || "";
        return /B/.test(v) && !/comput/.test(v);
      }, null, { timeout: TIMEOUT });
      return page.$eval("#root-paths .path", (p) => ({
        kind: p.querySelector(".root-chip .kind").textContent,
        name: p.querySelector(".root-chip .root-name")?.textContent ?? null,
        steps: [...p.querySelectorAll(".step")].map((s) => [s.querySelector(".step-name").textContent, s.querySelector(".addr")?.textContent ?? null]),
        retained: document.querySelector("#detail-retained .value").textContent,
      }));
    }

    /**
     * CPU seconds the browser's Web Worker threads (Chromium's threads
     * named `DedicatedWorker`, by /proc) spend in `ms` milliseconds: a
     * worker left running (a walker walks without pause, a busy wait
     * included) keeps one core busy; the page's own threads are not counted.
     */
    async function workerCpuSeconds(ms) {
      const total = () => readdirSync("/proc").filter((p) => /^\d+$/.test(p)).reduce((sum, pid) => {
        try {
          if (!/chrom/i.test(readFileSync(`/proc/${pid}/comm`, "utf8"))) return sum;
          for (const tid of readdirSync(`/proc/${pid}/task`)) {
            try {
              if (!readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").startsWith("DedicatedWorker")) continue;
              const f = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8").split(") ")[1].split(" ");
              sum += (Number(f[11]) + Number(f[12])) / 100;
            } catch {
              // A thread that ended meanwhile.
            }
          }
        } catch {
          // A process that ended meanwhile.
        }
        return sum;
      }, 0);
      const a = total();
      await new Promise((ok) => setTimeout(ok, ms));
      return Math.max(0, total() - a);
    }

    /** Requests since `from` that were not the app's own files (or blob:/data: URLs). */
    function requestsOutsideTheApp(from) {
      return browserRequests.slice(from).filter((u) => {
        if (u.startsWith("data:") || u.startsWith("blob:")) return false;
        const url = new URL(u);
        if (!appOrigins.includes(url.origin) || !url.pathname.startsWith(PREFIX)) return true;
        const rel = url.pathname.slice(PREFIX.length);
        return !(rel === "" || distFiles.has(rel));
      });
    }

    // Issue 14: the heap walked by N walker workers (nested Web Workers of
    // the engine's) gives what one gives: every row of the type table and
    // the root path against the CLI, the retained size against one walker.
    const winDump = join(fixtures, "windows-net8", "phase1.windump.dmp.zst");
    await test("walker workers (?e2e-walkers=1, 2, 3): a Linux core and a Windows minidump walked by N workers: every type row and its retained size equal `heaplens stats --json --retained`, the root path `heaplens roots --json`, a type's detail one worker's; said in the overview; only the app's files requested", async () => {
      if (!core) return { skip: "no core fixture in the corpus" };
      const files = [unzst(core), ...(existsSync(winDump) ? [unzst(winDump)] : [])];
      const target = "DumpLab.RootTarget";
      const byId = (a, b) => a.id - b.id;
      for (const file of files) {
        const expected = cliJson(["stats", "--json", file]);
        eq(expected.types.length, expected.type_count, `${basename(file)}: the CLI lists every type`);
        const want = expected.types.map((t) => ({ id: t.id, name: t.name, count: t.count, bytes: t.bytes })).sort(byId);
        const cliPath = cliJson(["roots", "--json", "--type", target, file]).paths[0];
        const wantRetained = cliJson(["stats", "--json", "--retained", file]).types.map((t) => ({ id: t.id, retained: t.retained_bytes ?? null })).sort(byId);
        assert(cliPath, `no root path to ${target} from the CLI in ${basename(file)}`);
        let one = null;
        for (const n of [1, 2, 3]) {
          const label = `${basename(file)} walked by ${n}`;
          const before = browserRequests.length;
          await home(`?e2e-walkers=${n}`);
          await openFile(file);
          await assertNoError();
          eq(await overviewNumbers(), { objects: expected.objects, bytes: expected.bytes, types: expected.type_count }, `${label}: totals`);
          const walkers = Number(await page.$eval("#ov-open-ms", (e) => e.dataset.walkers));
          const words = await page.textContent("#ov-open-ms");
          if (n === 1) {
            eq(walkers, 0, `${label}: walker workers`);
            assert(!/walked by/.test(words), `${label}: ${words}`);
          } else {
            assert(walkers >= 2 && walkers <= n, `${label}: ${walkers} walker workers`);
            assert(words.includes(`the heap walked by ${walkers} workers`), `${label}: ${words}`);
          }
          await showTypes();
          const rows = (await allRows("#type-table")).map((r) => ({ id: Number(r.id), name: r.name, count: Number(r.count), bytes: Number(r.bytes) })).sort(byId);
          eq(rows, want, `${label}: every type row vs \`heaplens stats --json\``);
          const got = await rootPathAndRetained(target);
          eq({ kind: got.kind, name: got.name, steps: got.steps }, { kind: cliPath.root_kind.replace(/_/g, " "), name: cliPath.root_name ?? null, steps: cliPath.steps.map((st) => [st.type, st.address ?? null]) }, `${label}: the first root path vs \`heaplens roots --json\``);
          if (one === null) one = got;
          eq(got, one, `${label}: root path and retained size vs one worker's`);
          // Every type's retained size, as `heaplens stats --retained` has it.
          await showTypes();
          await page.fill("#type-table-filter", "");
          await page.waitForTimeout(150);
          const retained = (await allRows("#type-table")).map((r) => ({ id: Number(r.id), retained: r.retained === undefined ? null : Number(r.retained) })).sort(byId);
          eq(retained, wantRetained, `${label}: every type's retained size vs \`heaplens stats --json --retained\``);
          eq(requestsOutsideTheApp(before), [], `${label}: requests outside the app`);
          log(`     ${label}: ${walkers || "no"} walker workers, ${rows.length} rows, retained ${got.retained}`);
        }
      }
    });

    await test("cancel during a walked open: the engine worker and its walker workers stop, the page stays usable, a re-open works", async () => {
      if (!core) return { skip: "no core fixture in the corpus" };
      const file = unzst(core);
      // Slowed: each walker pauses 1.5 s at each of its reports.
      await home("?e2e-walkers=2&e2e-slow-progress=1500");
      // The workers that run (answer), by name: a worker Playwright still
      // lists after its parent stopped it may be gone.
      const running = async () => {
        const names = await Promise.all(page.workers().map((w) => Promise.race([
          w.evaluate(() => self.name).catch(() => null),
          new Promise((ok) => setTimeout(() => ok(null), 2000)),
        ])));
        return names.filter((n) => n !== null).sort();
      };
      eq(await running(), [], "workers before the open");
      const before = await workerCpuSeconds(3000);
      await choose(file);
      await page.waitForFunction(() => /reading the heap: .* · 2 workers walking it/.test(document.querySelector("#progress-objects")?.textContent || ""), null, { timeout: 60_000 });
      // The engine worker and its two walkers (nested workers, also from
      // the blob: loader).
      // (A walker busy walking does not answer: counted as listed.)
      eq(page.workers().length, 3, "workers while walking (the engine worker and two walkers)");
      const walking = await workerCpuSeconds(3000);
      assert(page.workers().every((w) => w.url().startsWith("blob:")), `a worker not from the blob: loader: ${page.workers().map((w) => w.url())}`);
      await shot("12b-walkers-progress");
      await page.click("#cancel", { timeout: 5_000 });
      await page.waitForSelector("#notice", { timeout: TIMEOUT });
      let left = await running();
      for (let i = 0; i < 50 && left.length; i++) {
        await page.waitForTimeout(100);
        left = await running();
      }
      // A walker that outlived its engine worker would keep spinning; a
      // moment's work of a thread as it ends is let pass (up to 10 s).
      let idleCpu = await workerCpuSeconds(2000);
      for (let i = 0; i < 4 && idleCpu >= 0.1; i++) idleCpu = await workerCpuSeconds(2000);
      log(`     after the cancel: ${page.workers().length} listed, answering: ${JSON.stringify(left)}; worker threads' CPU: ${before.toFixed(2)} s in 3 s before, ${walking.toFixed(2)} s in 3 s walking, ${idleCpu.toFixed(2)} s in 2 s after`);
      eq(left, [], "workers running after the cancel");
      // Playwright may still list a nested worker its parent's end stopped;
      // what runs is told by the worker threads' CPU: the two walkers (busy
      // waiting at their reports) use the CPU while they walk, none after.
      assert(walking > 0.3, `the worker threads used ${walking.toFixed(2)} s of CPU in 3 s while two walkers walked`);
      assert(idleCpu < 0.1, `the worker threads used ${idleCpu.toFixed(2)} s of CPU in 2 s, 10 s after the cancel (${before.toFixed(2)} s in 3 s before the open, ${walking.toFixed(2)} s while walking): a walker left running`);
      // Usable: the same core opens again (walked by 2, without the pauses).
      await home("?e2e-walkers=2");
      await openFile(file);
      await assertNoError();
      const expected = cliJson(["stats", "--json", file]);
      eq((await overviewNumbers()).objects, expected.objects, "objects after the re-open");
      eq(Number(await page.$eval("#ov-open-ms", (e) => e.dataset.walkers)), 2, "walker workers of the re-open");
    });

    await test("a dump whose graph does not fit (?e2e-memory-cap): the type statistics of all its objects equal `heaplens stats --all-objects --json` (= the reachable plus the unreachable of `heaplens stats --json`), why with the numbers, and every view that needs the graph says it is unavailable", async () => {
      if (!core) return { skip: "no core fixture in the corpus" };
      const file = unzst(core);
      const want = cliJson(["stats", "--all-objects", "--json", file]);
      const full = cliJson(["stats", "--json", file]);
      eq([want.objects, want.bytes], [full.objects + full.unreachable.count, full.bytes + full.unreachable.bytes], "the CLI's all objects = reachable + unreachable");
      eq(want.free, full.free, "the CLI's free space without and with the graph");
      // 10 kB over what the worker uses: the open is refused before its walk.
      await home("?e2e-memory-cap=10000");
      await choose(file);
      await page.waitForSelector("#statistics-only, #error, #overview", { timeout: TIMEOUT });
      await assertNoError();
      assert(!(await page.$("#overview")), "the dump opened with its graph under a 10 kB cap");
      const box = await page.$eval("#statistics-only", (e) => ({ counted: e.dataset.counted, objects: Number(e.dataset.objects), bytes: Number(e.dataset.bytes) }));
      eq(box, { counted: "all_objects", objects: want.objects, bytes: want.bytes }, "statistics-only totals");
      const reason = await page.textContent("#statistics-only-reason");
      assert(/does not fit/.test(reason) && /\d MB/.test(reason) && /every object on the heap/.test(reason) && /command line/.test(reason), `reason: ${reason}`);
      assert(/garbage/.test(await page.textContent("#statistics-only-counts")), "the counts say garbage is included");
      assert(/type statistics only/.test(await page.textContent("#dumpbar")), "the dump bar says type statistics only");
      await page.waitForSelector("#counts-table .trow", { timeout: TIMEOUT });
      const rows = await allRows("#counts-table");
      const key = (r) => `${r.mt} ${r.name}`;
      const byMt = (list) => list.map((r) => ({ mt: r.mt, name: r.name, count: Number(r.count), bytes: Number(r.bytes) })).sort((a, b) => (key(a) < key(b) ? -1 : 1));
      eq(byMt(rows), byMt(want.types), "every row of the table");
      const shown = rows.map((r) => Number(r.bytes));
      eq(shown, [...shown].sort((a, b) => b - a), "rows by bytes, largest first");
      await page.$eval("#counts-table .tbody", (el) => { el.scrollTop = 0; });
      await shot("35-statistics-only");
      await assertHeadingsWhole("#counts-table", "35-statistics-only");
      // The views that need the graph say so, by click and by keyboard.
      for (const tab of ["#tab-flame", "#tab-strings", "#tab-waste", "#tab-findings"]) {
        await page.click(tab);
        await page.waitForSelector("#unavailable", { timeout: TIMEOUT });
        const text = await page.textContent("#unavailable");
        assert(/not available for this dump/.test(text) && /heaplens /.test(text), `${tab}: ${text}`);
      }
      await shot("35b-statistics-only-unavailable");
      await page.focus("#tab-findings");
      await page.keyboard.press("Home");
      await page.waitForSelector("#counts-table .trow", { timeout: TIMEOUT });
      eq(await page.evaluate(() => document.activeElement.id), "tab-types", "focus after Home in the tab list");
      await page.keyboard.press("ArrowRight");
      await page.waitForSelector("#unavailable", { timeout: TIMEOUT });
      eq(await page.evaluate(() => document.activeElement.id), "tab-flame", "focus after ArrowRight");
      log(`     ${rows.length} types, ${want.objects} objects (${full.unreachable.count} unreachable)`);
    });

    await test("a .zst core whose graph does not fit (?e2e-memory-cap): the statistics-only table equals `heaplens stats --all-objects --json` of the plain core, read from the copy the refused open unpacked (the archive unpacked and read once), and the copy is deleted", async () => {
      if (!core) return { skip: "no core fixture in the corpus" };
      const r = await statisticsOnlyOfArchive(core);
      log(`     ${basename(core)}: ${r.unpackedBytes} bytes unpacked from ${r.size}, ${r.bytesRead} read, ${r.ms} ms to the table`);
    });

    await test("two types of one name and module (the four <>c of linux-net8): every row's retained size equals `heaplens retained --json`", async () => {
      if (!core) return { skip: "no core fixture in the corpus" };
      const file = unzst(core);
      const want = cliJson(["retained", "--json", "--top", "1000000", file]);
      const byId = new Map(want.types.map((t) => [String(t.id), t.retained_bytes]));
      const stats = cliJson(["stats", "--json", file]);
      const closures = stats.types.filter((t) => t.name === "<>c" && /System\.Private\.CoreLib/.test(t.module || ""));
      assert(closures.length >= 4, `<>c rows of CoreLib: ${closures.length}`);
      await home();
      await openFile(file);
      await showTypes();
      await page.waitForSelector("#retained-ready", { timeout: TIMEOUT });
      const rows = await allRows("#type-table");
      eq(rows.length, stats.type_count, "rows read from the table");
      const got = rows.map((r) => [r.id, r.retained === undefined ? null : Number(r.retained)]);
      eq(got, rows.map((r) => [r.id, byId.has(r.id) ? byId.get(r.id) : null]), "retained bytes of every row, by id");
      // Each <>c row shows its own retained size; joined by (name, module)
      // they would each show the sum of the four.
      const c = closures.map((t) => byId.get(String(t.id)));
      const sum = c.reduce((x, y) => x + y, 0);
      const shown = closures.map((t) => Number(rows.find((r) => r.id === String(t.id)).retained));
      eq(shown, c, "the <>c rows' retained bytes");
      assert(shown.every((v) => v !== sum), `a <>c row shows the sum of all (${sum})`);
      await page.fill("#type-table-filter", "<>c");
      await shot("13-same-name-types");
      log(`     ${rows.length} rows; <>c of CoreLib: ${c.join(", ")} (together ${sum})`);
    });

    await test("object contents: strings, waste, instances and the inspector (fields, references as links, referrers, dominators, a delegate's method) equal `heaplens strings|waste|instances|object --json`; exports say whether they carry values and one click exports without them", async () => {
      if (!core) return { skip: "no core fixture in the corpus" };
      const file = unzst(core);
      await home();
      await openFile(file);
      await assertNoError();
      await page.waitForSelector("#retained-ready", { timeout: TIMEOUT });
      // Strings: the document, its rows, its export with and without values.
      await page.click("#tab-strings");
      await page.waitForSelector("#duplicate-strings .trow", { timeout: TIMEOUT });
      const strings = cliJson(["strings", "--json", file]);
      const rows = (await allRows("#duplicate-strings")).map((x) => ({ copies: Number(x.copies), wasted: Number(x.wasted) }));
      eq(rows, strings.duplicates.map((d) => ({ copies: d.copies, wasted: d.wasted_bytes })), "duplicate strings rows");
      await page.$eval("#duplicate-strings .tbody", (el) => { el.scrollTop = 0; });
      eq(await page.getAttribute("#export-json", "data-values"), "true", "the strings export says it carries values");
      let dl = await downloadOf("#export-json");
      eq(withoutFiles(JSON.parse(dl.text)), withoutFiles(strings), "strings export");
      assert(/strings\.json$/.test(dl.name) && !/no-values/.test(dl.name), `file name ${dl.name}`);
      dl = await downloadOf("#export-no-values");
      const noValues = JSON.parse(dl.text);
      assert(/-strings-no-values\.json$/.test(dl.name), `file name ${dl.name}`);
      eq(withoutFiles(noValues), withoutFiles(cliJson(["strings", "--json", "--no-values", file])), "strings export without values");
      eq([noValues.values, noValues.duplicates.every((d) => d.text === "")], [false, true], "no text without values");
      await shot("20-strings");
      // Search, locally in the worker.
      const needle = strings.duplicates.find((d) => d.text.length >= 4).text.slice(0, 4);
      await page.fill("#string-search-input", needle);
      await page.click("#string-search-go");
      await page.waitForSelector("#string-matches", { timeout: TIMEOUT });
      const found = cliJson(["strings", "--json", "--search", needle, file]);
      eq(Number(await page.getAttribute("#string-matches", "data-count")), found.match_count, `strings containing ${needle}`);
      eq(await page.$$eval("#string-matches .match", (r) => r.length), found.matches.length, "matches listed");
      assert(decodeURIComponent(page.url()).includes(`q=${needle}`) || page.url().includes("q="), `the URL keeps the search: ${page.url()}`);
      // A copy opens in the inspector: a string's text.
      const example = strings.duplicates[0].example;
      await page.$eval("#duplicate-strings .tbody", (el) => { el.scrollTop = 0; });
      await page.click(`#duplicate-strings .trow[data-index="0"] .objlink`);
      await page.waitForSelector(`#inspector[data-node="${example.node}"] #object-type`, { timeout: TIMEOUT });
      dl = await downloadOf("#export-json");
      eq(withoutFiles(JSON.parse(dl.text)), withoutFiles(cliJson(["object", "--json", file, example.address])), "a duplicate string in the inspector");
      assert((await page.textContent("#object-string")).startsWith(strings.duplicates[0].text.replace(/…$/, "")), "the string's text");
      // Waste.
      await page.click("#tab-waste");
      await page.waitForSelector("#waste-types .trow", { timeout: TIMEOUT });
      const waste = cliJson(["waste", "--json", file]);
      eq(await page.getAttribute("#export-json", "data-values"), "false", "the waste export says it carries no values");
      assert(!(await page.$("#export-no-values")), "no second export for a document without values");
      eq(withoutFiles(JSON.parse((await downloadOf("#export-json")).text)), withoutFiles(waste), "waste export");
      eq((await allRows("#waste-types")).map((x) => [Number(x.typeId), Number(x.wasted)]), waste.types.map((t) => [t.type_id, t.wasted_bytes]), "waste rows");
      await page.$eval("#waste-types .tbody", (el) => { el.scrollTop = 0; });
      await shot("22-waste");
      // Instances of a type, from its detail: paged, sorted by the engine.
      const stats = cliJson(["stats", "--json", file]);
      const many = stats.types.find((t) => t.count > 60 && !/^System\.(String|Char|Byte|Int32|Object)\[?/.test(t.name));
      // From the type table by keyboard: I on the focused row.
      await showTypes();
      await page.fill("#type-table-filter", many.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
      await page.waitForSelector(`#type-table .trow[data-id="${many.id}"]`, { timeout: TIMEOUT });
      await page.focus(`#type-table .trow[data-id="${many.id}"]`);
      await page.keyboard.press("i");
      await page.waitForSelector(`#instances[data-type="${many.id}"][data-sort="retained"] #instance-table .instance`, { timeout: TIMEOUT });
      const inst = (sort, offset) => cliJson(["instances", "--json", "--type-id", String(many.id), "--sort", sort, "--offset", String(offset), "--limit", "50", file]);
      const byRetained = inst("retained", 0);
      eq(withoutFiles(JSON.parse((await downloadOf("#export-json")).text)), withoutFiles(byRetained), `instances of ${many.name} by retained size`);
      const shown = async () => page.$$eval("#instance-table .instance", (r) => r.map((x) => ({ node: Number(x.dataset.node), size: Number(x.dataset.size) })));
      eq(await shown(), byRetained.objects.map((o) => ({ node: o.node, size: o.size })), "instances shown");
      await page.click("#sort-size");
      await page.waitForSelector('#instances[data-sort="size"] #instance-table .instance', { timeout: TIMEOUT });
      eq(await page.getAttribute("#instance-table th[aria-sort=descending] button", "id"), "sort-size", "aria-sort on the size column");
      eq(await shown(), inst("size", 0).objects.map((o) => ({ node: o.node, size: o.size })), "instances by size");
      await page.click("#instances-next");
      await page.waitForSelector('#instances[data-offset="50"] #instance-table .instance', { timeout: TIMEOUT });
      eq(await shown(), inst("size", 50).objects.map((o) => ({ node: o.node, size: o.size })), "the second page by size");
      await page.click("#instances-prev");
      await page.waitForSelector('#instances[data-offset="0"] #instance-table .instance', { timeout: TIMEOUT });
      await page.evaluate(() => window.scrollTo(0, 0));
      await shot("23-instances");
      // An instance in the inspector; a reference field opens its object.
      const first = inst("size", 0).objects[0];
      await page.click("#instance-table .instance >> nth=0 >> .open-object");
      await page.waitForSelector(`#inspector[data-node="${first.node}"] #object-type`, { timeout: TIMEOUT });
      const obj = cliJson(["object", "--json", file, first.address]);
      eq(withoutFiles(JSON.parse((await downloadOf("#export-json")).text)), withoutFiles(obj), `${many.name} in the inspector`);
      const noVal = JSON.parse((await downloadOf("#export-no-values")).text);
      eq(withoutFiles(noVal), withoutFiles(cliJson(["object", "--json", "--no-values", file, first.address])), "the object without values");
      eq(await page.$$eval("#object-fields tbody tr", (r) => r.map((x) => x.dataset.field)), obj.fields.map((f) => f.name), "fields in order");
      eq(await page.$$eval("#object-referrers .objlink", (r) => r.map((x) => Number(x.dataset.node))), obj.referrers.map((o) => o.node), "referrers");
      eq(await page.$$eval("#object-dominators .objlink", (r) => r.map((x) => Number(x.dataset.node))), obj.dominators.map((o) => o.node).reverse(), "dominator chain, root first");
      await shot("24-inspector");
      const ref = obj.fields.find((f) => f.value.kind === "ref" && f.value.node !== undefined);
      if (ref) {
        await page.click(`#object-fields tr[data-field="${ref.name}"] .objlink`);
        await page.waitForSelector(`#inspector[data-node="${ref.value.node}"] #object-type`, { timeout: TIMEOUT });
        const target = cliJson(["object", "--json", file, ref.value.address]);
        eq(withoutFiles(JSON.parse((await downloadOf("#export-json")).text)), withoutFiles(target), `the object ${ref.name} refers to`);
        // Its dominator chain, root first, each a link that opens its object.
        const chain = await page.$$eval("#object-dominators .objlink", (r) => r.map((x) => Number(x.dataset.node)));
        eq(chain, target.dominators.map((o) => o.node).reverse(), "the referenced object's dominator chain");
        await shot("24-inspector-chain");
        if (chain.length) {
          await page.click(`#object-dominators .objlink >> nth=${chain.length - 1}`);
          await page.waitForSelector(`#inspector[data-node="${chain[chain.length - 1]}"] #object-type`, { timeout: TIMEOUT });
          await page.goBack();
          await page.waitForSelector(`#inspector[data-node="${ref.value.node}"] #object-type`, { timeout: TIMEOUT });
        }
      }
      // Back returns to the object before.
      if (ref) {
        await page.goBack();
        await page.waitForSelector(`#inspector[data-node="${first.node}"] #object-type`, { timeout: TIMEOUT });
      }
      // A delegate: its target and the method it calls.
      const del = stats.types.find((t) => /^System\.(Func|Action|Threading\.\w*Callback|EventHandler)/.test(t.name));
      if (del) {
        const o = cliJson(["instances", "--json", "--type-id", String(del.id), "--sort", "size", "--limit", "50", file]).objects[0];
        const want = cliJson(["object", "--json", file, o.address]);
        await showTypes();
        // The filter is a regular expression: the name's brackets escaped.
        await page.fill("#type-table-filter", del.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
        // From the type table by mouse: the row's Instances button.
        await page.click(`#type-table .trow[data-id="${del.id}"] .row-act`);
        await page.waitForSelector(`#instances[data-type="${del.id}"]`, { timeout: TIMEOUT });
        await page.waitForSelector(`#instance-table .instance[data-node="${o.node}"]`, { timeout: TIMEOUT });
        await page.click(`#instance-table .instance[data-node="${o.node}"] .open-object`);
        await page.waitForSelector(`#inspector[data-node="${o.node}"] #object-delegate`, { timeout: TIMEOUT });
        const inv = want.delegate.invocations[0];
        assert(inv.method, `the CLI names the method of ${del.name}`);
        eq((await page.textContent("#object-delegate .invocation .method")).trim(), inv.method, "the delegate's method");
        if (inv.target) eq(Number(await page.getAttribute("#object-delegate .invocation .objlink", "data-node")), inv.target.node, "the delegate's target");
        await shot("25-inspector-delegate");
      }
    });

    await test("duplicate strings by keyboard: the filter (a regular expression on the value) and a sort by copies give the rows, order and subtotal of `heaplens strings --json` filtered and sorted here; arrows and Enter open the focused value's copy", async () => {
      if (!core) return { skip: "no core fixture in the corpus" };
      const file = unzst(core);
      const dups = cliJson(["strings", "--json", file]).duplicates;
      // A pattern read alike by JavaScript and the regex crate that keeps
      // some values but not all.
      const pattern = ["[0-9]", "[A-Z][a-z]", "e", "/", "a"].find((p) => {
        const n = dups.filter((d) => new RegExp(p).test(d.text)).length;
        return n >= 3 && n < dups.length;
      });
      assert(pattern, `no pattern keeps some of the ${dups.length} duplicate values`);
      // The rows wanted, computed here: the values the pattern matches, most
      // copies first, ties by wasted bytes, then in the CLI's order.
      const want = dups
        .map((d, i) => ({ d, i }))
        .filter(({ d }) => new RegExp(pattern).test(d.text))
        .sort((a, b) => b.d.copies - a.d.copies || b.d.wasted_bytes - a.d.wasted_bytes || a.i - b.i)
        .map(({ d }) => ({ node: d.example.node, copies: d.copies, wasted: d.wasted_bytes }));
      await home();
      await openFile(file);
      await assertNoError();
      await page.click("#tab-strings");
      await page.waitForSelector("#duplicate-strings .trow", { timeout: TIMEOUT });
      // The filter by keyboard: typed into the field.
      await page.focus("#duplicate-strings-filter");
      await page.keyboard.type(pattern);
      await page.waitForFunction((n) => document.querySelector("#duplicate-strings-count").textContent.startsWith(`${n} of`), want.length);
      // The sort by keyboard: Tab to the Copies heading, Enter.
      await tabTo("#duplicate-strings-sort-copies");
      await page.keyboard.press("Enter");
      eq(await page.$eval("#duplicate-strings-sort-copies", (b) => b.parentElement.getAttribute("aria-sort")), "descending", "aria-sort of Copies");
      eq(await page.$eval("#duplicate-strings-sort-wasted", (b) => b.parentElement.getAttribute("aria-sort")), "none", "aria-sort of Wasted after sorting by copies");
      const shown = (await allRows("#duplicate-strings")).map((r) => ({ node: Number(r.node), copies: Number(r.copies), wasted: Number(r.wasted) }));
      eq(shown, want, `duplicate values matching ${pattern}, by copies`);
      eq(await page.textContent("#duplicate-strings-count"),
        `${want.length} of ${dups.length} duplicate values: ${want.reduce((a, r) => a + r.copies, 0).toLocaleString("en-US")} copies, ${decimalBytes(want.reduce((a, r) => a + r.wasted, 0))} wasted`,
        "count and subtotal of the values shown");
      const url = decodeURIComponent(page.url());
      assert(url.includes("sort=copies-desc"), `the URL keeps the sort: ${url}`);
      // The CSV holds the rows shown, in their order.
      const csv = parseCsv((await downloadOf("#duplicate-strings-csv")).text);
      eq(csv[0].join(","), "Value,Length,Copies,Size,Wasted,Held most by,Copies it holds,A copy", "CSV heading");
      eq(csv.slice(1).map((c) => [Number(c[2]), Number(c[4])]), want.map((r) => [r.copies, r.wasted]), "CSV rows");
      // Rows by keyboard: Tab into the grid, two down, Enter opens that
      // value's copy in the inspector.
      await page.$eval("#duplicate-strings .tbody", (el) => { el.scrollTop = 0; });
      await tabTo("#duplicate-strings [role=row]");
      eq(await page.evaluate(() => document.activeElement.getAttribute("aria-rowindex")), "2", "Tab reaches the first row");
      await page.keyboard.press("ArrowDown");
      await page.keyboard.press("ArrowDown");
      eq(Number(await page.evaluate(() => document.activeElement.dataset.node)), want[2].node, "the third row has focus");
      await shot("20b-strings-filtered-sorted");
      await page.focus('#duplicate-strings .trow[data-index="2"]');
      await page.keyboard.press("Enter");
      await page.waitForSelector(`#inspector[data-node="${want[2].node}"] #object-type`, { timeout: TIMEOUT });
    });

    await test("instances from a root path's step and a flame-graph frame (Enter on a step, a click; key I and the button on a frame) list that type's objects as `heaplens instances --json` does", async () => {
      if (!core) return { skip: "no core fixture in the corpus" };
      const file = unzst(core);
      await home();
      await openFile(file);
      await assertNoError();
      await page.waitForSelector("#retained-ready", { timeout: TIMEOUT });
      const stats = cliJson(["stats", "--json", file]);
      const nodes = (typeId) => cliJson(["instances", "--json", "--type-id", String(typeId), "--sort", "retained", "--limit", "50", file]).objects.map((o) => o.node);
      const listed = async (typeId) => {
        await page.waitForSelector(`#instances[data-type="${typeId}"][data-sort="retained"] #instance-table .instance`, { timeout: TIMEOUT });
        return page.$$eval("#instance-table .instance", (r) => r.map((x) => Number(x.dataset.node)));
      };
      const t = stats.types.find((x) => x.count > 60 && !/^System\.(String|Char|Byte|Int32|Object)\[?/.test(x.name));
      await showTypes();
      await page.fill("#type-table-filter", t.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
      await page.click(`#type-table .trow[data-id="${t.id}"]`);
      await page.waitForSelector("#root-paths .step-name", { timeout: TIMEOUT });
      // The first step of the first path (the root's object), by keyboard.
      const rootStep = Number(await page.getAttribute("#root-paths .path >> nth=0 >> .step-name >> nth=0", "data-id"));
      await page.focus("#root-paths .path >> nth=0 >> .step-name >> nth=0");
      await page.keyboard.press("Enter");
      eq(await listed(rootStep), nodes(rootStep), `instances of the root path's first step (type ${rootStep})`);
      // The last step (the type itself), by mouse.
      await page.goBack();
      await page.waitForSelector("#root-paths .step-name", { timeout: TIMEOUT });
      await page.click("#root-paths .path >> nth=0 >> .step.target .step-name");
      eq(await listed(t.id), nodes(t.id), `instances of ${t.name} from its path`);
      // The flame graph: down the largest children to a type frame, I.
      const flame = cliJson(["flame", "--json", file]);
      await page.click("#tab-flame");
      await page.waitForSelector("#flame-graph .fr", { timeout: TIMEOUT });
      await page.focus("#flame-graph");
      let sel = 0;
      for (let i = 0; i < 6 && flame.frames[sel].kind !== "type"; i++) {
        await page.keyboard.press("ArrowDown");
        sel = Number(await page.$eval("#flame", (e) => e.dataset.selected));
      }
      const frame = flame.frames[sel];
      eq(frame.kind, "type", "a type frame reached by ArrowDown");
      eq(Number(await page.getAttribute("#flame-instances", "data-id")), frame.type_id, "the Instances button is the selected frame's");
      await shot("28-flame-frame-buttons");
      await page.keyboard.press("i");
      eq(await listed(frame.type_id), nodes(frame.type_id), `instances of the flame frame ${frame.name} (key I)`);
      // A click selects a frame; its Instances button lists them.
      await page.goBack();
      await page.waitForSelector("#flame-graph .fr", { timeout: TIMEOUT });
      const drawn = await page.$$eval("#flame-graph .fr", (fs) => fs.map((f) => Number(f.dataset.id)));
      const other = flame.frames.find((f) => f.kind === "type" && f.type_id !== frame.type_id && drawn.includes(f.id));
      await page.click(`#flame-graph .fr[data-id="${other.id}"]`);
      await page.click("#flame-instances");
      eq(await listed(other.type_id), nodes(other.type_id), `instances of the flame frame ${other.name} (button)`);
      // The type table shows the Instances button on every row.
      await showTypes();
      await page.fill("#type-table-filter", "");
      await shot("29-types-instances-buttons");
    });

    await test("findings: a dump's leak findings equal `heaplens findings --json` (rank, pattern, objects, retained; the export); a finding opens to its evidence and its path, whose objects open in the inspector", async () => {
      if (!core) return { skip: "no core fixture in the corpus" };
      const file = unzst(core);
      await home();
      await openFile(file);
      await assertNoError();
      await page.click("#tab-findings");
      await page.waitForSelector("#finding-detectors", { timeout: TIMEOUT });
      const want = cliJson(["findings", "--json", file]);
      const rows = await page.$$eval("#findings .finding", (r) => r.map((x) => ({
        rank: Number(x.dataset.rank), pattern: x.dataset.pattern, objects: Number(x.dataset.objects),
        retained: Number(x.dataset.retained), leak: x.dataset.leak === "true",
      })));
      eq(rows, want.findings.map((f) => ({ rank: f.rank, pattern: f.pattern, objects: f.objects, retained: f.retained_bytes, leak: f.leak })), "finding rows");
      eq(await page.$$eval("#finding-detectors .detector", (r) => r.map((x) => x.dataset.pattern)), want.detectors.map((d) => d.pattern), "detectors");
      eq(await page.getAttribute("#export-json", "data-values"), "false", "the findings export says it carries no values");
      eq(withoutFiles(JSON.parse((await downloadOf("#export-json")).text)), withoutFiles(want), "findings export");
      if (want.findings.length > 0) {
        await page.click("#findings .finding summary");
        await page.waitForSelector("#findings .finding[open] .finding-path .objlink", { timeout: TIMEOUT });
        await shot("26-findings");
        const link = "#findings .finding[open] .finding-path li:last-child .objlink";
        const node = Number(await page.getAttribute(link, "data-node"));
        assert(want.findings[0].path.steps.some((s) => s.node === node), "the link is an object of the CLI's path");
        await page.click(link);
        await page.waitForSelector(`#inspector[data-node="${node}"]`, { timeout: TIMEOUT });
      } else {
        await noFindingsSaidOnce();
        await shot("26-findings");
      }
      log(`     ${want.findings.length} findings, ${want.detectors.length} detectors`);
    });

    await test("findings first: after a dump opens, its overview leads with the top findings, equal to `heaplens findings --json`; they open the Findings tab", async () => {
      if (!core) return { skip: "no core fixture in the corpus" };
      const file = unzst(core);
      await home();
      await openFile(file);
      await assertNoError();
      // The overview is the screen a dump lands on, its findings panel first.
      await page.waitForSelector("#overview #ov-findings", { timeout: TIMEOUT });
      eq(await page.$eval("#overview", (o) => {
        const f = o.querySelector("#ov-findings"), t = o.querySelector("#top-types");
        return !!(f.compareDocumentPosition(t) & Node.DOCUMENT_POSITION_FOLLOWING);
      }), true, "the findings come before the largest types");
      await page.waitForSelector("#ov-finding-list, #ov-findings-none, #ov-findings-failed", { timeout: TIMEOUT });
      assert(!(await page.$("#ov-findings-failed")), `findings failed: ${await page.textContent("#ov-findings")}`);
      const want = cliJson(["findings", "--json", file]);
      const shown = await page.$$eval("#ov-finding-list .ov-finding", (r) => r.map((x) => ({
        rank: Number(x.dataset.rank), pattern: x.dataset.pattern, retained: Number(x.dataset.retained), leak: x.dataset.leak === "true",
      })));
      eq(shown, want.findings.slice(0, 3).map((f) => ({ rank: f.rank, pattern: f.pattern, retained: f.retained_bytes, leak: f.leak })), "the overview's top findings");
      await shot("26a-overview-findings");
      if (want.findings.length > 0) {
        // One keystroke: Enter on the first finding opens the Findings tab.
        await page.focus("#ov-finding-list .ov-finding");
        await page.keyboard.press("Enter");
        await page.waitForSelector("#findings #finding-list", { timeout: TIMEOUT });
        eq(await page.getAttribute("#tab-findings", "aria-selected"), "true", "the Findings tab is selected");
        assert(/#.*findings/.test(page.url()), `the view is in the URL: ${page.url()}`);
      }
      log(`     overview shows ${shown.length} of ${want.findings.length} findings`);
    });

    // Growth findings of a comparison, against `heaplens findings BASE CURRENT --json`
    // (the baseline the page chose first), joined by pattern and key.
    const growthFindingsCheck = async (a, b, name) => {
      await home();
      await choose([a, b]);
      await page.waitForSelector("#growth, #error", { timeout: TIMEOUT });
      await assertNoError();
      await page.waitForSelector("#growth #growth-findings", { timeout: TIMEOUT });
      await page.waitForSelector("#growth-finding-list, #growth-findings-none, #growth-findings-failed", { timeout: TIMEOUT });
      assert(!(await page.$("#growth-findings-failed")), `growth findings failed: ${await page.textContent("#growth-findings")}`);
      const baseName = await page.$eval("#compare-base", (s) => s.selectedOptions[0].dataset.name);
      const [base, cur] = basename(a) === baseName ? [a, b] : [b, a];
      const want = cliJson(["findings", "--json", base, cur]);
      const rows = await page.$$eval("#growth-findings .finding", (r) => r.map((x) => ({
        id: `${x.dataset.pattern} ${x.dataset.key}`, rank: Number(x.dataset.rank), objects: Number(x.dataset.objects),
        retained: Number(x.dataset.retained), growth_objects: Number(x.dataset.growthObjects), growth_retained: Number(x.dataset.growthRetained),
      })));
      eq(rows, want.findings.map((f) => ({
        id: `${f.pattern} ${f.key}`, rank: f.rank, objects: f.objects, retained: f.retained_bytes,
        growth_objects: f.growth_objects, growth_retained: f.growth_retained_bytes,
      })), `growth findings of ${name}`);
      if (want.findings.length > 0) {
        await page.click("#growth-findings .finding summary");
        await page.waitForSelector("#growth-findings .finding[open] .finding-evidence", { timeout: TIMEOUT });
        const ev = await page.$$eval("#growth-findings .finding[open] .finding-evidence tbody tr th", (t) => t.map((x) => x.textContent));
        eq(ev, want.findings[0].base_objects == null ? ["This dump", "Growth"] : ["Baseline", "This dump", "Growth"], "the first finding's evidence rows");
      }
      return want;
    };

    await test("growth findings: a comparison of two dumps shows the growth findings of `heaplens findings A B --json`, by pattern and key, ranked by retained growth", async () => {
      const p1 = cores.find((c) => c.includes("linux-net8/phase1")), p2 = cores.find((c) => c.includes("linux-net8/phase2"));
      if (!p1 || !p2) return { skip: "no linux-net8 phase1/phase2 cores in the corpus" };
      const [a, b] = [copyAs(unzst(p1), "net8-phase1.core", new Date("2024-01-01T00:00:00Z")), copyAs(unzst(p2), "net8-phase2.core", new Date("2024-01-02T00:00:00Z"))];
      const want = await growthFindingsCheck(a, b, "linux-net8 phase1 → phase2");
      assert(want.findings.length > 0, "DumpLab's growing list is a growth finding");
      await shot("27-growth-findings");
      log(`     ${want.findings.length} growth findings; first: ${want.findings[0].pattern} ${want.findings[0].key}`);
    });

    await test("growth findings of the leak zoo (linux-net31-leaks phase1 → phase2): its findings as the CLI gives them", async () => {
      const dir = join(process.env.HEAPLENS_GENERATED_FIXTURES || join(ROOT, "../dumplab/out"), "linux-net31-leaks");
      const p1 = join(dir, "phase1.withheap.core.zst"), p2 = join(dir, "phase2.withheap.core.zst");
      if (!existsSync(p1) || !existsSync(p2)) return { skip: `no leak zoo (FIXTURES=leaks scripts/make-fixtures): ${dir}` };
      const [a, b] = [copyAs(unzst(p1), "leaks31-phase1.core", new Date("2024-01-01T00:00:00Z")), copyAs(unzst(p2), "leaks31-phase2.core", new Date("2024-01-02T00:00:00Z"))];
      const want = await growthFindingsCheck(a, b, "the leak zoo");
      assert(want.findings.some((f) => f.leak && f.pattern !== "type_growth" && f.pattern !== "large_holder"), "a planted leak is among them");
      await shot("27b-growth-findings-leak-zoo");
    });

    await test("object contents of a .gcdump: the page says it holds none", async () => {
      await home();
      await openFile(gcA);
      await page.click("#tab-strings");
      await page.waitForSelector("#contents-failed", { timeout: TIMEOUT });
      assert(/no (object )?contents|holds no/i.test(await page.textContent("#contents-failed")), await page.textContent("#contents-failed"));
    });

    await test("a partial dump (memory missing from the core) says so above every result, in numbers", async () => {
      if (!core) return { skip: "no core fixture in the corpus" };
      const file = unzst(core);
      const top = cliJson(["retained", "--json", "--top", "5", file]).objects.map((o) => BigInt(o.address));
      const holed = join(CACHE, "partial.core");
      cutCoreAt(file, holed, top[0]);
      // The CLI says it is partial (exit code 3 unless --allow-partial).
      eq(cli(["stats", "--json", holed]).code, 3, "the CLI's exit code for a partial result");
      const want = cliJson(["stats", "--json", "--allow-partial", holed]);
      assert(want.complete === false && want.clr.heap_bytes_captured < want.clr.heap_bytes && want.coverage.summary, `the cut core still holds its whole heap: ${JSON.stringify(want.coverage)}`);
      await home();
      await openFile(holed);
      await assertNoError();
      eq((await overviewNumbers()).objects, want.objects, "objects of the partial dump");
      for (const tab of ["#tab-overview", "#tab-types"]) {
        await page.click(tab);
        const banner = await page.textContent(".partial-banner");
        eq(await page.$eval(".partial-banner", (b) => b.dataset.partial), "true", `banner kind on ${tab}`);
        assert(/^Partial dump: /.test(banner) && banner.includes(want.coverage.summary), `banner on ${tab}: ${banner} (the CLI: ${want.coverage.summary})`);
        // Above the results.
        const above = await page.evaluate(() => {
          const b = document.querySelector(".partial-banner").getBoundingClientRect();
          const r = document.querySelector("#overview, #types").getBoundingClientRect();
          return b.bottom <= r.top;
        });
        assert(above, `the banner is not above the results on ${tab}`);
        if (tab === "#tab-overview") await shot("14-partial-overview");
      }
      await page.click("#type-table .trow >> nth=0");
      await page.waitForSelector("#detail");
      assert(await page.$(".partial-banner"), "no banner on the detail");
      // A whole dump has none.
      await home();
      await openFile(file);
      eq(await page.$(".partial-banner"), null, "a banner on a whole dump");
    });

    // A .NET Core 3.1 `--withheap` core leaves the assemblies' images out;
    // the framework DLLs (and the app's DumpLab.dll, when the dumplab build
    // is beside the repository) chosen with it name its types, as
    // `heaplens stats --modules DIR` does with the same files. Without
    // DumpLab.dll its types stay `DumpLab!0x02…` on both sides and only the
    // System.* names are asserted (and the note naming DumpLab).
    await test(".NET Core 3.1 core with its DLLs: names equal `heaplens stats --modules`", async () => {
      const net31 = join(fixtures, "linux-net31/phase1.withheap.core.zst");
      if (!existsSync(net31)) return { skip: "no linux-net31 fixture in the corpus" };
      const fw = join(RUNTIMES, "Microsoft.NETCore.App/3.1.23");
      const dlls = ["System.Private.CoreLib.dll", "System.Console.dll", "System.Runtime.InteropServices.RuntimeInformation.dll"].map((f) => join(fw, f));
      if (!dlls.every((f) => existsSync(f))) {
        const why = `the .NET Core 3.1.23 framework is not in ${fw} (scripts/setup installs it)`;
        if (REQUIRE_CORPUS) throw new Error(why);
        return { skip: why };
      }
      const withApp = existsSync(DUMPLAB_DLL);
      if (withApp) dlls.push(DUMPLAB_DLL);
      else log(`     note: no ${DUMPLAB_DLL}: DumpLab types stay module!token, System.* names are checked`);
      // The CLI gets the same files as one --modules directory.
      const dir = join(CACHE, "net31-modules");
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir);
      for (const f of dlls) symlinkSync(f, join(dir, basename(f)));
      const file = unzst(net31);
      await home();
      const { expected } = await checkAgainstStats(file, basename(file), { modules: dlls, cliArgs: ["--modules", dir] });
      const names = (await tableRows("#type-table")).map((r) => r.name);
      assert(names[0] === "System.String" && names.includes("System.Byte[]"), `System names: ${names.slice(0, 5).join(", ")}`);
      assert(!names.some((n) => n.startsWith("System.Private.CoreLib!")), "CoreLib types still by token");
      if (withApp) assert(names.includes("DumpLab.Widget"), `DumpLab names: ${names.slice(0, 8).join(", ")}`);
      else assert(names.some((n) => n.startsWith("DumpLab!0x02")), "DumpLab types named without DumpLab.dll");
      await page.click("#tab-overview");
      await page.waitForSelector("#overview");
      const notes = await page.$$eval("#overview .note", (n) => n.map((x) => x.textContent));
      const missing = (l) => l.filter((n) => /does not hold the metadata/.test(n));
      eq(missing(notes), missing(expected.notes || []), "notes on modules without metadata");
      if (!withApp) assert(missing(notes).length === 1 && /DumpLab/.test(missing(notes)[0]) && !/CoreLib/.test(missing(notes)[0]), `notes: ${notes}`);
      await shot("15-core-with-modules");
      await showTypes();
      await shot("16-core-with-modules-types");
    });

    await test("Windows minidump fixture: totals, top rows, GC mode and dump time equal the CLI's", async () => {
      const dmp = join(fixtures, "windows-net8", "phase1.windump.dmp.zst");
      if (!existsSync(dmp)) return { skip: "no windows-net8 windump in the corpus" };
      const file = unzst(dmp);
      await home();
      const { ms } = await checkAgainstStats(file, basename(file));
      await page.click("#tab-overview");
      await checkGcMode(file);
      eq(await page.$eval("#ov-time", (d) => d.dataset.iso), cliJson(["info", "--json", file]).process.dump_time, "dump time (the minidump header's)");
      eq(await page.$eval("#ov-bitness", (d) => [d.dataset.pointerSize, d.textContent.trim()]), ["8", "64-bit (8-byte pointers)"], "bitness of an x64 process");
      await shot("17-minidump-overview");
      bench.minidump = { file: basename(file), size: statSync(file).size, ms, ...(await workerFigures()) };
    });

    // The 32-bit fixtures of `FIXTURES=x86 scripts/make-fixtures` (.NET
    // Core 3.1 win-x86 under 32-bit Wine), when made: the generator's
    // manifest records the process's architecture.
    await test("32-bit Windows minidump (x86 .NET Core 3.1): the overview says 32-bit; totals, top rows and GC mode equal the CLI's; a type's root path equals `heaplens roots --json`", async () => {
      const dir = join(process.env.HEAPLENS_GENERATED_FIXTURES || join(ROOT, "../dumplab/out"), "windows-net31-x86");
      const dmp = join(dir, "phase1.windump.dmp.zst");
      if (!existsSync(dmp)) return { skip: `no 32-bit fixture in ${dir} (FIXTURES=x86 scripts/make-fixtures)` };
      eq(JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")).info.architecture, "x86", "the fixture's architecture");
      const file = unzst(dmp);
      await home();
      const { ms } = await checkAgainstStats(file, basename(file));
      await page.click("#tab-overview");
      await checkGcMode(file);
      eq(await page.$eval("#ov-bitness", (d) => [d.dataset.pointerSize, d.textContent.trim()]), ["4", "32-bit (4-byte pointers)"], "bitness of an x86 process");
      await shot("17b-x86-minidump-overview");
      bench.minidumpX86 = { file: basename(file), size: statSync(file).size, ms, ...(await workerFigures()) };
      // Issue 20: a type's detail shows the root path `heaplens roots
      // --json` finds in the x86 dump, whose chain of types is the tail of
      // the runtime's own path (the reference's first step, the statics
      // array, is what the static root stands for).
      const target = "DumpLab.RootTarget";
      const roots = cliJson(["roots", "--json", "--type", target, file]);
      const want = roots.paths[0];
      assert(want, `no root path to ${target} from the CLI`);
      const refPath = JSON.parse(readFileSync(join(dir, "phase1.reference.json"), "utf8"))[`root_path_to_${target}`].path;
      eq(want.steps.map((st) => st.type), refPath.slice(-want.steps.length), "the CLI's chain of types vs the runtime's path");
      await showTypes();
      await page.fill("#type-table-filter", `^${target.replace(/\./g, "\\.")}$`);
      await page.waitForTimeout(150);
      await page.click("#type-table .trow >> nth=0");
      await page.waitForSelector("#root-paths .path", { timeout: TIMEOUT });
      eq(await page.textContent("#detail-name"), target, "the detail's type");
      const got = await page.$eval("#root-paths .path", (p) => ({
        kind: p.querySelector(".root-chip .kind").textContent,
        name: p.querySelector(".root-chip .root-name")?.textContent ?? null,
        steps: [...p.querySelectorAll(".step")].map((s) => [s.querySelector(".step-name").textContent, s.querySelector(".addr")?.textContent ?? null]),
      }));
      eq(got, { kind: want.root_kind.replace(/_/g, " "), name: want.root_name ?? null, steps: want.steps.map((st) => [st.type, st.address ?? null]) }, "the first root path vs `heaplens roots --json`");
      await shot("17c-x86-minidump-detail");
    });

    await test("Kudu's .zip of a minidump (with sos.dll and mscordaccore.dll) opens with the raw dump's numbers", async () => {
      const dmp = join(fixtures, "windows-net8", "phase1.windump.dmp.zst");
      if (!existsSync(dmp)) return { skip: "no windows-net8 windump in the corpus" };
      const raw = unzst(dmp);
      const want = cliJson(["stats", "--json", raw]);
      // Kudu's download: the dump deflated, SOS and the DAC beside it.
      const kudu = join(CACHE, "kudu");
      rmSync(kudu, { recursive: true, force: true });
      mkdirSync(kudu, { recursive: true });
      copyFileSync(raw, join(kudu, "w3wp.dmp"));
      writeFileSync(join(kudu, "sos.dll"), Buffer.alloc(300_000, 7));
      writeFileSync(join(kudu, "mscordaccore.dll"), Buffer.alloc(200_000, 9));
      execFileSync("zip", ["-q", "-1", "w3wp-dump.zip", "sos.dll", "w3wp.dmp", "mscordaccore.dll"], { cwd: kudu });
      const zip = join(kudu, "w3wp-dump.zip");
      // Slowed progress reports, so the unpacking's can be seen.
      await home("?e2e-slow-progress=100");
      await choose(zip);
      await page.waitForFunction(() => /^unpacking the archive: [\d.]+ [kMGT]?B of [\d.]+ [kMGT]?B compressed$/.test(document.querySelector("#progress-objects")?.textContent || "")
        && /[\d.]+ [kMGT]?B written into this browser's private storage for the page \([\d.]+ [kMGT]?B free\)/.test(document.querySelector("#progress-bytes")?.textContent || ""), null, { timeout: TIMEOUT });
      await page.waitForFunction(() => /left/.test(document.querySelector("#progress-time")?.textContent || ""), null, { timeout: TIMEOUT });
      await shot("13-kudu-zip-unpacking");
      // Cancel ends the worker mid-write; the next open removes what it
      // left in the browser's storage.
      await page.click("#cancel", { timeout: 5_000 });
      await page.waitForSelector("#notice", { timeout: TIMEOUT });
      await home();
      await openFile(zip);
      await assertNoError();
      eq(await overviewNumbers(), { objects: want.objects, bytes: want.bytes, types: want.type_count }, "totals of the zipped dump");
      const from = await page.textContent(".ov-archive");
      assert(/zip entry w3wp\.dmp \(deflate\)/.test(from) && /deleted afterwards/.test(from) && /sos\.dll and mscordaccore\.dll/.test(from), `from: ${from}`);
      // "Read in" says what was read: the archive, unpacked to the dump's size.
      const readIn = await page.textContent("#ov-open-ms");
      assert(readIn.includes(`a ${decimalBytes(statSync(zip).size)} archive unpacked to ${decimalBytes(statSync(raw).size)}`) && !/from the file/.test(readIn), `read in: ${readIn}`);
      // The space the unpacked copy takes, and the offer to keep it.
      eq(Number(await page.getAttribute("#ov-local-copy", "data-bytes")), statSync(raw).size, "bytes of the unpacked copy");
      assert((await page.textContent("#ov-local-copy")).includes(decimalBytes(statSync(raw).size)), "the overview says the space the copy takes");
      eq(await page.isChecked("#keep-copy"), false, "the copy is not kept unless asked");
      await page.$eval("#ov-local-copy", (e) => e.scrollIntoView({ block: "center" }));
      await shot("14-kudu-zip-overview");
      await page.click("#tab-types");
      await page.waitForSelector("#type-table .trow");
      const rows = (await tableRows("#type-table")).slice(0, 20);
      eq(rows.map((r) => ({ name: r.name, count: Number(r.count), bytes: Number(r.bytes) })),
        want.types.slice(0, rows.length).map((t) => ({ name: t.name, count: t.count, bytes: t.bytes })), "top rows of the zipped dump");
      await page.click("#tab-overview");
      const figures = await workerFigures();
      assert(figures.wasmMemory <= 2 ** 31, `worker memory ${figures.wasmMemory}`);
      // The unpacked dump stays in the browser's storage while the dump is
      // open (its objects' contents are read from it); the one the
      // cancelled worker left is removed (by the next open or the page's
      // start). Closing the dump deletes its copy.
      assert(/stays there while the dump is open/.test(await page.textContent(".ov-kept")), "the overview says the copy is kept");
      eq(await scratchFilesSettled(1), 1, "scratch files while the zipped dump is open");
      await page.click(`#dumpbar [aria-label="Close w3wp-dump.zip"]`);
      eq(await scratchFilesSettled(0), 0, "scratch files after the dump is closed");
      bench.kuduZip = { file: basename(zip), size: statSync(zip).size, unpacked: statSync(raw).size, ...figures };
      // Unslowed, for the time it takes (BENCHMARKS.md).
      await home();
      bench.kuduZip.ms = await openFile(zip);
      await assertNoError();
      Object.assign(bench.kuduZip, await workerFigures());
      bench.kuduZip.unpackMBps = statSync(raw).size / 1e6 / (bench.kuduZip.unpackMs / 1000);
      rmSync(kudu, { recursive: true, force: true });
    });

    await test("a .zst and a .gz dump open as the raw dump; a zip without a dump says what it holds", async () => {
      const dmp = join(fixtures, "linux-net8", "phase1.withheap.core.zst");
      if (!existsSync(dmp)) return { skip: "no linux-net8 core in the corpus" };
      const raw = unzst(dmp);
      const want = cliJson(["stats", "--json", raw]);
      const gz = join(CACHE, "phase1.withheap.core.gz");
      execFileSync("sh", ["-c", `gzip -1 -c '${raw}' > '${gz}'`]);
      for (const f of [dmp, gz]) {
        await home();
        const ms = await openFile(f);
        await assertNoError();
        eq(await overviewNumbers(), { objects: want.objects, bytes: want.bytes, types: want.type_count }, `totals of ${basename(f)}`);
        bench[f === dmp ? "coreZst" : "coreGz"] = { file: basename(f), size: statSync(f).size, unpacked: statSync(raw).size, ms, ...(await workerFigures()) };
      }
      rmSync(gz);
      const nodump = join(CACHE, "nodump.zip");
      rmSync(nodump, { force: true });
      writeFileSync(join(CACHE, "sos.dll"), "MZ");
      execFileSync("zip", ["-q", "-j", nodump, join(CACHE, "sos.dll")]);
      await home();
      await openFile(nodump);
      const msg = await page.textContent("#error-message");
      assert(/holds no dump/.test(msg) && /sos\.dll/.test(msg), `error: ${msg}`);
    });

    await test("object contents of a dump opened from a .zst and from a zip (zoo core): strings and the inspector equal the CLI's on the raw dump; the unpacked copy is deleted when the dump is closed", async () => {
      const zst = join(process.env.HEAPLENS_GENERATED_FIXTURES || join(ROOT, "../dumplab/out"), "linux-net8-zoo", "phase1.withheap.core.zst");
      if (!existsSync(zst)) return { skip: `no zoo core (FIXTURES=zoo scripts/make-fixtures): ${zst}` };
      const raw = unzst(zst);
      const strings = cliJson(["strings", "--json", raw]);
      const example = strings.duplicates[0].example;
      const object = cliJson(["object", "--json", raw, example.address]);
      // Stored: the zip's entry is read in place, not unpacked.
      const zip = join(CACHE, "zoo-stored.zip");
      rmSync(zip, { force: true });
      execFileSync("zip", ["-q", "-0", "-j", zip, raw]);
      for (const [f, copies] of [[zst, 1], [zip, 0]]) {
        await home();
        await openFile(f);
        await assertNoError();
        eq(await scratchFilesSettled(copies), copies, `scratch files while ${basename(f)} is open`);
        await page.click("#tab-strings");
        await page.waitForSelector("#duplicate-strings .trow", { timeout: TIMEOUT });
        const rows = (await allRows("#duplicate-strings")).map((x) => ({ copies: Number(x.copies), wasted: Number(x.wasted) }));
        eq(rows, strings.duplicates.map((d) => ({ copies: d.copies, wasted: d.wasted_bytes })), `duplicate strings of ${basename(f)}`);
        await page.$eval("#duplicate-strings .tbody", (el) => { el.scrollTop = 0; });
        if (f === zst) await shot("26-strings-from-zst");
        await page.click(`#duplicate-strings .trow[data-index="0"] .objlink`);
        await page.waitForSelector(`#inspector[data-node="${example.node}"] #object-type`, { timeout: TIMEOUT });
        eq(withoutFiles(JSON.parse((await downloadOf("#export-json")).text)), withoutFiles(object), `a string of ${basename(f)} in the inspector`);
        if (f === zst) await shot("27-inspector-from-zst");
        await page.click(`#dumpbar [aria-label="Close ${basename(f)}"]`);
        eq(await scratchFilesSettled(0), 0, `scratch files after ${basename(f)} is closed`);
      }
      rmSync(zip);
    });

    await test("an archive's unpacked copy kept for a faster reopen (by keyboard): kept after close, listed on the start page, the same archive reopens from it without unpacking with the raw dump's numbers, Open and Delete from the list; a copy not kept is deleted on close", async () => {
      const dmp = join(fixtures, "linux-net8", "phase1.withheap.core.zst");
      if (!existsSync(dmp)) return { skip: "no linux-net8 core in the corpus" };
      const raw = unzst(dmp);
      const rawSize = statSync(raw).size;
      const want = cliJson(["stats", "--json", raw]);
      const wantTotals = { objects: want.objects, bytes: want.bytes, types: want.type_count };
      const gz = join(CACHE, "kept-net8.core.gz");
      execFileSync("sh", ["-c", `gzip -1 -c '${raw}' > '${gz}'`]);
      const when = new Date("2024-03-01T00:00:00Z");
      utimesSync(gz, when, when);
      await home();
      eq(await keptFiles(), [], "kept copies at the start");
      await openFile(gz);
      await assertNoError();
      eq(await overviewNumbers(), wantTotals, "totals of the .gz");
      eq(await page.$eval("#ov-local-copy", (e) => [Number(e.dataset.bytes), e.dataset.reused, e.dataset.kept]), [rawSize, "false", "false"], "the local copy before keeping");
      // Keep it, by keyboard.
      await tabTo("#keep-copy");
      await page.keyboard.press("Space");
      await page.waitForSelector('#ov-local-copy[data-kept="true"]', { timeout: TIMEOUT });
      eq(await page.$("#keep-error"), null, "an error keeping the copy");
      assert(/kept after you close the dump/.test(await page.textContent(".ov-kept")), "the overview says the copy is kept");
      const file = await page.getAttribute("#ov-local-copy", "data-file");
      await shot("32-kept-copy-overview");
      await page.click(`#dumpbar [aria-label="Close ${basename(gz)}"]`);
      // The sweep after closing runs at once and leaves the kept copy.
      await page.waitForSelector("#dropzone", { timeout: TIMEOUT });
      await page.waitForTimeout(2500);
      let opfs = await opfsContents();
      eq(opfs[file], rawSize, "the kept copy after close (its size)");
      eq(Object.keys(opfs).filter((n) => n.startsWith("heaplens-kept-")).length, 1, "kept descriptions after close");
      // The start page lists it (a new page too).
      await home();
      await page.waitForSelector("#kept-copies .kept", { timeout: TIMEOUT });
      const listed = await page.$$eval("#kept-copies .kept", (l) => l.map((k) => ({ file: k.dataset.file, bytes: Number(k.dataset.bytes), archive: k.dataset.archive, text: k.textContent })));
      eq(listed.map((k) => [k.file, k.bytes, k.archive]), [[file, rawSize, basename(gz)]], "the kept copies listed");
      assert(listed[0].text.includes(decimalBytes(rawSize)) && /kept \d{4}-\d\d-\d\d/.test(listed[0].text), `the listed copy: ${listed[0].text}`);
      await shot("33-kept-copies-landing");
      // The same archive again: read from the copy, nothing unpacked. The
      // archive's bytes are zeros now (same name, size and modification
      // time), so the raw dump's totals can only come from the kept copy.
      const gzBytes = readFileSync(gz);
      writeFileSync(gz, Buffer.alloc(gzBytes.length));
      utimesSync(gz, when, when);
      await page.evaluate(() => {
        window.__unpacking = false;
        new MutationObserver(() => {
          if (/unpacking/i.test(document.querySelector("#progress-objects")?.textContent || "")) window.__unpacking = true;
        }).observe(document.body, { subtree: true, childList: true, characterData: true });
      });
      await openFile(gz);
      await assertNoError();
      eq(await overviewNumbers(), wantTotals, "totals read from the kept copy (the raw dump's, by the CLI)");
      eq(await page.evaluate(() => window.__unpacking), false, "an unpacking phase shown while reopening");
      eq(await page.$eval("#ov-local-copy", (e) => [e.dataset.file, e.dataset.reused, e.dataset.kept]), [file, "true", "true"], "the local copy when reopened");
      assert(/not read/.test(await page.textContent("#ov-open-ms")), `read in: ${await page.textContent("#ov-open-ms")}`);
      await page.$eval("#ov-local-copy", (e) => e.scrollIntoView({ block: "center" }));
      await shot("34-kept-copy-reopened");
      // Its objects' contents are read from the copy too.
      await page.click("#tab-strings");
      await page.waitForSelector("#duplicate-strings .trow, #contents-failed", { timeout: TIMEOUT });
      eq(await page.$("#contents-failed"), null, "contents of a dump read from its kept copy");
      writeFileSync(gz, gzBytes);
      utimesSync(gz, when, when);
      // Open from the list, with no archive at hand.
      await home();
      await page.waitForSelector("#kept-copies .kept-open", { timeout: TIMEOUT });
      await tabTo("#kept-copies .kept-open");
      await page.keyboard.press("Enter");
      await page.waitForSelector("#overview, #error", { timeout: TIMEOUT });
      await assertNoError();
      eq(await overviewNumbers(), wantTotals, "totals of the kept copy opened from the list");
      // Delete it from the list: the copy and its description go.
      await home();
      await page.waitForSelector("#kept-copies .kept-delete", { timeout: TIMEOUT });
      await page.click("#kept-copies .kept-delete");
      await page.waitForSelector("#kept-copies", { state: "detached", timeout: TIMEOUT });
      opfs = await opfsContents();
      eq(Object.keys(opfs).filter((n) => n.startsWith("heaplens-")), [], "the page's storage after Delete");
      // Not kept: the copy is deleted when the dump is closed, and nothing
      // of it stays in the page's storage.
      await openFile(gz);
      await assertNoError();
      // A browser that gives the page no storage to keep it in: said under
      // the box, which stays unchecked.
      await page.evaluate(() => {
        window.__getDirectory = StorageManager.prototype.getDirectory;
        StorageManager.prototype.getDirectory = () => Promise.reject(new DOMException("The request is not allowed", "SecurityError"));
      });
      await page.click("#keep-copy");
      await page.waitForSelector("#keep-error", { timeout: TIMEOUT });
      const refused = await page.textContent("#keep-error");
      assert(/could not be kept/.test(refused) && /no private storage/.test(refused) && /not allowed/.test(refused), `keep error: ${refused}`);
      eq(await page.isChecked("#keep-copy"), false, "the box after keeping failed");
      await page.evaluate(() => { StorageManager.prototype.getDirectory = window.__getDirectory; });
      eq(await scratchFilesSettled(1), 1, "scratch files while the .gz is open");
      await page.click(`#dumpbar [aria-label="Close ${basename(gz)}"]`);
      eq(await scratchFilesSettled(0), 0, "scratch files after the .gz is closed");
      eq(Object.keys(await opfsContents()).filter((n) => n.startsWith("heaplens-")), [], "the page's storage after closing a copy not kept");
      rmSync(gz);
    });

    // Issue 18: the whole flow by keyboard alone.
    await test("keyboard only: Enter on the drop zone opens the chooser, overview, arrow keys to Types, a row's Enter opens its detail, Escape back, a second dump by Space and a comparison by Enter; at 390 px the Type column stays readable", async () => {
      await home();
      await tabTo("#dropzone");
      await chooseByKey("Enter", gcA);
      await page.waitForSelector("#overview", { timeout: TIMEOUT });
      await assertNoError();
      // The view's tablist: one stop in the tab order, arrows move.
      await tabTo("#tab-overview");
      await page.keyboard.press("ArrowRight");
      await page.waitForSelector("#type-table .trow", { timeout: TIMEOUT });
      eq(await page.evaluate(() => document.activeElement.id), "tab-types", "focus after ArrowRight in the tablist");
      eq(await page.$eval("#tab-types", (t) => t.getAttribute("aria-selected")), "true", "Types selected");
      await page.keyboard.press("ArrowLeft");
      await page.waitForSelector("#overview");
      eq(await page.evaluate(() => document.activeElement.id), "tab-overview", "focus after ArrowLeft");
      await page.keyboard.press("ArrowRight");
      await page.waitForSelector("#type-table .trow", { timeout: TIMEOUT });
      // The table's one row in the tab order; ArrowDown, Enter opens it.
      await tabTo('#type-table [role=row][tabindex="0"]');
      await page.keyboard.press("ArrowDown");
      const name = await page.evaluate(() => document.activeElement.dataset.name);
      await page.keyboard.press("Enter");
      await page.waitForSelector("#detail", { timeout: TIMEOUT });
      eq(await page.textContent("#detail-name"), name, "Enter opens the focused row's detail");
      await page.keyboard.press("Escape");
      await page.waitForSelector("#type-table .trow", { timeout: TIMEOUT });
      // 390 px wide: the type table's name column keeps a readable width.
      const size = page.viewportSize();
      await page.setViewportSize({ width: 390, height: size.height });
      try {
        await page.waitForTimeout(150);
        const w = await page.$eval("#type-table .trow .col-name", (c) => ({ width: c.getBoundingClientRect().width, rem: parseFloat(getComputedStyle(document.documentElement).fontSize), text: c.textContent }));
        const head = await page.$eval("#type-table .hrow [role=columnheader]", (c) => c.getBoundingClientRect().width);
        assert(w.width >= 14 * w.rem - 1 && head >= 14 * w.rem - 1, `Type column at 390 px: cell ${w.width} px, heading ${head} px (14rem = ${14 * w.rem} px)`);
        assert(w.text.trim().length > 0, "the name is shown");
        await page.screenshot({ path: join(ART, "30b-keyboard-types-390.png") });
      } finally {
        await page.setViewportSize(size);
      }
      // A second dump: Space on "Add dumps…", then Compare… by Enter.
      await tabTo("#add-dumps");
      await chooseByKey("Space", gcB);
      await page.waitForSelector("#dumpbar li.chip.ready >> nth=1", { timeout: TIMEOUT });
      await tabTo("#compare-button");
      await page.keyboard.press("Enter");
      await page.waitForSelector("#growth", { timeout: TIMEOUT });
      await assertNoError();
      await page.waitForSelector("#diff-table .trow", { timeout: TIMEOUT });
      const pair = await page.$$eval("#compare-base, #compare-current", (s) => s.map((x) => x.selectedOptions[0].dataset.name));
      eq([...pair].sort(), [basename(gcA), basename(gcB)].sort(), "the two dumps compared");
      await shot("30-keyboard-compare");
    });

    // Issue 12 in the page: finalization, a cut-short minidump, .gcdump wording.
    await test("the overview shows the finalization queues (registered, ready for finalization) as `heaplens stats --json` and `info --json` count them", async () => {
      if (!core) return { skip: "no core fixture in the corpus" };
      const file = unzst(core);
      const clr = cliJson(["stats", "--json", file]).clr;
      const info = cliJson(["info", "--json", file]).finalization;
      eq([clr.finalization_registered, clr.finalization_ready], [info.registered, info.ready], "stats and info agree");
      await home();
      await openFile(file);
      await assertNoError();
      const f = await page.$eval("#ov-finalization", (d) => [Number(d.dataset.registered), Number(d.dataset.ready), d.textContent.trim()]);
      const n = (v) => v.toLocaleString("en-US");
      eq(f, [info.registered, info.ready, `${n(info.registered)} registered (not roots), ${n(info.ready)} ready for finalization (roots)`], "finalization in the overview");
      assert(info.registered > 0, "the fixture registers objects for finalization");
    });

    await test("a Windows full minidump cut short at 60 MB: the partial banner's figures equal the CLI's `--json` coverage of the same file", async () => {
      const dmp = join(fixtures, "windows-net8", "phase1.windump.dmp.zst");
      if (!existsSync(dmp)) return { skip: "no windows-net8 windump in the corpus" };
      const raw = unzst(dmp);
      const cut = join(CACHE, "windows-net8-first-60MB.dmp");
      const want60 = 60 * 1000 * 1000;
      assert(statSync(raw).size > want60 * 1.5, `the fixture is only ${statSync(raw).size} bytes`);
      copyFileSync(raw, cut);
      truncateSync(cut, want60);
      eq(statSync(cut).size, want60, "the cut file's size");
      eq(cli(["stats", "--json", cut]).code, 3, "the CLI's exit code for a partial result");
      const want = cliJson(["stats", "--json", "--allow-partial", cut]);
      const c = want.coverage;
      assert(want.complete === false && c.summary && c.heap_bytes_captured < c.heap_bytes && c.file_bytes === want60 && c.described_bytes > want60, `coverage: ${JSON.stringify(c)}`);
      await home();
      await openFile(cut);
      await assertNoError();
      eq((await overviewNumbers()).objects, want.objects, "objects of the cut dump");
      for (const tab of ["#tab-overview", "#tab-types"]) {
        await page.click(tab);
        const b = await page.$eval(".partial-banner", (e) => ({ ...e.dataset, text: e.textContent }));
        eq([b.partial, Number(b.heapBytes), Number(b.heapCaptured), Number(b.heapSegments), Number(b.heapSegmentsPartial), Number(b.fileBytes), Number(b.describedBytes)],
          ["true", c.heap_bytes, c.heap_bytes_captured, c.heap_segments, c.heap_segments_partial, c.file_bytes, c.described_bytes], `banner figures on ${tab}`);
        assert(b.text.startsWith("Partial dump: ") && b.text.includes(c.summary), `banner on ${tab}: ${b.text} (the CLI: ${c.summary})`);
        // The summary's share, computed here from the figures (rounded down to 0.1 %).
        const share = `${(Math.floor((c.heap_bytes_captured * 1000) / c.heap_bytes) / 10).toFixed(1)} %`;
        assert(b.text.includes(share), `banner on ${tab} lacks ${share}: ${b.text}`);
        if (tab === "#tab-overview") await shot("31-partial-minidump-overview");
      }
      // The findings say they are over a partial heap, with the figures the
      // banner has (the CLI's coverage).
      await page.click("#tab-findings");
      await page.waitForSelector("#finding-detectors, #contents-failed", { timeout: TIMEOUT });
      const fp = await page.$eval("#findings-partial", (e) => ({ ...e.dataset, text: e.textContent }));
      eq([Number(fp.heapBytes), Number(fp.heapCaptured)], [c.heap_bytes, c.heap_bytes_captured], "the findings' partial figures");
      const share = `${(Math.floor((c.heap_bytes_captured * 1000) / c.heap_bytes) / 10).toFixed(1)} %`;
      assert(/^Over a partial heap: /.test(fp.text) && fp.text.includes(share) && fp.text.includes(decimalBytes(c.heap_bytes_captured)) && fp.text.includes(decimalBytes(c.heap_bytes)), `the findings' partial note: ${fp.text}`);
      // Its findings are the CLI's of the cut file.
      const found = cliJson(["findings", "--json", "--allow-partial", cut]).findings;
      if (found.length === 0) await noFindingsSaidOnce();
      else eq(await page.$$eval("#findings .finding", (r) => r.map((x) => x.dataset.pattern)), found.map((f) => f.pattern), "findings of the cut dump");
      await shot("31b-partial-minidump-findings");
      await page.click("#tab-overview");
      await page.waitForSelector("#ov-findings-partial", { timeout: TIMEOUT });
      assert((await page.textContent("#ov-findings-partial")).includes(share), "the overview's findings panel says partial");
      rmSync(cut);
    });

    await test(".gcdump: a type no root reaches is PerfView's [not reachable from roots] in its detail, never garbage (the snapshot's capability)", async () => {
      const stats = cliJson(["stats", "--json", gcA]);
      eq(stats.unreachable_are, "not_reachable_from_roots", "the CLI's unreachable_are");
      const reach = new Map(cliJson(["retained", "--json", "--top", "1000000", gcA]).types.map((t) => [t.id, t.count]));
      const none = stats.types.find((t) => !reach.get(t.id) && !stats.types.some((o) => o !== t && o.name === t.name));
      assert(none, "no type of the sample is wholly unreachable");
      const roots = cliJson(["roots", "--json", "--type", none.name, gcA]);
      eq([roots.count, roots.unreachable], [0, none.count], `roots of ${none.name}`);
      await home();
      await openFile(gcA);
      await assertNoError();
      eq(await page.$eval("#ov-not-reachable", (d) => Number(d.dataset.count)), stats.not_reachable_from_roots.count, "the overview's not reachable from roots");
      await showTypes();
      await page.fill("#type-table-filter", `^${none.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
      await page.waitForTimeout(150);
      await page.click("#type-table .trow >> nth=0");
      await page.waitForSelector("#detail-none-reachable, #root-paths", { timeout: TIMEOUT });
      eq(await page.textContent("#detail-name"), none.name, "the detail's type");
      const text = await page.textContent("#detail-none-reachable");
      eq(await page.$eval("#detail-none-reachable", (e) => e.dataset.unreachableAre), "not_reachable_from_roots", "the wording's kind");
      assert(/\[not reachable from roots\]/.test(text) && !/garbage/i.test(text), `detail: ${text}`);
      assert(!/garbage/i.test(await page.textContent("#detail")), "the detail calls them garbage");
      assert((await page.textContent("#detail-reachable")).startsWith(`0 of ${none.count.toLocaleString("en-US")} objects`), await page.textContent("#detail-reachable"));
      await shot("32-gcdump-detail-not-reachable");
    });

    // Issues 21 and 13: archives that cannot give a dump say why, with the right kind.
    await test("a truncated .zip of a core says it is cut short (kind damaged, the CLI's words) and the page goes on; a zip with no dump is not readable, not damaged, and the advice does not say to unpack", async () => {
      if (!core) return { skip: "no core fixture in the corpus" };
      const raw = unzst(core);
      const dir = join(CACHE, "zip-cut");
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      copyFileSync(raw, join(dir, "core.core"));
      execFileSync("zip", ["-q", "-1", "whole.zip", "core.core"], { cwd: dir });
      const whole = join(dir, "whole.zip");
      const cut = join(dir, "cut.zip");
      copyFileSync(whole, cut);
      truncateSync(cut, Math.floor(statSync(whole).size / 2));
      const c = cli(["stats", "--json", cut]);
      assert(c.code !== 0 && /cut short/.test(c.err), `the CLI on the cut zip: ${c.code} ${c.err}`);
      await home();
      await openFile(cut);
      await page.waitForSelector("#error", { timeout: TIMEOUT });
      const e = await page.$eval("#error", (x) => [x.dataset.kind, x.dataset.code]);
      eq(e, ["damaged", "truncated_archive"], "kind of a cut-short zip");
      const msg = (await page.textContent("#error-message")).trim();
      assert(/cut short/.test(msg) && c.err.includes(msg), `page: ${msg} / CLI: ${c.err}`);
      assert(/cut short/.test(await page.textContent("#error-advice")), "the advice for a cut-short file");
      await shot("33-zip-cut-short");
      // The page goes on: the whole zip opens next to it, with the raw core's numbers.
      const want = cliJson(["stats", "--json", raw]);
      await openFile(whole);
      await page.waitForSelector("#overview", { timeout: TIMEOUT });
      eq(await overviewNumbers(), { objects: want.objects, bytes: want.bytes, types: want.type_count }, "totals of the whole zip after the cut one");
      // A zip holding no dump: not readable, and says what it holds.
      writeFileSync(join(dir, "readme.txt"), "not a dump\n");
      execFileSync("zip", ["-q", "nodump.zip", "readme.txt"], { cwd: dir });
      await home();
      await openFile(join(dir, "nodump.zip"));
      await page.waitForSelector("#error", { timeout: TIMEOUT });
      eq(await page.$eval("#error", (x) => [x.dataset.kind, x.dataset.code]), ["not_readable", "no_dump_in_archive"], "kind of a zip without a dump");
      assert(/holds no dump/.test(await page.textContent("#error-message")) && /readme\.txt/.test(await page.textContent("#error-message")), await page.textContent("#error-message"));
      const advice = await page.textContent("#error-advice");
      assert(!/unpack|first/i.test(advice) && /\.zip/.test(advice), `advice: ${advice}`);
      await shot("34-zip-without-dump");
      rmSync(dir, { recursive: true, force: true });
    });

    // Issue 15: a file dropped on an analysis screen adds a dump.
    await test("drag and drop: a .gcdump dropped (a real DataTransfer drop event) on a dump's type table is added as a second dump; the first stays open", async () => {
      await home();
      await openFile(gcA);
      await assertNoError();
      await showTypes();
      const bytes = readFileSync(gcB).toString("base64");
      const dt = await page.evaluateHandle(({ b64, name }) => {
        const bin = atob(b64);
        const u8 = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
        const t = new DataTransfer();
        t.items.add(new File([u8], name, { type: "application/octet-stream", lastModified: Date.UTC(2024, 0, 2) }));
        return t;
      }, { b64: bytes, name: basename(gcB) });
      await page.dispatchEvent("#type-table", "dragenter", { dataTransfer: dt });
      await page.dispatchEvent("#type-table", "dragover", { dataTransfer: dt });
      await page.waitForSelector(".drop-overlay", { timeout: 5_000 });
      await page.dispatchEvent("#type-table", "drop", { dataTransfer: dt });
      await page.waitForSelector(".drop-overlay", { state: "detached", timeout: 5_000 });
      await page.waitForSelector("#dumpbar li.chip.ready >> nth=1", { timeout: TIMEOUT });
      const chips = await page.$$eval("#dumpbar li.chip .chip-main", (b) => b.map((x) => x.title));
      eq(chips, [basename(gcA), basename(gcB)], "the dumps in the bar");
      // The dropped dump reads as the CLI reads the file.
      await page.click("#dumpbar li.chip >> nth=1 >> .chip-main");
      await page.waitForSelector("#overview", { timeout: TIMEOUT });
      const want = cliJson(["stats", "--json", gcB]);
      eq(await overviewNumbers(), { objects: want.objects, bytes: want.bytes, types: want.type_count }, "totals of the dropped dump");
      assert(await page.$("#compare-button"), "no Compare… with two dumps open");
    });

    await test("largest core fixture opens, and a 4.5 GB file with it opens within the 2 GB worker", async () => {
      if (!largestCore) return { skip: "no core fixture in the corpus" };
      const file = unzst(largestCore);
      if (cli(["stats", "--json", file]).code !== 0) return { skip: `the CLI cannot open ${basename(file)} yet` };
      await home();
      const { ms } = await checkAgainstStats(file, basename(file));
      await page.click("#tab-overview");
      bench.coreLargest = { file: basename(file), size: statSync(file).size, ms, ...(await workerFigures()) };
      // The same core with 4.5 GB of zeros after it (sparse: no disk used):
      // an ELF reader never reads past its segments, and the worker's memory
      // is capped at 4 GiB, so this opens only if nothing holds the file.
      const big = join(CACHE, "padded-4.5G.core");
      copyFileSync(file, big);
      truncateSync(big, 4.5 * 1024 ** 3);
      const want = cliJson(["stats", "--json", big]);
      await home();
      await openFile(big);
      await assertNoError();
      eq((await overviewNumbers()).objects, want.objects, "objects of the 4.5 GB file");
      rmSync(big);
    });
  }

  if (haveCorpus) await test("offline: after one visit the page reloads with the network cut and reads a dump (service worker under /heaplens/); a new version is announced", async () => {
    const gcA = join(SHARED, "samples/gcdump/monogcdumprepro-20231108_150515_31024.gcdump");
    const dir = mkdtempSync(join(tmpdir(), "heaplens-offline-"));
    // A copy of the site, so that a new version can be served on the same origin after.
    const site = join(dir, "site");
    cpSync(DIST, site, { recursive: true });
    let srv = await serve({ dist: site, prefix: PREFIX });
    const port = Number(new URL(srv.url).port);
    appOrigins.push(new URL(srv.url).origin);
    const ctx = await chromium.launchPersistentContext(join(dir, "profile"), {
      executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
      headless: true,
      viewport: { width: 1366, height: 800 },
      args: LAUNCH_ARGS,
      serviceWorkers: "allow",
    });
    ctx.on("request", (r) => browserRequests.push(r.url()));
    try {
      const p = ctx.pages()[0] || (await ctx.newPage());
      p.on("console", (m) => m.type() === "error" && consoleErrors.push(`offline: ${m.text()}`));
      await p.goto(srv.url);
      await p.waitForSelector("#dropzone");
      // The service worker is installed (every file of the app cached) and controls the page.
      await p.evaluate(async () => {
        await navigator.serviceWorker.ready;
        if (!navigator.serviceWorker.controller) await new Promise((ok) => navigator.serviceWorker.addEventListener("controllerchange", ok, { once: true }));
      });
      const reg = await p.evaluate(async () => (await navigator.serviceWorker.getRegistration()).scope);
      eq(new URL(reg).pathname, PREFIX, "the service worker's scope");
      const cached = await p.evaluate(async () => {
        const out = [];
        for (const k of await caches.keys()) for (const r of await (await caches.open(k)).keys()) out.push(new URL(r.url).pathname);
        return out;
      });
      for (const f of readdirSync(site).filter((f) => f !== "sw.js")) assert(cached.includes(PREFIX + f), `${f} is not cached: ${cached}`);
      // The network cut: the page, the engine's worker and its wasm come from the cache.
      await ctx.setOffline(true);
      await p.reload();
      await p.waitForSelector("#dropzone", { timeout: TIMEOUT });
      // The server sends no COOP/COEP (serve() without headers, as GitHub
      // Pages): the service worker
      // makes the page it serves cross-origin isolated (shared memory for
      // Cancel).
      assert(await p.evaluate(() => self.crossOriginIsolated), "the page the service worker serves is not cross-origin isolated");
      const seen = srv.requests.length;
      await p.setInputFiles("#file-input", gcA);
      await p.waitForSelector("#overview, #error", { timeout: TIMEOUT });
      assert(!(await p.$("#error")), `offline read failed: ${await p.$eval("#error", (e) => e.textContent).catch(() => "")}`);
      const want = cliJson(["stats", "--json", gcA]);
      const got = await p.$eval("#overview", (el) => Number(el.dataset.objects));
      eq(got, want.objects, "objects read offline");
      eq(srv.requests.length, seen, "requests the server got while offline");
      await p.screenshot({ path: join(ART, "18-offline.png") });
      // A new version of the site (another sw.js) is found on the next
      // visit, installed beside the running one, and announced.
      await ctx.setOffline(false);
      await srv.close();
      const sw = readFileSync(join(site, "sw.js"), "utf8");
      const next = sw.replace(/const VERSION = "([0-9a-f]+)";/, 'const VERSION = "$1-next";');
      assert(next !== sw, "no version in sw.js");
      writeFileSync(join(site, "sw.js"), next);
      srv = await serve({ dist: site, prefix: PREFIX, port });
      await p.reload();
      await p.waitForSelector("#update-ready", { timeout: 60_000 });
      assert(/next time/.test(await p.textContent("#update-ready")), "update notice");
      await p.waitForFunction(() => /new version/.test(document.querySelector("#announcer").textContent), null, { timeout: 10_000 });
    } finally {
      await ctx.close();
      await srv.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  await test("privacy: every request was one of the app's own static files", async () => {
    const bad = browserRequests.filter((u) => {
      if (u.startsWith("data:") || u.startsWith("blob:")) return false;
      const url = new URL(u);
      // The CSP test's probes: its control page reached the other origin on
      // purpose; the page's and the worker's were blocked before the
      // network (the browser still reports some as requests), and the
      // other origin saw none (checked there and below).
      if (url.host === other.origin && /^\/(control|csp-page|csp-worker)-/.test(url.pathname)) return false;
      if (!appOrigins.includes(url.origin) || !url.pathname.startsWith(PREFIX)) return true;
      const rel = url.pathname.slice(PREFIX.length);
      return !(rel === "" || distFiles.has(rel));
    });
    eq(bad, [], "requests outside the app");
    const serverBad = [...server.requests, ...isolatedRequests].filter((r) => !r.path.startsWith(PREFIX) || !(r.path === PREFIX || distFiles.has(r.path.slice(PREFIX.length))));
    eq(serverBad, [], "requests the server saw outside the app");
    eq(other.seen, [], "requests the other origin saw after the control");
    // The workers' own requests are seen too (so none can hide there).
    for (const f of ["worker.js", "worker_bg.wasm"]) {
      assert(browserRequests.some((u) => u.endsWith(PREFIX + f)), `the recording missed the worker's ${f}`);
    }
    log(`     ${browserRequests.length} requests, all to ${PREFIX} files: ${[...new Set(browserRequests.filter((u) => !u.includes(other.origin)).map((u) => u.replace(/^.*\//, "")))].join(" ")}`);
  });

  await test("engine worker memory grows past 2 GiB", async () => {
    // The engine worker as the page makes one (a blob: URL loading this
    // site's worker.js and worker_bg.wasm); its own wasm memory (linked with
    // --max-memory=4 GiB, build.rs) is grown from JavaScript past 2 GiB, then
    // asked for more than wasm32 has (refused: a RangeError).
    await home();
    const r = await page.evaluate(async () => {
      const base = new URL("./", location.href).href;
      const loader = `importScripts(${JSON.stringify(base + "worker.js")});
        wasm_bindgen({ module_or_path: ${JSON.stringify(base + "worker_bg.wasm")} }).then((w) => {
          const m = w.memory, page = 65536, before = m.buffer.byteLength;
          const out = { before };
          try { m.grow((2 ** 31 + 2 ** 26 - before) / page); out.after = m.buffer.byteLength; } catch (e) { out.growError = String(e); }
          try { m.grow(65536); out.past = m.buffer.byteLength; } catch (e) { out.pastError = e.name; }
          postMessage({ probe: out });
        });`;
      const w = new Worker(URL.createObjectURL(new Blob([loader], { type: "text/javascript" })));
      const out = await new Promise((ok) => (w.onmessage = (e) => { if (e.data && e.data.probe) ok(e.data.probe); }));
      w.terminate();
      return out;
    });
    assert(!r.growError, `the worker's memory did not grow past 2 GiB: ${r.growError}`);
    eq(r.after, 2 ** 31 + 2 ** 26, "worker memory after growing");
    eq(r.pastError, "RangeError", "growing past 4 GiB");
    log(`     worker memory ${(r.before / 2 ** 20).toFixed(0)} MiB -> ${(r.after / 2 ** 20).toFixed(0)} MiB`);
  });

  await test("no console errors or CSP violations", async () => {
    eq(consoleErrors, [], "console errors");
  });

  if (BENCH) await runBench();

  await context.close();
  await server.close();
  await other.close();
}

/**
 * Sends `request` with the file at `path` to a fresh engine worker, made
 * as the page makes one (from a blob: URL), and returns its answer.
 */
async function askEngineWorker(path, request) {
  await page.evaluate(() => {
    const i = document.createElement("input");
    i.type = "file";
    i.id = "bench-input";
    i.style.display = "none";
    document.body.append(i);
  });
  await page.setInputFiles("#bench-input", path);
  return page.evaluate(async (request) => {
    const file = document.querySelector("#bench-input").files[0];
    const base = new URL("./", location.href).href;
    const loader = `importScripts(${JSON.stringify(base + "worker.js")}); wasm_bindgen({ module_or_path: ${JSON.stringify(base + "worker_bg.wasm")} });`;
    const w = new Worker(URL.createObjectURL(new Blob([loader], { type: "text/javascript" })));
    const msg = () => new Promise((ok) => (w.onmessage = (e) => ok(e.data)));
    await msg(); // hello
    const done = msg();
    w.postMessage({ request, file });
    const r = await done;
    w.terminate();
    document.querySelector("#bench-input").remove();
    return r;
  }, request);
}

/** Raw File API rate in the worker vs the engine's reads; written to test-artifacts/e2e/bench.json. */
async function runBench() {
  await test("benchmark: raw File API rate in a worker", async () => {
    const big = join(CACHE, "bench-1G.bin");
    if (!existsSync(big) || statSync(big).size !== 1 << 30) {
      // Real bytes (not a sparse file), so the rate is that of reading data.
      execFileSync("sh", ["-c", `head -c ${1 << 30} /dev/urandom > '${big}'`]);
    }
    execFileSync("sh", ["-c", `cat '${big}' > /dev/null`]); // page cache warm, like a just-saved dump
    await home();
    const runs = [];
    for (const chunk of [1 << 20, 4 << 20, 8 << 20, 16 << 20, 32 << 20]) {
      const r = await askEngineWorker(big, { type: "bench_read", chunk });
      runs.push({ chunk, mbps: r.bytes / 1e6 / (r.ms / 1000), ms: r.ms });
    }
    bench.rawFileApi = runs;
    log(`     raw File API: ${runs.map((r) => `${r.chunk >> 20} MiB slices ${r.mbps.toFixed(0)} MB/s`).join(", ")}`);
  });
  // A big core (e.g. scripts/make-fixtures' 5-million-object heap), given
  // as HEAPLENS_BENCH_CORE=path (.core or .core.zst): time to the table in
  // the page, the worker's own figures, against `heaplens stats --json`.
  if (process.env.HEAPLENS_BENCH_CORE) {
    await test("benchmark: a big core in the page", async () => {
      const given = process.env.HEAPLENS_BENCH_CORE;
      const file = given.endsWith(".zst") ? unzst(given) : given;
      execFileSync("sh", ["-c", `cat '${file}' > /dev/null`]); // page cache warm
      const t0 = Date.now();
      cli(["stats", "--json", file]);
      const cliMs = Date.now() - t0;
      // The engine's progress reports (phase, time, the worker's wasm
      // memory), seen beside the page's own handler.
      await page.addInitScript(() => {
        const W = self.Worker;
        self.__engineReports = [];
        self.Worker = class extends W {
          constructor(...a) {
            super(...a);
            this.addEventListener("message", (e) => {
              const d = e.data;
              if (d && d.type === "progress") self.__engineReports.push({ op: d.op, phase: d.progress.phase, ms: d.progress.elapsed_ms, memory: d.progress.memory });
              if (d && d.type === "retained") self.__engineReports.push({ op: d.op, phase: "done", ms: d.ms });
            });
          }
        };
      });
      await home();
      const { ms } = await checkAgainstStats(file, basename(file));
      await shot("bench-big-core-types");
      await page.click("#tab-overview");
      const objects = (await overviewNumbers()).objects;
      await shot("bench-big-core-overview");
      const opened = await workerFigures();
      // The open's phases: each one's last report (its time and the
      // worker's wasm memory then: where the open's memory grew).
      const openPhases = [];
      for (const r of await page.evaluate(() => self.__engineReports)) {
        const last = openPhases[openPhases.length - 1];
        if (last && last.phase === r.phase) Object.assign(last, { ms: r.ms, memory: r.memory });
        else openPhases.push({ phase: r.phase, ms: r.ms, memory: r.memory });
      }
      bench.bigCore = { file: basename(file), size: statSync(file).size, objects, ms, cliMs, ...opened, openPhases };
      log(`     big core: ${objects} objects, ${ms} ms to the table (CLI ${cliMs} ms)`);
      // The whole analysis (root paths, dominators, retained sizes, both
      // flame graphs), which the page starts after the open: its time per
      // phase and the worker's memory at its end (wasm memory only grows,
      // so that is its peak), or the page's refusal.
      await page.waitForSelector("#retained-ready, #retained-failed", { timeout: 30 * 60_000 });
      const failed = await page.$("#retained-failed");
      const reports = await page.evaluate(() => self.__engineReports);
      const analysis = reports.filter((r) => r.op !== undefined && reports.some((d) => d.phase === "done" && d.op === r.op));
      const phases = [];
      for (const r of analysis.filter((r) => r.phase !== "done")) {
        const last = phases[phases.length - 1];
        if (last && last.phase === r.phase) {
          last.toMs = r.ms;
          last.memory = Math.max(last.memory, r.memory);
        } else phases.push({ phase: r.phase, fromMs: last ? last.toMs : 0, toMs: r.ms, memory: r.memory });
      }
      const done = analysis.find((r) => r.phase === "done");
      bench.bigCoreAnalysis = failed
        ? { refused: await failed.textContent() }
        : { ms: done && done.ms, phases, wasmMemory: Math.max(opened.wasmMemory, ...phases.map((p) => p.memory)) };
      log(`     big core analysis: ${JSON.stringify(bench.bigCoreAnalysis)}`);
    });

    // Issue 14: the same core walked by the engine worker itself (N = 1)
    // and by N walker workers, in alternating order, each open in a fresh
    // page: time to the type table, the plan's read and the walkers' walk.
    await test("benchmark: a big core walked by 1 vs N walker workers (alternating)", async () => {
      const given = process.env.HEAPLENS_BENCH_CORE;
      const file = given.endsWith(".zst") ? unzst(given) : given;
      const ns = (process.env.HEAPLENS_BENCH_WALKERS || "1,2").split(",").map(Number);
      const rounds = Number(process.env.HEAPLENS_BENCH_ROUNDS || 3);
      const want = cliJson(["stats", "--json", file]);
      const runs = [];
      for (let round = 0; round < rounds; round++) {
        for (const n of round % 2 ? [...ns].reverse() : ns) {
          execFileSync("sh", ["-c", `cat '${file}' > /dev/null`]); // page cache warm
          await home(`?e2e-walkers=${n}`);
          const ms = await openFile(file);
          await assertNoError();
          eq((await overviewNumbers()).objects, want.objects, `objects walked by ${n}`);
          const f = await workerFigures();
          const w = await page.$eval("#ov-open-ms", (e) => ({ walkers: Number(e.dataset.walkers), planMs: Number(e.dataset.planMs), walkMs: Number(e.dataset.walkMs) }));
          const load = readFileSync("/proc/loadavg", "utf8").split(" ")[0];
          runs.push({ n, round, ms, workerOpenMs: f.workerOpenMs, wasmMemory: f.wasmMemory, bytesRead: f.bytesRead, ...w, load: Number(load) });
          log(`     walked by ${n}: ${ms} ms to the table (worker ${f.workerOpenMs.toFixed(0)} ms; plan ${w.planMs.toFixed(0)} ms, walk ${w.walkMs.toFixed(0)} ms; ${w.walkers} walkers; ${(f.wasmMemory / 2 ** 20).toFixed(0)} MiB; load ${load})`);
        }
      }
      bench.walkers = { file: basename(file), size: statSync(file).size, objects: want.objects, runs };
    });
  }
  // The same core as a .zst whose graph does not fit (a 10 kB cap): time
  // to the statistics-only table, the archive unpacked once.
  if (process.env.HEAPLENS_BENCH_CORE && process.env.HEAPLENS_BENCH_CORE.endsWith(".zst")) {
    await test("benchmark: a big core's .zst, statistics only", async () => {
      bench.bigCoreZstStatisticsOnly = await statisticsOnlyOfArchive(process.env.HEAPLENS_BENCH_CORE);
      log(`     big core .zst, statistics only: ${JSON.stringify(bench.bigCoreZstStatisticsOnly)}`);
    });
  }
  // The same core's compute alone in an engine worker: read whole into
  // memory first, then opened and analysed, File API reads and documents
  // excluded — to compare with the native `analysis_memory` benchmark
  // (HEAPLENS_BENCH_IN_MEMORY=1), one thread each (BENCHMARKS.md).
  if (process.env.HEAPLENS_BENCH_CORE) {
    await test("benchmark: compute in a worker", async () => {
      const given = process.env.HEAPLENS_BENCH_CORE;
      const file = given.endsWith(".zst") ? unzst(given) : given;
      await home();
      const r = await askEngineWorker(file, { type: "bench_compute" });
      if (r.type !== "bench_compute") throw new Error(`compute benchmark: ${JSON.stringify(r)}`);
      bench.compute = { file: basename(file), nodes: r.nodes, openMs: r.open_ms, analyseMs: r.analyse_ms };
      log(`     compute in a worker: ${JSON.stringify(bench.compute)}`);
    });
  }
  const sizes = {};
  for (const f of readdirSync(DIST)) if (/\.(wasm|js)$/.test(f)) sizes[f] = statSync(join(DIST, f)).size;
  bench.dist = sizes;
  writeFileSync(join(ART, "bench.json"), JSON.stringify(bench, null, 2));
  log(`     bench: ${JSON.stringify(bench)}`);
}

try {
  await main();
} catch (e) {
  results.push({ name: "setup", status: "fail" });
  log(`FAIL setup: ${e && e.stack ? e.stack : e}`);
  try { await context?.close(); } catch {}
  try { await server?.close(); } catch {}
  try { await other?.close(); } catch {}
}
// Each run made a browser profile of about 70 MB in the temporary directory.
if (profile) rmSync(profile, { recursive: true, force: true });
const n = (s) => results.filter((r) => r.status === s).length;
log(`screenshots: ${ART}`);
log(`${n("pass")} passed, ${n("fail")} failed, ${n("skip")} skipped`);
process.exit(n("fail") ? 1 : 0);
