/**
 * Build-time settings, validated once at start so a bad value fails loudly instead of
 * producing requests to the wrong place.
 *
 * VITE_API_BASE_URL: where the API lives. Empty (the default) means this page's own origin,
 *   which is how the backend and nginx serve it. Only a path ("/detector") or an http(s)
 *   URL is accepted.
 * VITE_REQUEST_TIMEOUT_MS: how long one detection may take before the page gives up.
 */

export interface AppConfig {
  apiBaseUrl: string;
  requestTimeoutMs: number;
  batchTimeoutMs: number;
}

type Env = Record<string, string | boolean | undefined>;

export function parseConfig(env: Env): AppConfig {
  const rawBase = String(env.VITE_API_BASE_URL ?? '').trim();
  if (rawBase && !rawBase.startsWith('/') && !/^https?:\/\//.test(rawBase)) {
    throw new Error(`VITE_API_BASE_URL must be a path or an http(s) URL, got "${rawBase}"`);
  }
  const rawTimeout = String(env.VITE_REQUEST_TIMEOUT_MS ?? '').trim();
  const requestTimeoutMs = rawTimeout ? Number(rawTimeout) : 60_000;
  if (!Number.isInteger(requestTimeoutMs) || requestTimeoutMs <= 0) {
    throw new Error(`VITE_REQUEST_TIMEOUT_MS must be a positive integer, got "${rawTimeout}"`);
  }
  return {
    apiBaseUrl: rawBase.replace(/\/+$/, ''),
    requestTimeoutMs,
    // A batch runs many images; give it proportionally longer, but never unbounded.
    batchTimeoutMs: requestTimeoutMs * 3,
  };
}

export const config: AppConfig = parseConfig(import.meta.env as Env);
