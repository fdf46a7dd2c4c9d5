/**
 * The one module that talks HTTP. Every request has a deadline (AbortController), every
 * failure becomes an ApiError with a human sentence, and nothing is cached or stored.
 */
import { config } from '../config';
import { ApiError, errorFromResponse, messageForCode } from './errors';
import type { Limits } from './types';

export interface RequestOptions {
  method?: 'GET' | 'POST';
  query?: Record<string, string | boolean | undefined>;
  body?: FormData;
  /** Cancels the request from outside (a "Cancel" button, a newer upload). */
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Server limits, to put numbers in error messages. */
  limits?: Limits | null;
}

export function buildUrl(path: string, query?: RequestOptions['query']): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== '') params.set(key, String(value));
  }
  const qs = params.toString();
  return `${config.apiBaseUrl}${path}${qs ? `?${qs}` : ''}`;
}

function clientError(code: string, limits?: Limits | null): ApiError {
  return new ApiError(messageForCode(code, limits) ?? code, { status: 0, code });
}

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? config.requestTimeoutMs;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const onOuterAbort = () => controller.abort();
  if (opts.signal?.aborted) controller.abort();
  opts.signal?.addEventListener('abort', onOuterAbort);

  try {
    let response: Response;
    try {
      response = await fetch(buildUrl(path, opts.query), {
        method: opts.method ?? 'GET',
        body: opts.body,
        signal: controller.signal,
        headers: { Accept: 'application/json' },
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch {
      if (timedOut) throw clientError('client_timeout', opts.limits);
      if (controller.signal.aborted) throw clientError('aborted', opts.limits);
      throw clientError('network_error', opts.limits);
    }

    let body: unknown = null;
    let parsed = true;
    try {
      body = await response.json();
    } catch {
      if (timedOut) throw clientError('client_timeout', opts.limits);
      if (controller.signal.aborted) throw clientError('aborted', opts.limits);
      parsed = false;
    }
    if (!response.ok) throw errorFromResponse(response.status, body, opts.limits);
    if (!parsed) throw new ApiError(messageForCode('bad_response') ?? '', { status: response.status, code: 'bad_response' });
    return body as T;
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onOuterAbort);
  }
}
