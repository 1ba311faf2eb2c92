// End-to-end tests of the heaplens web app in headless Chromium.
//
// Serves the built app (dist/, built with --public-url /heaplens/) under
// /heaplens/ as GitHub Pages will, opens real dumps through the page's file
// inputs, and checks what the page shows against the native CLI
// (`heaplens stats --json`, `heaplens diff --json`) on the same files.
// Records every request the browser makes (page and worker) and fails on
// any but the app's own static files. Saves a screenshot of every screen in
// test-artifacts/e2e/.
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
//
// The last line is "N passed, N failed, N skipped".
import { chromium } from "playwright-core";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync, statSync, copyFileSync, truncateSync, readFileSync, rmSync, symlinkSync, utimesSync } from "node:fs";
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

mkdirSync(ART, { recursive: true });
mkdirSync(CACHE, { recursive: true });

const results = [];
const bench = {};
let page, context, server;
const consoleErrors = [];
const browserRequests = [];

function log(...a) {
  console.log(...a);
}

async function test(name, fn) {
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

function cliHas(sub) {
  return cli([sub, "--help"]).code === 0;
}

/** Decompresses a corpus .zst into the cache (once). */
function unzst(path) {
  const out = join(CACHE, basename(dirname(path)) + "-" + basename(path).replace(/\.zst$/, ""));
  if (!existsSync(out) || statSync(out).mtimeMs < statSync(path).mtimeMs) {
    execFileSync("zstd", ["-q", "-d", "--long=27", "-f", "-o", out, path]);
  }
  return out;
}

async function shot(name) {
  await page.waitForTimeout(150); // let transitions settle
  await page.screenshot({ path: join(ART, `${name}.png`) });
}

async function home() {
  await page.goto(server.url);
  await page.waitForSelector("#dropzone", { timeout: TIMEOUT });
}

/** Opens a file (or files chosen together) through the single-dump input; resolves when the overview or an error shows. */
async function openFile(path, input = "#file-input") {
  await page.setInputFiles(input, []);
  const t0 = Date.now();
  await page.setInputFiles(input, path);
  await page.waitForSelector("#overview, #error, #growth, .zone-done", { timeout: TIMEOUT });
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

/**
 * Opens `file` (with `modules`, module files chosen together with it) and
 * checks totals and top rows against `heaplens stats --json` (given
 * `cliArgs`, e.g. `--modules DIR` holding the same module files).
 */
/** The overview's GC mode is the one `heaplens stats --json` reports. */
async function checkGcMode(file) {
  const clr = cliJson(["stats", "--json", file]).clr;
  const heaps = clr.heap_count === 1 ? "1 heap" : `${clr.heap_count} heaps`;
  eq((await page.textContent("#ov-gc")).trim(), `${clr.gc_mode} GC, ${clr.heap_layout}, ${heaps}`, "GC mode");
}

async function checkAgainstStats(file, label, { modules = [], cliArgs = [] } = {}) {
  const expected = cliJson(["stats", "--json", ...cliArgs, file]);
  const ms = await openFile(modules.length ? [file, ...modules] : file);
  const err = await page.$("#error");
  if (err) throw new Error(`the page shows an error: ${await page.textContent("#error-message")}`);
  const ov = await overviewNumbers();
  eq(ov, { objects: expected.objects, bytes: expected.bytes, types: expected.type_count }, `${label} totals`);
  await page.click("#tab-types");
  await page.waitForSelector("#type-table .trow");
  const rows = (await tableRows("#type-table")).slice(0, 20);
  const want = expected.types.slice(0, rows.length).map((t) => ({ name: t.name, count: t.count, bytes: t.bytes }));
  eq(rows.map((r) => ({ name: r.name, count: Number(r.count), bytes: Number(r.bytes) })), want, `${label} top rows`);
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

/** Rows of `heaplens diff --json`, whatever the field names. */
function growthFromDiffJson(j) {
  return sortGrowth(j.types.map((t) => ({ name: t.name, dc: t.count_delta, db: t.bytes_delta })));
}

async function main() {
  if (!existsSync(join(DIST, "index.html"))) throw new Error(`no built app at ${DIST} (run trunk build --release)`);
  if (!existsSync(CLI)) throw new Error(`no CLI at ${CLI} (cargo build --release -p heaplens-cli)`);
  const haveCorpus = existsSync(join(SHARED, "samples/gcdump"));
  if (!haveCorpus && REQUIRE_CORPUS) throw new Error(`the corpus is missing at ${SHARED}`);
  const distFiles = new Set(readdirSync(DIST));

  server = await serve({ dist: DIST, prefix: PREFIX });
  const origin = new URL(server.url).origin;
  context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "heaplens-e2e-")), {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1366, height: 800 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
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

  await test("landing page under /heaplens/ says which files it takes", async () => {
    await home();
    const accepts = await page.textContent("#accepts");
    assert(/\.gcdump/.test(accepts) && /core dump/i.test(accepts), `accepts: ${accepts}`);
    // Kudu's download as it comes, and compressed dumps; no DAC or SOS.
    assert(/\.zip/.test(accepts) && /\.gz/.test(accepts) && /\.zst/.test(accepts) && /sos\.dll/.test(accepts) && /mscordaccore\.dll/.test(accepts) && /mscordacwks\.dll/.test(accepts) && /not needed/.test(accepts), `accepts: ${accepts}`);
    const csp = await page.$eval('meta[http-equiv="Content-Security-Policy"]', (m) => m.content);
    assert(/connect-src 'self'/.test(csp) && /default-src 'none'/.test(csp) && !/unsafe-inline'[^;]*script/.test(csp), `CSP: ${csp}`);
    assert(!csp.includes("HEAPLENS_INLINE_SCRIPT_HASHES"), "the CSP hash hook did not run");
    const hint = await page.textContent("#modules-hint");
    assert(/module!token/.test(hint) && /DLLs/.test(hint) && /shared\/Microsoft\.NETCore\.App\/<version>\//.test(hint), `modules hint: ${hint}`);
    for (const i of ["#file-input", "#baseline-input", "#current-input"]) {
      assert(await page.$eval(i, (e) => e.multiple), `${i} does not take several files`);
    }
    await shot("01-landing");
  });

  if (!haveCorpus) {
    results.push({ name: "corpus tests", status: "skip" });
    log(`SKIP corpus tests: no corpus at ${SHARED}`);
  } else {
    await test("progress bar with cancel, then back to the landing page", async () => {
      // ?e2e-slow-progress makes the worker pause at each progress report,
      // so the read of a 2.9 MB dump can be seen and cancelled.
      await page.goto(server.url + "?e2e-slow-progress=1500");
      await page.waitForSelector("#dropzone");
      await page.setInputFiles("#file-input", gcBig);
      await page.waitForSelector("#progress", { timeout: TIMEOUT });
      await page.waitForFunction(() => /[1-9][\d,]* of [\d,]+ objects/.test(document.querySelector("#progress-objects")?.textContent || ""), null, { timeout: 30_000 });
      const text = await page.textContent("#progress");
      assert(/read/.test(text) && /left/.test(text), `progress text: ${text}`);
      await shot("02-progress");
      await page.click("#cancel", { timeout: 5_000 });
      await page.waitForSelector("#notice", { timeout: TIMEOUT });
      assert(/Stopped reading/.test(await page.textContent("#notice")), "no cancel notice");
    });

    await test(".gcdump: totals and top rows equal `heaplens stats --json`", async () => {
      await home();
      await checkAgainstStats(gcA, basename(gcA));
      await page.click("#tab-overview");
      await page.waitForSelector("#overview");
      await shot("03-overview");
      await page.click("#tab-types");
      await page.waitForSelector("#retained-pending", { state: "detached", timeout: TIMEOUT });
      await shot("04-types");
    });

    await test("type table: sort, filter, virtualised rows", async () => {
      const total = await page.$$eval("#type-table .trow", (r) => r.length);
      const count = Number((await page.textContent("#type-count")).match(/of ([\d,]+)/)[1].replace(/,/g, ""));
      assert(count > 1000 && total < 80, `${total} DOM rows for ${count} types: not virtualised`);
      await page.click("#sort-count");
      let rows = await tableRows("#type-table");
      assert(Number(rows[0].count) >= Number(rows[1].count), "not sorted by count");
      await page.fill("#type-filter", "string");
      rows = await tableRows("#type-table");
      assert(rows.length > 0 && rows.every((r) => r.name.toLowerCase().includes("string")), "filter");
      await page.fill("#type-filter", "");
      await page.click("#sort-bytes");
      // Scroll to the end: the last rows render.
      await page.$eval("#type-table .tbody", (el) => { el.scrollTop = el.scrollHeight; });
      await page.waitForTimeout(200);
      rows = await tableRows("#type-table");
      assert(rows.length < 80, "rows after scrolling");
    });

    await test("type detail: root paths, referred-from tree, retained size", async () => {
      await page.$eval("#type-table .tbody", (el) => { el.scrollTop = 0; });
      await page.waitForTimeout(100);
      const first = (await tableRows("#type-table"))[0];
      await page.click(`#type-table .trow >> nth=0`);
      await page.waitForSelector("#referred-from .refnode", { timeout: TIMEOUT });
      eq(await page.textContent("#detail-name"), first.name, "detail name");
      assert(await page.$("#root-paths .path"), "no root path");
      const retained = await page.textContent("#detail-retained .value");
      assert(/B/.test(retained) && !/computed/.test(retained), `retained: ${retained}`);
      // Open the first referrer.
      const twisty = await page.$("#referred-from .refnode .refnode .twisty:not([disabled])");
      if (twisty) await twisty.click();
      await shot("05-detail");
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

    await test("diff: top growth rows equal `heaplens diff --json` (or the CLI's stats)", async () => {
      await home();
      await openFile(gcA, "#baseline-input");
      await page.waitForSelector("#baseline-zone .zone-done");
      await shot("06-compare-baseline-loaded");
      await page.setInputFiles("#current-input", gcB);
      await page.waitForSelector("#growth, #error", { timeout: TIMEOUT });
      assert(!(await page.$("#error")), "error on diff");
      const rows = (await tableRows("#diff-table")).slice(0, 15).map((r) => ({ name: r.name, dc: Number(r.countDelta), db: Number(r.bytesDelta) }));
      const [statsA, statsB] = [cliJson(["stats", "--json", gcA]), cliJson(["stats", "--json", gcB])];
      const fromStats = growthFromStats(statsA, statsB).slice(0, rows.length);
      eq(rows, fromStats, "growth rows vs two `stats --json`");
      // A row is marked new when the baseline has no such type, vanished
      // when the current heap has none.
      const [inA, inB] = [new Set(statsA.types.map((t) => t.name)), new Set(statsB.types.map((t) => t.name))];
      const marks = await page.$$eval("#diff-table .trow", (r) => r.map((x) => ({ name: x.dataset.name, change: x.dataset.change })));
      assert(marks.length > 0, "no diff rows");
      eq(
        marks.map((m) => m.change),
        marks.map((m) => (!inA.has(m.name) ? "new" : !inB.has(m.name) ? "vanished" : "both")),
        "new/vanished marks vs the CLI's stats",
      );
      await shot("07-diff");
      const fromDiff = growthFromDiffJson(cliJson(["diff", "--json", gcA, gcB])).slice(0, rows.length);
      eq(rows, fromDiff, "growth rows vs `heaplens diff --json`");
    });

    await test("two dumps (and a DLL) chosen together are compared, the older as baseline", async () => {
      // Copies whose names sort the other way round from their times: the
      // page takes the older file as the baseline. The DLL goes to both
      // opens and is never read (a .gcdump names its own types).
      const older = join(CACHE, "2-older.gcdump"), newer = join(CACHE, "1-newer.gcdump");
      copyFileSync(gcA, older);
      copyFileSync(gcB, newer);
      utimesSync(older, new Date("2024-01-01T00:00:00Z"), new Date("2024-01-01T00:00:00Z"));
      utimesSync(newer, new Date("2024-01-02T00:00:00Z"), new Date("2024-01-02T00:00:00Z"));
      const dll = join(CACHE, "Unused.dll");
      writeFileSync(dll, Buffer.from("MZ not really a module"));
      await home();
      await page.setInputFiles("#file-input", [newer, dll, older]);
      await page.waitForSelector("#growth, #error", { timeout: TIMEOUT });
      await assertNoError();
      const rows = (await tableRows("#diff-table")).slice(0, 15).map((r) => ({ name: r.name, dc: Number(r.countDelta), db: Number(r.bytesDelta) }));
      eq(rows, growthFromStats(cliJson(["stats", "--json", gcA]), cliJson(["stats", "--json", gcB])).slice(0, rows.length), "growth rows");
    });

    await test("diff: new and vanished types are marked", async () => {
      await page.fill("#diff-filter", "");
      const all = await page.$$eval("#diff-table .badge", (b) => b.map((x) => x.textContent));
      // The filter narrows the table.
      await page.fill("#diff-filter", "concurrent");
      const rows = await tableRows("#diff-table");
      assert(rows.every((r) => r.name.toLowerCase().includes("concurrent")), "diff filter");
      await page.fill("#diff-filter", "");
      await page.click("#tab-baseline");
      await page.waitForSelector("#overview-baseline");
      await page.click("#tab-growth");
      log(`     badges in view: ${[...new Set(all)].join(", ") || "none"}`);
    });

    await test("a damaged .gcdump shows the engine's error", async () => {
      const bad = join(CACHE, "truncated.gcdump");
      writeFileSync(bad, readFileSync(gcA).subarray(0, 200_000));
      await home();
      await openFile(bad);
      const msg = await page.textContent("#error-message");
      const c = cli(["stats", "--json", bad]);
      assert(c.code !== 0, "the CLI accepted the damaged file");
      assert(msg.length > 10 && c.err.includes(msg.trim()), `page: ${msg} / CLI: ${c.err}`);
      await shot("08-error");
    });

    await test("a file that is no dump says so", async () => {
      const bad = join(CACHE, "not-a-dump.bin");
      writeFileSync(bad, Buffer.from("JUNK this is not a memory dump"));
      await home();
      await openFile(bad);
      const msg = await page.textContent("#error-message");
      assert(/unrecognised/.test(msg) && /4a 55 4e 4b/.test(msg), msg);
      await page.click("#error-back");
      await page.waitForSelector("#dropzone");
    });

    // Core dumps: compared with the CLI as soon as it can open them.
    const fixtures = join(SHARED, "fixtures");
    const cores = existsSync(fixtures)
      ? readdirSync(fixtures).flatMap((d) => {
          const dir = join(fixtures, d);
          if (!statSync(dir).isDirectory()) return [];
          return readdirSync(dir).filter((f) => /\.core\.zst$/.test(f)).map((f) => join(dir, f));
        })
      : [];
    const core = cores.find((c) => c.includes("linux-net8/phase1")) || cores[0];
    const largestCore = cores.sort((a, b) => statSync(b).size - statSync(a).size)[0];
    await test("core dump fixture: totals and top rows equal `heaplens stats --json`", async () => {
      if (!core) return { skip: "no core fixture in the corpus" };
      const file = unzst(core);
      const c = cli(["stats", "--json", file]);
      if (c.code !== 0) return { skip: `the CLI cannot open ${basename(file)} yet: ${c.err.trim().split("\n").pop()}` };
      await home();
      const { ms } = await checkAgainstStats(file, basename(file));
      await page.click("#tab-overview");
      await checkGcMode(file);
      await shot("09-core-overview");
      bench.core = { file: basename(file), size: statSync(file).size, ms };
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
      await shot("10-core-with-modules");
      await page.click("#tab-types");
      await page.waitForSelector("#type-table .trow");
      await shot("11-core-with-modules-types");
    });

    await test("Windows minidump fixture: totals, top rows and GC mode equal `heaplens stats --json`", async () => {
      const dmp = join(fixtures, "windows-net8", "phase1.windump.dmp.zst");
      if (!existsSync(dmp)) return { skip: "no windows-net8 windump in the corpus" };
      const file = unzst(dmp);
      await home();
      const { ms } = await checkAgainstStats(file, basename(file));
      await page.click("#tab-overview");
      await checkGcMode(file);
      await shot("12-minidump-overview");
      bench.minidump = { file: basename(file), size: statSync(file).size, ms, ...(await workerFigures()) };
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
      await page.goto(server.url + "?e2e-slow-progress=100");
      await page.waitForSelector("#dropzone");
      await page.setInputFiles("#file-input", zip);
      await page.waitForFunction(() => /unpacking into this browser's private storage[^]*MB written, [\d.]+ MB free[^]*compressed/.test(document.querySelector("#progress-objects")?.textContent || ""), null, { timeout: TIMEOUT });
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
      await shot("14-kudu-zip-overview");
      await page.click("#tab-types");
      await page.waitForSelector("#type-table .trow");
      const rows = (await tableRows("#type-table")).slice(0, 20);
      eq(rows.map((r) => ({ name: r.name, count: Number(r.count), bytes: Number(r.bytes) })),
        want.types.slice(0, rows.length).map((t) => ({ name: t.name, count: t.count, bytes: t.bytes })), "top rows of the zipped dump");
      await page.click("#tab-overview");
      const figures = await workerFigures();
      assert(figures.wasmMemory <= 2 ** 31, `worker memory ${figures.wasmMemory}`);
      // The unpacked dump is deleted from the browser's storage once the
      // worker is done with it (its space is freed before the answer), and
      // so is the one the cancelled worker left.
      const scratchFiles = () => page.evaluate(async () => {
        const dir = await navigator.storage.getDirectory();
        const files = [];
        for await (const name of dir.keys()) if (name.startsWith("heaplens-scratch-")) files.push(name);
        return files;
      });
      let files = await scratchFiles();
      for (let i = 0; i < 200 && files.length; i++) {
        await page.waitForTimeout(200);
        files = await scratchFiles();
      }
      eq(files, [], "scratch files left in the browser's storage");
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
      // is capped at 2 GiB, so this opens only if nothing holds the file.
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

  await test("privacy: every request was one of the app's own static files", async () => {
    const bad = browserRequests.filter((u) => {
      if (u.startsWith("data:") || u.startsWith("blob:")) return false;
      const url = new URL(u);
      if (url.origin !== origin || !url.pathname.startsWith(PREFIX)) return true;
      const rel = url.pathname.slice(PREFIX.length);
      return !(rel === "" || distFiles.has(rel));
    });
    eq(bad, [], "requests outside the app");
    const serverBad = server.requests.filter((r) => !r.path.startsWith(PREFIX) || !(r.path === PREFIX || distFiles.has(r.path.slice(PREFIX.length))));
    eq(serverBad, [], "requests the server saw outside the app");
    // The worker's own requests are seen too (so none can hide there).
    for (const f of ["worker_loader.js", "worker.js", "worker_bg.wasm"]) {
      assert(browserRequests.some((u) => u.endsWith(PREFIX + f)), `the recording missed the worker's ${f}`);
    }
    log(`     ${browserRequests.length} requests, all to ${PREFIX} files: ${[...new Set(browserRequests.map((u) => u.replace(/^.*\//, "")))].join(" ")}`);
  });

  await test("no console errors or CSP violations", async () => {
    eq(consoleErrors, [], "console errors");
  });

  if (BENCH) await runBench();

  await context.close();
  await server.close();
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
    for (const chunk of [1 << 20, 16 << 20]) {
      await page.evaluate(() => {
        const i = document.createElement("input");
        i.type = "file";
        i.id = "bench-input";
        i.style.display = "none";
        document.body.append(i);
      });
      await page.setInputFiles("#bench-input", big);
      const r = await page.evaluate(async (chunk) => {
        const file = document.querySelector("#bench-input").files[0];
        const w = new Worker("./worker_loader.js");
        const msg = () => new Promise((ok) => (w.onmessage = (e) => ok(JSON.parse(e.data))));
        await msg(); // ready
        const done = msg();
        w.postMessage({ req: JSON.stringify({ type: "bench_read", chunk }), file });
        const r = await done;
        w.terminate();
        document.querySelector("#bench-input").remove();
        return r;
      }, chunk);
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
      await home();
      const { ms } = await checkAgainstStats(file, basename(file));
      await page.click("#tab-overview");
      const objects = (await overviewNumbers()).objects;
      bench.bigCore = { file: basename(file), size: statSync(file).size, objects, ms, cliMs, ...(await workerFigures()) };
      log(`     big core: ${objects} objects, ${ms} ms to the table (CLI ${cliMs} ms)`);
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
}
const n = (s) => results.filter((r) => r.status === s).length;
log(`screenshots: ${ART}`);
log(`${n("pass")} passed, ${n("fail")} failed, ${n("skip")} skipped`);
process.exit(n("fail") ? 1 : 0);
