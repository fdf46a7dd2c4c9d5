// Shared by the end-to-end test and the benchmark: start the real backend, start Debian's
// Chromium through playwright-core (never a downloaded browser), make test files.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';

export const FRONTEND = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO = resolve(FRONTEND, '..');
export const RESULTS_DIR = join(FRONTEND, 'test-results');

export const PHOTO =
  process.env.AIDETECT_E2E_PHOTO ?? join(REPO, '.venv/lib/python3.11/site-packages/sklearn/datasets/images/china.jpg');

const CHROMIUM = process.env.AIDETECT_E2E_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitReady(baseUrl, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`backend exited with code ${child.exitCode} before it was ready`);
    try {
      const r = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2000) });
      if (r.status === 200) return;
      last = `HTTP ${r.status}`;
    } catch (err) {
      last = String(err?.cause?.code ?? err);
    }
    await sleep(300);
  }
  throw new Error(`backend not ready at ${baseUrl}/readyz after ${timeoutMs / 1000} s (last: ${last})`);
}

/**
 * The backend under test. AIDETECT_E2E_BASE_URL: use one already running. Otherwise spawn
 * AIDETECT_E2E_SERVER_CMD (a shell command; "{port}" is replaced, $PORT is set) or the
 * repository's `python -m tests.support.e2e_server --port P`, then poll /readyz (90 s).
 */
export async function startBackend({ timeoutMs = 90_000 } = {}) {
  if (process.env.AIDETECT_E2E_BASE_URL) {
    const baseUrl = process.env.AIDETECT_E2E_BASE_URL.replace(/\/+$/, '');
    await waitReady(baseUrl, null, timeoutMs);
    return { baseUrl, stop: async () => {} };
  }
  const port = await freePort();
  const custom = process.env.AIDETECT_E2E_SERVER_CMD;
  const python = join(REPO, '.venv/bin/python');
  if (!custom && !existsSync(python)) throw new Error(`no Python at ${python}; set AIDETECT_E2E_SERVER_CMD`);
  const child = custom
    ? spawn(custom.replaceAll('{port}', String(port)), {
        shell: true,
        cwd: REPO,
        detached: true,
        env: { ...process.env, PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawn(python, ['-m', 'tests.support.e2e_server', '--port', String(port)], {
        cwd: REPO,
        detached: true,
        env: process.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
  let baseUrl = `http://127.0.0.1:${port}`;
  let log = '';
  const onData = (chunk) => {
    const text = chunk.toString();
    log = (log + text).slice(-8000);
    const m = /READY (http\S+)/.exec(text);
    if (m) baseUrl = m[1].replace(/\/+$/, '');
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    try {
      process.kill(-child.pid, 'SIGTERM'); // the whole group: a shell wrapper and its server
    } catch {
      return;
    }
    const done = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
    if (!done) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  };

  try {
    await waitReady(baseUrl, child, timeoutMs);
  } catch (err) {
    await stop();
    throw new Error(`${err.message}\n--- backend output ---\n${log}`, { cause: err });
  }
  return { baseUrl, stop, log: () => log };
}

export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (or set AIDETECT_E2E_CHROMIUM)`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

// --- files made for the tests --------------------------------------------------------------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** A tiny PNG encoder: width x height RGB pixels from pixel(x, y) -> [r, g, b] (0..255). */
export function rgbPng(width, height, pixel) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  const clamp = (v) => Math.max(0, Math.min(255, Math.round(v)));
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(x, y);
      const i = row + 1 + x * 3;
      raw[i] = clamp(r);
      raw[i + 1] = clamp(g);
      raw[i + 2] = clamp(b);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A seeded generator of integers in -128..127. */
function seeded(seed) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24) - 128;
}

/** An RGB gradient with seeded noise, width x height. */
export function noisyPng(width, height, seed = 1) {
  const rand = seeded(seed);
  return rgbPng(width, height, (x, y) => [
    (x / width) * 255 + (rand() >> 3),
    (y / height) * 255 + (rand() >> 3),
    128 + (rand() >> 2),
  ]);
}

/** The JPEG with an EXIF segment whose Software tag is `software` (put right after SOI). */
export function withExifSoftware(jpeg, software) {
  const text = Buffer.from(`${software}\0`, 'latin1');
  const tiff = Buffer.alloc(8 + 2 + 12 + 4);
  tiff.write('II*\0', 0, 'latin1');
  tiff.writeUInt32LE(8, 4); // first IFD
  tiff.writeUInt16LE(1, 8); // one entry
  tiff.writeUInt16LE(0x0131, 10); // Software
  tiff.writeUInt16LE(2, 12); // ASCII
  tiff.writeUInt32LE(text.length, 14);
  tiff.writeUInt32LE(tiff.length, 18); // the string follows the IFD
  tiff.writeUInt32LE(0, 22); // no next IFD
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff, text]);
  const app1 = Buffer.alloc(4);
  app1.writeUInt16BE(0xffe1, 0);
  app1.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), app1, body, jpeg.subarray(2)]);
}

/** photo.jpg (the real photo), pattern.png (made here), not-a-photo.jpg (text, renamed). */
export function makeTestFiles() {
  if (!existsSync(PHOTO)) throw new Error(`test photo ${PHOTO} is missing; set AIDETECT_E2E_PHOTO`);
  const dir = mkdtempSync(join(tmpdir(), 'aidetect-e2e-files-'));
  const files = {
    dir,
    photo: join(dir, 'photo.jpg'),
    png: join(dir, 'pattern.png'),
    notImage: join(dir, 'not-a-photo.jpg'),
    longName: join(dir, 'holiday-in-the-mountains-of-china-2024-original.jpg'),
    flat: join(dir, 'flat-blue.png'),
    midjourney: join(dir, 'camera-photo-midjourney-exif.jpg'),
  };
  copyFileSync(PHOTO, files.photo);
  copyFileSync(PHOTO, files.longName);
  writeFileSync(files.midjourney, withExifSoftware(readFileSync(PHOTO), 'Midjourney v6'));
  writeFileSync(files.png, noisyPng(320, 240));
  writeFileSync(files.flat, rgbPng(400, 300, () => [40, 90, 200])); // one colour: out of scope
  writeFileSync(files.notImage, 'This is a plain text file with a .jpg name.\n'.repeat(20));
  return files;
}

export function ensureResultsDir() {
  mkdirSync(RESULTS_DIR, { recursive: true });
  return RESULTS_DIR;
}
